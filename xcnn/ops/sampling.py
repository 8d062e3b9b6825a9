"""Resampling NHWC images at arbitrary (row, col) coordinates, as Keras's ``affine_transform``
does (bilinear or nearest, with its fill modes), and the adjoint that carries gradients back.

A *plan* lists, for each interpolation corner, the flat source pixel, its weight and whether
it lies inside the image; the forward gathers with it and the backward adds ``dy`` back into
those pixels. The array API has no scatter-add, so the adjoint sorts the source indices and
takes differences of a (float64) running sum at each pixel's run.
"""

from __future__ import annotations

from ..backend import array_namespace

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


def sampling_plan(image_shape, rows, cols, interpolation="bilinear", fill_mode="constant"):
    """Corners for sampling images of ``image_shape`` ``(N, H, W, C)`` at float coordinates
    ``rows``, ``cols`` ``(N, OH, OW)``: a list of ``(flat_index, weight, inside)``, each
    ``(N*OH*OW,)`` (weight None means 1; inside None means every corner is)."""
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


def resample(x, plan, out_hw, fill_value=0.0):
    """NHWC ``x`` sampled by :func:`sampling_plan`'s ``plan``: ``(N, OH, OW, C)``; corners
    outside the image read ``fill_value`` (fill_mode 'constant')."""
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


def resample_backward(dy, plan, x_shape):
    """Gradient of :func:`resample` w.r.t. ``x`` (shape ``x_shape``): each output cell's
    gradient added, weighted, into the source pixels it read (none for filled corners)."""
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
    running = xp.cumulative_sum(xp.astype(xp.take(values, order, axis=0), xp.float64), axis=0,
                                include_initial=True)
    targets = xp.arange(size, dtype=sorted_index.dtype, device=index.device)
    first = xp.searchsorted(sorted_index, targets, side="left")
    after = xp.searchsorted(sorted_index, targets, side="right")
    total = xp.take(running, after, axis=0) - xp.take(running, first, axis=0)
    return xp.astype(total, values.dtype)


def rotation_coordinates(angles, hw, dtype):
    """Source ``(rows, cols)`` ``(N, H, W)`` of each output pixel when images of size ``hw``
    are rotated by ``angles`` (radians, ``(N,)``) about their centre, as Keras's
    RandomRotation computes them (its affine matrix, centre ``((H-1)/2, (W-1)/2)``)."""
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
