"""Regularization layers: active while training only."""

from __future__ import annotations

from .._checks import real_number
from .layer import Layer


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of inputs while training and scales the rest by 1/(1-rate)."""

    def __init__(self, rate, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        self.rate = real_number(rate, "rate", 0.0, 1.0, high_open=True)

    def call(self, x, training):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        self._mask = self.rng.bernoulli(tuple(x.shape), 1.0 - self.rate, dtype=x.dtype) * (1.0 / (1.0 - self.rate))
        return x * self._mask

    def grad(self, dy, need_dx):
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
