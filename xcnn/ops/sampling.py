"""Resampling NHWC images at arbitrary (row, col) coordinates, as Keras's `affine_transform`
does (bilinear or nearest, with its fill modes), and the adjoint that carries gradients back.

A *plan* lists, for each interpolation corner, the flat source pixel, its weight and whether
it lies inside the image; the forward gathers with it and the backward adds `dy` back into
those pixels. The array API has no scatter-add, so the adjoint sorts the source indices and
takes differences of a (float64) running sum at each pixel's run.
"""

from __future__ import annotations

from .._typing import Array, DType, Namespace, Shape
from ..backend import array_namespace, take_indices

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
INTERPOLATIONS = ("bilinear", "nearest")


def _mirror(xp, index, size):
    """Keras's 'mirror' index fixer: a triangular wave of half-period ``size - 1``."""
    s = size - 1
    if s == 0:
        return xp.zeros_like(index)
    return xp.abs(xp.remainder(index + s, 2 * s) - s)


def _fix_index(xp, index, size, fill_mode):
    """Out-of-range indices mapped back into ``[0, size)`` as ``fill_mode`` says (Keras's rules)."""
    if fill_mode in ("constant", "nearest"):
        return xp.minimum(xp.maximum(index, 0), size - 1)
    if fill_mode == "wrap":
        return xp.remainder(index, size)
    if fill_mode == "mirror":
        return _mirror(xp, index, size)
    # reflect: (d c b a | a b c d | d c b a), through the mirror of the half-pixel grid
    return xp.floor_divide(_mirror(xp, 2 * index + 1, 2 * size + 1) - 1, 2)


def _axis_nodes(xp, coordinate, interpolation):
    """``[(index, weight)]`` along one axis: two neighbours (bilinear) or the nearest one."""
    if interpolation == "nearest":
        return [(xp.astype(xp.round(coordinate), xp.int64), None)]
    lower = xp.floor(coordinate)
    upper_weight = coordinate - lower
    index = xp.astype(lower, xp.int64)
    return [(index, 1.0 - upper_weight), (index + 1, upper_weight)]


def sampling_plan(
    image_shape: Shape, rows: Array, cols: Array, interpolation: str = "bilinear", fill_mode: str = "constant"
) -> list[tuple[Array, Array | None, Array | None]]:
    """The interpolation corners for sampling images at float coordinates.

    For images of `image_shape` `(N, H, W, C)` sampled at `rows`, `cols` `(N, OH, OW)`: a list of
    `(flat_index, weight, inside)`, each `(N*OH*OW,)` (weight `None` means 1; inside `None` means
    every corner is inside). Out-of-range indices are mapped back as `fill_mode` says (Keras's
    rules).

    Args:
        image_shape: `(N, H, W, C)`.
        rows: Source rows `(N, OH, OW)`, float, on the images' backend.
        cols: Source columns `(N, OH, OW)`, float.
        interpolation: `"bilinear"` (four corners) or `"nearest"` (one).
        fill_mode: `"constant"`, `"nearest"`, `"wrap"`, `"mirror"` or `"reflect"`.

    Returns:
        The plan, one `(flat_index, weight, inside)` per corner.

    Raises:
        ValueError: If `interpolation` or `fill_mode` is unknown.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import resample, resample_backward, rotation_coordinates, sampling_plan
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> rows, cols = rotation_coordinates(np.array([np.pi / 2]), (3, 3), np.float64)
        >>> len(sampling_plan(x.shape, rows, cols)), len(sampling_plan(x.shape, rows, cols, "nearest"))
        (4, 1)
    """
    xp = array_namespace(rows, cols)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    n, h, w, _ = image_shape
    image_start = xp.reshape(xp.arange(n, dtype=xp.int64, device=rows.device) * (h * w), (n, 1, 1))
    corners = []
    for r, wr in _axis_nodes(xp, rows, interpolation):
        for c, wc in _axis_nodes(xp, cols, interpolation):
            flat = image_start + _fix_index(xp, r, h, fill_mode) * w + _fix_index(xp, c, w, fill_mode)
            weight = wr if wc is None else wc if wr is None else wr * wc
            inside = None
            if fill_mode == "constant":
                inside = xp.reshape((r >= 0) & (r < h) & (c >= 0) & (c < w), (-1,))
            corners.append((xp.reshape(flat, (-1,)), None if weight is None else xp.reshape(weight, (-1,)), inside))
    return corners


