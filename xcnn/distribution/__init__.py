"""Training on several processes: data parallelism over MPI (CPU ranks) and NCCL (GPUs).

Keras 3's names::

    import xcnn
    from xcnn import distribution

    distribution.set_distribution(distribution.DataParallel())   # the MPI world
    model = ...                                                   # the same on every rank
    model.fit(x, y, batch_size=128)                               # 128 = the global batch

launched as ``mpiexec -n K python -m mpi4py train.py`` (``-m mpi4py`` turns an uncaught
exception on one rank into ``MPI_Abort`` of the whole job instead of a hang in the next
collective). With ``size() == 1`` (no ``mpiexec``) training takes the single-process path,
bit for bit. See docs/distributed.md.
"""

from __future__ import annotations

import functools

from .. import backend as B
from .communicator import Communicator, MPICommunicator
from .data_parallel import DataParallel, even_split
from .nccl import NCCLCommunicator, nccl_available

__all__ = ["Communicator", "DataParallel", "MPICommunicator", "NCCLCommunicator", "distribution", "even_split",
           "list_devices", "nccl_available", "rank", "set_distribution", "size"]

_current = None  # the distribution set with set_distribution


def set_distribution(value):
    """Make ``value`` (a :class:`DataParallel`, or None for one process) the distribution that
    ``fit``, ``evaluate``, ``predict`` and ``save`` follow."""
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution takes a DataParallel or None, got {type(value).__name__}")
    _current = value


def distribution():
    """The distribution set with :func:`set_distribution`, or None."""
    return _current


def active():
    """The distribution training must follow, or None when it runs in one process (none set, or
    one of size 1: then every path is the single-process one, bit for bit)."""
    return _current if _current is not None and _current.size > 1 else None


def rank():
    """This process's rank in the current distribution (0 without one)."""
    return 0 if _current is None else _current.rank


def size():
    """The number of processes of the current distribution (1 without one)."""
    return 1 if _current is None else _current.size


def list_devices(device_type=None):
    """One device per rank of the current distribution, ``"cpu:0"``, ... or ``"gpu:0"``, ...
    (``device_type`` "cpu" or "gpu"; default "gpu" when the default backend is cupy)."""
    if device_type is None:
        device_type = "gpu" if B.get_backend() == "cupy" else "cpu"
    if device_type not in ("cpu", "gpu"):
        raise ValueError(f"device_type must be 'cpu', 'gpu' or None, got {device_type!r}")
    return [f"{device_type}:{i}" for i in range(size())]


def seed_streams(model, seed):
    """Restart ``model``'s random streams from ``seed``: the shuffle stream (the same on every
    rank) and, under data parallelism, this rank's stream for dropout and augmentation."""
    model._use_step_rng(B.rng(model.backend, seed))
    current = active()
    if current is not None:
        current.seed_layer_streams(model, seed)


def chief_writes(write):
    """Decorate a method that writes files: under data parallelism rank 0 writes and every
    rank waits at a barrier, so that the file is complete when any rank goes on. Every rank
    must call it (as every rank runs the same callbacks)."""

    @functools.wraps(write)
    def on_rank_zero(*args, **kwargs):
        current = active()
        if current is None:
            return write(*args, **kwargs)
        result = write(*args, **kwargs) if current.is_chief else None
        current.barrier()
        return result

    return on_rank_zero
