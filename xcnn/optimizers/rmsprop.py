"""The `RMSprop` optimizer."""

from __future__ import annotations

from typing import Any

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon
from .schedules import LearningRateSchedule


class RMSprop(Optimizer):
    """Keras's RMSprop: `v = rho * v + (1 - rho) g**2; w -= lr * g / sqrt(v + eps)`.

    Epsilon is inside the root, as Keras: not `sqrt(v) + eps`. `centered`: `v - mean(g)**2` under
    the root, the mean kept the same way; `momentum`: the increments pass through a velocity.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        rho: The average's decay, in `[0, 1)`.
        momentum: The velocity's decay, in `[0, 1)`.
        epsilon: Added under the root; positive.
        centered: Subtract the squared mean gradient.
        weight_decay: Decoupled weight decay: each step first does `w -= w * weight_decay * lr`.
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `learning_rate` is not a positive number or a schedule, an argument is out
            of its range, or more than one of `clipnorm`, `clipvalue` and `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import RMSprop
        >>> optimizer = RMSprop(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.6838, 2.3162]
        >>> optimizer.iterations
        1
    """

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho, self.momentum = _decay_rate(rho, "rho"), _decay_rate(momentum, "momentum")
        self.epsilon, self.centered = _epsilon(epsilon), bool(centered)
        self.slots = (
            ("mean_square",) + (("momentum",) if momentum else ()) + (("average_gradient",) if centered else ())
        )

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        v = slots["mean_square"] = slots["mean_square"] * self.rho + g * g * (1.0 - self.rho)
        denominator = v + self.epsilon
        if self.centered:
            mean = slots["average_gradient"] = slots["average_gradient"] * self.rho + g * (1.0 - self.rho)
            denominator = denominator - mean * mean
        increment = g * self._lr / xp.sqrt(denominator)
        if self.momentum:
            increment = slots["momentum"] = slots["momentum"] * self.momentum + increment
        return w - increment
