"""The :class:`Adagrad` optimizer."""

from __future__ import annotations

from .._checks import real_number
from ..backend import array_namespace
from .optimizer import Optimizer, _epsilon


class Adagrad(Optimizer):
    """``acc += g**2; w -= lr * g / (sqrt(acc) + eps)``, acc starting at 0.1."""

    name = "adagrad"
    slots = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.initial_accumulator_value = real_number(initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.epsilon = _epsilon(epsilon)

    def _initial_slot(self, slot, w):
        return array_namespace(w).full_like(w, self.initial_accumulator_value)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        acc = slots["accumulator"] = slots["accumulator"] + g * g
        return w - g * self._lr / (xp.sqrt(acc) + self.epsilon)
