"""Convolution layers."""

from __future__ import annotations

from .. import initializers, ops, regularizers
from .._checks import positive_int
from .layer import NO_REWRITE, Layer, _padding_arg, _reg_config, _require_rank


class Conv2D(Layer):
    """2-D convolution; kernel stored as ``(filters, KH, KW, C / groups)`` (the article's
    layout; :meth:`get_weights` gives Keras's ``(KH, KW, C / groups, filters)``).

    ``dilation_rate`` spaces the kernel's taps (atrous convolution); ``groups`` splits the
    input channels and the filters into that many independent convolutions. Input
    ``(N, H, W, C)``, output ``(N, OH, OW, filters)``.

    When the model's plan names a ``pool`` for it (a MaxPooling2D fed by this layer alone, see
    :meth:`fuses_with`), the layer computes that pool too, with ``ops.conv2d_max_pool2d``,
    and its output is the pooled (pre-activation) array; the pool layer then passes it on.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, dilation_rate=(1, 1), groups=1, input_shape=None, name=None):
        super().__init__(name, activation, input_shape)
        self.filters = positive_int(filters, "filters")
        self.kernel_size = ops._geometry.as_pair(kernel_size, "kernel_size")
        self.strides = ops._geometry.as_pair(strides, "strides")
        self.padding = _padding_arg(padding)
        self.dilation_rate = ops._geometry.as_pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"strides {self.strides} > 1 together with dilation_rate {self.dilation_rate} > 1 "
                             "is not supported (as in Keras)")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or filters % groups:
            raise ValueError(f"groups must be a positive int that divides filters={filters}, got {groups!r}")
        self.groups = groups
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    @property
    def _general(self):
        """Dilated or grouped: computed by ``ops.conv2d_general``, never fused with a pool."""
        return self.dilation_rate != (1, 1) or self.groups != 1

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        if input_shape[-1] % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name}: groups={self.groups} must divide the input's "
                             f"{input_shape[-1]} channels")
        win = ops.window_geometry(input_shape[:2], self._span(), self.strides, self.padding)
        return (*win.out, self.filters)

    def _span(self):
        """The kernel's extent on the image, dilation included."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))

    def build_weights(self, input_shape):
        shape = (self.filters, *self.kernel_size, input_shape[-1] // self.groups)
        self.add_weight("kernel", shape, self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def _keras_layout(self, key, array):
        return array.transpose(1, 2, 3, 0) if key == "kernel" else array  # (F, KH, KW, C) -> (KH, KW, C, F)

    def _xcnn_layout(self, key, array):
        return array.transpose(3, 0, 1, 2) if key == "kernel" else array

    def fuses_with(self, pool):
        """Whether this layer can compute the MaxPooling2D ``pool`` that follows it, in one op."""
        if self._general:
            return False
        x_shape = (None, *self.inbound[0].shape)
        w_shape = (self.filters, *self.kernel_size, x_shape[-1])
        return ops.fuses_with_max_pool(x_shape, w_shape, self.strides, self.padding, pool.pool_size,
                                       pool.strides, pool.padding)

    def call(self, x, training):
        return self.call_rewritten(x, training, NO_REWRITE)

    def grad(self, dy, need_dx):
        return self.grad_rewritten(dy, need_dx, NO_REWRITE)

    def call_rewritten(self, x, training, rewrite):
        self._x = x
        kernel, bias = self.params["kernel"], self.params.get("bias")
        # the ops build their big scratch arrays in the same buffers every step
        workspace = self.__dict__.setdefault("_workspace", {})
        pool = rewrite.pool
        if self._general:
            return ops.conv2d_general(x, kernel, bias, stride=self.strides, padding=self.padding,
                                      dilation=self.dilation_rate, groups=self.groups)
        if pool is not None and not training:
            return ops.conv2d_max_pool2d(x, kernel, bias, stride=self.strides, padding=self.padding,
                                         pool_size=pool.pool_size, workspace=workspace)
        if pool is not None:
            y, self._cols, self._at_max = ops.conv2d_max_pool2d_forward(
                x, kernel, bias, stride=self.strides, padding=self.padding, pool_size=pool.pool_size,
                workspace=workspace)
            return y
        y, self._cols = ops.conv2d_forward(x, kernel, bias, stride=self.strides, padding=self.padding,
                                           workspace=workspace)
        return y

    def grad_rewritten(self, dy, need_dx, rewrite):
        kernel = self.params["kernel"]
        if self._general:
            dx, dw, db = ops.conv2d_general_backward(dy, self._x, kernel, stride=self.strides, padding=self.padding,
                                                     dilation=self.dilation_rate, groups=self.groups,
                                                     need_dx=need_dx)
        elif rewrite.pool is not None:
            dx, dw, db = ops.conv2d_max_pool2d_backward(
                dy, self._x, kernel, stride=self.strides, padding=self.padding,
                pool_size=rewrite.pool.pool_size, cols=self._cols, at_max=self._at_max, need_dx=need_dx,
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
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "kernel_regularizer": _reg_config(self.kernel_regularizer),
                "bias_regularizer": _reg_config(self.bias_regularizer)}


class _DrawnInKerasLayout(initializers.Initializer):
    """Draws a weight in Keras's shape (so fan-based initializers see Keras's fans) and hands
    it over in xcnn's layout."""

    def __init__(self, initializer, keras_shape, to_xcnn):
        self.initializer, self.keras_shape, self.to_xcnn = initializer, keras_shape, to_xcnn
        self.name = initializer.name

    def __call__(self, shape, rng):
        return self.to_xcnn(self.initializer(self.keras_shape, rng))


def _depthwise_to_keras(w, channels):
    """``(C*M, KH, KW, 1)`` (a grouped conv's filters, channel-major) -> Keras's ``(KH, KW, C, M)``."""
    cm, kh, kw, _ = w.shape
    return w[..., 0].transpose(1, 2, 0).reshape(kh, kw, channels, cm // channels)


def _depthwise_from_keras(k):
    kh, kw, c, m = k.shape
    return k.reshape(kh, kw, c * m).transpose(2, 0, 1)[..., None]


class DepthwiseConv2D(Conv2D):
    """Each input channel convolved with its own ``depth_multiplier`` filters (a Conv2D with
    ``groups`` = channels). Keras's weight ``depthwise_kernel`` is ``(KH, KW, C, depth_multiplier)``;
    input ``(N, H, W, C)``, output ``(N, OH, OW, C * depth_multiplier)``."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, dilation_rate=(1, 1), input_shape=None,
                 name=None):
        if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"depth_multiplier must be a positive int, got {depth_multiplier!r}")
        super().__init__(depth_multiplier, kernel_size, strides, padding, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer, dilation_rate, 1, input_shape,
                         name)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer, self.depthwise_regularizer = self.kernel_initializer, self.kernel_regularizer

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        # one group per input channel, depth_multiplier filters each
        self.groups, self.filters = input_shape[-1], input_shape[-1] * self.depth_multiplier
        return super().compute_output_shape(input_shape)

    def build_weights(self, input_shape):
        c = input_shape[-1]
        keras_shape = (*self.kernel_size, c, self.depth_multiplier)
        init = _DrawnInKerasLayout(self.kernel_initializer, keras_shape, _depthwise_from_keras)
        self.add_weight("kernel", (self.filters, *self.kernel_size, 1), init, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def _keras_layout(self, key, array):
        return _depthwise_to_keras(array, self.groups) if key == "kernel" else array

    def _xcnn_layout(self, key, array):
        return _depthwise_from_keras(array) if key == "kernel" else array

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups"):
            del config[key]
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        return {**config, "depth_multiplier": self.depth_multiplier}


class SeparableConv2D(Layer):
    """A depthwise convolution (``depth_multiplier`` filters per channel) followed by a 1x1
    convolution to ``filters`` channels. Keras's weights: ``depthwise_kernel`` ``(KH, KW, C, M)``,
    ``pointwise_kernel`` ``(1, 1, C*M, filters)``, ``bias``. ``(N, H, W, C)`` -> ``(N, OH, OW, filters)``."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, dilation_rate=(1, 1), input_shape=None, name=None):
        super().__init__(name, activation, input_shape)
        # the depthwise half is a DepthwiseConv2D's geometry; it checks every spatial argument
        self._depthwise = DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, use_bias=False,
                                          dilation_rate=dilation_rate, name=f"{self.name}_depthwise")
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        self.filters, self.use_bias, self.depth_multiplier = filters, use_bias, depth_multiplier
        self.kernel_size, self.strides = self._depthwise.kernel_size, self._depthwise.strides
        self.padding, self.dilation_rate = self._depthwise.padding, self._depthwise.dilation_rate
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def compute_output_shape(self, input_shape):
        return (*self._depthwise.compute_output_shape(input_shape)[:2], self.filters)

    def build_weights(self, input_shape):
        c, m = input_shape[-1], self.depth_multiplier
        depthwise = _DrawnInKerasLayout(self.depthwise_initializer, (*self.kernel_size, c, m), _depthwise_from_keras)
        self.add_weight("depthwise_kernel", (c * m, *self.kernel_size, 1), depthwise, self.depthwise_regularizer)
        pointwise = _DrawnInKerasLayout(self.pointwise_initializer, (1, 1, c * m, self.filters),
                                        lambda k: k.transpose(3, 0, 1, 2))
        self.add_weight("pointwise_kernel", (self.filters, 1, 1, c * m), pointwise, self.pointwise_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)
        self._channels = c

    def call(self, x, training):
        self._x = x
        self._z = ops.conv2d_general(x, self.params["depthwise_kernel"], None, stride=self.strides,
                                     padding=self.padding, dilation=self.dilation_rate, groups=self._channels)
        return ops.conv2d(self._z, self.params["pointwise_kernel"], self.params.get("bias"))

    def grad(self, dy, need_dx):
        dz, self.grads["pointwise_kernel"], db = ops.conv2d_backward(dy, self._z, self.params["pointwise_kernel"])
        if self.use_bias:
            self.grads["bias"] = db
        dx, self.grads["depthwise_kernel"], _ = ops.conv2d_general_backward(
            dz, self._x, self.params["depthwise_kernel"], stride=self.strides, padding=self.padding,
            dilation=self.dilation_rate, groups=self._channels, need_dx=need_dx)
        return dx

    def _keras_layout(self, key, array):
        if key == "depthwise_kernel":
            return _depthwise_to_keras(array, self._channels)
        return array.transpose(1, 2, 3, 0) if key == "pointwise_kernel" else array

    def _xcnn_layout(self, key, array):
        if key == "depthwise_kernel":
            return _depthwise_from_keras(array)
        return array.transpose(3, 0, 1, 2) if key == "pointwise_kernel" else array

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "depth_multiplier": self.depth_multiplier,
                "use_bias": self.use_bias, "dilation_rate": list(self.dilation_rate),
                "depthwise_regularizer": _reg_config(self.depthwise_regularizer),
                "pointwise_regularizer": _reg_config(self.pointwise_regularizer),
                "bias_regularizer": _reg_config(self.bias_regularizer)}


class Conv2DTranspose(Layer):
    """Transposed convolution (the gradient of a convolution w.r.t. its input), as Keras's with
    ``output_padding=None`` and ``dilation_rate=1``: 'valid' gives ``H * stride + max(KH - stride,
    0)`` rows, 'same' gives ``H * stride``. Keras's kernel is ``(KH, KW, filters, C)``.
    ``(N, H, W, C)`` -> ``(N, OH, OW, filters)``."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, input_shape=None,
                 name=None):
        super().__init__(name, activation, input_shape)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        if output_padding is not None:
            raise ValueError(f"output_padding must be None (xcnn computes Keras's default sizes), got {output_padding!r}")
        if ops._geometry.as_pair(dilation_rate, "dilation_rate") != (1, 1):
            raise ValueError(f"dilation_rate must be 1 for Conv2DTranspose in xcnn, got {dilation_rate!r}")
        self.filters, self.use_bias = filters, use_bias
        self.kernel_size = ops._geometry.as_pair(kernel_size, "kernel_size")
        self.strides = ops._geometry.as_pair(strides, "strides")
        self.padding = _padding_arg(padding)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        sizes = [ops.conv2d_transpose_padding(n, k, s, self.padding)[0]
                 for n, k, s in zip(input_shape[:2], self.kernel_size, self.strides)]
        return (*sizes, self.filters)

    def build_weights(self, input_shape):
        # the filters of the convolution this one is the transpose of: (C, KH, KW, filters)
        self.add_weight("kernel", (input_shape[-1], *self.kernel_size, self.filters), self.kernel_initializer,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training):
        self._x = x
        return ops.conv2d_transpose(x, self.params["kernel"], self.params.get("bias"), stride=self.strides,
                                    padding=self.padding)

    def grad(self, dy, need_dx):
        dx, self.grads["kernel"], db = ops.conv2d_transpose_backward(dy, self._x, self.params["kernel"],
                                                                     stride=self.strides, padding=self.padding,
                                                                     need_dx=need_dx)
        if self.use_bias:
            self.grads["bias"] = db
        return dx

    _keras_layout = Conv2D._keras_layout
    _xcnn_layout = Conv2D._xcnn_layout

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "use_bias": self.use_bias,
                "kernel_regularizer": _reg_config(self.kernel_regularizer),
                "bias_regularizer": _reg_config(self.bias_regularizer)}
