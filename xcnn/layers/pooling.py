"""Pooling layers over NHWC images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import ops
from .layer import NO_REWRITE, Layer, Rewrite, _padding_arg, _require_rank
from .._typing import Array, IntPair, Shape


class _Pooling2D(Layer):
    def __init__(
        self,
        pool_size: IntPair = 2,
        strides: IntPair | None = None,
        padding: str = "valid",
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.pool_size = ops._geometry.as_pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else ops._geometry.as_pair(strides, "strides")
        self.padding = _padding_arg(padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        win = ops.window_geometry(input_shape[:2], self.pool_size, self.strides, self.padding, kernel_name="pool_size")
        return (*win.out, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }


class MaxPooling2D(_Pooling2D):
    """Max pooling over windows of `pool_size`.

    When the model's plan finds it right after a ReLU that feeds nothing else
    (`relu_after_pool`), the pool takes the pre-ReLU values and applies the ReLU to its (4x
    smaller) output, since max(relu(z)) = relu(max(z)); the gradients are identical. When the
    Conv2D before it computes the pooling (`pooled_by_conv`), it only applies that ReLU.

    Args:
        pool_size: The window `(PH, PW)`, or one int for both.
        strides: The step (default: `pool_size`).
        padding: `"valid"` or `"same"`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, OH, OW, C)`: `"valid"` gives `OH = (H - PH) // SH + 1`, `"same"` gives
        `OH = ceil(H / SH)` (likewise `OW`).

    Raises:
        ValueError: If `pool_size` or `strides` is not positive, `padding` is unknown, or (when
            called) the input is not `(H, W, C)`.

    Examples:
        >>> from xcnn.layers import MaxPooling2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 2)), MaxPooling2D()])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, OH, OW, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import MaxPooling2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = MaxPooling2D()
            >>> model = Sequential([Input((8, 8, 2)), layer])
            >>> x = np.ones((2, 8, 8, 2), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 2)
        """
        return self.call_rewritten(x, training, NO_REWRITE)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, OH, OW, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import MaxPooling2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = MaxPooling2D()
            >>> model = Sequential([Input((8, 8, 2)), layer])
            >>> x = np.ones((2, 8, 8, 2), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 8, 8, 2)
        """
        return self.grad_rewritten(dy, need_dx, NO_REWRITE)

    def call_rewritten(self, x: Array, training: bool, rewrite: Rewrite) -> Array:
        """`call` under the model plan's `rewrite`.

        With `rewrite.relu_after_pool` the ReLU deferred by the layer before is applied to the pooled
        output; with `rewrite.pooled_by_conv` the input is already pooled (by the Conv2D before) and
        only that ReLU is left to do.

        Args:
            x: The input batch, `(N, H, W, C)` (`(N, OH, OW, C)` with `pooled_by_conv`), float32 or
                float64.
            training: Whether this is a training step (it makes no difference to this layer).
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            The pooled batch, `(N, OH, OW, C)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, MaxPooling2D
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> layer = MaxPooling2D()
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.arange(-8.0, 8.0, dtype="float32").reshape(1, 4, 4, 1)
            >>> layer.call_rewritten(x, False, Rewrite()).ravel().tolist()
            [-3.0, -1.0, 5.0, 7.0]
            >>> layer.call_rewritten(x, False, Rewrite(relu_after_pool=True)).ravel().tolist()
            [0.0, 0.0, 5.0, 7.0]
        """
        if rewrite.pooled_by_conv:
            self._y = x
        elif training:  # kept for grad: the output and what its backward reuses
            self._x = x
            self._y, self._row_max = ops.max_pool2d_forward(
                x, self.pool_size, stride=self.strides, padding=self.padding
            )
        else:  # no backward follows: the op may pick a faster forward that keeps nothing for one
            self._x, self._row_max = x, None
            self._y = ops.max_pool2d(x, self.pool_size, stride=self.strides, padding=self.padding)
        return ops.relu(self._y) if rewrite.relu_after_pool else self._y

    def grad_rewritten(self, dy: Array, need_dx: bool, rewrite: Rewrite) -> Array | None:
        """`grad` under the model plan's `rewrite` (the one the forward ran with).

        Args:
            dy: The gradient w.r.t. the output, `(N, OH, OW, C)`.
            need_dx: Whether the gradient w.r.t. the input is wanted.
            rewrite: The `Rewrite` the forward ran with.

        Returns:
            The gradient w.r.t. the input: `(N, H, W, C)`, or `(N, OH, OW, C)` with
            `rewrite.pooled_by_conv` (the Conv2D before takes it from there).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, MaxPooling2D
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> layer = MaxPooling2D()
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.arange(-8.0, 8.0, dtype="float32").reshape(1, 4, 4, 1)
            >>> y = layer.call_rewritten(x, True, Rewrite(relu_after_pool=True))
            >>> layer.grad_rewritten(np.ones_like(y), True, Rewrite(relu_after_pool=True)).shape
            (1, 4, 4, 1)
        """
        if rewrite.relu_after_pool:
            dy = ops.relu_backward(dy, self._y, None)
        if rewrite.pooled_by_conv:
            return dy
        return ops.max_pool2d_backward(
            dy, self._x, self.pool_size, stride=self.strides, padding=self.padding, y=self._y, row_max=self._row_max
        )


