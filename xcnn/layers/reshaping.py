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


def _padding_pairs(padding):
    """Keras's ZeroPadding2D forms -> ``((top, bottom), (left, right))``."""
    message = f"padding must be an int, (rows, cols) or ((top, bottom), (left, right)) of ints >= 0, got {padding!r}"
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
