"""Activations as small stateful objects that remember what their backward needs.

``get(name_or_callable)`` returns an :class:`ActivationFunction`; layers call its ``forward``
and ``backward``. Element-wise ones come straight from :mod:`xcnn.ops.activations`; the
article's ``prelu`` (a learnable per-channel slope), ``rrelu`` (a random slope while
training), ``relun`` (ReLU capped at n) and ``maxout`` (max over channel groups) carry
arguments or parameters.
"""

from __future__ import annotations

from .ops import activations as act


class ActivationFunction:
    """Forward/backward pair. ``build(layer, shape)`` may add learnable parameters to the layer."""

    name = "linear"
    changes_shape = False

    def build(self, layer, shape, xp, dtype):
        pass

    def output_shape(self, shape):
        return shape

    def forward(self, layer, x, training):
        raise NotImplementedError

    def backward(self, layer, dy):
        raise NotImplementedError

    def get_config(self):
        return self.name


class Elementwise(ActivationFunction):
    """An activation from the ops table with ``f(x)`` / ``f_backward(dy, x, y)``."""

    def __init__(self, name, forward=None, backward=None, **kwargs):
        self.name = name
        self.kwargs = kwargs
        table = act.ELEMENTWISE.get(name)
        self._f = forward or table[0]
        self._df = backward or table[1]
        self._x = self._y = None

    def forward(self, layer, x, training):
        self._x = x
        self._y = self._f(x, **self.kwargs)
        return self._y

    def backward(self, layer, dy):
        return self._df(dy, self._x, self._y, **self.kwargs)

    def get_config(self):
        return {"name": self.name, **self.kwargs} if self.kwargs else self.name


class Maxout(Elementwise):
    changes_shape = True

    def __init__(self, pieces=2):
        super().__init__("maxout", pieces=pieces)

    def output_shape(self, shape):
        pieces = self.kwargs["pieces"]
        if shape[-1] % pieces:
            raise ValueError(f"maxout needs the channel count {shape[-1]} to be a multiple of pieces={pieces}")
        return (*shape[:-1], shape[-1] // pieces)


class PReLU(ActivationFunction):
    """Parametric ReLU with a learnable slope per channel (initialised to 0.25, as PyTorch)."""

    name = "prelu"

    def build(self, layer, shape, xp, dtype):
        layer.add_weight("alpha", (shape[-1],), 0.25)

    def forward(self, layer, x, training):
        self._x = x
        return act.prelu(x, layer.params["alpha"])

    def backward(self, layer, dy):
        dx, dalpha = act.prelu_backward(dy, self._x, layer.params["alpha"])
        layer.grads["alpha"] = dalpha
        return dx


class RReLU(ActivationFunction):
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element while training, the mean after."""

    name = "rrelu"

    def __init__(self, lower=1.0 / 8.0, upper=1.0 / 3.0):
        self.lower, self.upper = lower, upper

    def forward(self, layer, x, training):
        if training:
            self._slope = layer.rng.uniform(tuple(x.shape), self.lower, self.upper, dtype=x.dtype)
        else:
            self._slope = (self.lower + self.upper) / 2.0
        self._x = x
        return act.rrelu(x, self._slope)

    def backward(self, layer, dy):
        return act.rrelu_backward(dy, self._x, self._slope)

    def get_config(self):
        return {"name": "rrelu", "lower": self.lower, "upper": self.upper}


NAMES = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "softplus",
         "softsign", "step", "relun", "maxout", "prelu", "rrelu", "relu6", "selu", "gelu", "silu", "swish",
         "hard_sigmoid", "hard_silu", "hard_swish", "exponential", "log_softmax", "mish")

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


def get(identifier):
    """An :class:`ActivationFunction` from a name, a config dict, ``(forward, backward)``, or a
    callable carrying a ``.backward(dy, x, y)`` attribute. None means linear."""
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
    if isinstance(identifier, tuple) and len(identifier) == 2 and all(callable(f) for f in identifier):
        forward, backward = identifier
        return Elementwise(getattr(forward, "__name__", "custom"), forward, backward)
    if callable(identifier) and callable(getattr(identifier, "backward", None)):
        return Elementwise(getattr(identifier, "__name__", "custom"), identifier, identifier.backward)
    if callable(identifier):
        raise TypeError(
            f"activation {identifier!r} has no backward: pass (forward, backward) or give the "
            "callable a .backward(dy, x, y) attribute"
        )
    raise ValueError(f"unknown activation {identifier!r}; expected one of {NAMES}")


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


def is_named(activation, name):
    return isinstance(activation, Elementwise) and activation.name == name
