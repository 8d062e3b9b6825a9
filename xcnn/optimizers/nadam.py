"""The `Nadam` optimizer."""

from __future__ import annotations

from typing import Any

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon
from .schedules import LearningRateSchedule


class Nadam(Optimizer):
    """Adam with Nesterov momentum, in Keras's form.

    Dozat 2016, with the momentum schedule `u_t = beta_1 (1 - 0.5 * 0.96**t)` and its running
    product.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        beta_1: The first moment's decay, in `[0, 1)`.
        beta_2: The second moment's decay, in `[0, 1)`.
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
        >>> from xcnn.optimizers import Nadam
        >>> optimizer = Nadam(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.8937, 2.1063]
        >>> optimizer.iterations
        1
    """

    name = "nadam"
    slots = ("m", "v")

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
        self.u_product = 1.0  # prod of u_1..u_t, a host number advanced once per step

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _before_step(self):
        self.u_product *= self._u(self.iterations + 1)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        t = self.iterations  # already advanced: this step's number, from 1
        u_t, u_next = self._u(t), self._u(t + 1)
        m = slots["m"] = slots["m"] + (g - slots["m"]) * (1.0 - self.beta_1)
        v = slots["v"] = slots["v"] + (g * g - slots["v"]) * (1.0 - self.beta_2)
        m_hat = m * (u_next / (1.0 - self.u_product * u_next)) + g * ((1.0 - u_t) / (1.0 - self.u_product))
        v_hat = v / (1.0 - self.beta_2**t)
        return w - m_hat * self._lr / (xp.sqrt(v_hat) + self.epsilon)
