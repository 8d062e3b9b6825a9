"""Layers that only rearrange values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
import math

from .. import ops
from .layer import Layer, _require_rank
from .._typing import Array, IntPair, Shape


class Flatten(Layer):
    """`(N, d1, d2, ...)` -> `(N, d1 * d2 * ...)` in row-major order, as Keras does.

    Args:
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        `(N, d1, d2, ...)`, any dtype.

    Output shape:
        `(N, d1 * d2 * ...)`.

    Examples:
        >>> from xcnn.layers import Flatten, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), Flatten()])
        >>> model.output_shape
        (None, 32)
    """

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(d1, d2, ...)`.

        Returns:
            The output shape without the batch axis, `(d1 * d2 * ...)`.

        Examples:
            >>> from xcnn.layers import Flatten
            >>> Flatten().compute_output_shape((4, 4, 2))
            (32,)
        """
        return (math.prod(input_shape),)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, d1, d2, ...)`, float32 or float64, on the layer's backend and
                device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, d1 * d2 * ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Flatten, Input
            >>> from xcnn.models import Sequential
            >>> layer = Flatten()
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> layer.call(x, training=False).shape
            (2, 32)
        """
        self._x_shape = tuple(x.shape)
        return ops.flatten(x)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, d1 * d2 * ...)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, d1, d2, ...)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Flatten, Input
            >>> from xcnn.models import Sequential
            >>> layer = Flatten()
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 2)
        """
        return ops.flatten_backward(dy, self._x_shape)


class Reshape(Layer):
    """Reshape to `target_shape` (no batch axis; one entry may be -1), in row-major order as Keras
    does.

    Args:
        target_shape: The output shape without the batch axis.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        `(N, *input_shape)`, any dtype.

    Output shape:
        `(N, *target_shape)`, the -1 entry filled in.

    Raises:
        TypeError: If `target_shape` is not a tuple of ints.
        ValueError: If `target_shape` has a non-positive entry other than one -1, or (when
            called) the input's size does not fit it.

    Examples:
        >>> from xcnn.layers import Reshape, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), Reshape((-1, 2))])
        >>> model.output_shape
        (None, 16, 2)
    """

    def __init__(
        self, target_shape: Sequence[int], name: str | None = None, input_shape: Sequence[int] | None = None
    ) -> None:
        super().__init__(name, None, input_shape)
        try:
            target = tuple(int(d) for d in target_shape)
        except TypeError:
            raise TypeError(f"target_shape must be a tuple of ints, got {target_shape!r}") from None
        if not target or target.count(-1) > 1 or any(d < 1 and d != -1 for d in target):
            raise ValueError(f"target_shape must hold positive ints and at most one -1, got {target_shape!r}")
        self.target_shape = target

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(*input_shape)`.

        Returns:
            The output shape without the batch axis, `(*target_shape)`.

        Raises:
            ValueError: If the input's size does not fit `target_shape`.

        Examples:
            >>> from xcnn.layers import Reshape
            >>> Reshape((-1, 2)).compute_output_shape((4, 4, 2))
            (16, 2)
        """
        size, known = math.prod(input_shape), math.prod(d for d in self.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if math.prod(shape) != size:
            raise ValueError(
                f"Reshape {self.name} cannot turn inputs (None, {', '.join(map(str, input_shape))}) "
                f"of {size} values into target_shape {self.target_shape}"
            )
        return shape

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, *input_shape)`, float32 or float64, on the layer's backend and
                device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, *target_shape)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Reshape, Input
            >>> from xcnn.models import Sequential
            >>> layer = Reshape((-1, 2))
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> layer.call(x, training=False).shape
            (2, 16, 2)
        """
        self._x_shape = tuple(x.shape)
        return self.xp.reshape(x, (x.shape[0], *self.output.item_shape))

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, *target_shape)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, *input_shape)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Reshape, Input
            >>> from xcnn.models import Sequential
            >>> layer = Reshape((-1, 2))
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 2)
        """
        return self.xp.reshape(dy, self._x_shape)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Reshape
            >>> Reshape((-1, 2)).get_config()['target_shape']
            [-1, 2]
        """
        return {**super().get_config(), "target_shape": list(self.target_shape)}


def _padding_pairs(padding, name="padding"):
    """Keras's ZeroPadding2D (and Cropping2D) forms -> ``((top, bottom), (left, right))``."""
    message = f"{name} must be an int, (rows, cols) or ((top, bottom), (left, right)) of ints >= 0, got {padding!r}"
    if isinstance(padding, int) and not isinstance(padding, bool):
        pairs = ((padding, padding), (padding, padding))
    else:
        try:
            rows, cols = padding
            pairs = tuple((p, p) if isinstance(p, int) else tuple(p) for p in (rows, cols))
        except (TypeError, ValueError):
            raise ValueError(message) from None
    flat = [v for pair in pairs for v in pair]
    if len(flat) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in flat):
        raise ValueError(message)
    return pairs


