"""Optimizers with Keras's update rules and defaults. State lives on the model's backend.

Each optimizer updates ``(key, weight, gradient)`` triples and returns the new weights; its
per-weight slots (momentum, moments, accumulators) are arrays on the weights' backend,
so a step never leaves the device. Step counts and learning rates are host numbers.
"""

from __future__ import annotations

import math

from .backend import array_namespace


class Optimizer:
    """Base class: subclasses define ``slots`` and ``_update(w, g, slots) -> new w``."""

    name = "optimizer"
    slots = ()

    def __init__(self, learning_rate=0.001, weight_decay=None):
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.weight_decay = weight_decay
        self.iterations = 0
        self.state = {}  # key -> {slot name: array}

    def _initial_slot(self, slot, w):
        xp = array_namespace(w)
        return xp.zeros_like(w)

    def apply(self, items):
        """Update weights; ``items`` is a list of ``(key, w, g)``. Returns the new weights in order."""
        self.iterations += 1
        new = []
        for key, w, g in items:
            slots = self.state.get(key)
            if slots is None:
                slots = self.state[key] = {s: self._initial_slot(s, w) for s in self.slots}
            if self.weight_decay:
                # decoupled weight decay (AdamW style), as Keras applies it
                w = w - w * (self.learning_rate * self.weight_decay)
            new.append(self._update(w, g, slots))
        return new

    def _update(self, w, g, slots):
        raise NotImplementedError

    def get_config(self):
        """Name and constructor arguments (what ``get(config)`` rebuilds the optimizer from)."""
        names = self.__init__.__code__.co_varnames[1 : self.__init__.__code__.co_argcount]
        return {"name": self.name, **{k: getattr(self, k) for k in names}}


class SGD(Optimizer):
    """``v = momentum * v - lr * g; w += v`` (Nesterov: ``w += momentum * v - lr * g``)."""

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slots = ("velocity",) if momentum else ()

    def _update(self, w, g, slots):
        lr = self.learning_rate
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
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def _initial_slot(self, slot, w):
        return array_namespace(w).full_like(w, self.initial_accumulator_value)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        acc = slots["accumulator"] = slots["accumulator"] + g * g
        return w - g * self.learning_rate / (xp.sqrt(acc) + self.epsilon)


class RMSprop(Optimizer):
    """``ms = rho * ms + (1 - rho) g**2; w -= lr * g / (sqrt(ms) + eps)``."""

    name = "rmsprop"
    slots = ("mean_square",)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        ms = slots["mean_square"] = slots["mean_square"] * self.rho + g * g * (1.0 - self.rho)
        return w - g * self.learning_rate / (xp.sqrt(ms) + self.epsilon)



class Adadelta(Optimizer):
    """Zeiler's Adadelta with Keras's defaults (learning_rate 0.001, rho 0.95)."""

    name = "adadelta"
    slots = ("accumulated_grad", "accumulated_delta")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        rho, eps = self.rho, self.epsilon
        acc_g = slots["accumulated_grad"] = slots["accumulated_grad"] * rho + g * g * (1.0 - rho)
        delta = xp.sqrt(slots["accumulated_delta"] + eps) / xp.sqrt(acc_g + eps) * g
        slots["accumulated_delta"] = slots["accumulated_delta"] * rho + delta * delta * (1.0 - rho)
        return w - delta * self.learning_rate



class Adam(Optimizer):
    """Adam as Keras writes it: ``w -= lr_t * m / (sqrt(v) + eps)`` with
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``."""

    name = "adam"
    slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None):
        super().__init__(learning_rate, weight_decay)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        t = self.iterations
        lr_t = self.learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        m = slots["m"] = slots["m"] + (g - slots["m"]) * (1.0 - self.beta_1)
        v = slots["v"] = slots["v"] + (g * g - slots["v"]) * (1.0 - self.beta_2)
        return w - m * lr_t / (xp.sqrt(v) + self.epsilon)



_REGISTRY = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam)}
NAMES = tuple(_REGISTRY)


def get(identifier):
    """An optimizer from a name (Keras defaults), a config dict, or an :class:`Optimizer`."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        return get(config.pop("name")).__class__(**config)
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; expected one of {NAMES} or an Optimizer instance")
