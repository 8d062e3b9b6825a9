"""The :class:`RMSprop` optimizer."""

from __future__ import annotations

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon


class RMSprop(Optimizer):
    """Keras's RMSprop: ``v = rho * v + (1 - rho) g**2; w -= lr * g / sqrt(v + eps)`` (epsilon
    inside the root, as Keras: not ``sqrt(v) + eps``). ``centered``: ``v - mean(g)**2`` under
    the root, the mean kept the same way; ``momentum``: the increments pass through a velocity."""

    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho, self.momentum = _decay_rate(rho, "rho"), _decay_rate(momentum, "momentum")
        self.epsilon, self.centered = _epsilon(epsilon), bool(centered)
        self.slots = ("mean_square",) + (("momentum",) if momentum else ()) + (("average_gradient",) if centered else ())

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
