"""Scratch buffers a caller can keep between calls of an op (like cuDNN's workspace).

Ops keep no state; a layer that calls the same op every training step may hand it a dict,
and the op's large temporaries (window matrices, gradient grids) are then written into the
same arrays each step instead of fresh ones. Why it matters: on the CPU a fresh multi-MiB
array costs a page fault per 4 KiB page the first time it is written (the allocator hands
freed memory back to the system between steps), which measured as much as the arithmetic
(docs/performance.md). Writing into an existing array is plain ``__setitem__``, so this is
portable to every backend.
"""

from __future__ import annotations

from ..backend import array_namespace, name_of

# backends whose array-API matmul passes ``out=`` through to the library's own (not part of
# the standard, so array_api_strict is left out)
_MATMUL_TAKES_OUT = ("numpy", "cupy", "torch")


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
    """``a @ b`` written into ``out`` (an array of the product's shape the caller owns) where
    the backend's matmul takes ``out=``; elsewhere ``a @ b`` (a fresh array). Returns the result."""
    if name_of(xp) not in _MATMUL_TAKES_OUT:
        return a @ b
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
