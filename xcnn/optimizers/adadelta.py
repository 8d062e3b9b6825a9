"""The :class:`Adadelta` optimizer."""

from __future__ import annotations

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon


class Adadelta(Optimizer):
    """Zeiler's Adadelta with Keras's defaults (learning_rate 0.001, rho 0.95)."""

    name = "adadelta"
    slots = ("accumulated_grad", "accumulated_delta")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho, self.epsilon = _decay_rate(rho, "rho"), _epsilon(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        rho, eps = self.rho, self.epsilon
        acc_g = slots["accumulated_grad"] = slots["accumulated_grad"] * rho + g * g * (1.0 - rho)
        delta = xp.sqrt(slots["accumulated_delta"] + eps) / xp.sqrt(acc_g + eps) * g
        slots["accumulated_delta"] = slots["accumulated_delta"] * rho + delta * delta * (1.0 - rho)
        return w - delta * self._lr
