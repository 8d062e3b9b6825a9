"""Convolutions built from :func:`.conv2d` and :func:`.conv2d_backward`: dilated, grouped
(depthwise is groups = channels) and transposed, each forward beside its backward.

Filters are ``(F, KH, KW, C / groups)`` as everywhere in xcnn. These paths favour clarity over
speed: a dilated kernel is the kernel with zeros between its taps, a grouped convolution is one
convolution per group, and a transposed convolution is the adjoint of a convolution.
"""

from __future__ import annotations

from ..backend import array_namespace
from .conv import conv2d, conv2d_backward
from .reductions import channel_sum


def dilate_kernel(w, rate):
    """``(F, KH, KW, C)`` -> ``(F, (KH-1)*rh + 1, (KW-1)*rw + 1, C)`` with ``rh - 1`` / ``rw - 1``
    zeros between taps: convolving with it is the dilated (atrous) convolution."""
    rh, rw = rate
    if (rh, rw) == (1, 1):
        return w
    xp = array_namespace(w)
    f, kh, kw, c = w.shape
    out = xp.zeros((f, (kh - 1) * rh + 1, (kw - 1) * rw + 1, c), dtype=w.dtype, device=w.device)
    out[:, ::rh, ::rw, :] = w
    return out


def _split(a, groups, axis_size):
    size = axis_size // groups
    return [a[..., g * size:(g + 1) * size] for g in range(groups)]


def _check_groups(x, w, groups):
    if x.shape[-1] != w.shape[-1] * groups or w.shape[0] % groups:
        raise ValueError(f"groups={groups} needs x's channels ({x.shape[-1]}) = groups * w.shape[3] "
                         f"({w.shape[-1]}) and w.shape[0] ({w.shape[0]}) divisible by groups")


def conv2d_general(x, w, b=None, stride=1, padding="valid", dilation=(1, 1), groups=1):
    """Convolution of NHWC ``x`` with ``w`` ``(F, KH, KW, C / groups)``, taps ``dilation``
    apart, input channels and filters split into ``groups`` independent convolutions.
    Returns ``(N, OH, OW, F)``."""
    xp = array_namespace(x, w)
    _check_groups(x, w, groups)
    wd = dilate_kernel(w, dilation)
    if groups == 1:
        return conv2d(x, wd, b, stride=stride, padding=padding)
    parts = [conv2d(xg, wg, None, stride=stride, padding=padding)
             for xg, wg in zip(_split(x, groups, x.shape[-1]), _filters(wd, groups))]
    y = xp.concat(parts, axis=-1)
    return y if b is None else y + b


def _filters(w, groups):
    size = w.shape[0] // groups
    return [w[g * size:(g + 1) * size, ...] for g in range(groups)]


def conv2d_general_backward(dy, x, w, stride=1, padding="valid", dilation=(1, 1), groups=1, need_dx=True):
    """Gradients of :func:`conv2d_general`: ``(dx or None, dw, db)``."""
    xp = array_namespace(dy, x, w)
    rh, rw = dilation
    wd = dilate_kernel(w, dilation)
    dxs, dws = [], []
    for xg, wg, dyg in zip(_split(x, groups, x.shape[-1]), _filters(wd, groups), _split(dy, groups, dy.shape[-1])):
        dxg, dwg, _ = conv2d_backward(dyg, xg, wg, stride=stride, padding=padding, need_dx=need_dx)
        dxs.append(dxg)
        dws.append(dwg[:, ::rh, ::rw, :])  # the taps of the dilated kernel that are weights
    dx = (dxs[0] if groups == 1 else xp.concat(dxs, axis=-1)) if need_dx else None
    dw = dws[0] if groups == 1 else xp.concat(dws, axis=0)
    return dx, dw, channel_sum(dy)


def conv2d_transpose_padding(size, kernel, stride, padding):
    """Output size and ``(before, after)`` padding of a transposed convolution along one axis,
    as Keras computes them (no output_padding): 'valid' gives ``size*stride + max(kernel -
    stride, 0)``, 'same' gives ``size*stride``."""
    if padding == "valid":
        return size * stride + max(kernel - stride, 0), (0, 0)
    total = max(kernel - stride, 0)
    return size * stride, (total // 2, total - total // 2)


def conv2d_transpose(x, w, b=None, stride=(1, 1), padding="valid"):
    """Transposed convolution of NHWC ``x`` ``(N, H, W, C)``: the adjoint of the convolution
    with ``w`` ``(C, KH, KW, F)`` that maps ``(N, OH, OW, F)`` to ``x``'s shape; returns
    ``(N, OH, OW, F)`` with OH, OW from :func:`conv2d_transpose_padding`."""
    xp = array_namespace(x, w)
    (oh, pads_h), (ow, pads_w) = (conv2d_transpose_padding(n, k, s, padding)
                                  for n, k, s in zip(x.shape[1:3], w.shape[1:3], stride))
    canvas = xp.zeros((x.shape[0], oh, ow, w.shape[3]), dtype=x.dtype, device=x.device)
    y, _, _ = conv2d_backward(x, canvas, w, stride=stride, padding=(pads_h, pads_w))
    return y if b is None else y + b


def conv2d_transpose_backward(dy, x, w, stride=(1, 1), padding="valid", need_dx=True):
    """Gradients of :func:`conv2d_transpose`: ``(dx or None, dw, db)``. The input gradient is
    the convolution itself; the filter gradient is that convolution's, with the roles of input
    and output gradient exchanged."""
    pads = tuple(conv2d_transpose_padding(n, k, s, padding)[1] for n, k, s in zip(x.shape[1:3], w.shape[1:3], stride))
    dx = conv2d(dy, w, None, stride=stride, padding=pads) if need_dx else None
    _, dw, _ = conv2d_backward(x, dy, w, stride=stride, padding=pads, need_dx=False)
    return dx, dw, channel_sum(dy)
