"""Activations as small stateful objects that remember what their backward needs.

`get(name_or_callable)` returns an `ActivationFunction`; layers call its `forward`
and `backward`. Element-wise ones come straight from `xcnn.ops.activations`; the
article's `prelu` (a learnable per-channel slope), `rrelu` (a random slope while
training), `relun` (ReLU capped at n) and `maxout` (max over channel groups) carry
arguments or parameters.
"""

from __future__ import annotations

import copy

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._typing import ActivationLike, Array, DType, Namespace, Shape
from .ops import activations as act

if TYPE_CHECKING:
    from .layers.layer import Layer


class ActivationFunction:
    """A forward/backward pair that keeps what its backward needs.

    `build` may add learnable parameters to the layer.

    Layers call `forward` after their core and `backward` before the core's gradient. Subclasses
    set `name` and implement `forward` and `backward`; `changes_shape` is true for those whose
    `output_shape` differs from the input's.

    Examples:
        >>> import numpy as np
        >>> from xcnn import activations
        >>> x = np.array([-1.0, 0.0, 2.0])
        >>> relu = activations.get("relu")
        >>> relu.forward(None, x, training=False).tolist()
        [0.0, 0.0, 2.0]
        >>> relu.backward(None, np.ones(3)).tolist()
        [0.0, 0.0, 1.0]
    """

    name = "linear"
    changes_shape = False

    @property
    def __name__(self) -> str:
        """The activation's name, as a Keras layer's `activation.__name__` (a function's) gives it.

        Examples:
            >>> from xcnn.layers import Dense
            >>> Dense(2, activation="relu").activation.__name__
            'relu'
        """
        return self.name

    def build(self, layer: Layer, shape: Shape, xp: Namespace, dtype: DType) -> None:
        """Add learnable parameters to `layer` (none here); the layer's `build` calls it.

        Args:
            layer: The layer it belongs to.
            shape: The core's output shape without the batch axis.
            xp: The layer's array namespace.
            dtype: The weights' dtype.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(3, activation="prelu")
            >>> model = Sequential([Input((2,)), layer])
            >>> layer.params["alpha"].shape
            (3,)
        """
        pass

    def output_shape(self, shape: Shape) -> Shape:
        """The activation's output shape for inputs of `shape` (the same here).

        Args:
            shape: The shape without the batch axis.

        Returns:
            The output shape.

        Examples:
            >>> from xcnn import activations
            >>> activations.get("relu").output_shape((4, 4, 6))
            (4, 4, 6)
            >>> activations.get("maxout").output_shape((4, 4, 6))
            (4, 4, 3)
        """
        return shape

    def forward(self, layer: Any, x: Array, training: bool) -> Array:
        """The activation of `x`; keeps what `backward` needs.

        Args:
            layer: The layer it belongs to (its weights, its random stream); unused by element-wise ones.
            x: The core's output, any shape, float32 or float64.
            training: Whether this is a training step.

        Returns:
            An array of `x`'s shape and dtype (`output_shape` for maxout).

        Raises:
            NotImplementedError: In the base class; every activation implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn import activations
            >>> x = np.array([-1.0, 0.0, 2.0])
            >>> activations.get("sigmoid").forward(None, x, training=False).round(4).tolist()
            [0.2689, 0.5, 0.8808]
        """
        raise NotImplementedError

    def backward(self, layer: Any, dy: Array) -> Array:
        """The gradient w.r.t. the activation's input (call `forward` first).

        Args:
            layer: The layer it belongs to (its gradients are filled in for learnable parameters).
            dy: The gradient w.r.t. the activation's output, of its shape.

        Returns:
            The gradient w.r.t. `x`, of its shape.

        Raises:
            NotImplementedError: In the base class; every activation implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn import activations
            >>> x = np.array([-1.0, 0.0, 2.0])
            >>> f = activations.get("leaky_relu")
            >>> _ = f.forward(None, x, training=True)
            >>> f.backward(None, np.ones(3)).tolist()
            [0.2, 0.2, 1.0]
        """
        raise NotImplementedError

    def get_config(self) -> str | dict[str, Any]:
        """The activation as a saved model stores it: its name, or a dict with its arguments.

        Returns:
            A name or `{"name": ..., <argument>: <value>}`, which `get` accepts back.

        Examples:
            >>> from xcnn import activations
            >>> activations.get("relu").get_config()
            'relu'
            >>> activations.get({"name": "rrelu", "lower": 0.1, "upper": 0.2}).get_config()
            {'name': 'rrelu', 'lower': 0.1, 'upper': 0.2}
        """
        return self.name


