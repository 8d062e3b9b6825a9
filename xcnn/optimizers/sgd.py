"""The `SGD` optimizer."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, _decay_rate
from .schedules import LearningRateSchedule


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum or Nesterov momentum as in Keras.

    `v = momentum * v - lr * g; w += v` (Nesterov: `w += momentum * v - lr * g`); plain
    `w -= lr * g` without momentum.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        momentum: The velocity's decay, in `[0, 1)`.
        nesterov: Use Nesterov momentum.
        weight_decay: Decoupled weight decay: each step first does `w -= w * weight_decay * lr`.
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `learning_rate` is not a positive number or a schedule, an argument is out
            of its range, or more than one of `clipnorm`, `clipvalue` and `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import SGD
        >>> optimizer = SGD(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.95, 2.05]
        >>> optimizer.iterations
        1
    """

    name = "sgd"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.momentum, self.nesterov = _decay_rate(momentum, "momentum"), bool(nesterov)
        self.slots = ("velocity",) if momentum else ()

    def _update(self, w, g, slots):
        lr = self._lr
        if not self.momentum:
            return w - g * lr
        v = slots["velocity"] = slots["velocity"] * self.momentum - g * lr
        if self.nesterov:
            return w + v * self.momentum - g * lr
        return w + v
