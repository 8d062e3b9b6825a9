"""Convolution layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import constraints, initializers, ops, regularizers
from .._checks import positive_int
from ..backend import array_namespace
from .layer import NO_REWRITE, Layer, Rewrite, _padding_arg, _permute, _reg_config, _require_rank
from .._typing import ActivationLike, Array, ConstraintLike, InitializerLike, IntPair, RegularizerLike, Shape

if TYPE_CHECKING:
    from .pooling import MaxPooling2D


class Conv2D(Layer):
    """2-D convolution; the kernel is stored as `(filters, KH, KW, C / groups)` (the article's
    layout; `get_weights` gives Keras's `(KH, KW, C / groups, filters)`).

    `dilation_rate` spaces the kernel's taps (atrous convolution); `groups` splits the input
    channels and the filters into that many independent convolutions.

    When the model's plan names a `pool` for it (a MaxPooling2D fed by this layer alone, see
    `fuses_with`), the layer computes that pool too, with `ops.conv2d_max_pool2d`, and its
    output is the pooled (pre-activation) array; the pool layer then passes it on.

    Args:
        filters: The number of output channels.
        kernel_size: The window `(KH, KW)`, or one int for both.
        strides: The step `(SH, SW)`, or one int for both.
        padding: `"valid"` (no padding) or `"same"` (output `ceil(H / SH)` rows), as in Keras.
        activation: The activation applied after the convolution (default: none).
        use_bias: Whether to add a learnt bias of shape `(filters,)`.
        kernel_initializer: How the kernel is initialised.
        bias_initializer: How the bias is initialised.
        kernel_regularizer: A penalty on the kernel added to the loss.
        bias_regularizer: A penalty on the bias added to the loss.
        dilation_rate: The spacing of the kernel's taps; > 1 cannot go with strides > 1.
        groups: The number of channel groups; must divide `filters` and the input's channels.
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.
        name: The layer's name (default: a unique one from the class name).
        kernel_constraint: A constraint the optimizer applies to the kernel after each update,
            in Keras's layout `(KH, KW, C / groups, filters)`: `MaxNorm(3, axis=[0, 1, 2])`
            bounds each filter's norm.
        bias_constraint: A constraint applied to the bias after each update.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, OH, OW, filters)`: with `"valid"`, `OH = (H - (KH - 1) * dilation - 1) // SH + 1`;
        with `"same"`, `OH = ceil(H / SH)` (likewise `OW`).

    Raises:
        ValueError: If an argument is out of range (`filters`, `kernel_size`, `strides` not
            positive, an unknown `padding`, strides > 1 with dilation_rate > 1, `groups` not
            dividing `filters`).

    Examples:
        >>> from xcnn.layers import Conv2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 1)), Conv2D(4, 3)])
        >>> model.output_shape
        (None, 6, 6, 4)
    """

    private_output = True  # a fresh result outside training (see Layer.private_output)
    kernel_output_axis = 0  # (F, KH, KW, C / groups): a BatchNormalization after it folds in

    _workspace: dict[str, Any]  # the ops' scratch buffers, made by the first call

    def __init__(
        self,
        filters: int,
        kernel_size: IntPair,
        strides: IntPair = 1,
        padding: str = "valid",
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: RegularizerLike = None,
        bias_regularizer: RegularizerLike = None,
        dilation_rate: IntPair = (1, 1),
        groups: int = 1,
        input_shape: Sequence[int] | None = None,
        name: str | None = None,
        kernel_constraint: ConstraintLike = None,
        bias_constraint: ConstraintLike = None,
    ) -> None:
        super().__init__(name, activation, input_shape)
        self.filters = positive_int(filters, "filters")
        self.kernel_size = ops._geometry.as_pair(kernel_size, "kernel_size")
        self.strides = ops._geometry.as_pair(strides, "strides")
        self.padding = _padding_arg(padding)
        self.dilation_rate = ops._geometry.as_pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"strides {self.strides} > 1 together with dilation_rate {self.dilation_rate} > 1 "
                "is not supported (as in Keras)"
            )
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or filters % groups:
            raise ValueError(f"groups must be a positive int that divides filters={filters}, got {groups!r}")
        self.groups = groups
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    @property
    def _general(self):
        """Dilated or grouped: computed by ``ops.conv2d_general``, never fused with a pool."""
        return self.dilation_rate != (1, 1) or self.groups != 1

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(OH, OW, filters)`.

        Raises:
            ValueError: If `groups` does not divide the input's channels, or the input is not `(H, W, C)`.

        Examples:
            >>> from xcnn.layers import Conv2D
            >>> Conv2D(4, 3).compute_output_shape((8, 8, 1))
            (6, 6, 4)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        if input_shape[-1] % self.groups:
            raise ValueError(
                f"{type(self).__name__} {self.name}: groups={self.groups} must divide the input's "
                f"{input_shape[-1]} channels"
            )
        win = ops.window_geometry(
            input_shape[:2], ops.dilated_extent(self.kernel_size, self.dilation_rate), self.strides, self.padding
        )
        return (*win.out, self.filters)

    def build_weights(self, input_shape: Shape) -> None:
        """Create the layer's weights for inputs of `input_shape`; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = Conv2D(4, 3)
            >>> model = Sequential([Input((8, 8, 1)), layer])
            >>> {k: tuple(w.shape) for k, w in {**layer.params, **layer.state}.items()}
            {'kernel': (4, 3, 3, 1), 'bias': (4,)}
        """
        shape = (self.filters, *self.kernel_size, input_shape[-1] // self.groups)
        self.add_weight(
            "kernel", shape, self.kernel_initializer, self.kernel_regularizer, constraint=self.kernel_constraint
        )
        if self.use_bias:
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, self.bias_regularizer, constraint=self.bias_constraint
            )

    def _keras_layout(self, key, array):
        return _permute(array, (1, 2, 3, 0)) if key == "kernel" else array  # (F, KH, KW, C) -> (KH, KW, C, F)

    def _xcnn_layout(self, key, array):
        return _permute(array, (3, 0, 1, 2)) if key == "kernel" else array

    def fuses_with(self, pool: MaxPooling2D) -> bool:
        """Whether this layer can compute the MaxPooling2D `pool` that follows it, in one op.

        The model's plan asks this of a Conv2D whose only consumer is a MaxPooling2D; the layer must
        be in a model (its input shape known).

        Args:
            pool: The `MaxPooling2D` layer fed by this one.

        Returns:
            True when `ops.conv2d_max_pool2d` supports this geometry (no dilation or groups, and a
            pool the fused op implements).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2D, Input, MaxPooling2D
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> conv, pool = Conv2D(4, 3), MaxPooling2D()
            >>> model = Sequential([Input((8, 8, 1)), conv, pool])
            >>> conv.fuses_with(pool) in (True, False)
            True
        """
        if self._general:
            return False
        x_shape = (None, *self.inbound[0].item_shape)
        w_shape = (self.filters, *self.kernel_size, x_shape[-1])
        return ops.fuses_with_max_pool(
            x_shape, w_shape, self.strides, self.padding, pool.pool_size, pool.strides, pool.padding
        )

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, OH, OW, filters)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = Conv2D(4, 3)
            >>> model = Sequential([Input((8, 8, 1)), layer])
            >>> x = np.ones((2, 8, 8, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 6, 6, 4)
        """
        return self.call_rewritten(x, training, NO_REWRITE)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. Fills `self.grads` with the gradients of the weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, OH, OW, filters)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = Conv2D(4, 3)
            >>> model = Sequential([Input((8, 8, 1)), layer])
            >>> x = np.ones((2, 8, 8, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 8, 8, 1)
            >>> sorted(layer.grads)
            ['bias', 'kernel']
        """
        return self.grad_rewritten(dy, need_dx, NO_REWRITE)

    def call_rewritten(self, x: Array, training: bool, rewrite: Rewrite) -> Array:
        """`call` under the model plan's `rewrite`: with `rewrite.pool` set, the convolution and that max pooling in one op.

        With `rewrite.batch_norm` set, outside training, that BatchNormalization is folded into
        the kernel and bias (`kernel_and_bias`).

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64.
            training: Whether this is a training step (then the pooling's argmax is kept for `grad`).
            rewrite: The plan's `Rewrite` for this layer (`NO_REWRITE`: a plain convolution).

        Returns:
            `(N, OH, OW, filters)`, or the pooled `(N, OH // PH, OW // PW, filters)` with `rewrite.pool`
            (before the activation either way).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2D, Input, MaxPooling2D
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> conv, pool = Conv2D(4, 3), MaxPooling2D()
            >>> model = Sequential([Input((8, 8, 1)), conv, pool])
            >>> x = np.ones((2, 8, 8, 1), "float32")
            >>> conv.call_rewritten(x, False, Rewrite()).shape
            (2, 6, 6, 4)
            >>> conv.call_rewritten(x, False, Rewrite(pool=pool)).shape
            (2, 3, 3, 4)
        """
        self._x = x
        kernel, bias = self.kernel_and_bias(training, rewrite)
        # the ops build their big scratch arrays in the same buffers every step
        workspace = self.workspace(training, rewrite)
        pool = rewrite.pool
        if self._general:
            return ops.conv2d_general(
                x,
                kernel,
                bias,
                stride=self.strides,
                padding=self.padding,
                dilation=self.dilation_rate,
                groups=self.groups,
            )
        if pool is not None and not training:
            return ops.conv2d_max_pool2d(
                x,
                kernel,
                bias,
                stride=self.strides,
                padding=self.padding,
                pool_size=pool.pool_size,
                workspace=workspace,
            )
        if pool is not None:
            y, self._cols, self._at_max = ops.conv2d_max_pool2d_forward(
                x,
                kernel,
                bias,
                stride=self.strides,
                padding=self.padding,
                pool_size=pool.pool_size,
                workspace=workspace,
            )
            return y
        y, self._cols = ops.conv2d_forward(
            x, kernel, bias, stride=self.strides, padding=self.padding, workspace=workspace
        )
        return y

    def grad_rewritten(self, dy: Array, need_dx: bool, rewrite: Rewrite) -> Array | None:
        """`grad` under the model plan's `rewrite` (the one the forward ran with).

        Fills `self.grads` (`kernel`, and `bias` when used).

        Args:
            dy: The gradient w.r.t. the output `call_rewritten` returned (pooled with `rewrite.pool`).
            need_dx: Whether the gradient w.r.t. the input is wanted.
            rewrite: The `Rewrite` the forward ran with.

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)` (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2D, Input, MaxPooling2D
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> conv, pool = Conv2D(4, 3), MaxPooling2D()
            >>> model = Sequential([Input((8, 8, 1)), conv, pool])
            >>> x = np.ones((2, 8, 8, 1), "float32")
            >>> y = conv.call_rewritten(x, True, Rewrite(pool=pool))
            >>> conv.grad_rewritten(np.ones_like(y), True, Rewrite(pool=pool)).shape
            (2, 8, 8, 1)
            >>> sorted(conv.grads)
            ['bias', 'kernel']
        """
        kernel = self.params["kernel"]
        if self._general:
            dx, dw, db = ops.conv2d_general_backward(
                dy,
                self._x,
                kernel,
                stride=self.strides,
                padding=self.padding,
                dilation=self.dilation_rate,
                groups=self.groups,
                need_dx=need_dx,
            )
        elif rewrite.pool is not None:
            dx, dw, db = ops.conv2d_max_pool2d_backward(
                dy,
                self._x,
                kernel,
                stride=self.strides,
                padding=self.padding,
                pool_size=rewrite.pool.pool_size,
                cols=self._cols,
                at_max=self._at_max,
                need_dx=need_dx,
                workspace=self._workspace,
            )
        else:
            dx, dw, db = ops.conv2d_backward(
                dy,
                self._x,
                kernel,
                stride=self.strides,
                padding=self.padding,
                need_dx=need_dx,
                cols=self._cols,
                workspace=self._workspace,
                need_db=self.use_bias,
            )
        # the step is done with them (the window matrix stays in the workspace for the next step)
        self._cols = self._at_max = None
        self.grads["kernel"] = dw
        if self.use_bias:
            self.grads["bias"] = db
        return dx

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Conv2D
            >>> Conv2D(4, 3).get_config()['filters']
            4
        """
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "use_bias": self.use_bias,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "kernel_regularizer": _reg_config(self.kernel_regularizer),
            "bias_regularizer": _reg_config(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class _DrawnInKerasLayout(initializers.Initializer):
    """Draws a kernel of Keras's shape `(KH, KW, C, F)` with Keras's fans and hands it over in
    xcnn's layout.

    Initializers read a 4-D shape as xcnn's conv layout `(F, KH, KW, C)` (`initializers.fans`),
    so the draw is made in that layout, whose fans are Keras's for `(KH, KW, C, F)`, then
    turned into Keras's layout and from there into the layer's own (`to_xcnn`)."""

    def __init__(self, initializer, keras_shape, to_xcnn):
        self.initializer, self.keras_shape, self.to_xcnn = initializer, keras_shape, to_xcnn
        self.name = initializer.name

    def __call__(self, shape, rng):
        kh, kw, c, f = self.keras_shape
        return self.to_xcnn(_permute(self.initializer((f, kh, kw, c), rng), (1, 2, 3, 0)))


def _depthwise_to_keras(w, channels):
    """``(C*M, KH, KW, 1)`` (a grouped conv's filters, channel-major) -> Keras's ``(KH, KW, C, M)``."""
    xp = array_namespace(w)
    cm, kh, kw, _ = w.shape
    return xp.reshape(xp.permute_dims(w[..., 0], (1, 2, 0)), (kh, kw, channels, cm // channels))


def _depthwise_from_keras(k):
    xp = array_namespace(k)
    kh, kw, c, m = k.shape
    return xp.expand_dims(xp.permute_dims(xp.reshape(k, (kh, kw, c * m)), (2, 0, 1)), axis=-1)


class DepthwiseConv2D(Conv2D):
    """Each input channel convolved with its own `depth_multiplier` filters (a `Conv2D` with
    `groups` = channels).

    Keras's weight `depthwise_kernel` is `(KH, KW, C, depth_multiplier)`.

    Args:
        kernel_size: The window `(KH, KW)`, or one int for both.
        strides: The step `(SH, SW)`, or one int for both.
        padding: `"valid"` or `"same"`, as in `Conv2D`.
        depth_multiplier: The number of filters per input channel.
        activation: The activation applied after the convolution (default: none).
        use_bias: Whether to add a learnt bias of shape `(C * depth_multiplier,)`.
        depthwise_initializer: How the kernel is initialised (drawn in Keras's layout).
        bias_initializer: How the bias is initialised.
        depthwise_regularizer: A penalty on the kernel added to the loss.
        bias_regularizer: A penalty on the bias added to the loss.
        dilation_rate: The spacing of the kernel's taps.
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.
        name: The layer's name (default: a unique one from the class name).
        depthwise_constraint: A constraint the optimizer applies to the kernel after each
            update, in Keras's layout `(KH, KW, C, depth_multiplier)`.
        bias_constraint: A constraint applied to the bias after each update.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, OH, OW, C * depth_multiplier)`, `OH` and `OW` as for `Conv2D`.

    Raises:
        ValueError: If `depth_multiplier` is not a positive int, or another argument is out of
            range as for `Conv2D`.

    Examples:
        >>> from xcnn.layers import DepthwiseConv2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 3)), DepthwiseConv2D(3, depth_multiplier=2)])
        >>> model.output_shape
        (None, 6, 6, 6)
    """

    def __init__(
        self,
        kernel_size: IntPair,
        strides: IntPair = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        depthwise_regularizer: RegularizerLike = None,
        bias_regularizer: RegularizerLike = None,
        dilation_rate: IntPair = (1, 1),
        input_shape: Sequence[int] | None = None,
        name: str | None = None,
        depthwise_constraint: ConstraintLike = None,
        bias_constraint: ConstraintLike = None,
    ) -> None:
        if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"depth_multiplier must be a positive int, got {depth_multiplier!r}")
        super().__init__(
            depth_multiplier,
            kernel_size,
            strides,
            padding,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            dilation_rate,
            1,
            input_shape,
            name,
            depthwise_constraint,
            bias_constraint,
        )
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer, self.depthwise_regularizer = self.kernel_initializer, self.kernel_regularizer
        self.depthwise_constraint = self.kernel_constraint

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(OH, OW, C * depth_multiplier)`.

        Raises:
            ValueError: If the input is not `(H, W, C)`.

        Examples:
            >>> from xcnn.layers import DepthwiseConv2D
            >>> DepthwiseConv2D(3, depth_multiplier=2).compute_output_shape((8, 8, 3))
            (6, 6, 6)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        # one group per input channel, depth_multiplier filters each
        self.groups, self.filters = input_shape[-1], input_shape[-1] * self.depth_multiplier
        return super().compute_output_shape(input_shape)

    def build_weights(self, input_shape: Shape) -> None:
        """As `Conv2D.build_weights`: the grouped kernel `(C * depth_multiplier, KH, KW, 1)`, drawn
        in Keras's depthwise shape `(KH, KW, C, depth_multiplier)` (so fan-based initializers see
        Keras's fans), and the bias `(C * depth_multiplier,)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import DepthwiseConv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = DepthwiseConv2D(3, depth_multiplier=2)
            >>> model = Sequential([Input((8, 8, 3)), layer])
            >>> {k: tuple(w.shape) for k, w in {**layer.params, **layer.state}.items()}
            {'kernel': (6, 3, 3, 1), 'bias': (6,)}
        """
        c = input_shape[-1]
        keras_shape = (*self.kernel_size, c, self.depth_multiplier)
        init = _DrawnInKerasLayout(self.kernel_initializer, keras_shape, _depthwise_from_keras)
        shape = (self.filters, *self.kernel_size, 1)
        self.add_weight("kernel", shape, init, self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, self.bias_regularizer, constraint=self.bias_constraint
            )

    def _keras_layout(self, key, array):
        return _depthwise_to_keras(array, self.groups) if key == "kernel" else array

    def _xcnn_layout(self, key, array):
        return _depthwise_from_keras(array) if key == "kernel" else array

    def get_config(self) -> dict[str, Any]:
        """As `Conv2D.get_config`, in Keras's terms: `depth_multiplier`, `depthwise_regularizer` and
        `depthwise_constraint` instead of `filters`, `groups` (both follow from the input),
        `kernel_regularizer` and `kernel_constraint`.

        Examples:
            >>> from xcnn.layers import DepthwiseConv2D
            >>> config = DepthwiseConv2D(3, depth_multiplier=2).get_config()
            >>> config["depth_multiplier"], "filters" in config, "depthwise_regularizer" in config
            (2, False, True)
        """
        config = super().get_config()
        for key in ("filters", "groups"):
            del config[key]
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        config["depthwise_constraint"] = config.pop("kernel_constraint")
        return {**config, "depth_multiplier": self.depth_multiplier}


class SeparableConv2D(Layer):
    """A depthwise convolution (`depth_multiplier` filters per channel) followed by a 1x1
    convolution to `filters` channels.

    Keras's weights: `depthwise_kernel` `(KH, KW, C, M)`, `pointwise_kernel`
    `(1, 1, C * M, filters)`, `bias` `(filters,)`.

    Args:
        filters: The number of output channels.
        kernel_size: The depthwise window `(KH, KW)`, or one int for both.
        strides: The depthwise step `(SH, SW)`, or one int for both.
        padding: `"valid"` or `"same"`, as in `Conv2D`.
        depth_multiplier: The number `M` of depthwise filters per input channel.
        activation: The activation applied after both convolutions (default: none).
        use_bias: Whether to add a learnt bias of shape `(filters,)`.
        depthwise_initializer: How the depthwise kernel is initialised.
        pointwise_initializer: How the pointwise kernel is initialised.
        bias_initializer: How the bias is initialised.
        depthwise_regularizer: A penalty on the depthwise kernel.
        pointwise_regularizer: A penalty on the pointwise kernel.
        bias_regularizer: A penalty on the bias.
        dilation_rate: The spacing of the depthwise kernel's taps.
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.
        name: The layer's name (default: a unique one from the class name).
        depthwise_constraint: A constraint the optimizer applies to the depthwise kernel after
            each update, in Keras's layout `(KH, KW, C, M)`.
        pointwise_constraint: A constraint applied to the pointwise kernel, in Keras's layout
            `(1, 1, C * M, filters)`.
        bias_constraint: A constraint applied to the bias after each update.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, OH, OW, filters)`, `OH` and `OW` as for `Conv2D`.

    Raises:
        ValueError: If `filters` is not a positive int, or another argument is out of range as
            for `DepthwiseConv2D`.

    Examples:
        >>> from xcnn.layers import SeparableConv2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 3)), SeparableConv2D(4, 3)])
        >>> model.output_shape
        (None, 6, 6, 4)
    """

    private_output = True  # a fresh result outside training (see Layer.private_output)

    def __init__(
        self,
        filters: int,
        kernel_size: IntPair,
        strides: IntPair = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerLike = "glorot_uniform",
        pointwise_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        depthwise_regularizer: RegularizerLike = None,
        pointwise_regularizer: RegularizerLike = None,
        bias_regularizer: RegularizerLike = None,
        dilation_rate: IntPair = (1, 1),
        input_shape: Sequence[int] | None = None,
        name: str | None = None,
        depthwise_constraint: ConstraintLike = None,
        pointwise_constraint: ConstraintLike = None,
        bias_constraint: ConstraintLike = None,
    ) -> None:
        super().__init__(name, activation, input_shape)
        # the depthwise half is a DepthwiseConv2D's geometry; it checks every spatial argument
        self._depthwise = DepthwiseConv2D(
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            use_bias=False,
            dilation_rate=dilation_rate,
            name=f"{self.name}_depthwise",
        )
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
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(OH, OW, filters)`.

        Examples:
            >>> from xcnn.layers import SeparableConv2D
            >>> SeparableConv2D(4, 3).compute_output_shape((8, 8, 3))
            (6, 6, 4)
        """
        return (*self._depthwise.compute_output_shape(input_shape)[:2], self.filters)

    def build_weights(self, input_shape: Shape) -> None:
        """Create the layer's weights for inputs of `input_shape`; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import SeparableConv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = SeparableConv2D(4, 3)
            >>> model = Sequential([Input((8, 8, 3)), layer])
            >>> {k: tuple(w.shape) for k, w in {**layer.params, **layer.state}.items()}
            {'depthwise_kernel': (3, 3, 3, 1), 'pointwise_kernel': (4, 1, 1, 3), 'bias': (4,)}
        """
        c, m = input_shape[-1], self.depth_multiplier
        depthwise = _DrawnInKerasLayout(self.depthwise_initializer, (*self.kernel_size, c, m), _depthwise_from_keras)
        self.add_weight(
            "depthwise_kernel",
            (c * m, *self.kernel_size, 1),
            depthwise,
            self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        pointwise = _DrawnInKerasLayout(
            self.pointwise_initializer, (1, 1, c * m, self.filters), lambda k: k.transpose(3, 0, 1, 2)
        )
        self.add_weight(
            "pointwise_kernel",
            (self.filters, 1, 1, c * m),
            pointwise,
            self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        if self.use_bias:
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, self.bias_regularizer, constraint=self.bias_constraint
            )
        self._channels = c

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, OH, OW, filters)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import SeparableConv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = SeparableConv2D(4, 3)
            >>> model = Sequential([Input((8, 8, 3)), layer])
            >>> x = np.ones((2, 8, 8, 3), "float32")
            >>> layer.call(x, training=False).shape
            (2, 6, 6, 4)
        """
        self._x = x
        self._z = ops.conv2d_general(
            x,
            self.params["depthwise_kernel"],
            None,
            stride=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            groups=self._channels,
        )
        return ops.conv2d(self._z, self.params["pointwise_kernel"], self.params.get("bias"))

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. Fills `self.grads` with the gradients of the weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, OH, OW, filters)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import SeparableConv2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = SeparableConv2D(4, 3)
            >>> model = Sequential([Input((8, 8, 3)), layer])
            >>> x = np.ones((2, 8, 8, 3), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 8, 8, 3)
            >>> sorted(layer.grads)
            ['bias', 'depthwise_kernel', 'pointwise_kernel']
        """
        dz, self.grads["pointwise_kernel"], db = ops.conv2d_backward(dy, self._z, self.params["pointwise_kernel"])
        if self.use_bias:
            self.grads["bias"] = db
        dx, self.grads["depthwise_kernel"], _ = ops.conv2d_general_backward(
            dz,
            self._x,
            self.params["depthwise_kernel"],
            stride=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            groups=self._channels,
            need_dx=need_dx,
        )
        return dx

    def _keras_layout(self, key, array):
        if key == "depthwise_kernel":
            return _depthwise_to_keras(array, self._channels)
        return _permute(array, (1, 2, 3, 0)) if key == "pointwise_kernel" else array

    def _xcnn_layout(self, key, array):
        if key == "depthwise_kernel":
            return _depthwise_from_keras(array)
        return _permute(array, (3, 0, 1, 2)) if key == "pointwise_kernel" else array

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import SeparableConv2D
            >>> SeparableConv2D(4, 3).get_config()['filters']
            4
        """
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "use_bias": self.use_bias,
            "dilation_rate": list(self.dilation_rate),
            "depthwise_regularizer": _reg_config(self.depthwise_regularizer),
            "pointwise_regularizer": _reg_config(self.pointwise_regularizer),
            "bias_regularizer": _reg_config(self.bias_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Conv2DTranspose(Layer):
    """Transposed convolution (the gradient of a convolution w.r.t. its input), as Keras's with
    `output_padding=None` and `dilation_rate=1`.

    Keras's kernel is `(KH, KW, filters, C)`.

    Args:
        filters: The number of output channels.
        kernel_size: The window `(KH, KW)`, or one int for both.
        strides: The upsampling step `(SH, SW)`, or one int for both.
        padding: `"valid"` or `"same"`.
        output_padding: Must be `None` (xcnn computes Keras's default sizes).
        dilation_rate: Must be 1.
        activation: The activation applied after the convolution (default: none).
        use_bias: Whether to add a learnt bias of shape `(filters,)`.
        kernel_initializer: How the kernel is initialised.
        bias_initializer: How the bias is initialised.
        kernel_regularizer: A penalty on the kernel.
        bias_regularizer: A penalty on the bias.
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.
        name: The layer's name (default: a unique one from the class name).
        kernel_constraint: A constraint the optimizer applies to the kernel after each update,
            in Keras's layout `(KH, KW, filters, C)`.
        bias_constraint: A constraint applied to the bias after each update.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, OH, OW, filters)`: `"valid"` gives `OH = H * SH + max(KH - SH, 0)`, `"same"` gives
        `OH = H * SH` (likewise `OW`).

    Raises:
        ValueError: If `filters` is not a positive int, `output_padding` is not `None`,
            `dilation_rate` is not 1, or another argument is out of range.

    Examples:
        >>> from xcnn.layers import Conv2DTranspose, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), Conv2DTranspose(4, 3, strides=2)])
        >>> model.output_shape
        (None, 9, 9, 4)
    """

    private_output = True  # a fresh result outside training (see Layer.private_output)

    def __init__(
        self,
        filters: int,
        kernel_size: IntPair,
        strides: IntPair = (1, 1),
        padding: str = "valid",
        output_padding: IntPair | None = None,
        dilation_rate: IntPair = (1, 1),
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: RegularizerLike = None,
        bias_regularizer: RegularizerLike = None,
        input_shape: Sequence[int] | None = None,
        name: str | None = None,
        kernel_constraint: ConstraintLike = None,
        bias_constraint: ConstraintLike = None,
    ) -> None:
        super().__init__(name, activation, input_shape)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        if output_padding is not None:
            raise ValueError(
                f"output_padding must be None (xcnn computes Keras's default sizes), got {output_padding!r}"
            )
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
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(OH, OW, filters)`.

        Examples:
            >>> from xcnn.layers import Conv2DTranspose
            >>> Conv2DTranspose(4, 3, strides=2).compute_output_shape((4, 4, 2))
            (9, 9, 4)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        sizes = [
            ops.conv2d_transpose_padding(n, k, s, self.padding)[0]
            for n, k, s in zip(input_shape[:2], self.kernel_size, self.strides)
        ]
        return (*sizes, self.filters)

    def build_weights(self, input_shape: Shape) -> None:
        # the filters of the convolution this one is the transpose of: (C, KH, KW, filters)
        """Create the layer's weights for inputs of `input_shape`; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2DTranspose, Input
            >>> from xcnn.models import Sequential
            >>> layer = Conv2DTranspose(4, 3, strides=2)
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> {k: tuple(w.shape) for k, w in {**layer.params, **layer.state}.items()}
            {'kernel': (2, 3, 3, 4), 'bias': (4,)}
        """
        self.add_weight(
            "kernel",
            (input_shape[-1], *self.kernel_size, self.filters),
            self.kernel_initializer,
            self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.add_weight(
                "bias", (self.filters,), self.bias_initializer, self.bias_regularizer, constraint=self.bias_constraint
            )

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, OH, OW, filters)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2DTranspose, Input
            >>> from xcnn.models import Sequential
            >>> layer = Conv2DTranspose(4, 3, strides=2)
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> layer.call(x, training=False).shape
            (2, 9, 9, 4)
        """
        self._x = x
        return ops.conv2d_transpose(
            x, self.params["kernel"], self.params.get("bias"), stride=self.strides, padding=self.padding
        )

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. Fills `self.grads` with the gradients of the weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, OH, OW, filters)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Conv2DTranspose, Input
            >>> from xcnn.models import Sequential
            >>> layer = Conv2DTranspose(4, 3, strides=2)
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 2)
            >>> sorted(layer.grads)
            ['bias', 'kernel']
        """
        dx, self.grads["kernel"], db = ops.conv2d_transpose_backward(
            dy, self._x, self.params["kernel"], stride=self.strides, padding=self.padding, need_dx=need_dx
        )
        if self.use_bias:
            self.grads["bias"] = db
        return dx

    _keras_layout = Conv2D._keras_layout
    _xcnn_layout = Conv2D._xcnn_layout

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Conv2DTranspose
            >>> Conv2DTranspose(4, 3, strides=2).get_config()['strides']
            [2, 2]
        """
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "use_bias": self.use_bias,
            "kernel_regularizer": _reg_config(self.kernel_regularizer),
            "bias_regularizer": _reg_config(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
