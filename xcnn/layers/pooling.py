"""Pooling layers over NHWC images."""

from __future__ import annotations

from .. import ops
from .layer import NO_REWRITE, Layer, _padding_arg, _require_rank


class _Pooling2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        self.pool_size = ops._geometry.as_pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else ops._geometry.as_pair(strides, "strides")
        self.padding = _padding_arg(padding)

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        win = ops.window_geometry(input_shape[:2], self.pool_size, self.strides, self.padding,
                                  kernel_name="pool_size")
        return (*win.out, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """Max pooling. When the model's plan finds it right after a ReLU that feeds nothing else
    (``relu_after_pool``), the pool takes the pre-ReLU values and applies the ReLU to its (4x
    smaller) output, since max(relu(z)) = relu(max(z)); the gradients are identical. When the
    Conv2D before it computes the pooling (``pooled_by_conv``), it only applies that ReLU."""

    def call(self, x, training):
        return self.call_rewritten(x, training, NO_REWRITE)

    def grad(self, dy, need_dx):
        return self.grad_rewritten(dy, need_dx, NO_REWRITE)

    def call_rewritten(self, x, training, rewrite):
        if rewrite.pooled_by_conv:
            self._y = x
        else:
            self._x = x
            self._y, self._row_max = ops.max_pool2d_forward(x, self.pool_size, stride=self.strides,
                                                            padding=self.padding)
        return ops.relu(self._y) if rewrite.relu_after_pool else self._y

    def grad_rewritten(self, dy, need_dx, rewrite):
        if rewrite.relu_after_pool:
            dy = ops.relu_backward(dy, self._y, None)
        if rewrite.pooled_by_conv:
            return dy
        return ops.max_pool2d_backward(dy, self._x, self.pool_size, stride=self.strides, padding=self.padding,
                                       y=self._y, row_max=self._row_max)


class AveragePooling2D(_Pooling2D):
    """Average pooling; with ``padding="same"`` padded cells are left out of the mean, as in Keras."""

    def call(self, x, training):
        self._x = x
        return ops.avg_pool2d(x, self.pool_size, stride=self.strides, padding=self.padding,
                              count_include_pad=False)

    def grad(self, dy, need_dx):
        return ops.avg_pool2d_backward(dy, self._x, self.pool_size, stride=self.strides, padding=self.padding,
                                       count_include_pad=False)


class _GlobalPooling2D(Layer):
    """One pooling window the size of the image: ``(N, H, W, C)`` -> ``(N, C)``, or
    ``(N, 1, 1, C)`` with ``keepdims=True`` (Keras's arguments; xcnn is channels-last only)."""

    def __init__(self, data_format=None, keepdims=False, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"data_format must be 'channels_last' or None (xcnn images are NHWC), got {data_format!r}")
        if not isinstance(keepdims, bool):
            raise TypeError(f"keepdims must be True or False, got {keepdims!r}")
        self.data_format = "channels_last"
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return (1, 1, input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def call(self, x, training):
        self._x = x
        y = self._pool(x)
        return self.xp.reshape(y, (x.shape[0], 1, 1, x.shape[3])) if self.keepdims else y

    def grad(self, dy, need_dx):
        if self.keepdims:
            dy = self.xp.reshape(dy, (dy.shape[0], dy.shape[3]))
        return self._pool_backward(dy, self._x)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean of each channel over the whole image (ResNet's head before the classifier).

    ``GlobalAveragePooling2D()`` maps ``(N, H, W, C)`` to ``(N, C)``; ``keepdims=True`` gives
    ``(N, 1, 1, C)``.
    """

    _pool = staticmethod(ops.global_avg_pool2d)
    _pool_backward = staticmethod(ops.global_avg_pool2d_backward)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Maximum of each channel over the whole image; the gradient goes to the first pixel
    (row-major) holding it. Shapes as :class:`GlobalAveragePooling2D`."""

    _pool = staticmethod(ops.global_max_pool2d)
    _pool_backward = staticmethod(ops.global_max_pool2d_backward)
