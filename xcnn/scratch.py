"""The CNN article's functions, with its exact names, signatures and layout, on any backend.

A reader of the "implement deep learning yourself" article can replace the loop versions of
these functions with `from xcnn.scratch import *` and keep the rest of the code. Images are
NHWC `(N, H, W, C)`, filters `(F, KH, KW, C)`, biases `(F,)`; arrays may come from any
backend in `xcnn.backend`. Each function forwards to `xcnn.ops`.
"""

from __future__ import annotations

from . import ops
from ._typing import Array, IntPair, Padding

__all__ = [
    "convolution2d",
    "convolution2d_back",
    "max_pooling2d",
    "max_pooling2d_back",
    "average_pooling2d",
    "average_pooling2d_back",
    "flatten2d",
    "flatten2d_back",
]


def convolution2d(u: Array, W: Array, b: Array | None, padding: Padding = 0, strides: IntPair = 1) -> Array:
    """Convolution: u `(N, H, W, C)`, W `(F, KH, KW, C)`, b `(F,)` -> `(N, OH, OW, F)`.

    Args:
        u: Images `(N, H, W, C)`, float32 or float64, on any backend.
        W: Filters `(F, KH, KW, C)`, in `u`'s dtype and backend.
        b: Biases `(F,)`, or `None`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        strides: An int or `(sh, sw)`.

    Returns:
        `(N, OH, OW, F)` in `u`'s dtype.

    Raises:
        ValueError: If the shapes do not fit together, or padding or strides are out of range.
        TypeError: If `W` is not of `u`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import convolution2d
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> W, b = np.ones((3, 3, 3, 2), "float32"), np.zeros(3, "float32")
        >>> convolution2d(u, W, b, padding=1).shape
        (1, 4, 4, 3)
    """
    return ops.conv2d(u, W, b, stride=strides, padding=padding)


def convolution2d_back(
    dz: Array,
    u: Array,
    W: Array,
    b: Array | None,
    padding: Padding = 0,
    strides: IntPair = 1,
    calc_du_flag: bool = True,
) -> tuple[Array | None, Array, Array]:
    """Gradients of `convolution2d` -> `(du, dW, db)`; `du` is `None` without `calc_du_flag`.

    Args:
        dz: The gradient w.r.t. the output, `(N, OH, OW, F)`.
        u: The forward's images `(N, H, W, C)`.
        W: The forward's filters `(F, KH, KW, C)`.
        b: The forward's biases (unused; kept for the article's signature).
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        strides: An int or `(sh, sw)`.
        calc_du_flag: Whether to compute `du` (the first layer needs none).

    Returns:
        `(du, dW, db)`: `u`'s, `W`'s and `(F,)` shapes.

    Raises:
        ValueError: If `dz` does not have the forward's output shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import convolution2d, convolution2d_back
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> W, b = np.ones((3, 3, 3, 2), "float32"), np.zeros(3, "float32")
        >>> z = convolution2d(u, W, b)
        >>> du, dW, db = convolution2d_back(np.ones_like(z), u, W, b)
        >>> du.shape, dW.shape, db.tolist()
        ((1, 4, 4, 2), (3, 3, 3, 2), [4.0, 4.0, 4.0])
    """
    return ops.conv2d_backward(dz, u, W, stride=strides, padding=padding, need_dx=calc_du_flag)


def max_pooling2d(u: Array, pool_size: IntPair = 2, padding: Padding = 0, strides: IntPair | None = None) -> Array:
    """Max pooling: u `(N, H, W, C)` -> `(N, OH, OW, C)`; strides default to `pool_size`.

    Args:
        u: Images `(N, H, W, C)`, float32 or float64, on any backend.
        pool_size: An int or `(ph, pw)`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        strides: An int or `(sh, sw)` (default: `pool_size`).

    Returns:
        `(N, OH, OW, C)` in `u`'s dtype.

    Raises:
        ValueError: If the padding is not smaller than the window, or an argument is out of range.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import max_pooling2d
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> max_pooling2d(u)[0, :, :, 0].tolist()
        [[10.0, 14.0], [26.0, 30.0]]
    """
    return ops.max_pool2d(u, pool_size, stride=strides, padding=padding)


