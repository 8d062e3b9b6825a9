"""Activations as layers, with Keras's names and arguments: ``ReLU``, ``LeakyReLU``, ``ELU``,
``PReLU``, ``Softmax``. Each is a layer whose only work is its activation, so the model's plan
treats ``ReLU()`` before a max pool like ``Activation("relu")`` (the pool applies it)."""

from __future__ import annotations

from collections.abc import Sequence

from .. import initializers, regularizers
from ..activations import ActivationFunction, Elementwise
from ..ops import activations as act
from .layer import Layer, _reg_config
from .._typing import InitializerLike, RegularizerLike


def _number(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be a number{bound}, got {value!r}")
    return float(value)


class _ActivationLayer(Layer):
    """A layer that only applies ``self.activation``; its config is its own arguments."""

    def __init__(self, activation, name=None, input_shape=None):
        super().__init__(name, activation, input_shape)

    def _arguments(self):
        return {}

    def get_config(self):
        return {"name": self.name, **self._arguments()}


class ReLU(_ActivationLayer):
    """`max_value` from `max_value` up, `x` from `threshold` up, and `negative_slope * (x - threshold)`
    below (Keras's ReLU layer; the defaults are `max(x, 0)`).

    Args:
        max_value: The ceiling (default: none).
        negative_slope: The slope below `threshold`.
        threshold: Where the slope changes.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `max_value`, `negative_slope` or `threshold` is negative or not a number.

    Examples:
        >>> from xcnn.layers import ReLU, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), ReLU(max_value=6.0)])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        self.max_value = None if max_value is None else _number(max_value, "max_value", 0.0)
        self.negative_slope = _number(negative_slope, "negative_slope", 0.0)
        self.threshold = _number(threshold, "threshold", 0.0)
        if (self.max_value, self.negative_slope, self.threshold) == (None, 0.0, 0.0):
            activation = Elementwise("relu")
        else:
            activation = Elementwise(
                "thresholded_relu", act.thresholded_relu, act.thresholded_relu_backward, **self._arguments()
            )
        super().__init__(activation, name, input_shape)

    def _arguments(self):
        return {"max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_ActivationLayer):
    """`x` if positive else `negative_slope * x` (Keras's layer default slope: 0.3).

    Args:
        negative_slope: The slope for negative inputs.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `negative_slope` is not a non-negative number.

    Examples:
        >>> from xcnn.layers import LeakyReLU, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), LeakyReLU(negative_slope=0.1)])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def __init__(
        self, negative_slope: float = 0.3, name: str | None = None, input_shape: Sequence[int] | None = None
    ) -> None:
        self.negative_slope = _number(negative_slope, "negative_slope", 0.0)
        super().__init__(Elementwise("leaky_relu", negative_slope=self.negative_slope), name, input_shape)

    def _arguments(self):
        return {"negative_slope": self.negative_slope}


class ELU(_ActivationLayer):
    """`x` if positive else `alpha * (exp(x) - 1)`.

    Args:
        alpha: The scale of the negative part.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `alpha` is not a number.

    Examples:
        >>> from xcnn.layers import ELU, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), ELU(alpha=0.5)])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def __init__(self, alpha: float = 1.0, name: str | None = None, input_shape: Sequence[int] | None = None) -> None:
        self.alpha = _number(alpha, "alpha")
        super().__init__(Elementwise("elu", alpha=self.alpha), name, input_shape)

    def _arguments(self):
        return {"alpha": self.alpha}


class Softmax(_ActivationLayer):
    """Softmax over `axis` (default the last; an int, counting the batch axis as Keras does).

    Args:
        axis: The axis the outputs sum to one along; not the batch axis (0).
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `axis` is not an int other than 0, or (when called) does not exist for the input.

    Examples:
        >>> from xcnn.layers import Softmax, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), Softmax()])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def __init__(self, axis: int = -1, name: str | None = None, input_shape: Sequence[int] | None = None) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int) or axis == 0:
            raise ValueError(f"axis must be a non-batch axis as an int (e.g. -1), got {axis!r}")
        self.axis = axis
        # only the last axis fuses with cross-entropy: any other is an Elementwise with an axis
        super().__init__(Elementwise("softmax") if axis == -1 else _AxisSoftmax(axis), name, input_shape)

    def _arguments(self):
        return {"axis": self.axis}


class _AxisSoftmax(Elementwise):
    """Softmax over an axis other than the last: named differently so it never fuses with a loss."""

    def __init__(self, axis):
        super().__init__("softmax_axis", act.softmax, act.softmax_backward, axis=axis)

    def output_shape(self, shape):
        if not -len(shape) <= self.kwargs["axis"] <= len(shape) or self.kwargs["axis"] == 0:
            raise ValueError(f"Softmax axis {self.kwargs['axis']} does not exist for inputs (None, {shape})")
        return shape

    def forward(self, layer, x, training):
        # Keras counts the batch axis: a positive axis is the same on the array
        self._x = x
        self._y = act.softmax(x, axis=self.kwargs["axis"])
        return self._y

    def backward(self, layer, dy):
        return act.softmax_backward(dy, self._x, self._y, axis=self.kwargs["axis"])


class _ParametricReLU(ActivationFunction):
    """Keras's PReLU: a learnable ``alpha`` of the input's shape (no batch axis), shared
    (size 1) along ``shared_axes``."""

    name = "parametric_relu"

    def __init__(self, initializer, regularizer, shared_axes):
        self.initializer, self.regularizer, self.shared_axes = initializer, regularizer, shared_axes

    def build(self, layer, shape, xp, dtype):
        alpha_shape = list(shape)
        for axis in self.shared_axes:
            if not 1 <= axis <= len(shape):
                raise ValueError(
                    f"shared_axes entries must lie in [1, {len(shape)}] for inputs (None, {shape}), got {axis}"
                )
            alpha_shape[axis - 1] = 1
        layer.add_weight("alpha", tuple(alpha_shape), self.initializer, self.regularizer)

    def forward(self, layer, x, training):
        self._x = x
        return act.prelu(x, layer.params["alpha"])

    def backward(self, layer, dy):
        dx, layer.grads["alpha"] = act.prelu_backward(dy, self._x, layer.params["alpha"])
        return dx


class PReLU(_ActivationLayer):
    """`x` if positive else `alpha * x` with a learnable `alpha` per element (Keras's layer:
    `alpha_initializer="zeros"`; `shared_axes=[1, 2]` shares it across H and W).

    Args:
        alpha_initializer: How `alpha` is initialised.
        alpha_regularizer: A penalty on `alpha`.
        shared_axes: The axes (counting the batch axis as 0) along which one `alpha` is shared.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If a `shared_axes` entry is not an axis of the input, or the initializer or
            regularizer is unknown.

    Examples:
        >>> from xcnn.layers import PReLU, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), PReLU(shared_axes=[1, 2])])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def __init__(
        self,
        alpha_initializer: InitializerLike = "zeros",
        alpha_regularizer: RegularizerLike = None,
        shared_axes: Sequence[int] | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        if shared_axes is None:
            shared_axes = []
        elif isinstance(shared_axes, int):
            shared_axes = [shared_axes]
        self.shared_axes = [int(a) for a in shared_axes]
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        super().__init__(
            _ParametricReLU(self.alpha_initializer, self.alpha_regularizer, self.shared_axes), name, input_shape
        )

    def _arguments(self):
        return {"shared_axes": self.shared_axes, "alpha_regularizer": _reg_config(self.alpha_regularizer)}
