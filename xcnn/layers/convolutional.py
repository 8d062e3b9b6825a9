"""Convolution layers."""

from __future__ import annotations

from .. import initializers, ops, regularizers
from .layer import Layer, _padding_arg, _reg_config, _require_rank


class Conv2D(Layer):
    """2-D convolution; kernel stored as ``(filters, KH, KW, C)`` (the article's layout).

    When the model sets ``max_pool_after`` (a MaxPooling2D fed by this layer alone, see
    :meth:`fuses_with`), the layer computes that pool too, with ``ops.conv2d_max_pool2d``,
    and its output is the pooled (pre-activation) array; the pool layer then passes it on.
    """

    max_pool_after = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="he_normal", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, input_shape=None, name=None):
        super().__init__(name, activation, input_shape)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.kernel_size = ops._geometry.as_pair(kernel_size, "kernel_size")
        self.strides = ops._geometry.as_pair(strides, "strides")
        self.padding = _padding_arg(padding)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        win = ops.window_geometry(input_shape[:2], self.kernel_size, self.strides, self.padding)
        return (*win.out, self.filters)

    def build_weights(self, input_shape):
        shape = (self.filters, *self.kernel_size, input_shape[-1])
        self.add_weight("kernel", shape, self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def fuses_with(self, pool):
        """Whether this layer can compute the MaxPooling2D ``pool`` that follows it, in one op."""
        x_shape = (None, *self.inbound[0].shape)
        w_shape = (self.filters, *self.kernel_size, x_shape[-1])
        return ops.fuses_with_max_pool(x_shape, w_shape, self.strides, self.padding, pool.pool_size,
                                       pool.strides, pool.padding)

    def call(self, x, training):
        self._x = x
        kernel, bias = self.params["kernel"], self.params.get("bias")
        # the ops build their big scratch arrays in the same buffers every step
        workspace = self.__dict__.setdefault("_workspace", {})
        if self.max_pool_after is not None and not training:
            return ops.conv2d_max_pool2d(x, kernel, bias, stride=self.strides, padding=self.padding,
                                         pool_size=self.max_pool_after.pool_size, workspace=workspace)
        if self.max_pool_after is not None:
            y, self._cols, self._at_max = ops.conv2d_max_pool2d_forward(
                x, kernel, bias, stride=self.strides, padding=self.padding, pool_size=self.max_pool_after.pool_size,
                workspace=workspace)
            return y
        y, self._cols = ops.conv2d_forward(x, kernel, bias, stride=self.strides, padding=self.padding,
                                           workspace=workspace)
        return y

    def grad(self, dy, need_dx):
        kernel = self.params["kernel"]
        if self.max_pool_after is not None:
            dx, dw, db = ops.conv2d_max_pool2d_backward(
                dy, self._x, kernel, stride=self.strides, padding=self.padding,
                pool_size=self.max_pool_after.pool_size, cols=self._cols, at_max=self._at_max, need_dx=need_dx,
                workspace=self._workspace)
        else:
            dx, dw, db = ops.conv2d_backward(dy, self._x, kernel, stride=self.strides, padding=self.padding,
                                             need_dx=need_dx, cols=self._cols, workspace=self._workspace)
        # the step is done with them (the window matrix stays in the workspace for the next step)
        self._cols = self._at_max = None
        self.grads["kernel"] = dw
        if self.use_bias:
            self.grads["bias"] = db
        return dx

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "use_bias": self.use_bias,
                "kernel_regularizer": _reg_config(self.kernel_regularizer),
                "bias_regularizer": _reg_config(self.bias_regularizer)}
