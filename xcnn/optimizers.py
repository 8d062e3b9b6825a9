"""Optimizers with Keras's update rules and defaults. State lives on the model's backend.

Each optimizer updates ``(key, weight, gradient)`` triples and returns the new weights; its
per-weight slots (momentum, moments, accumulators) are arrays on the weights' backend,
so a step never leaves the device. Step counts and learning rates are host numbers.
"""

from __future__ import annotations

import math

from ._checks import real_number
from .backend import array_namespace


class LearningRateSchedule:
    """A learning rate that depends on the step: ``schedule(step) -> float``, step 0 first.

    Pass one as ``learning_rate`` to any optimizer (as in Keras). Subclasses set ``name`` and
    keep their constructor arguments as attributes, which is their config.
    """

    name = "schedule"

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return _constructor_config(self)


def _constructor_config(obj):
    """``{"name": obj.name, arg: obj.arg, ...}`` for each constructor argument, which the
    class keeps as an attribute of the same name."""
    code = type(obj).__init__.__code__
    return {"name": obj.name, **{k: getattr(obj, k) for k in code.co_varnames[1 : code.co_argcount]}}


def _positive(value, name):
    return real_number(value, name, 0.0, low_open=True)


def _decay_rate(value, name):
    """A moving-average factor such as Adam's ``beta_1``: in [0, 1) (1 would divide by 0)."""
    return real_number(value, name, 0.0, 1.0, high_open=True)


class CosineDecay(LearningRateSchedule):
    """Keras's ``CosineDecay``: from ``initial_learning_rate`` down a half cosine to
    ``alpha * initial_learning_rate`` at ``decay_steps``, then flat."""

    name = "cosine_decay"

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.alpha = real_number(alpha, "alpha", 0.0, 1.0)

    def __call__(self, step):
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


class ExponentialDecay(LearningRateSchedule):
    """Keras's ``ExponentialDecay``: ``initial_learning_rate * decay_rate ** (step / decay_steps)``
    (the exponent rounded down with ``staircase=True``)."""

    name = "exponential_decay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.decay_rate = float(_positive(decay_rate, "decay_rate"))
        self.staircase = bool(staircase)

    def __call__(self, step):
        exponent = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(exponent) if self.staircase else exponent)


_SCHEDULES = {cls.name: cls for cls in (CosineDecay, ExponentialDecay)}


def _learning_rate(value):
    """A positive float, a schedule, or a schedule's config dict (as saved)."""
    if isinstance(value, dict):
        config = dict(value)
        name = config.pop("name", None)
        if name not in _SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {name!r}; expected one of {tuple(_SCHEDULES)}")
        return _SCHEDULES[name](**config)
    if isinstance(value, LearningRateSchedule):
        return value
    return float(_positive(value, "learning_rate"))


class Optimizer:
    """Base class: subclasses define ``slots`` and ``_update(w, g, slots) -> new w``.

    ``learning_rate`` is a positive float or a :class:`LearningRateSchedule`;
    ``current_learning_rate`` is the rate the next step uses.
    """

    name = "optimizer"
    slots: tuple[str, ...] = ()

    def __init__(self, learning_rate=0.001, weight_decay=None):
        self.learning_rate = _learning_rate(learning_rate)
        if weight_decay is not None:
            weight_decay = real_number(weight_decay, "weight_decay", 0.0)
        self.weight_decay = weight_decay
        self.iterations = 0
        self.state = {}  # key -> {slot name: array}

    @property
    def current_learning_rate(self):
        """The learning rate of the next step (the schedule's value at ``iterations``)."""
        if isinstance(self.learning_rate, LearningRateSchedule):
            return self.learning_rate(self.iterations)
        return self.learning_rate

    def _initial_slot(self, slot, w):
        xp = array_namespace(w)
        return xp.zeros_like(w)

    def apply(self, items):
        """Update weights; ``items`` is a list of ``(key, w, g)``. Returns the new weights in order."""
        self._lr = self.current_learning_rate  # this step's rate, read by _update
        self.iterations += 1
        new = []
        for key, w, g in items:
            slots = self.state.get(key)
            if slots is None:
                slots = self.state[key] = {s: self._initial_slot(s, w) for s in self.slots}
            if self.weight_decay:
                # decoupled weight decay (AdamW style), as Keras applies it
                w = w - w * (self._lr * self.weight_decay)
            new.append(self._update(w, g, slots))
        return new

    def _update(self, w, g, slots):
        raise NotImplementedError

    def get_config(self):
        """Name and constructor arguments (what ``get(config)`` rebuilds the optimizer from)."""
        config = _constructor_config(self)
        if isinstance(self.learning_rate, LearningRateSchedule):
            config["learning_rate"] = self.learning_rate.get_config()
        return config


