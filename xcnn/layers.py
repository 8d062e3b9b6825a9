"""Keras-style layers over NHWC data. Layers keep state (weights, caches); ops keep none.

Every layer has a *core* (``call``/``grad``) and an optional activation applied after it, so
``Conv2D(..., activation="relu")`` and ``Conv2D(...)`` + ``Activation("relu")`` compute the
same thing. Calling a layer on a symbolic tensor (from :func:`Input` or another layer) wires
the functional graph; :class:`xcnn.models.Model` runs it.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from . import activations, initializers, regularizers
from . import backend as B
from . import ops

_name_counts = Counter()


def _auto_name(cls_name):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls_name).lower()
    base = re.sub(r"(?<=[a-z])(?=\d)", "", base)
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def _shape(shape, name="shape"):
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints without the batch axis, got {shape!r}") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"{name} must be a non-empty tuple of positive ints (no batch axis), got {shape!r}")
    return shape


class SymbolicTensor:
    """A placeholder for a layer's output in the functional API: its ``shape`` excludes the batch."""

    def __init__(self, shape, layer):
        self.shape = tuple(shape)
        self.layer = layer

    def __repr__(self):
        return f"<SymbolicTensor shape=(None, {', '.join(map(str, self.shape))}) from {self.layer.name}>"


class Layer:
    """Base layer. Subclasses implement ``compute_output_shape``, ``build_weights``, ``call``, ``grad``."""

    multi_input = False

    def __init__(self, name=None, activation=None, input_shape=None):
        self.name = name or _auto_name(type(self).__name__)
        self.activation = activations.get(activation) if activation is not None else None
        self.input_shape = _shape(input_shape, "input_shape") if input_shape is not None else None
        self.params, self.grads, self.state, self.regularizers = {}, {}, {}, {}
        self.inbound = None  # the SymbolicTensors this layer was called on
        self.output = None
        self.rng = None  # per-step random numbers (dropout, rrelu), set by the model
        self.xp = None
        self.dtype = None
        self.built = False
        # set by the model when the next layer (a max pool) applies this layer's ReLU instead
        self.relu_deferred = False

    # --- the functional graph -----------------------------------------------------------------
    def __call__(self, inputs):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if not all(isinstance(t, SymbolicTensor) for t in tensors):
            raise TypeError(
                f"layer {self.name} must be called on the output of Input(...) or another layer; "
                "to run a model on data use model.predict(x)"
            )
        if self.output is not None:
            raise ValueError(f"layer {self.name} is already used in a model; create a new layer instead")
        if not self.multi_input and len(tensors) != 1:
            raise ValueError(f"layer {self.name} takes one input, got {len(tensors)}")
        shapes = [t.shape for t in tensors]
        shape = self.compute_output_shape(shapes if self.multi_input else shapes[0])
        if self.activation is not None:
            shape = self.activation.output_shape(shape)
        self.inbound = tensors
        self.output = SymbolicTensor(shape, self)
        return self.output

    def compute_output_shape(self, input_shape):
        return input_shape

    # --- weights ------------------------------------------------------------------------------
    def build(self, backend, dtype, init_rng):
        """Create the weights on ``backend`` in ``dtype`` from the host generator ``init_rng``."""
        self.xp = B.namespace(backend)
        self.dtype = dtype
        self._backend, self._init_rng = backend, init_rng
        shapes = [t.shape for t in self.inbound]
        self.build_weights(shapes if self.multi_input else shapes[0])
        if self.activation is not None:
            core_shape = self.compute_output_shape(shapes if self.multi_input else shapes[0])
            self.activation.build(self, core_shape, self.xp, dtype)
        self._init_rng = None
        self.built = True

    def build_weights(self, input_shape):
        pass

    def add_weight(self, name, shape, initializer, regularizer=None, trainable=True):
        """Create weight ``name`` of ``shape``; ``initializer`` is a name, an Initializer or a number."""
        if isinstance(initializer, (int, float)):
            initializer = initializers.Constant(float(initializer), "constant")
        values = initializers.get(initializer)(shape, self._init_rng)
        (self.params if trainable else self.state)[name] = B.asarray(values, self._backend, self.dtype)
        if regularizer is not None:
            self.regularizers[name] = regularizer

    def count_params(self):
        return sum(math.prod(p.shape) for p in self.params.values()) + self.count_non_trainable()

    def count_non_trainable(self):
        return sum(math.prod(p.shape) for p in self.state.values())

    # --- running ------------------------------------------------------------------------------
    def forward(self, inputs, training=False):
        """Run the layer on a list of input arrays; keeps what :meth:`backward` needs."""
        z = self.call(inputs if self.multi_input else inputs[0], training)
        if self.activation is None or self.relu_deferred:
            return z
        return self.activation.forward(self, z, training)

    def backward(self, dy, need_dx=True, skip_activation=False):
        """Gradient w.r.t. each input (a list; None where not needed); fills ``self.grads``.

        ``skip_activation`` means ``dy`` is already the gradient before the activation (the
        model fuses softmax with cross-entropy that way).
        """
        if self.activation is not None and not skip_activation and not self.relu_deferred:
            dy = self.activation.backward(self, dy)
        dx = self.grad(dy, need_dx)
        return dx if self.multi_input else [dx]

    def call(self, x, training):
        return x

    def grad(self, dy, need_dx):
        return dy

    def get_config(self):
        config = {"name": self.name}
        if self.activation is not None:
            config["activation"] = self.activation.get_config()
        return config