class ZeroPadding2D(Layer):
    """Zeros around NHWC images.

    Args:
        padding: An int (all sides), `(rows, cols)` (both sides of each axis) or
            `((top, bottom), (left, right))`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, any dtype.

    Output shape:
        `(N, H + top + bottom, W + left + right, C)`.

    Raises:
        ValueError: If `padding` is not one of those forms of non-negative ints.

    Examples:
        >>> from xcnn.layers import ZeroPadding2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 1)), ZeroPadding2D(((1, 0), (2, 2)))])
        >>> model.output_shape
        (None, 5, 8, 1)
    """

    def __init__(
        self,
        padding: int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]] = (1, 1),
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.padding = _padding_pairs(padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(H + top + bottom, W + left + right, C)`.

        Examples:
            >>> from xcnn.layers import ZeroPadding2D
            >>> ZeroPadding2D(((1, 0), (2, 2))).compute_output_shape((4, 4, 1))
            (5, 8, 1)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        (top, bottom), (left, right) = self.padding
        return (input_shape[0] + top + bottom, input_shape[1] + left + right, input_shape[2])

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, H + top + bottom, W + left + right, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import ZeroPadding2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = ZeroPadding2D(((1, 0), (2, 2)))
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 5, 8, 1)
        """
        return ops.zero_pad2d(x, self.padding)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, H + top + bottom, W + left + right, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import ZeroPadding2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = ZeroPadding2D(((1, 0), (2, 2)))
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 1)
        """
        return ops.zero_pad2d_backward(dy, self.padding)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import ZeroPadding2D
            >>> ZeroPadding2D(((1, 0), (2, 2))).get_config()['padding']
            [[1, 0], [2, 2]]
        """
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class UpSampling2D(Layer):
    """Repeats each pixel `size = (rows, cols)` times (`interpolation="nearest"`, the Keras
    default; bilinear is not supported).

    Args:
        size: `(rows, cols)`, or one int for both.
        interpolation: Must be `"nearest"`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, any dtype.

    Output shape:
        `(N, H * rows, W * cols, C)`.

    Raises:
        ValueError: If `size` is not positive or `interpolation` is not `"nearest"`.

    Examples:
        >>> from xcnn.layers import UpSampling2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 1)), UpSampling2D((2, 3))])
        >>> model.output_shape
        (None, 8, 12, 1)
    """

    def __init__(
        self,
        size: IntPair = (2, 2),
        interpolation: str = "nearest",
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.size = ops._geometry.as_pair(size, "size")
        if interpolation != "nearest":
            raise ValueError(f"interpolation must be 'nearest' (the only one xcnn implements), got {interpolation!r}")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(H * rows, W * cols, C)`.

        Examples:
            >>> from xcnn.layers import UpSampling2D
            >>> UpSampling2D((2, 3)).compute_output_shape((4, 4, 1))
            (8, 12, 1)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return (input_shape[0] * self.size[0], input_shape[1] * self.size[1], input_shape[2])

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, H * rows, W * cols, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import UpSampling2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = UpSampling2D((2, 3))
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 8, 12, 1)
        """
        return ops.upsample_nearest2d(x, self.size)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, H * rows, W * cols, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import UpSampling2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = UpSampling2D((2, 3))
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 1)
        """
        return ops.upsample_nearest2d_backward(dy, self.size)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import UpSampling2D
            >>> UpSampling2D((2, 3)).get_config()['size']
            [2, 3]
        """
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}


def _data_format_arg(data_format):
    """Keras's ``data_format``: xcnn's images are channels-last only."""
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"data_format must be 'channels_last' or None (xcnn's images are (N, H, W, C)), got {data_format!r}"
        )
    return "channels_last"


class Identity(Layer):
    """Passes its input through unchanged, as Keras's `Identity` (a placeholder in a graph).

    Args:
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`.

    Output shape:
        The input's.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Identity, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((2,)), Identity()])
        >>> model.predict(np.array([[1.0, 2.0]]), verbose=0).tolist()
        [[1.0, 2.0]]
    """

    def __init__(self, name: str | None = None, input_shape: Sequence[int] | None = None) -> None:
        super().__init__(name, None, input_shape)


class Cropping2D(Layer):
    """Removes rows and columns at the borders of NHWC images, as Keras's `Cropping2D`.

    Args:
        cropping: An int (all sides), `(rows, cols)` (both sides of each axis) or
            `((top, bottom), (left, right))`, ints >= 0.
        data_format: `"channels_last"` or `None` (xcnn's images are `(N, H, W, C)`).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, any dtype.

    Output shape:
        `(N, H - top - bottom, W - left - right, C)`.

    Raises:
        ValueError: If `cropping` is not one of those forms of non-negative ints, `data_format`
            is `"channels_first"`, or (when called) the cropping leaves no row or no column, or
            the input is not `(N, H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Cropping2D, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((5, 6, 1)), Cropping2D(((1, 2), (0, 3)))])
        >>> model.output_shape
        (None, 2, 3, 1)
        >>> x = np.arange(30.0).reshape(1, 5, 6, 1)
        >>> model.predict(x, verbose=0)[0, :, :, 0].tolist()
        [[6.0, 7.0, 8.0], [12.0, 13.0, 14.0]]
    """

    def __init__(
        self,
        cropping: int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
        data_format: str | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.cropping = _padding_pairs(cropping, "cropping")
        self.data_format = _data_format_arg(data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(H - top - bottom, W - left - right, C)`.

        Raises:
            ValueError: If the input is not `(H, W, C)` or the cropping leaves no row or column.

        Examples:
            >>> from xcnn.layers import Cropping2D
            >>> Cropping2D(1).compute_output_shape((5, 6, 3))
            (3, 4, 3)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        (top, bottom), (left, right) = self.cropping
        if top + bottom >= input_shape[0] or left + right >= input_shape[1]:
            raise ValueError(
                f"Cropping2D {self.name}: cropping {self.cropping} must remove fewer rows and columns than "
                f"the inputs (None, {', '.join(map(str, input_shape))}) have"
            )
        return (input_shape[0] - top - bottom, input_shape[1] - left - right, input_shape[2])

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, H - top - bottom, W - left - right, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Cropping2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = Cropping2D(((1, 2), (0, 3)))
            >>> model = Sequential([Input((5, 6, 1)), layer])
            >>> layer.call(np.ones((2, 5, 6, 1), "float32"), training=False).shape
            (2, 2, 3, 1)
        """
        return ops.zero_pad2d_backward(x, self.cropping)  # the inner window, as a slice

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.
        The cropped borders get zeros.

        Args:
            dy: The gradient w.r.t. the output, `(N, H - top - bottom, W - left - right, C)`.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Cropping2D, Input
            >>> from xcnn.models import Sequential
            >>> layer = Cropping2D(((1, 2), (0, 3)))
            >>> model = Sequential([Input((5, 6, 1)), layer])
            >>> y = layer.call(np.ones((2, 5, 6, 1), "float32"), training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 5, 6, 1)
        """
        return ops.zero_pad2d(dy, self.cropping)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Cropping2D
            >>> Cropping2D((1, 2)).get_config()['cropping']
            [[1, 1], [2, 2]]
        """
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping], "data_format": self.data_format}


