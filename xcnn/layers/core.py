"""Dense and Activation: the layers every network has."""

from __future__ import annotations

from .. import initializers, ops, regularizers
from .._checks import positive_int
from .layer import Layer, _reg_config


class Dense(Layer):
    """Fully connected layer on the last axis; kernel ``(in, units)`` as in Keras."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 input_shape=None, name=None):
        super().__init__(name, activation, input_shape)
        self.units, self.use_bias = positive_int(units, "units"), use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def build_weights(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training):
        self._x = x
        y = x @ self.params["kernel"]
        return y + self.params["bias"] if self.use_bias else y

    def grad(self, dy, need_dx):
        xp, kernel = self.xp, self.params["kernel"]
        x2 = xp.reshape(self._x, (-1, kernel.shape[0]))
        dy2 = xp.reshape(dy, (-1, self.units))
        self.grads["kernel"] = x2.T @ dy2
        if self.use_bias:
            self.grads["bias"] = ops.channel_sum(dy2)
        return dy @ kernel.T if need_dx else None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "kernel_regularizer": _reg_config(self.kernel_regularizer),
                "bias_regularizer": _reg_config(self.bias_regularizer)}


class Activation(Layer):
    """An activation as its own layer: ``Activation("relu")``, ``Activation("prelu")``, ..."""

    def __init__(self, activation, name=None, input_shape=None):
        super().__init__(name, activation, input_shape)
