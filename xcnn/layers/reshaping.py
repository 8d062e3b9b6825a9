"""Layers that only rearrange values."""

from __future__ import annotations

import math

from .. import ops
from .layer import Layer


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, x, training):
        self._x_shape = tuple(x.shape)
        return ops.flatten(x)

    def grad(self, dy, need_dx):
        return ops.flatten_backward(dy, self._x_shape)