class Elementwise(ActivationFunction):
    """An activation from the ops table with `f(x)` / `f_backward(dy, x, y)`.

    Args:
        name: A name in `xcnn.ops.activations.ELEMENTWISE`, or the name of a custom pair.
        forward: `f(x, **kwargs)` (default: the table's).
        backward: `f_backward(dy, x, y, **kwargs)` (default: the table's).
        **kwargs: The activation's arguments (e.g. `alpha` of `elu`), passed to both.

    Raises:
        TypeError: If `name` is not in the table and no `forward`/`backward` is given.

    Examples:
        >>> import numpy as np
        >>> from xcnn import activations
        >>> x = np.array([-1.0, 0.0, 2.0])
        >>> elu = activations.Elementwise("elu", alpha=0.5)
        >>> elu.forward(None, x, training=False).round(4).tolist()
        [-0.3161, 0.0, 2.0]
        >>> elu.get_config()
        {'name': 'elu', 'alpha': 0.5}
    """

    def __init__(
        self,
        name: str,
        forward: Callable[..., Array] | None = None,
        backward: Callable[..., Array] | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.kwargs = kwargs
        table = act.ELEMENTWISE.get(name)
        self._f: Callable[..., Array] = forward or table[0]  # type: ignore[index]  # an unknown name fails here
        self._df = backward or table[1]  # type: ignore[index]
        self._x = self._y = None

    def forward(self, layer: Any, x: Array, training: bool, overwrite: bool = False) -> Array:
        """`f(x, **kwargs)`; keeps `x` and the result for `backward`.

        Args:
            layer: The layer it belongs to (its weights, its random stream); unused by element-wise ones.
            x: The core's output, any shape, float32 or float64.
            training: Whether this is a training step.
            overwrite: `x` may be overwritten with the result (nothing else reads it; the
                model's plan says so, for the ReLU only: `xcnn.ops.activations.OVERWRITING`).

        Returns:
            An array of `x`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn import activations
            >>> x = np.array([-1.0, 0.0, 2.0])
            >>> activations.Elementwise("relu").forward(None, x, training=False).tolist()
            [0.0, 0.0, 2.0]
        """
        self._x = x
        self._y = (act.OVERWRITING[self.name] if overwrite else self._f)(x, **self.kwargs)
        return self._y

    def backward(self, layer: Any, dy: Array) -> Array:
        """`f_backward(dy, x, y, **kwargs)` with the `x` and `y` of the last `forward`.

        Args:
            layer: The layer it belongs to (its gradients are filled in for learnable parameters).
            dy: The gradient w.r.t. the activation's output, of its shape.

        Returns:
            The gradient w.r.t. `x`.

        Examples:
            >>> import numpy as np
            >>> from xcnn import activations
            >>> x = np.array([-1.0, 0.0, 2.0])
            >>> f = activations.Elementwise("relu")
            >>> _ = f.forward(None, x, training=True)
            >>> f.backward(None, np.ones(3)).tolist()
            [0.0, 0.0, 1.0]
        """
        return self._df(dy, self._x, self._y, **self.kwargs)

    def get_config(self) -> str | dict[str, Any]:
        """The name, or `{"name": ..., **kwargs}` when it has arguments.

        Returns:
            What `get` accepts back.

        Examples:
            >>> from xcnn import activations
            >>> activations.Elementwise("relu").get_config()
            'relu'
            >>> activations.Elementwise("elu", alpha=0.5).get_config()
            {'name': 'elu', 'alpha': 0.5}
        """
        return {"name": self.name, **self.kwargs} if self.kwargs else self.name


class Maxout(Elementwise):
    """Maxout: the maximum over groups of `pieces` consecutive channels.

    Args:
        pieces: The group size; the channels must be a multiple of it.

    Examples:
        >>> import numpy as np
        >>> from xcnn.activations import Maxout
        >>> maxout = Maxout(pieces=2)
        >>> maxout.forward(None, np.array([[1.0, 3.0, -2.0, -1.0]]), training=False).tolist()
        [[3.0, -1.0]]
    """

    changes_shape = True

    def __init__(self, pieces: int = 2) -> None:
        super().__init__("maxout", pieces=pieces)

    def output_shape(self, shape: Shape) -> Shape:
        """The shape with the channels divided by `pieces`.

        Args:
            shape: The input shape without the batch axis, channels last.

        Returns:
            `(..., C // pieces)`.

        Raises:
            ValueError: If the channels are not a multiple of `pieces`.

        Examples:
            >>> from xcnn.activations import Maxout
            >>> Maxout(pieces=3).output_shape((4, 4, 6))
            (4, 4, 2)
        """
        pieces = self.kwargs["pieces"]
        if shape[-1] % pieces:
            raise ValueError(f"maxout needs the channel count {shape[-1]} to be a multiple of pieces={pieces}")
        return (*shape[:-1], shape[-1] // pieces)


class PReLU(ActivationFunction):
    """Parametric ReLU with a learnable slope per channel: `activation="prelu"`.

    The slopes start at 0.25, as in PyTorch.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> layer = Dense(2, activation="prelu")
        >>> model = Sequential([Input((3,)), layer])
        >>> prelu = layer.activation
        >>> prelu.forward(layer, np.array([[-4.0, 4.0]]), training=False).tolist()
        [[-1.0, 4.0]]
    """

    name = "prelu"

    def build(self, layer: Layer, shape: Shape, xp: Namespace, dtype: DType) -> None:
        """Add the weight `alpha`, one slope per channel, to `layer`.

        Args:
            layer: The layer it belongs to.
            shape: The core's output shape, channels last.
            xp: The layer's array namespace.
            dtype: The weights' dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2, activation="prelu")
            >>> model = Sequential([Input((3,)), layer])
            >>> prelu = layer.activation
            >>> layer.params["alpha"].tolist()
            [0.25, 0.25]
        """
        layer.add_weight("alpha", (shape[-1],), 0.25)

    def forward(self, layer: Any, x: Array, training: bool) -> Array:
        """`x` where positive, else `alpha * x` per channel.

        Args:
            layer: The layer it belongs to (its weights, its random stream); unused by element-wise ones.
            x: The core's output, any shape, float32 or float64.
            training: Whether this is a training step.

        Returns:
            An array of `x`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2, activation="prelu")
            >>> model = Sequential([Input((3,)), layer])
            >>> prelu = layer.activation
            >>> prelu.forward(layer, np.array([[-4.0, 4.0]]), training=True).tolist()
            [[-1.0, 4.0]]
        """
        self._x = x
        return act.prelu(x, layer.params["alpha"])

    def backward(self, layer: Any, dy: Array) -> Array:
        """The gradient w.r.t. `x`; fills `layer.grads["alpha"]`.

        Args:
            layer: The layer it belongs to (its gradients are filled in for learnable parameters).
            dy: The gradient w.r.t. the activation's output, of its shape.

        Returns:
            The gradient w.r.t. `x`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2, activation="prelu")
            >>> model = Sequential([Input((3,)), layer])
            >>> prelu = layer.activation
            >>> _ = prelu.forward(layer, np.array([[-4.0, 4.0]]), training=True)
            >>> prelu.backward(layer, np.ones((1, 2))).tolist()
            [[0.25, 1.0]]
            >>> layer.grads["alpha"].tolist()
            [-4.0, 0.0]
        """
        dx, dalpha = act.prelu_backward(dy, self._x, layer.params["alpha"])
        layer.grads["alpha"] = dalpha
        return dx


class RReLU(ActivationFunction):
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element while training, the mean after.

    Args:
        lower: The smallest slope.
        upper: The largest slope.

    Examples:
        >>> import numpy as np
        >>> from xcnn import activations
        >>> x = np.array([-1.0, 0.0, 2.0])
        >>> rrelu = activations.RReLU(lower=0.1, upper=0.3)
        >>> rrelu.forward(None, x, training=False).round(4).tolist()
        [-0.2, 0.0, 2.0]
    """

    name = "rrelu"

    def __init__(self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0) -> None:
        self.lower, self.upper = lower, upper

    def forward(self, layer: Any, x: Array, training: bool) -> Array:
        """`x` where positive, else a slope times `x`.

        The slope is drawn per element from `layer.rng` while training, else the mean slope.

        Args:
            layer: The layer it belongs to (its weights, its random stream); unused by element-wise ones.
            x: The core's output, any shape, float32 or float64.
            training: Whether this is a training step.

        Returns:
            An array of `x`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn import activations
            >>> x = np.array([-1.0, 0.0, 2.0])
            >>> activations.RReLU(0.1, 0.3).forward(None, x, training=False).round(4).tolist()
            [-0.2, 0.0, 2.0]
        """
        if training:
            self._slope = layer.rng.uniform(tuple(x.shape), self.lower, self.upper, dtype=x.dtype)
        else:
            self._slope = (self.lower + self.upper) / 2.0
        self._x = x
        return act.rrelu(x, self._slope)

    def backward(self, layer: Any, dy: Array) -> Array:
        """The gradient w.r.t. `x`, with the slopes of the last `forward`.

        Args:
            layer: The layer it belongs to (its gradients are filled in for learnable parameters).
            dy: The gradient w.r.t. the activation's output, of its shape.

        Returns:
            The gradient w.r.t. `x`.

        Examples:
            >>> import numpy as np
            >>> from xcnn import activations
            >>> x = np.array([-1.0, 0.0, 2.0])
            >>> rrelu = activations.RReLU(0.1, 0.3)
            >>> _ = rrelu.forward(None, x, training=False)
            >>> rrelu.backward(None, np.ones(3)).round(4).tolist()
            [0.2, 1.0, 1.0]
        """
        return act.rrelu_backward(dy, self._x, self._slope)

    def get_config(self) -> str | dict[str, Any]:
        """`{"name": "rrelu", "lower": ..., "upper": ...}`.

        Returns:
            What `get` accepts back.

        Examples:
            >>> from xcnn import activations
            >>> activations.RReLU(0.1, 0.3).get_config()
            {'name': 'rrelu', 'lower': 0.1, 'upper': 0.3}
        """
        return {"name": "rrelu", "lower": self.lower, "upper": self.upper}


NAMES = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "leaky_relu",
    "elu",
    "softplus",
    "softsign",
    "step",
    "relun",
    "maxout",
    "prelu",
    "rrelu",
    "relu6",
    "selu",
    "gelu",
    "silu",
    "swish",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "exponential",
    "log_softmax",
    "mish",
)

# Keras's activation functions by name: ``xcnn.activations.relu(x)`` computes, and
# ``Dense(..., activation=xcnn.activations.relu)`` means ``activation="relu"``.
linear, relu, sigmoid, tanh, softmax = act.linear, act.relu, act.sigmoid, act.tanh, act.softmax
leaky_relu, elu, selu, softplus, softsign = act.leaky_relu, act.elu, act.selu, act.softplus, act.softsign
relu6, gelu, silu, swish, mish = act.relu6, act.gelu, act.silu, act.silu, act.mish
hard_sigmoid, hard_silu, hard_swish = act.hard_sigmoid, act.hard_silu, act.hard_silu
exponential, log_softmax = act.exponential, act.log_softmax


def _name_of_function(f):
    """The name of the ops function ``f`` in :data:`act.ELEMENTWISE` (by identity), or None."""
    return next((name for name, (forward, _) in act.ELEMENTWISE.items() if forward is f), None)


def get(identifier: ActivationLike) -> ActivationFunction:
    """An `ActivationFunction` from a name, a config, a pair of functions or a callable.

    A callable must carry a `.backward(dy, x, y)` attribute; a pair is `(forward, backward)`.

    `None` means linear; an `ActivationFunction` is returned as it is; one of this module's
    functions (`xcnn.activations.relu`) means its name.

    Args:
        identifier: A name (see `NAMES`), `get_config()`'s output, a pair of functions, a
            callable with a `.backward`, an `ActivationFunction`, or `None`.

    Returns:
        The activation object.

    Raises:
        ValueError: If the name is unknown.
        TypeError: If a callable has no backward.

    Examples:
        >>> from xcnn import activations
        >>> activations.get("relu").name
        'relu'
        >>> activations.get(activations.relu).name
        'relu'
        >>> activations.get(None).name
        'linear'
    """
    if identifier is None:
        return Elementwise("linear")
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, dict):
        kwargs = dict(identifier)
        return _by_name(kwargs.pop("name"), kwargs)
    if isinstance(identifier, str):
        return _by_name(identifier, {})
    if callable(identifier) and _name_of_function(identifier) is not None:
        return Elementwise(_name_of_function(identifier))
    layer = _layer_activation(identifier)
    if layer is not None:
        return layer
    if isinstance(identifier, tuple) and len(identifier) == 2 and all(callable(f) for f in identifier):
        forward, backward = identifier
        return Elementwise(getattr(forward, "__name__", "custom"), forward, backward)
    if callable(identifier) and callable(getattr(identifier, "backward", None)):
        return Elementwise(getattr(identifier, "__name__", "custom"), identifier, identifier.backward)  # type: ignore[attr-defined]
    if callable(identifier):
        raise TypeError(
            f"activation {identifier!r} has no backward: pass (forward, backward) or give the "
            "callable a .backward(dy, x, y) attribute"
        )
    raise ValueError(f"unknown activation {identifier!r}; expected one of {NAMES}")


def _layer_activation(identifier):
    """The activation of an activation layer given as `activation=` (Keras takes any callable,
    e.g. `Conv2D(8, 3, activation=LeakyReLU(0.1))`): a copy of what the layer applies. Any
    other layer is refused, as it is no element-wise function."""
    from .layers.activation import _ActivationLayer
    from .layers.layer import Layer

    if not isinstance(identifier, Layer):
        return None
    if not isinstance(identifier, _ActivationLayer):
        raise TypeError(
            f"activation= takes a name, a function or an activation layer (ReLU, LeakyReLU, ELU, Softmax, "
            f"PReLU...), got the layer {identifier.name} ({type(identifier).__name__}): add it after this layer"
        )
    return copy.deepcopy(identifier.activation)


def _by_name(name, kwargs):
    if name == "prelu":
        return PReLU()
    if name == "rrelu":
        return RReLU(**kwargs)
    if name == "maxout":
        return Maxout(**kwargs)
    if name in act.ELEMENTWISE:
        return Elementwise(name, **kwargs)
    raise ValueError(f"unknown activation {name!r}; expected one of {NAMES}")


def is_named(activation: ActivationFunction | None, name: str) -> bool:
    """Whether `activation` is the element-wise activation called `name`.

    The model's plan asks, e.g. for a softmax to fuse with the loss.

    Args:
        activation: An activation or `None`.
        name: An activation name.

    Returns:
        True when it is.

    Examples:
        >>> from xcnn import activations
        >>> activations.is_named(activations.get("softmax"), "softmax")
        True
        >>> activations.is_named(None, "softmax")
        False
    """
    return isinstance(activation, Elementwise) and activation.name == name
