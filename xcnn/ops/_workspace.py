"""Scratch buffers a caller can keep between calls of an op (like cuDNN's workspace), and
the in-place writes into them.

Ops keep no state; a layer that calls the same op every training step may hand it a dict,
and the op's large temporaries (window matrices, gradient grids) are then written into the
same arrays each step instead of fresh ones. Why it matters: on the CPU a fresh multi-MiB
array costs a page fault per 4 KiB page the first time it is written (the allocator hands
freed memory back to the system between steps), which measured as much as the arithmetic
(docs/performance.md). Writing into an existing array is plain ``__setitem__``, so this is
portable to every backend.

A caller that knows its weights will not change for a while (a model's predict loop) also
says so here (``WEIGHTS_FIXED``), and what an op derives from the weights alone is then
computed once for that while (:func:`derived_from_weights`).
"""

from __future__ import annotations

import math

from .._typing import Array, Namespace
from ..backend import array_namespace, name_of
from ._geometry import pad_hw, padded_shape
from .reductions import spread_channels

# backends whose array-API matmul passes ``out=`` through to the library's own (not part of
# the standard, so array_api_strict is left out)
_MATMUL_TAKES_OUT = ("numpy", "cupy", "torch")


# workspace keys, present only during a while in which no weight changes: the caller's token
# of that while, and what was derived from the weights during it (otherwise a workspace holds
# the ops' arrays alone)
WEIGHTS_FIXED = "weights_fixed"
_DERIVED = "derived_from_weights"


def derived_from_weights(workspace, name, make):
    """``make()``, a value computed from the weights alone, computed once while they are fixed.

    Without a token at ``workspace[WEIGHTS_FIXED]`` (training, or no workspace), ``make()``
    each call. With one, the value is kept in the workspace under ``name`` and reused for as
    long as the token is the same object: its caller promises that no weight changes, in
    place or by replacement, while its token stands (a model's predict loop without
    callbacks, ``Trainer._weights_fixed``). At batch 1 such values cost as much as the pass
    itself: the banded GEMM's filter matrix of the seed's convolution was a third of `predict`.
    """
    token = None if workspace is None else workspace.get(WEIGHTS_FIXED)
    if token is None:
        return make()
    kept = workspace.get(_DERIVED)
    if kept is None or kept["token"] is not token:
        kept = workspace[_DERIVED] = {"token": token}
    if name not in kept:
        kept[name] = make()
    return kept[name]


def forget_derived(workspace):
    """Drop what :func:`derived_from_weights` kept in ``workspace`` (its while is over)."""
    workspace.pop(_DERIVED, None)
    workspace.pop(WEIGHTS_FIXED, None)


def scratch(xp, workspace, name, shape, dtype, device):
    """An uninitialized array of ``shape``/``dtype`` on ``device`` for the caller to fill.

    With ``workspace`` (a dict the caller keeps) the array is ``workspace[name]`` again when
    it has the same shape, dtype and device; otherwise a new one, stored there. The caller
    must be done with what the previous call left in it. Without a workspace: ``xp.empty``.
    """
    shape = tuple(shape)
    if workspace is not None:
        held = workspace.get(name)
        if (
            held is not None
            and array_namespace(held) is xp
            and tuple(held.shape) == shape
            and held.dtype == dtype
            and held.device == device
        ):
            return held
    array = xp.empty(shape, dtype=dtype, device=device)
    if workspace is not None:
        workspace[name] = array
    return array


def padded_in_workspace(xp, x, win, workspace, name="padded"):
    """``pad_hw(x, win)`` (zeros), built in ``workspace[name]`` when the caller keeps one.

    The array and its zero border are made once; each later call with the same shape, dtype
    and device writes only the interior. A fresh padded array each step cost a fill of the
    whole and a page fault per 4 KiB (ResNet-14's strided convolutions on torch at batch
    1000: 27 ms a call for the fill alone). Nothing may write into the border: the caller
    only reads the result, and must be done with it before the next call, as with
    :func:`scratch`.
    """
    (top, _), (left, _) = win.pads
    shape = padded_shape(tuple(x.shape), win)
    held = None if workspace is None else workspace.get(name)
    if (
        held is None
        or array_namespace(held) is not xp
        or tuple(held.shape) != shape
        or held.dtype != x.dtype
        or held.device != x.device
    ):
        held = pad_hw(x, win)
        if workspace is not None:
            workspace[name] = held
        return held
    held[:, top : top + x.shape[1], left : left + x.shape[2], :] = x
    return held


def matmul(xp, a, b, workspace=None, name="z"):
    """``a @ b``, written into ``workspace[name]`` where the backend's matmul takes ``out=``
    (NumPy, CuPy, PyTorch: the same GEMM, minus a fresh output array each step); elsewhere,
    and without a workspace, plain ``a @ b``. The caller must be done with the previous
    result before the next call with that workspace, as with :func:`scratch`."""
    if workspace is None or name_of(xp) not in _MATMUL_TAKES_OUT:
        return a @ b
    out = scratch(xp, workspace, name, (a.shape[0], b.shape[1]), a.dtype, a.device)
    return xp.matmul(a, b, out=out)


def matmul_into(xp, a, b, out):
    """``a @ b`` written into ``out`` (an array of the product's shape the caller owns), by the
    backend's matmul where it takes ``out=``, else copied there. Returns ``out``."""
    if name_of(xp) not in _MATMUL_TAKES_OUT:
        out[...] = a @ b
        return out
    return xp.matmul(a, b, out=out)


def add_into(x, index, y):
    """``x[index] += y`` in place on a writeable ``x`` (a fresh gradient being gathered); returns ``x``.

    Through the view ``x[index]``: neither Python's ``x[index] += y`` nor ``xpx.at(x, index).add(y)``,
    which both write the updated view back onto itself (``x[index] = x[index] + y``): a second
    pass over the slice, a second kernel launch on a GPU. On every backend here (NumPy, CuPy,
    PyTorch, array_api_strict) a basic slice is a view and ``+=`` updates it in place.
    """
    view = x[index]
    view += y
    return x


def add_bias(xp: Namespace, z: Array, b: Array) -> Array:
    """`z + b` along z's channels, in place.

    `b` repeats K times per row of z. Added in place (a second output-sized array would cost
    as much again), with `b` spread over up to 64 rows at a time (`spread_channels`): NumPy
    pays a loop iteration per run of the repeated vector, and F is often only 6 or 9. On a
    GPU, one broadcast add.

    Args:
        xp: The arrays' namespace.
        z: A fresh `(M, K*F)` GEMM output (it is overwritten).
        b: The bias `(F,)`, of z's dtype.

    Returns:
        The result, `(M, K*F)` (z itself where reshape gives a view, as on every backend here).

    Examples:
        >>> import numpy as np
        >>> from xcnn.backend import namespace
        >>> from xcnn.ops._workspace import add_bias
        >>> add_bias(namespace("numpy"), np.zeros((2, 6)), np.array([1.0, 2.0, 3.0])).tolist()
        [[1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]]
    """
    rows, width = z.shape
    group = math.gcd(rows, 64)  # rows folded into one, so that the spread bias spans them
    per_channel = xp.reshape(z, (rows // group, width * group // b.shape[0], b.shape[0]))
    per_channel += spread_channels(b, per_channel)
    return xp.reshape(per_channel, (rows, width))
