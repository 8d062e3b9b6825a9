"""Slow, obviously-correct float64 NumPy references: explicit loops over every output pixel.

Written independently of xcnn (own padding rules) so the tests compare two implementations.
"""

import math

import numpy as np


def pads_of(padding, hw, kernel, stride):
    """((top, bottom), (left, right)) for the padding forms xcnn accepts."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        pads = []
        for n, k, s in zip(hw, kernel, stride):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    if isinstance(padding[0], int):
        return ((padding[0], padding[0]), (padding[1], padding[1]))
    return tuple(tuple(p) for p in padding)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def pad(x, pads, value=0.0):
    (t, b), (l, r) = pads
    n, h, w, c = x.shape
    out = np.full((n, h + t + b, w + l + r, c), value, dtype=np.float64)
    out[:, t : t + h, l : l + w, :] = x
    return out


def out_size(n, lo, hi, k, s):
    return (n + lo + hi - k) // s + 1


def conv2d(x, w, b=None, stride=1, padding=0):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    f, kh, kw, _ = w.shape
    sh, sw = pair(stride)
    pads = pads_of(padding, x.shape[1:3], (kh, kw), (sh, sw))
    xp = pad(x, pads)
    n = x.shape[0]
    oh = out_size(x.shape[1], *pads[0], kh, sh)
    ow = out_size(x.shape[2], *pads[1], kw, sw)
    y = np.zeros((n, oh, ow, f))
    for i in range(n):
        for r in range(oh):
            for c in range(ow):
                patch = xp[i, r * sh : r * sh + kh, c * sw : c * sw + kw, :]
                for k in range(f):
                    y[i, r, c, k] = np.sum(patch * w[k]) + (0.0 if b is None else b[k])
    return y


def conv2d_backward(dy, x, w, stride=1, padding=0):
    x, w, dy = (np.asarray(a, np.float64) for a in (x, w, dy))
    f, kh, kw, _ = w.shape
    sh, sw = pair(stride)
    pads = pads_of(padding, x.shape[1:3], (kh, kw), (sh, sw))
    xp = pad(x, pads)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    n, oh, ow, _ = dy.shape
    for i in range(n):
        for r in range(oh):
            for c in range(ow):
                patch = xp[i, r * sh : r * sh + kh, c * sw : c * sw + kw, :]
                for k in range(f):
                    dw[k] += dy[i, r, c, k] * patch
                    dxp[i, r * sh : r * sh + kh, c * sw : c * sw + kw, :] += dy[i, r, c, k] * w[k]
    (t, _), (l, _) = pads
    dx = dxp[:, t : t + x.shape[1], l : l + x.shape[2], :]
    return dx, dw, dy.sum(axis=(0, 1, 2))


def _pool(x, pool_size, stride, padding, fill):
    x = np.asarray(x, np.float64)
    kh, kw = pair(pool_size)
    sh, sw = pair(stride) if stride is not None else (kh, kw)
    pads = pads_of(padding, x.shape[1:3], (kh, kw), (sh, sw))
    oh = out_size(x.shape[1], *pads[0], kh, sh)
    ow = out_size(x.shape[2], *pads[1], kw, sw)
    return pad(x, pads, fill), pads, (kh, kw), (sh, sw), (oh, ow)


def max_pool2d(x, pool_size=2, stride=None, padding=0):
    xp, _, (kh, kw), (sh, sw), (oh, ow) = _pool(x, pool_size, stride, padding, -np.inf)
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for r in range(oh):
        for c in range(ow):
            y[:, r, c, :] = xp[:, r * sh : r * sh + kh, c * sw : c * sw + kw, :].max(axis=(1, 2))
    return y


def max_pool2d_backward(dy, x, pool_size=2, stride=None, padding=0):
    xp, pads, (kh, kw), (sh, sw), (oh, ow) = _pool(x, pool_size, stride, padding, -np.inf)
    dxp = np.zeros_like(xp)
    for i in range(x.shape[0]):
        for ch in range(x.shape[3]):
            for r in range(oh):
                for c in range(ow):
                    window = xp[i, r * sh : r * sh + kh, c * sw : c * sw + kw, ch]
                    a, bb = np.unravel_index(np.argmax(window), window.shape)  # first max, row-major
                    dxp[i, r * sh + a, c * sw + bb, ch] += dy[i, r, c, ch]
    (t, _), (l, _) = pads
    return dxp[:, t : t + x.shape[1], l : l + x.shape[2], :]


def avg_pool2d(x, pool_size=2, stride=None, padding=0, count_include_pad=True):
    xp, pads, (kh, kw), (sh, sw), (oh, ow) = _pool(x, pool_size, stride, padding, 0.0)
    mask = pad(np.ones((1,) + x.shape[1:3] + (1,)), pads)
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for r in range(oh):
        for c in range(ow):
            window = xp[:, r * sh : r * sh + kh, c * sw : c * sw + kw, :]
            count = kh * kw if count_include_pad else mask[0, r * sh : r * sh + kh, c * sw : c * sw + kw, 0].sum()
            y[:, r, c, :] = window.sum(axis=(1, 2)) / count
    return y


def avg_pool2d_backward(dy, x, pool_size=2, stride=None, padding=0, count_include_pad=True):
    xp, pads, (kh, kw), (sh, sw), (oh, ow) = _pool(x, pool_size, stride, padding, 0.0)
    mask = pad(np.ones((1,) + x.shape[1:3] + (1,)), pads)
    dxp = np.zeros_like(xp)
    for r in range(oh):
        for c in range(ow):
            count = kh * kw if count_include_pad else mask[0, r * sh : r * sh + kh, c * sw : c * sw + kw, 0].sum()
            dxp[:, r * sh : r * sh + kh, c * sw : c * sw + kw, :] += dy[:, r : r + 1, c : c + 1, :] / count
    (t, _), (l, _) = pads
    return dxp[:, t : t + x.shape[1], l : l + x.shape[2], :]


def global_pool2d(x, kind):
    """Per image and channel, the mean or max (``kind``) over every pixel: ``(N, C)``."""
    n, h, w, c = x.shape
    out = np.zeros((n, c))
    for i in range(n):
        for ch in range(c):
            values = [x[i, r, col, ch] for r in range(h) for col in range(w)]
            out[i, ch] = sum(values) / len(values) if kind == "avg" else max(values)
    return out


def global_pool2d_backward(dy, x, kind):
    """Gradient of :func:`global_pool2d`: an even share of ``dy`` for "avg"; for "max", all of
    it to the first pixel in row-major order holding the maximum."""
    n, h, w, c = x.shape
    dx = np.zeros(x.shape)
    for i in range(n):
        for ch in range(c):
            if kind == "avg":
                dx[i, :, :, ch] = dy[i, ch] / (h * w)
                continue
            best = None
            for r in range(h):
                for col in range(w):
                    if best is None or x[i, r, col, ch] > x[i, best[0], best[1], ch]:
                        best = (r, col)
            dx[i, best[0], best[1], ch] = dy[i, ch]
    return dx


def numerical_gradient(f, x, eps=1e-6):
    """Central differences of scalar ``f`` at float64 array ``x`` (modified in place, restored)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + eps
        up = f(x)
        x[idx] = old - eps
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


__all__ = [n for n in dir() if not n.startswith("_")] + ["math"]
