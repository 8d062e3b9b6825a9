"""Normalization layers."""

from __future__ import annotations

import math

from .. import initializers, ops, regularizers
from .layer import Layer, _reg_config


class BatchNormalization(Layer):
    """Normalizes each channel (the last axis) with batch statistics while training and the
    moving averages at inference, then scales by ``gamma`` and shifts by ``beta``.

    Keras's arguments and defaults: ``momentum=0.99``, ``epsilon=1e-3``, ``center`` (learn
    ``beta``), ``scale`` (learn ``gamma``). Only ``axis=-1`` (channels last) is supported. A
    frozen layer (``trainable = False``) always runs in inference mode, as in Keras.
    Input and output: any shape ``(N, ..., C)``. Weights, in Keras's order: ``gamma``, ``beta``
    (trainable, ``(C,)``), ``moving_mean``, ``moving_variance`` (non-trainable, ``(C,)``).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        if axis != -1 and not isinstance(axis, int):
            raise ValueError(f"axis must be -1 (the channels, last), got {axis!r}")
        self.axis = axis
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        if not epsilon > 0.0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def compute_output_shape(self, input_shape):
        if self.axis not in (-1, len(input_shape)):  # axis counts the batch axis, as in Keras
            raise ValueError(
                f"BatchNormalization {self.name}: only axis=-1 (channels last) is supported, got axis={self.axis} "
                f"for inputs of shape (None, {', '.join(map(str, input_shape))})")
        return input_shape

    def build_weights(self, input_shape):
        c = (input_shape[-1],)
        if self.scale:
            self.add_weight("gamma", c, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", c, self.beta_initializer, self.beta_regularizer)
        self.add_weight("moving_mean", c, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", c, self.moving_variance_initializer, trainable=False)

    def call(self, x, training):
        xp = self.xp
        self._batch_statistics = training = training and self.trainable
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
        y = self._xhat * self.params["gamma"] if self.scale else self._xhat
        return y + self.params["beta"] if self.center else y

    def grad(self, dy, need_dx):
        if self.scale:
            self.grads["gamma"] = ops.channel_sum(dy * self._xhat)
        if self.center:
            self.grads["beta"] = ops.channel_sum(dy)
        if not need_dx:
            return None
        scaled_inv_std = self._inv_std * self.params["gamma"] if self.scale else self._inv_std
        if not self._batch_statistics:
            # the moving statistics are constants: the layer is affine in x
            return dy * scaled_inv_std
        # with batch statistics the mean and variance depend on x too; dxhat = dy * gamma
        count = math.prod(dy.shape[:-1])
        dbeta = self.grads["beta"] if self.center else ops.channel_sum(dy)
        dgamma = self.grads["gamma"] if self.scale else ops.channel_sum(dy * self._xhat)
        return (scaled_inv_std / count) * (dy * count - dbeta - self._xhat * dgamma)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_regularizer": _reg_config(self.beta_regularizer),
                "gamma_regularizer": _reg_config(self.gamma_regularizer)}
