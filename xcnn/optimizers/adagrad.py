"""The `Adagrad` optimizer."""

from __future__ import annotations

from typing import Any

from .._checks import real_number
from ..backend import array_namespace
from .optimizer import Optimizer, _epsilon
from .schedules import LearningRateSchedule


class Adagrad(Optimizer):
    """Adagrad: a rate per weight entry from its accumulated squared gradients.

    `acc += g**2; w -= lr * g / (sqrt(acc) + eps)`, the accumulator starting at
    `initial_accumulator_value`.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        initial_accumulator_value: The accumulator's start; >= 0.
        epsilon: Added to the denominator; positive.
        weight_decay: Decoupled weight decay: each step first does `w -= w * weight_decay * lr`.
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `learning_rate` is not a positive number or a schedule, an argument is out
            of its range, or more than one of `clipnorm`, `clipvalue` and `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import Adagrad
        >>> optimizer = Adagrad(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.9155, 2.0845]
        >>> optimizer.iterations
        1
    """

    name = "adagrad"
    slots = ("accumulator",)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.initial_accumulator_value = real_number(initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.epsilon = _epsilon(epsilon)

    def _initial_slot(self, slot, w):
        return array_namespace(w).full_like(w, self.initial_accumulator_value)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        acc = slots["accumulator"] = slots["accumulator"] + g * g
        return w - g * self._lr / (xp.sqrt(acc) + self.epsilon)
