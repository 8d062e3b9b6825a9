"""The entry of a functional model: :func:`Input` and its :class:`InputLayer`."""

from __future__ import annotations

from .layer import Layer, SymbolicTensor, _shape


class InputLayer(Layer):
    def __init__(self, shape, name=None):
        super().__init__(name=name)
        self.input_shape = _shape(shape)
        self.output = SymbolicTensor(self.input_shape, self)
        self.inbound = []

    def get_config(self):
        return {"name": self.name, "shape": list(self.input_shape)}


def Input(shape, name=None):
    """The entry of a functional model: ``Input((28, 28, 1))`` (no batch axis)."""
    return InputLayer(shape, name).output