def resample(
    x: Array, plan: list[tuple[Array, Array | None, Array | None]], out_hw: tuple[int, int], fill_value: float = 0.0
) -> Array:
    """NHWC `x` sampled by `sampling_plan`'s `plan`.

    Corners outside the image read `fill_value` (fill_mode `"constant"`).

    Args:
        x: Images `(N, H, W, C)`, float32 or float64, on any backend.
        plan: `sampling_plan(x.shape, rows, cols, ...)`.
        out_hw: `(OH, OW)`, the shape of `rows` and `cols` without the batch axis.
        fill_value: The value outside the image.

    Returns:
        `(N, OH, OW, C)` in `x`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import resample, resample_backward, rotation_coordinates, sampling_plan
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> rows, cols = rotation_coordinates(np.array([np.pi / 2]), (3, 3), np.float64)
        >>> plan = sampling_plan(x.shape, rows, cols)
        >>> resample(x, plan, (3, 3))[0, :, :, 0].round(6).tolist()
        [[2.0, 5.0, 8.0], [1.0, 4.0, 7.0], [0.0, 3.0, 6.0]]
    """
    xp = array_namespace(x)
    n, h, w, c = x.shape
    pixels = xp.reshape(x, (n * h * w, c))
    fill = xp.full((), fill_value, dtype=x.dtype, device=x.device)
    out = None
    for flat, weight, inside in plan:
        values = xp.take(pixels, flat, axis=0)
        if inside is not None:
            values = xp.where(inside[:, None], values, fill)
        if weight is not None:
            values = values * xp.astype(weight, x.dtype)[:, None]
        out = values if out is None else out + values
    return xp.reshape(out, (n, *out_hw, c))


def resample_backward(dy: Array, plan: list[tuple[Array, Array | None, Array | None]], x_shape: Shape) -> Array:
    """Gradient of `resample` w.r.t. `x`.

    Each output cell's gradient is added, weighted, into the source pixels it read (none for
    filled corners). The array API has no scatter-add: the indices are sorted and a float64
    running sum is differenced at each pixel's run.

    Args:
        dy: The gradient w.r.t. the output, `(N, OH, OW, C)`.
        plan: The forward's plan.
        x_shape: The forward's image shape `(N, H, W, C)`.

    Returns:
        `(N, H, W, C)` in `dy`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import resample, resample_backward, rotation_coordinates, sampling_plan
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> rows, cols = rotation_coordinates(np.array([np.pi / 2]), (3, 3), np.float64)
        >>> plan = sampling_plan(x.shape, rows, cols)
        >>> float(resample_backward(np.ones((1, 3, 3, 1)), plan, x.shape).sum())
        9.0
    """
    xp = array_namespace(dy)
    n, h, w, c = x_shape
    dy_rows = xp.reshape(dy, (-1, c))
    indices, values = [], []
    for flat, weight, inside in plan:
        contribution = dy_rows if weight is None else dy_rows * xp.astype(weight, dy.dtype)[:, None]
        if inside is not None:
            contribution = xp.where(inside[:, None], contribution, xp.zeros((), dtype=dy.dtype, device=dy.device))
        indices.append(flat)
        values.append(contribution)
    return xp.reshape(_scatter_add(xp.concat(indices), xp.concat(values, axis=0), n * h * w), x_shape)


def _scatter_add(index, values, size):
    """``out[i] = sum of values[k] where index[k] == i`` for i in ``range(size)``: sort, running
    sum in float64 (so the differences keep the values' precision), difference at each run."""
    xp = array_namespace(index, values)
    order = xp.argsort(index)
    sorted_index = xp.take(index, order)
    running = xp.cumulative_sum(xp.astype(xp.take(values, order, axis=0), xp.float64), axis=0, include_initial=True)
    targets = xp.arange(size, dtype=sorted_index.dtype, device=index.device)
    first = xp.searchsorted(sorted_index, targets, side="left")
    after = xp.searchsorted(sorted_index, targets, side="right")
    total = xp.take(running, after, axis=0) - xp.take(running, first, axis=0)
    return xp.astype(total, values.dtype)


