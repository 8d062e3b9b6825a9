"""The :class:`Adamax` optimizer."""

from __future__ import annotations

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon


class Adamax(Optimizer):
    """Adam with the infinity norm, as Keras: ``m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|);
    w -= lr * m / ((1 - beta_1**t)(u + eps))``."""

    name = "adamax"
    slots = ("m", "u")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1, self.beta_2 = _decay_rate(beta_1, "beta_1"), _decay_rate(beta_2, "beta_2")
        self.epsilon = _epsilon(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        m = slots["m"] = slots["m"] + (g - slots["m"]) * (1.0 - self.beta_1)
        u = slots["u"] = xp.maximum(slots["u"] * self.beta_2, xp.abs(g))
        return w - m * (self._lr / (1.0 - self.beta_1**self.iterations)) / (u + self.epsilon)
