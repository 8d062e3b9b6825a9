"""The `Adamax` optimizer."""

from __future__ import annotations

from typing import Any

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon
from .schedules import LearningRateSchedule


class Adamax(Optimizer):
    """Adam with the infinity norm, as Keras.

    `m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|); w -= lr * m / ((1 - beta_1**t)(u + eps))`.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        beta_1: The first moment's decay, in `[0, 1)`.
        beta_2: The infinity norm's decay, in `[0, 1)`.
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
        >>> from xcnn.optimizers import Adamax
        >>> optimizer = Adamax(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.9, 2.1]
        >>> optimizer.iterations
        1
    """

    name = "adamax"
    slots = ("m", "u")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1, self.beta_2 = _decay_rate(beta_1, "beta_1"), _decay_rate(beta_2, "beta_2")
        self.epsilon = _epsilon(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        m = slots["m"] = slots["m"] + (g - slots["m"]) * (1.0 - self.beta_1)
        u = slots["u"] = xp.maximum(slots["u"] * self.beta_2, xp.abs(g))
        return w - m * (self._lr / (1.0 - self.beta_1**self.iterations)) / (u + self.epsilon)
