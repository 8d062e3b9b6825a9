"""The entry of a functional model: `Input` and its `InputLayer`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .layer import Layer, SymbolicTensor, _shape


class InputLayer(Layer):
    """The layer behind `Input`: the entry of a model, with no weights.

    Args:
        shape: The input shape without the batch axis, e.g. `(28, 28, 1)`.
        name: The layer's name (default: a unique one).

    Input shape:
        `(N, *shape)`.

    Output shape:
        `(N, *shape)`.

    Raises:
        TypeError: If `shape` is not a tuple of ints.
        ValueError: If `shape` is empty or has a non-positive entry.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Model
        >>> x = Input((3,))
        >>> model = Model(x, Dense(2)(x))
        >>> type(model.layers[0]).__name__, model.output_shape
        ('InputLayer', (None, 2))
    """

    def __init__(self, shape: Sequence[int], name: str | None = None) -> None:
        super().__init__(name=name)
        self.input_shape = _shape(shape)
        self.output = SymbolicTensor(self.input_shape, self)
        self.inbound = []

    def get_config(self) -> dict[str, Any]:
        """The layer's arguments, as a saved model stores them.

        Returns:
            `{"name": ..., "shape": [...]}`.

        Examples:
            >>> from xcnn.layers import InputLayer
            >>> InputLayer((28, 28, 1), name="pixels").get_config()
            {'name': 'pixels', 'shape': [28, 28, 1]}
        """
        return {"name": self.name, "shape": list(self.input_shape)}


def Input(shape: Sequence[int], name: str | None = None) -> SymbolicTensor:
    """The entry of a functional model: `Input((28, 28, 1))` (no batch axis).

    Args:
        shape: The input shape without the batch axis.
        name: The input layer's name (default: a unique one).

    Returns:
        The symbolic tensor to call the first layer on.

    Raises:
        TypeError: If `shape` is not a tuple of ints.
        ValueError: If `shape` is empty or has a non-positive entry.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Model
        >>> x = Input((3,))
        >>> Model(x, Dense(2)(x)).output_shape
        (None, 2)
    """
    return InputLayer(shape, name).output
