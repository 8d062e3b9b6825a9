"""The NumPy fast path's parallelism: independent groups of images on one thread per core.

Why: the shift convolution is hundreds of small GEMMs per step. OpenBLAS splits each one over
its threads and joins them after it, and on this shared 2-core VM a join waits for a
descheduled thread: whole VGG steps measured 3.2-3.6x slower than im2col's one big GEMM with
OpenBLAS's 2 threads, and 1.9x faster with 1 (docs/performance.md). So on NumPy, when
threadpoolctl can hold OpenBLAS to one thread, the op gives each core a group of images of
its own (NumPy's GEMMs and element-wise loops release the GIL) and joins once per op.

Portable: every other backend, and NumPy without threadpoolctl, runs the groups one after
another (``workers`` is 1), as plain array-API code.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

from ..backend import name_of

# set XCNN_THREADS=1 to turn the fast path off (the tests run both)
_ENV = "XCNN_THREADS"


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        import threadpoolctl
    except ImportError:
        return None
    controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
    return controller if controller.lib_controllers else None


@functools.lru_cache(maxsize=4)
def _pool(workers):
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xcnn-conv")


def workers(xp):
    """Threads the NumPy fast path uses for ``xp``: one per CPU (at most 8) on NumPy with
    threadpoolctl, unless ``XCNN_THREADS`` says otherwise; 1 elsewhere."""
    if name_of(xp) != "numpy" or _blas_controller() is None:
        return 1
    wanted = os.environ.get(_ENV)
    count = int(wanted) if wanted else min(os.cpu_count() or 1, 8)
    return max(1, count)


def run(xp, task, count):
    """``task(i)`` for i in range(count): on ``count`` threads with the BLAS held to one thread
    each when ``count > 1`` (see :func:`workers`), else inline. Re-raises a task's error."""
    if count == 1:
        task(0)
        return
    with _blas_controller().limit(limits=1):
        for future in [_pool(count).submit(task, i) for i in range(count)]:
            future.result()
