"""The :class:`SGD` optimizer."""

from __future__ import annotations

from .optimizer import Optimizer, _decay_rate


class SGD(Optimizer):
    """``v = momentum * v - lr * g; w += v`` (Nesterov: ``w += momentum * v - lr * g``)."""

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
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
