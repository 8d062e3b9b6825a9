"""The :class:`Adam` optimizer."""

from __future__ import annotations

import math

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon


class Adam(Optimizer):
    """Adam as Keras writes it: ``w -= lr_t * m / (sqrt(v) + eps)`` with
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``."""

    name = "adam"
    slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1, self.beta_2 = _decay_rate(beta_1, "beta_1"), _decay_rate(beta_2, "beta_2")
        self.epsilon = _epsilon(epsilon)

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        t = self.iterations
        lr_t = self._lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        # the moments are this optimizer's own arrays, so they are updated in place and each
        # line makes one temporary, not three: for a weight array the size of the article's
        # 726x100 kernel a fresh temporary costs as much as the arithmetic
        m, v = slots["m"], slots["v"]
        step = g - m
        step *= 1.0 - self.beta_1
        m += step
        step = g * g
        step -= v
        step *= 1.0 - self.beta_2
        v += step
        step = xp.sqrt(v)
        step += self.epsilon
        step = m / step
        step *= lr_t  # not a division by lr_t: a schedule may bring the rate to 0
        return w - step


class AdamW(Adam):
    """Adam with decoupled weight decay on by default (``weight_decay=0.004``), as Keras's AdamW."""

    name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        if weight_decay is None:
            raise ValueError("AdamW needs a weight_decay (a number >= 0); use Adam for none")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm, clipvalue, global_clipnorm)