class AveragePooling2D(_Pooling2D):
    """Average pooling; with `padding="same"` padded cells are left out of the mean, as in Keras.

    Args:
        pool_size: The window `(PH, PW)`, or one int for both.
        strides: The step (default: `pool_size`).
        padding: `"valid"` or `"same"`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, OH, OW, C)`: `"valid"` gives `OH = (H - PH) // SH + 1`, `"same"` gives
        `OH = ceil(H / SH)` (likewise `OW`).

    Raises:
        ValueError: If `pool_size` or `strides` is not positive, `padding` is unknown, or (when
            called) the input is not `(H, W, C)`.

    Examples:
        >>> from xcnn.layers import AveragePooling2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 2)), AveragePooling2D()])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, OH, OW, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import AveragePooling2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = AveragePooling2D()
            >>> model = Sequential([Input((8, 8, 2)), layer])
            >>> x = np.ones((2, 8, 8, 2), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 2)
        """
        self._x = x
        return ops.avg_pool2d(x, self.pool_size, stride=self.strides, padding=self.padding, count_include_pad=False)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, OH, OW, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import AveragePooling2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = AveragePooling2D()
            >>> model = Sequential([Input((8, 8, 2)), layer])
            >>> x = np.ones((2, 8, 8, 2), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 8, 8, 2)
        """
        return ops.avg_pool2d_backward(
            dy, self._x, self.pool_size, stride=self.strides, padding=self.padding, count_include_pad=False
        )


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

    Args:
        data_format: `"channels_last"` or `None` (xcnn images are NHWC).
        keepdims: Whether to keep the two spatial axes (as size 1).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, C)`, or `(N, 1, 1, C)` with `keepdims=True`.

    Raises:
        ValueError: If `data_format` is not `"channels_last"` or `None`, or (when called) the
            input is not `(H, W, C)`.
        TypeError: If `keepdims` is not a bool.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import GlobalAveragePooling2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((2, 2, 1)), GlobalAveragePooling2D()])
        >>> x = np.arange(8, dtype="float32").reshape(2, 2, 2, 1)
        >>> model.predict(x, verbose=0).tolist()
        [[1.5], [5.5]]
    """

    _pool = staticmethod(ops.global_avg_pool2d)
    _pool_backward = staticmethod(ops.global_avg_pool2d_backward)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Maximum of each channel over the whole image; the gradient goes to the first pixel
    (row-major) holding it.

    Args:
        data_format: `"channels_last"` or `None` (xcnn images are NHWC).
        keepdims: Whether to keep the two spatial axes (as size 1).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, C)`, or `(N, 1, 1, C)` with `keepdims=True`.

    Raises:
        ValueError: If `data_format` is not `"channels_last"` or `None`, or (when called) the
            input is not `(H, W, C)`.
        TypeError: If `keepdims` is not a bool.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import GlobalMaxPooling2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((2, 2, 1)), GlobalMaxPooling2D(keepdims=True)])
        >>> x = np.arange(8, dtype="float32").reshape(2, 2, 2, 1)
        >>> y = model.predict(x, verbose=0)
        >>> y.shape, y.ravel().tolist()
        ((2, 1, 1, 1), [3.0, 7.0])
    """

    _pool = staticmethod(ops.global_max_pool2d)
    _pool_backward = staticmethod(ops.global_max_pool2d_backward)