class Permute(Layer):
    """Reorders the axes after the batch axis, as Keras's `Permute`.

    Args:
        dims: The new order of the input's axes, 1-based without the batch axis: output axis
            `i` is input axis `dims[i - 1]` (`(2, 1)` swaps the two axes of `(N, A, B)`).
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        `(N, d1, ..., dk)` with `k = len(dims)`, any dtype.

    Output shape:
        `(N, d_dims[0], ..., d_dims[k-1])`.

    Raises:
        ValueError: If `dims` is not a permutation of `1..len(dims)`, or (when called) the input
            does not have `len(dims)` axes after the batch axis.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Input, Permute
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 5, 3)), Permute((3, 1, 2))])  # NHWC -> NCHW
        >>> model.output_shape
        (None, 3, 4, 5)
    """

    def __init__(self, dims: Sequence[int], name: str | None = None, input_shape: Sequence[int] | None = None) -> None:
        super().__init__(name, None, input_shape)
        try:
            given = list(dims)
        except TypeError:
            given = None
        if (
            given is None
            or not all(isinstance(d, int) and not isinstance(d, bool) for d in given)
            or sorted(given) != list(range(1, len(given) + 1))
        ):
            raise ValueError(
                f"dims must be a permutation of 1..k, the k axes after the batch axis counted from 1, got {dims!r}"
            )
        self.dims = tuple(int(d) for d in given)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(d1, ..., dk)`.

        Returns:
            The output shape without the batch axis, the sizes in the order `dims` gives.

        Raises:
            ValueError: If the input does not have `len(dims)` axes after the batch axis.

        Examples:
            >>> from xcnn.layers import Permute
            >>> Permute((2, 1)).compute_output_shape((4, 5))
            (5, 4)
        """
        if len(input_shape) != len(self.dims):
            raise ValueError(
                f"Permute {self.name}: dims {self.dims} needs inputs with {len(self.dims)} axes after the "
                f"batch axis, got (None, {', '.join(map(str, input_shape))})"
            )
        return tuple(input_shape[d - 1] for d in self.dims)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, d1, ..., dk)`, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, its axes after the batch axis in the order `dims` gives.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, Permute
            >>> from xcnn.models import Sequential
            >>> layer = Permute((2, 1))
            >>> model = Sequential([Input((2, 3)), layer])
            >>> layer.call(np.arange(6.0).reshape(1, 2, 3), training=False).tolist()
            [[[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]]
        """
        return self.xp.permute_dims(x, (0, *self.dims))

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.
        The gradient goes back through the inverse permutation.

        Args:
            dy: The gradient w.r.t. the output, in the output's axis order.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, d1, ..., dk)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, Permute
            >>> from xcnn.models import Sequential
            >>> layer = Permute((2, 1))
            >>> model = Sequential([Input((2, 3)), layer])
            >>> layer.grad(np.ones((1, 3, 2)), need_dx=True).shape
            (1, 2, 3)
        """
        order = (0, *self.dims)
        inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return self.xp.permute_dims(dy, inverse)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Permute
            >>> Permute((3, 1, 2)).get_config()['dims']
            [3, 1, 2]
        """
        return {**super().get_config(), "dims": list(self.dims)}
