"""The `Sequential` model: a stack of layers."""

from __future__ import annotations

from collections.abc import Sequence

from .._typing import Device
from ..layers import InputLayer, Layer, SymbolicTensor
from .model import Model


class Sequential(Model):
    """A stack of layers: `Sequential([Conv2D(..., input_shape=(28, 28, 1)), ...])` or `.add`.

    The first layer may be `Input(shape)` or carry `input_shape=`; otherwise the input shape is
    taken from the first data the model sees.

    Args:
        layers: The layers in order, optionally starting with `Input(shape)`.
        backend: A name from `xcnn.backend` (default: the global default).
        dtype: `"float32"` or `"float64"` (default: `xcnn.config.floatx()`).
        seed: Seeds the initial weights and the per-step random numbers.
        name: The model's name (default: `"sequential"`, then `"sequential_1"`, ... as Keras).
        device: Where on the backend the weights live (default: the backend's default device).

    Raises:
        ValueError: If `dtype` is not float32 or float64, the backend or device is not available,
            or a layer is misplaced (see `add`).
        TypeError: If an element is not a layer.

    Examples:
        >>> from xcnn.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 1)), Conv2D(4, 3, activation="relu"), MaxPooling2D(), Flatten(),
        ...                     Dense(10, activation="softmax")])
        >>> model.output_shape
        (None, 10)
    """

    _pending: list[Layer]  # layers added before the input shape is known

    _sequential = True

    def __init__(
        self,
        layers: Sequence[Layer | SymbolicTensor] | None = None,
        *,
        backend: str | None = None,
        dtype: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        device: Device | None = None,
    ) -> None:
        super().__init__(backend=backend, dtype=dtype, seed=seed, name=name, device=device)
        self._pending = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer | SymbolicTensor) -> None:
        """Append a layer (or `Input(shape)` as the very first element).

        Args:
            layer: A layer that takes one input, or `Input(shape)` first.

        Raises:
            ValueError: If `Input(...)` comes after a layer, or the layer merges several inputs (use
                the functional `Model`).
            TypeError: If `layer` is not a layer.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential()
            >>> model.add(Input((3,)))
            >>> model.add(Dense(2))
            >>> model.output_shape
            (None, 2)
        """
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            if self._pending or self.built:
                raise ValueError("Input(...) can only be the first element of a Sequential model")
            self._build_from_shape(layer.item_shape, layer.layer)
            return
        if isinstance(layer, Model):
            raise TypeError(
                f"Sequential.add takes a layer, got model {layer.name}: xcnn nests no models as layers; add "
                "the layers themselves (to turn a trained model's outputs into probabilities, apply softmax "
                "to model.predict(x) or end the model with a Softmax layer)"
            )
        if not isinstance(layer, Layer) or isinstance(layer, InputLayer):
            raise TypeError(f"Sequential.add takes a layer, got {layer!r}")
        if layer.multi_input:
            raise ValueError(f"{type(layer).__name__} merges several inputs; use the functional Model API")
        if layer.output is not None:
            self._add_wired(layer)
            return
        if self.built:
            self._set_graph(self._input, layer(self._output))  # builds only the new layer
            return
        self._pending.append(layer)
        if len(self._pending) == 1 and layer.input_shape is not None:
            self._build_from_shape(layer.input_shape)

    def pop(self) -> Layer:
        """Remove the last layer, as Keras's `Sequential.pop` (e.g. to put another head on).

        Returns:
            The layer removed (it keeps its weights; its place in this graph is gone).

        Raises:
            TypeError: If the model has no layers.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(4), Dense(2, name="old_head")])
            >>> model.pop().name
            'old_head'
            >>> model.add(Dense(5))
            >>> model.output_shape
            (None, 5)
        """
        if not self.built:
            if not self._pending:
                raise TypeError(f"model {self.name} has no layers to pop")
            return self._pending.pop()
        if not self._layers:
            raise TypeError(f"model {self.name} has no layers to pop")
        last = self._layers[-1]
        self._set_graph(self._input, last.inbound[0])
        return last

    def _add_wired(self, layer):
        """Add a layer another model already wired, keeping its place in that graph.

        Keras's transfer-learning idiom `Sequential(base.layers[:-1])` shares the base's layers:
        taken from the base's input on, in order, each layer's input is the previous one's
        output, so this model is that stretch of the base's graph (its weights shared, as in
        Keras). A layer wired anywhere else would need a second place in a graph, which xcnn
        layers do not have."""
        source = layer.inbound[0]
        if self.built:
            follows = source is self._output
        else:
            follows = not self._pending and isinstance(source.layer, InputLayer)
        if not follows:
            after = "this model's last layer" if self.built else "an Input, as its first layer"
            raise ValueError(
                f"layer {layer.name} is already used in another model, after {source.layer.name}, so it cannot "
                f"come after {after}: a Sequential reuses a model's layers only from its input on and in "
                f"their order (Sequential(base.layers[:k])); otherwise create a new layer"
            )
        self._set_graph(self._input if self.built else source, layer.output)

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
