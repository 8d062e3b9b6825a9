"""Regularization layers: active while training only."""

from __future__ import annotations

from .._checks import real_number
from .layer import Layer
from .preprocessing import _seed_arg


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of inputs while training and scales the rest by 1/(1-rate).

    noise_shape: the mask's shape with the batch axis, as in Keras; ``None`` entries take the
    input's size and size-1 entries share one draw along that axis (``(None, 1, 1, C)`` drops
    whole channels). seed: the layer draws from its own stream started from ``seed`` instead
    of the model's per-step stream.
    """

    def __init__(self, rate, noise_shape=None, seed=None, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        self.rate = real_number(rate, "rate", 0.0, 1.0, high_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = _seed_arg(seed)

    def compute_output_shape(self, input_shape):
        if self.noise_shape is not None:
            full = (None, *input_shape)
            if len(self.noise_shape) != len(full) or any(
                    d is not None and d not in (1, n) for d, n in zip(self.noise_shape[1:], input_shape)):
                raise ValueError(f"noise_shape {self.noise_shape} does not fit inputs {full}: it needs one entry per "
                                 "axis (batch first), each None, 1 or the input's size")
        return input_shape

    def call(self, x, training):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        shape = tuple(x.shape) if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, x.shape))
        self._mask = self.rng.bernoulli(shape, 1.0 - self.rate, dtype=x.dtype) * (1.0 / (1.0 - self.rate))
        return x * self._mask

    def grad(self, dy, need_dx):
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
