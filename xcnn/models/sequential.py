"""The :class:`Sequential` model: a stack of layers."""

from __future__ import annotations

from ..layers import InputLayer, Layer, SymbolicTensor
from .model import Model


class Sequential(Model):
    """A stack of layers: ``Sequential([Conv2D(..., input_shape=(28, 28, 1)), ...])`` or ``.add``.

    The first layer may be ``Input(shape)`` or carry ``input_shape=``; otherwise the input
    shape is taken from the first data the model sees.
    """

    _sequential = True

    def __init__(self, layers=None, *, backend=None, dtype="float32", seed=None, name=None, device=None):
        super().__init__(backend=backend, dtype=dtype, seed=seed, name=name, device=device)
        self._pending = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer (or ``Input(shape)`` as the very first element)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            if self._pending or self.built:
                raise ValueError("Input(...) can only be the first element of a Sequential model")
            self._build_from_shape(layer.shape, layer.layer)
            return
        if not isinstance(layer, Layer) or isinstance(layer, InputLayer):
            raise TypeError(f"Sequential.add takes a layer, got {layer!r}")
        if layer.multi_input:
            raise ValueError(f"{type(layer).__name__} merges several inputs; use the functional Model API")
        if self.built:
            self._set_graph(self._input, layer(self._output))  # builds only the new layer
            return
        self._pending.append(layer)
        if len(self._pending) == 1 and layer.input_shape is not None:
            self._build_from_shape(layer.input_shape)

    def _build_from_shape(self, shape, input_layer=None):
        input_layer = input_layer or InputLayer(shape)
        tensor = input_layer.output
        for layer in self._pending:
            tensor = layer(tensor)
        self._pending = []
        self._set_graph(input_layer.output, tensor)

    def _ensure_built(self):
        if not self.built:
            raise ValueError(
                f"model {self.name} is not built yet: give the first layer input_shape=..., start with "
                "Input(shape), or call fit/predict first"
            )
