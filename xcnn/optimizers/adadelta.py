"""The `Adadelta` optimizer."""

from __future__ import annotations

from typing import Any

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon
from .schedules import LearningRateSchedule


class Adadelta(Optimizer):
    """Zeiler's Adadelta with Keras's defaults (`learning_rate` 0.001, `rho` 0.95).

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        rho: The accumulators' decay, in `[0, 1)`.
        epsilon: Added under the roots; positive.
        weight_decay: Decoupled weight decay: each step first does `w -= w * weight_decay * lr`.
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `learning_rate` is not a positive number or a schedule, an argument is out
            of its range, or more than one of `clipnorm`, `clipvalue` and `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import Adadelta
        >>> optimizer = Adadelta(learning_rate=1.0)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.9986, 2.0014]
        >>> optimizer.iterations
        1
    """

    name = "adadelta"
    slots = ("accumulated_grad", "accumulated_delta")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho, self.epsilon = _decay_rate(rho, "rho"), _epsilon(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        rho, eps = self.rho, self.epsilon
        acc_g = slots["accumulated_grad"] = slots["accumulated_grad"] * rho + g * g * (1.0 - rho)
        delta = xp.sqrt(slots["accumulated_delta"] + eps) / xp.sqrt(acc_g + eps) * g
        slots["accumulated_delta"] = slots["accumulated_delta"] * rho + delta * delta * (1.0 - rho)
        return w - delta * self._lr
