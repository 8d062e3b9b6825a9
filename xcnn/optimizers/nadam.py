"""The :class:`Nadam` optimizer."""

from __future__ import annotations

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon


class Nadam(Optimizer):
    """Adam with Nesterov momentum, Keras's form (Dozat 2016, with the momentum schedule
    ``u_t = beta_1 (1 - 0.5 * 0.96**t)`` and its running product)."""

    name = "nadam"
    slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
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