def rotation_coordinates(angles: Array, hw: tuple[int, int], dtype: DType) -> tuple[Array, Array]:
    """Source `(rows, cols)` `(N, H, W)` of each output pixel of images rotated by `angles`.

    As Keras's RandomRotation computes them: its affine matrix, about the centre
    `((H-1)/2, (W-1)/2)`.

    Args:
        angles: Angles in radians, `(N,)`, float, on any backend.
        hw: The image size `(H, W)`.
        dtype: The coordinates' float dtype.

    Returns:
        `(rows, cols)`, each `(N, H, W)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import resample, resample_backward, rotation_coordinates, sampling_plan
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> rows, cols = rotation_coordinates(np.array([np.pi / 2]), (3, 3), np.float64)
        >>> (rows.round(6)[0] + 0.0).tolist()  # + 0.0: no negative zeros
        [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    """
    xp = array_namespace(angles)
    h, w = hw
    cos, sin = xp.reshape(xp.cos(angles), (-1, 1, 1)), xp.reshape(xp.sin(angles), (-1, 1, 1))
    cy, cx = 0.5 * (h - 1), 0.5 * (w - 1)
    row = xp.reshape(xp.arange(h, dtype=dtype, device=angles.device), (1, h, 1))
    col = xp.reshape(xp.arange(w, dtype=dtype, device=angles.device), (1, 1, w))
    # x' = cos*x - sin*y + a2, y' = sin*x + cos*y + b2 with x the column and y the row
    cols = cos * col - sin * row + (cx - cx * cos + cy * sin)
    rows = sin * col + cos * row + (cy - cx * sin - cy * cos)
    return rows, cols


def zoom_coordinates(zooms: Array, hw: tuple[int, int], dtype: DType) -> tuple[Array, Array]:
    """Source `(rows, cols)` `(N, H, W)` of each output pixel of images zoomed by `zooms`.

    As Keras's RandomZoom computes them: output pixel `(i, j)` reads `(zh*(i - cy) + cy,
    zw*(j - cx) + cx)` about the centre `(cy, cx) = ((H-1)/2, (W-1)/2)`; a factor above 1 zooms
    out (the image shrinks), below 1 in.

    Args:
        zooms: `(N, 2)`: each image's height and width factors, float, on any backend.
        hw: The image size `(H, W)`.
        dtype: The coordinates' float dtype.

    Returns:
        `(rows, cols)`, each `(N, H, W)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import zoom_coordinates
        >>> rows, cols = zoom_coordinates(np.array([[2.0, 1.0]]), (3, 3), np.float64)
        >>> rows[0, :, 0].tolist(), cols[0, 0].tolist()  # twice as far from the centre row
        ([-1.0, 1.0, 3.0], [0.0, 1.0, 2.0])
    """
    xp = array_namespace(zooms)
    h, w = hw
    zh, zw = xp.reshape(zooms[:, 0], (-1, 1, 1)), xp.reshape(zooms[:, 1], (-1, 1, 1))
    cy, cx = 0.5 * (h - 1), 0.5 * (w - 1)
    row = xp.reshape(xp.arange(h, dtype=dtype, device=zooms.device), (1, h, 1))
    col = xp.reshape(xp.arange(w, dtype=dtype, device=zooms.device), (1, 1, w))
    rows = zh * (row - cy) + cy + 0.0 * col
    cols = zw * (col - cx) + cx + 0.0 * row
    return rows, cols