class InputLayer(Layer):
    def __init__(self, shape, name=None):
        super().__init__(name=name)
        self.input_shape = _shape(shape)
        self.output = SymbolicTensor(self.input_shape, self)
        self.inbound = []

    def get_config(self):
        return {"name": self.name, "shape": list(self.input_shape)}


def Input(shape, name=None):
    """The entry of a functional model: ``Input((28, 28, 1))`` (no batch axis)."""
    return InputLayer(shape, name).output


def _require_rank(layer, shape, rank, what):
    if len(shape) != rank:
        raise ValueError(f"{type(layer).__name__} {layer.name} expects input of shape {what}, got (None, {shape})")


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
                                             need_dx=need_dx, cols=self._cols)
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


def _padding_arg(padding):
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def _reg_config(reg):
    return None if reg is None else reg.get_config()


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
    """Max pooling. When the model finds it right after a ReLU that feeds nothing else, it sets
    ``relu_before``: the pool then takes the pre-ReLU values and applies the ReLU to its (4x
    smaller) output, since max(relu(z)) = relu(max(z)); the gradients are identical. When the
    Conv2D before it computes the pooling (``pooled_by_conv``), it only applies that ReLU."""

    relu_before = False
    pooled_by_conv = False

    def call(self, x, training):
        if self.pooled_by_conv:
            self._y = x
        else:
            self._x = x
            self._y, self._row_max = ops.max_pool2d_forward(x, self.pool_size, stride=self.strides,
                                                            padding=self.padding)
        return ops.relu(self._y) if self.relu_before else self._y

    def grad(self, dy, need_dx):
        if self.relu_before:
            dy = ops.relu_backward(dy, self._y, None)
        if self.pooled_by_conv:
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


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, x, training):
        self._x_shape = tuple(x.shape)
        return ops.flatten(x)

    def grad(self, dy, need_dx):
        return ops.flatten_backward(dy, self._x_shape)


