"""The NumPy fast path's parallelism: independent groups of images on one thread per core.

Why: a convolution worked in cache-sized chunks (the gather convolution) is dozens of GEMMs
per layer and step. OpenBLAS splits each one over its threads and joins them after it, and on
this shared 2-core VM a join waits for a descheduled thread: whole VGG steps measured 3.2-3.6x
slower than im2col's one big GEMM with OpenBLAS's 2 threads, and 1.9x faster with 1 (then
with the "shift" convolution, hundreds of GEMMs per step, which gather replaced;
docs/performance.md). So on NumPy, when
threadpoolctl can hold OpenBLAS to one thread, the op gives each core a group of images of
its own (NumPy's GEMMs and element-wise loops release the GIL) and joins once per op.

Portable: every other backend, and NumPy without threadpoolctl, runs the groups one after
another (``workers`` is 1), as plain array-API code.

Between such ops the BLAS would be back at its own thread count, and any GEMM of the step
outside them (a Dense layer's) wakes OpenBLAS's worker threads, which then spin for up to
~0.1 s waiting for more work, on the cores the next op's groups need: a whole VGG step at batch
128 measured 464 ms so, 322 ms with the BLAS held at one thread for the whole step (in one
process, taking turns; docs/performance.md). So a model holds the BLAS at one thread through
its passes (:class:`BlasHold`) once it has seen one of them run groups; nets that never do (the
seeds' MNIST nets), and passes over a lone image, which cannot, keep the BLAS's own threads
for their GEMMs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
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


@functools.lru_cache(maxsize=1)
def _cpu_count():
    return os.cpu_count() or 1  # asked once: ~9 us a call, once per convolution


def workers(xp):
    """Threads the NumPy fast path uses for ``xp``: one per CPU (at most 8) on NumPy with
    threadpoolctl, unless ``XCNN_THREADS`` says otherwise; 1 elsewhere.

    Raises:
        ValueError: If ``XCNN_THREADS`` is set to anything but a whole number >= 1.
    """
    if name_of(xp) != "numpy":
        return 1
    wanted = os.environ.get(_ENV)
    count = _threads(wanted) if wanted else min(_cpu_count(), 8)  # checked even where threadpoolctl is missing
    return count if _blas_controller() is not None else 1


@functools.lru_cache(maxsize=8)
def _threads(text):
    """``$XCNN_THREADS`` as a count, or a sentence naming it (parsed once per value)."""
    try:
        count = int(text)
    except ValueError:
        count = None
    if count is None or count < 1:
        raise ValueError(f"{_ENV} must be a whole number of threads >= 1 (1 turns the fast path off), got {text!r}")
    return count


class _Held(threading.local):
    held = False  # a BlasHold holds the BLAS at one thread (in this thread's current pass)
    ran = False  # run() started groups since the current pass began


_state = _Held()


def group_bounds(n, groups):
    """``[(first image, count)]`` of each of ``groups`` groups of a batch of ``n``: contiguous,
    sizes differing by at most one."""
    bounds, first = [], 0
    for g in range(groups):
        count = n // groups + (g < n % groups)
        bounds.append((first, count))
        first += count
    return bounds


def batch_groups(xp, n):
    """How many groups of images a per-image op runs side by side on ``xp``: one per worker
    thread (see :func:`workers`), at most one per image."""
    return min(workers(xp), n)


def run(xp, task, count):
    """``task(i)`` for i in range(count): on ``count`` threads with the BLAS held to one thread
    each when ``count > 1`` (see :func:`workers`), else inline. Re-raises a task's error."""
    if count == 1:
        task(0)
        return
    _state.ran = True
    with contextlib.nullcontext() if _state.held else _blas_controller().limit(limits=1):
        for future in [_pool(count).submit(task, i) for i in range(count)]:
            future.result()


class BlasHold:
    """One model's switch: hold the BLAS at one thread through each of its passes once a pass
    has run image groups (see the module's docstring for why).

    Examples:
        >>> from xcnn.ops._parallel import BlasHold
        >>> hold = BlasHold()
        >>> with hold.pass_on("numpy", 32):
        ...     pass  # a pass that ran no groups
        >>> hold.wanted
        False
    """

    def __init__(self) -> None:
        self.wanted = False  # sticky: set after the first pass that ran groups

    @contextlib.contextmanager
    def pass_on(self, backend: str, images: int) -> Iterator[None]:
        """Context of one forward or backward pass of the model on ``backend`` (a name) over a
        batch of ``images``.

        A pass over one image is never held: it cannot run groups, so the hold would only take
        its GEMMs' second thread (a VGG ``predict`` at batch 1 after training: 1435 us an image
        held, 1088 not, in one process taking turns).
        """
        controller = _blas_controller() if backend == "numpy" else None
        if controller is None:
            yield
            return
        outer = (_state.held, _state.ran)
        _state.ran = False
        hold = self.wanted and images > 1 and not _state.held
        try:
            with controller.limit(limits=1) if hold else contextlib.nullcontext():
                _state.held = _state.held or hold
                yield
        finally:
            self.wanted = self.wanted or _state.ran
            _state.held, _state.ran = outer[0], outer[1] or _state.ran