def resize_coordinates(
    xp: Namespace, n: int, in_hw: tuple[int, int], out_hw: tuple[int, int], interpolation: str, device: object
) -> tuple[Array, Array]:
    """Source `(rows, cols)` `(N, OH, OW)` of images resized from `in_hw` to `out_hw`, float64.

    As Keras's `Resizing` (PyTorch's `interpolate` underneath): half-pixel centres, output
    pixel `i` at `(i + 1/2) * H/OH - 1/2` for bilinear (sampled with fill mode `"nearest"`: the
    edges repeat), and at `floor((i + 1/2) * H/OH)` for nearest ("nearest-exact").

    Args:
        xp: The namespace to make them with.
        n: The number of images N.
        in_hw: The input size `(H, W)`.
        out_hw: The output size `(OH, OW)`.
        interpolation: `"bilinear"` or `"nearest"`.
        device: Where they are made.

    Returns:
        `(rows, cols)`, each `(N, OH, OW)`.

    Raises:
        ValueError: If `interpolation` is unknown.

    Examples:
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops.sampling import resize_coordinates
        >>> xp = namespace("numpy")
        >>> rows, cols = resize_coordinates(xp, 1, (4, 4), (2, 8), "bilinear", "cpu")
        >>> rows[0, :, 0].tolist(), cols[0, 0, :3].tolist()
        ([0.5, 2.5], [-0.25, 0.25, 0.75])
        >>> resize_coordinates(xp, 1, (4, 4), (2, 2), "nearest", "cpu")[0][0, :, 0].tolist()
        [1.0, 3.0]
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")

    def along(size, out):
        centres = (xp.arange(out, dtype=xp.float64, device=device) + 0.5) * (size / out)
        return xp.floor(centres) if interpolation == "nearest" else centres - 0.5

    (h, w), (oh, ow) = in_hw, out_hw
    rows = xp.broadcast_to(xp.reshape(along(h, oh), (1, oh, 1)), (n, oh, ow))
    cols = xp.broadcast_to(xp.reshape(along(w, ow), (1, 1, ow)), (n, oh, ow))
    return rows, cols


def crop_windows(x: Array, starts: Array, out_hw: tuple[int, int]) -> Array:
    """Each image's `out_hw` window at its own top-left corner: one gather for the batch.

    `out[n, i, j] = x[n, starts[n, 0] + i, starts[n, 1] + j]` (RandomCrop's per-image crops).

    Args:
        x: Images `(N, H, W, C)`, on any backend.
        starts: `(N, 2)` int64 `(row, col)` of each window's top-left pixel, with
            `0 <= row <= H - OH` and `0 <= col <= W - OW`, on `x`'s device.
        out_hw: The window size `(OH, OW)`.

    Returns:
        `(N, OH, OW, C)` in `x`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import crop_windows
        >>> x = np.arange(32.0).reshape(2, 4, 4, 1)
        >>> out = crop_windows(x, np.array([[0, 1], [2, 2]]), (2, 2))
        >>> out[0, :, :, 0].tolist(), out[1, :, :, 0].tolist()
        ([[1.0, 2.0], [5.0, 6.0]], [[26.0, 27.0], [30.0, 31.0]])
    """
    xp = array_namespace(x, starts)
    n, h, w, c = x.shape
    oh, ow = out_hw
    ints, device = xp.int64, x.device
    first = xp.arange(n, dtype=ints, device=device) * (h * w) + starts[:, 0] * w + starts[:, 1]
    within = xp.reshape(
        xp.reshape(xp.arange(oh, dtype=ints, device=device) * w, (oh, 1))
        + xp.reshape(xp.arange(ow, dtype=ints, device=device), (1, ow)),
        (1, oh * ow),
    )
    pixel = xp.reshape(xp.reshape(first, (n, 1)) + within, (-1,))
    return xp.reshape(take_indices(xp, xp.reshape(x, (n * h * w, c)), pixel, 0), (n, oh, ow, c))


def crop_windows_backward(dy: Array, starts: Array, x_shape: Shape) -> Array:
    """Gradient of `crop_windows` w.r.t. `x`: `dy` put back at each window, zero elsewhere.

    The windows do not overlap within an image, so this is a gather too, from `dy` padded with
    zeros by `H - OH` rows and `W - OW` columns on each side (no scatter).

    Args:
        dy: The gradient w.r.t. the windows, `(N, OH, OW, C)`.
        starts: The forward's `(N, 2)` int64 top-left corners.
        x_shape: The forward's image shape `(N, H, W, C)`.

    Returns:
        `(N, H, W, C)` in `dy`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.sampling import crop_windows_backward
        >>> dx = crop_windows_backward(np.ones((1, 2, 2, 1)), np.array([[1, 0]]), (1, 3, 3, 1))
        >>> dx[0, :, :, 0].tolist()
        [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 0.0]]
    """
    from ._geometry import pad_images

    xp = array_namespace(dy, starts)
    n, oh, ow, c = dy.shape
    _, h, w, _ = x_shape
    ph, pw = h - oh, w - ow
    padded = pad_images(dy, ((ph, ph), (pw, pw)), 0.0)
    hp, wp = oh + 2 * ph, ow + 2 * pw
    ints, device = xp.int64, dy.device
    # dx[n, p, q] = dy[n, p - row, q - col], that is padded[n, p - row + ph, q - col + pw]
    first = xp.arange(n, dtype=ints, device=device) * (hp * wp) + (ph - starts[:, 0]) * wp + (pw - starts[:, 1])
    within = xp.reshape(
        xp.reshape(xp.arange(h, dtype=ints, device=device) * wp, (h, 1))
        + xp.reshape(xp.arange(w, dtype=ints, device=device), (1, w)),
        (1, h * w),
    )
    pixel = xp.reshape(xp.reshape(first, (n, 1)) + within, (-1,))
    return xp.reshape(take_indices(xp, xp.reshape(padded, (n * hp * wp, c)), pixel, 0), (n, h, w, c))