class SGD(Optimizer):
    """``v = momentum * v - lr * g; w += v`` (Nesterov: ``w += momentum * v - lr * g``)."""

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        momentum = _decay_rate(momentum, "momentum")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slots = ("velocity",) if momentum else ()

    def _update(self, w, g, slots):
        lr = self._lr
        if not self.momentum:
            return w - g * lr
        v = slots["velocity"] = slots["velocity"] * self.momentum - g * lr
        if self.nesterov:
            return w + v * self.momentum - g * lr
        return w + v



class Adagrad(Optimizer):
    """``acc += g**2; w -= lr * g / (sqrt(acc) + eps)``, acc starting at 0.1."""

    name = "adagrad"
    slots = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.initial_accumulator_value = real_number(initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.epsilon = real_number(epsilon, "epsilon", 0.0, low_open=True)

    def _initial_slot(self, slot, w):
        return array_namespace(w).full_like(w, self.initial_accumulator_value)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        acc = slots["accumulator"] = slots["accumulator"] + g * g
        return w - g * self._lr / (xp.sqrt(acc) + self.epsilon)


class RMSprop(Optimizer):
    """``ms = rho * ms + (1 - rho) g**2; w -= lr * g / (sqrt(ms) + eps)``."""

    name = "rmsprop"
    slots = ("mean_square",)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.rho, self.epsilon = _decay_rate(rho, "rho"), real_number(epsilon, "epsilon", 0.0, low_open=True)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        ms = slots["mean_square"] = slots["mean_square"] * self.rho + g * g * (1.0 - self.rho)
        return w - g * self._lr / (xp.sqrt(ms) + self.epsilon)



class Adadelta(Optimizer):
    """Zeiler's Adadelta with Keras's defaults (learning_rate 0.001, rho 0.95)."""

    name = "adadelta"
    slots = ("accumulated_grad", "accumulated_delta")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.rho, self.epsilon = _decay_rate(rho, "rho"), real_number(epsilon, "epsilon", 0.0, low_open=True)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        rho, eps = self.rho, self.epsilon
        acc_g = slots["accumulated_grad"] = slots["accumulated_grad"] * rho + g * g * (1.0 - rho)
        delta = xp.sqrt(slots["accumulated_delta"] + eps) / xp.sqrt(acc_g + eps) * g
        slots["accumulated_delta"] = slots["accumulated_delta"] * rho + delta * delta * (1.0 - rho)
        return w - delta * self._lr



class Adam(Optimizer):
    """Adam as Keras writes it: ``w -= lr_t * m / (sqrt(v) + eps)`` with
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``."""

    name = "adam"
    slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.beta_1, self.beta_2 = _decay_rate(beta_1, "beta_1"), _decay_rate(beta_2, "beta_2")
        self.epsilon = real_number(epsilon, "epsilon", 0.0, low_open=True)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        t = self.iterations
        lr_t = self._lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        # the moments are this optimizer's own arrays, so they are updated in place and each
        # line makes one temporary, not three: for a weight array the size of the article's
        # 726x100 kernel a fresh temporary costs as much as the arithmetic
        m, v = slots["m"], slots["v"]
        step = g - m
        step *= 1.0 - self.beta_1
        m += step
        step = g * g
        step -= v
        step *= 1.0 - self.beta_2
        v += step
        step = xp.sqrt(v)
        step += self.epsilon
        step = m / step
        step *= lr_t  # not a division by lr_t: a schedule may bring the rate to 0
        return w - step



_REGISTRY = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam)}
NAMES = tuple(_REGISTRY)


def get(identifier):
    """An optimizer from a name (Keras defaults), a config dict, or an :class:`Optimizer`."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        cls = get(config.pop("name", None)).__class__
        code = cls.__init__.__code__
        accepted = code.co_varnames[1 : code.co_argcount]
        unknown = sorted(set(config) - set(accepted), key=str)
        if unknown:
            raise ValueError(f"optimizer config for {cls.name!r} has unknown keys {unknown}; accepted: {list(accepted)}")
        return cls(**config)
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; expected one of {NAMES} or an Optimizer instance")
