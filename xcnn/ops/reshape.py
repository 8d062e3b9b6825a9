"""Ops that only move values: flatten, zero padding, nearest-neighbour upsampling."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._typing import Array
from ..backend import array_namespace
from ._geometry import pad_images


def flatten(x: Array) -> Array:
    """`(N, d1, d2, ...)` -> `(N, d1*d2*...)`, in row-major (H, W, C) order as Keras does.

    Args:
        x: An array with a batch axis and at least one more, any dtype, on any backend.

    Returns:
        `(N, d1*d2*...)`, a reshape of `x`.

    Raises:
        ValueError: If `x` has fewer than two axes.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reshape import flatten
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> flatten(x).tolist()
        [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]
    """
    xp = array_namespace(x)
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more, got shape {tuple(x.shape)}")
    return xp.reshape(x, (x.shape[0], -1))


def flatten_backward(dy: Array, x_shape: Sequence[int]) -> Array:
    """Gradient of `flatten`: `dy` of shape `(N, prod(x_shape[1:]))` -> `x_shape`.

    Args:
        dy: The gradient w.r.t. the flat output, `(N, prod(x_shape[1:]))`.
        x_shape: The forward's input shape.

    Returns:
        `dy` reshaped to `x_shape`.

    Raises:
        ValueError: If `dy`'s shape does not match `x_shape`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reshape import flatten, flatten_backward
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> flatten_backward(flatten(x), x.shape).shape
        (1, 2, 2, 2)
    """
    xp = array_namespace(dy)
    x_shape = tuple(x_shape)
    if tuple(dy.shape) != (x_shape[0], math.prod(x_shape[1:])):
        raise ValueError(
            f"dy must have shape {(x_shape[0], math.prod(x_shape[1:]))} for x_shape {x_shape}, got {tuple(dy.shape)}"
        )
    return xp.reshape(dy, x_shape)


def zero_pad2d(x: Array, pads: tuple[tuple[int, int], tuple[int, int]]) -> Array:
    """NHWC `x` padded with zeros by `pads = ((top, bottom), (left, right))`.

    Args:
        x: Images `(N, H, W, C)`, any dtype, on any backend.
        pads: `((top, bottom), (left, right))`, non-negative ints.

    Returns:
        `(N, top + H + bottom, left + W + right, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reshape import zero_pad2d
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> zero_pad2d(x, ((1, 0), (0, 2))).shape
        (1, 3, 4, 2)
        >>> zero_pad2d(x, ((1, 0), (0, 2)))[0, :, :, 0].tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [4.0, 6.0, 0.0, 0.0]]
    """
    return pad_images(x, pads, 0.0)


def zero_pad2d_backward(dy: Array, pads: tuple[tuple[int, int], tuple[int, int]]) -> Array:
    """Gradient of `zero_pad2d`: the padding cut off `dy`.

    Args:
        dy: The gradient w.r.t. the padded output, `(N, top + H + bottom, left + W + right, C)`.
        pads: The forward's `((top, bottom), (left, right))`.

    Returns:
        `(N, H, W, C)`, a view of `dy`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reshape import zero_pad2d, zero_pad2d_backward
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> pads = ((1, 0), (0, 2))
        >>> bool((zero_pad2d_backward(zero_pad2d(x, pads), pads) == x).all())
        True
    """
    (top, bottom), (left, right) = pads
    return dy[:, top : dy.shape[1] - bottom, left : dy.shape[2] - right, :]


def upsample_nearest2d(x: Array, size: tuple[int, int]) -> Array:
    """Each pixel of NHWC `x` repeated `size = (sh, sw)` times along H and W.

    Keras's UpSampling2D with `interpolation="nearest"`.

    Args:
        x: Images `(N, H, W, C)`, any dtype, on any backend.
        size: `(sh, sw)`, positive ints.

    Returns:
        `(N, H * sh, W * sw, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reshape import upsample_nearest2d
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> upsample_nearest2d(x, (2, 1))[0, :, :, 0].tolist()
        [[0.0, 2.0], [0.0, 2.0], [4.0, 6.0], [4.0, 6.0]]
    """
    xp = array_namespace(x)
    n, h, w, c = x.shape
    sh, sw = size
    blocks = xp.broadcast_to(xp.reshape(x, (n, h, 1, w, 1, c)), (n, h, sh, w, sw, c))
    return xp.reshape(blocks, (n, h * sh, w * sw, c))


def upsample_nearest2d_backward(dy: Array, size: tuple[int, int]) -> Array:
    """Gradient of `upsample_nearest2d`: each `sh x sw` block of `dy` summed.

    Args:
        dy: The gradient w.r.t. the output, `(N, H * sh, W * sw, C)`.
        size: The forward's `(sh, sw)`.

    Returns:
        `(N, H, W, C)` in `dy`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.reshape import upsample_nearest2d_backward
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> upsample_nearest2d_backward(np.ones((1, 4, 2, 2)), (2, 1))[0, :, :, 0].tolist()
        [[2.0, 2.0], [2.0, 2.0]]
    """
    xp = array_namespace(dy)
    n, hs, ws, c = dy.shape
    sh, sw = size
    return xp.sum(xp.reshape(dy, (n, hs // sh, sh, ws // sw, sw, c)), axis=(2, 4))