def max_pooling2d_back(
    dz: Array, u: Array, z: Array, pool_size: IntPair = 2, padding: Padding = 0, strides: IntPair | None = None
) -> Array:
    """Gradient of `max_pooling2d` -> `du`.

    `z` (the forward output) is accepted as in the article, and recomputed inside so a stale `z`
    cannot corrupt the gradient.

    Args:
        dz: The gradient w.r.t. the output, `(N, OH, OW, C)`.
        u: The forward's images `(N, H, W, C)`.
        z: The forward's output (recomputed; kept for the article's signature).
        pool_size: An int or `(ph, pw)`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        strides: An int or `(sh, sw)` (default: `pool_size`).

    Returns:
        `du`, `(N, H, W, C)`: `dz` routed to each window's maximum.

    Raises:
        ValueError: If `dz` does not have the pooled output shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import max_pooling2d, max_pooling2d_back
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> z = max_pooling2d(u)
        >>> max_pooling2d_back(np.ones_like(z), u, z)[0, :, :, 0].tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """
    return ops.max_pool2d_backward(dz, u, pool_size, stride=strides, padding=padding)


def average_pooling2d(u: Array, pool_size: IntPair = 2, padding: Padding = 0, strides: IntPair | None = None) -> Array:
    """Average pooling: u `(N, H, W, C)` -> `(N, OH, OW, C)`; padded cells count as zeros.

    Args:
        u: Images `(N, H, W, C)`, float32 or float64, on any backend.
        pool_size: An int or `(ph, pw)`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        strides: An int or `(sh, sw)` (default: `pool_size`).

    Returns:
        `(N, OH, OW, C)` in `u`'s dtype.

    Raises:
        ValueError: If an argument is out of range.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import average_pooling2d
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> average_pooling2d(u)[0, :, :, 0].tolist()
        [[5.0, 9.0], [21.0, 25.0]]
    """
    return ops.avg_pool2d(u, pool_size, stride=strides, padding=padding)


def average_pooling2d_back(
    dz: Array, u: Array, z: Array, pool_size: IntPair = 2, padding: Padding = 0, strides: IntPair | None = None
) -> Array:
    """Gradient of `average_pooling2d` -> `du`.

    Args:
        dz: The gradient w.r.t. the output, `(N, OH, OW, C)`.
        u: The forward's images `(N, H, W, C)`.
        z: The forward's output (unused; kept for the article's signature).
        pool_size: An int or `(ph, pw)`.
        padding: An int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`.
        strides: An int or `(sh, sw)` (default: `pool_size`).

    Returns:
        `du`, `(N, H, W, C)`: each window's gradient spread evenly over it.

    Raises:
        ValueError: If `dz` does not have the pooled output shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import average_pooling2d, average_pooling2d_back
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> z = average_pooling2d(u)
        >>> average_pooling2d_back(np.ones_like(z), u, z)[0, :, :, 0].tolist()
        [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]
    """
    return ops.avg_pool2d_backward(dz, u, pool_size, stride=strides, padding=padding)


def flatten2d(u: Array) -> Array:
    """`(N, H, W, C)` -> `(N, H*W*C)`, in row-major order.

    Args:
        u: An array with a batch axis, any dtype, on any backend.

    Returns:
        `(N, H*W*C)`.

    Raises:
        ValueError: If `u` has fewer than two axes.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import flatten2d
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> flatten2d(u).shape
        (1, 32)
    """
    return ops.flatten(u)


def flatten2d_back(dz: Array, u: Array, z: Array) -> Array:
    """Gradient of `flatten2d` -> `du` with the shape of `u`.

    Args:
        dz: The gradient w.r.t. the flat output, `(N, H*W*C)`.
        u: The forward's input.
        z: The forward's output (unused; kept for the article's signature).

    Returns:
        `dz` reshaped to `u`'s shape.

    Raises:
        ValueError: If `dz` does not fit `u`'s shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.scratch import flatten2d, flatten2d_back
        >>> u = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
        >>> z = flatten2d(u)
        >>> flatten2d_back(z, u, z).shape
        (1, 4, 4, 2)
    """
    return ops.flatten_backward(dz, u.shape)
