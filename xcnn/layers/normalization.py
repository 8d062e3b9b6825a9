"""Normalization layers."""

from __future__ import annotations

import math

from .. import ops
from .layer import Layer


class BatchNormalization(Layer):
    """Normalizes over every axis but the last with batch statistics while training and the
    moving averages at inference (Keras defaults: momentum 0.99, epsilon 1e-3)."""

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def build_weights(self, input_shape):
        c = (input_shape[-1],)
        self.add_weight("gamma", c, "ones")
        self.add_weight("beta", c, "zeros")
        self.add_weight("moving_mean", c, "zeros", trainable=False)
        self.add_weight("moving_variance", c, "ones", trainable=False)

    def call(self, x, training):
        xp = self.xp
        if training:
            count = math.prod(x.shape[:-1])
            mean = ops.channel_sum(x) / count
            centered = x - mean
            var = ops.channel_sum(centered * centered) / count
            m = self.momentum
            self.state["moving_mean"] = self.state["moving_mean"] * m + mean * (1.0 - m)
            self.state["moving_variance"] = self.state["moving_variance"] * m + var * (1.0 - m)
        else:
            centered, var = x - self.state["moving_mean"], self.state["moving_variance"]
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self._xhat = centered * self._inv_std
        return self._xhat * self.params["gamma"] + self.params["beta"]

    def grad(self, dy, need_dx):
        count = math.prod(dy.shape[:-1])
        dgamma = self.grads["gamma"] = ops.channel_sum(dy * self._xhat)
        dbeta = self.grads["beta"] = ops.channel_sum(dy)
        if not need_dx:
            return None
        # dxhat = dy * gamma, so its channel sums are gamma * dbeta and gamma * dgamma
        gamma = self.params["gamma"]
        return (self._inv_std * gamma / count) * (dy * count - dbeta - self._xhat * dgamma)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