class Dense(Layer):
    """Fully connected layer on the last axis; kernel ``(in, units)`` as in Keras."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 input_shape=None, name=None):
        super().__init__(name, activation, input_shape)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive int, got {units!r}")
        self.units, self.use_bias = units, use_bias
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


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of inputs while training and scales the rest by 1/(1-rate)."""

    def __init__(self, rate, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

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


class RandomTranslation(Layer):
    """Shifts each training image by a random whole number of pixels, up to
    ``round(height_factor * H)`` rows and ``round(width_factor * W)`` columns either way,
    filling the uncovered border with ``fill_value``; at inference images pass unchanged.

    Keras's ``RandomTranslation`` with ``fill_mode="constant"`` and ``interpolation="nearest"``:
    data augmentation as a layer, drawn from the model's per-step random stream.
    """

    def __init__(self, height_factor, width_factor, fill_value=0.0, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        for arg, value in (("height_factor", height_factor), ("width_factor", width_factor)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"{arg} must be a number in [0, 1), got {value!r}")
        self.height_factor, self.width_factor = float(height_factor), float(width_factor)
        self.fill_value = float(fill_value)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name} expects images (H, W, C), got input shape {input_shape}")
        return input_shape

    def _reach(self, x):
        return round(self.height_factor * x.shape[1]), round(self.width_factor * x.shape[2])

    def call(self, x, training):
        self._offsets = None
        reach = self._reach(x)
        if not training or reach == (0, 0):
            return x
        xp, n = self.xp, x.shape[0]
        # whole shifts in [-reach, reach] per image and axis
        self._offsets = [xp.astype(xp.floor(self.rng.uniform((n,), dtype=x.dtype) * (2 * r + 1)), xp.int64) - r
                         for r in reach]
        return self._shift(x, reach, *self._offsets, self.fill_value)

    def _shift(self, x, reach, rows_down, cols_right, fill):
        """``out[n, i, j] = x[n, i - rows_down[n], j - cols_right[n]]``, ``fill`` outside x: one
        gather from the padded images."""
        xp = self.xp
        n, h, w, c = x.shape
        (rh, rw), device = reach, x.device
        padded = ops._geometry.pad_images(x, ((rh, rh), (rw, rw)), fill)
        hp, wp = h + 2 * rh, w + 2 * rw
        ints = xp.int64
        # flat index of out[n, 0, 0] in the padded images, plus that of pixel (i, j) in one image
        first = xp.arange(n, dtype=ints, device=device) * (hp * wp) + (rh - rows_down) * wp + (rw - cols_right)
        within = xp.reshape(xp.reshape(xp.arange(h, dtype=ints, device=device) * wp, (h, 1))
                            + xp.reshape(xp.arange(w, dtype=ints, device=device), (1, w)), (1, h * w))
        pixel = xp.reshape(xp.reshape(first, (n, 1)) + within, (-1,))
        return xp.reshape(xp.take(xp.reshape(padded, (n * hp * wp, c)), pixel, axis=0), (n, h, w, c))

    def grad(self, dy, need_dx):
        if not need_dx or self._offsets is None:
            return dy
        # the adjoint of a shift with a constant border is the opposite shift with a zero border
        return self._shift(dy, self._reach(dy), -self._offsets[0], -self._offsets[1], 0.0)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor,
                "fill_value": self.fill_value}


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


class Add(Layer):
    """Element-wise sum of inputs of one shape (residual connections)."""

    multi_input = True

    def compute_output_shape(self, input_shapes):
        if len(input_shapes) < 2 or any(s != input_shapes[0] for s in input_shapes):
            raise ValueError(f"Add {self.name} needs two or more inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def call(self, xs, training):
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        self._n = len(xs)
        return total

    def grad(self, dy, need_dx):
        return [dy] * self._n


class Concatenate(Layer):
    """Joins inputs along ``axis`` (default the channel axis)."""

    multi_input = True

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        self.axis = axis

    def _axis(self, rank):
        axis = self.axis if self.axis < 0 else self.axis - 1  # the user's axis counts the batch axis
        if not -rank <= axis < rank:
            raise ValueError(f"Concatenate {self.name}: axis {self.axis} is out of range for rank {rank + 1}")
        return axis % rank

    def compute_output_shape(self, input_shapes):
        rank = len(input_shapes[0])
        axis = self._axis(rank)
        for s in input_shapes:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, input_shapes[0])) if i != axis):
                raise ValueError(f"Concatenate {self.name}: shapes {input_shapes} differ off axis {self.axis}")
        return tuple(sum(s[i] for s in input_shapes) if i == axis else d for i, d in enumerate(input_shapes[0]))

    def call(self, xs, training):
        self._sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concat(xs, axis=self.axis)

    def grad(self, dy, need_dx):
        parts, start = [], 0
        axis = self.axis % dy.ndim
        for size in self._sizes:
            index = tuple(slice(start, start + size) if i == axis else slice(None) for i in range(dy.ndim))
            parts.append(dy[index])
            start += size
        return parts

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# Layer classes by name: the only constructors a saved model may name (nothing is executed).
LAYER_CLASSES = {cls.__name__: cls for cls in (
    InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Activation, Dropout,
    RandomTranslation, BatchNormalization, Add, Concatenate,
)}
