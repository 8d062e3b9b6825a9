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
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .. import backend as B
from .communicator import Communicator, MPICommunicator
from .data_parallel import DataParallel, even_split
from .nccl import NCCLCommunicator, nccl_available

if TYPE_CHECKING:
    from ..models import Model

__all__ = [
    "Communicator",
    "DataParallel",
    "MPICommunicator",
    "NCCLCommunicator",
    "distribution",
    "even_split",
    "list_devices",
    "nccl_available",
    "rank",
    "set_distribution",
    "size",
]

_current: DataParallel | None = None  # the distribution set with set_distribution

_Result = TypeVar("_Result")


def set_distribution(value: DataParallel | None) -> None:
    """Make ``value`` (a :class:`DataParallel`, or None for one process) the distribution that
    ``fit``, ``evaluate``, ``predict`` and ``save`` follow.

    Args:
        value: The distribution, or `None` to go back to one process.

    Raises:
        TypeError: If `value` is neither a `DataParallel` nor `None`.

    Examples:
        >>> from xcnn import distribution
        >>> one_process = distribution.DataParallel(distribution.Communicator())  # no MPI: 1 rank
        >>> distribution.set_distribution(one_process)
        >>> distribution.distribution() is one_process
        True
        >>> distribution.set_distribution(None)
    """
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution takes a DataParallel or None, got {type(value).__name__}")
    _current = value


def distribution() -> DataParallel | None:
    """The distribution set with :func:`set_distribution`, or None.

    Returns:
        The `DataParallel` set, even one of size 1, or `None`.

    Examples:
        >>> from xcnn import distribution
        >>> distribution.distribution() is None
        True
    """
    return _current


def active() -> DataParallel | None:
    """The distribution training must follow, or None when it runs in one process (none set, or
    one of size 1: then every path is the single-process one, bit for bit).

    Returns:
        The `DataParallel` set when it has more than one rank, else `None`.

    Examples:
        >>> from xcnn import distribution
        >>> distribution.set_distribution(distribution.DataParallel(distribution.Communicator()))
        >>> distribution.active() is None  # one rank: the single-process path
        True
        >>> distribution.set_distribution(None)
    """
    return _current if _current is not None and _current.size > 1 else None


def rank() -> int:
    """This process's rank in the current distribution (0 without one).

    Returns:
        The rank, from 0 (the chief) to `size() - 1`.

    Examples:
        >>> from xcnn import distribution
        >>> distribution.rank()
        0
    """
    return 0 if _current is None else _current.rank


def size() -> int:
    """The number of processes of the current distribution (1 without one).

    Returns:
        The number of ranks.

    Examples:
        >>> from xcnn import distribution
        >>> distribution.size()
        1
    """
    return 1 if _current is None else _current.size


def list_devices(device_type: str | None = None) -> list[str]:
    """One device per rank of the current distribution, ``"cpu:0"``, ... or ``"gpu:0"``, ...
    (``device_type`` "cpu" or "gpu"; default "gpu" when the default backend is cupy).

    Args:
        device_type: `"cpu"`, `"gpu"` or `None` (from the default backend).

    Returns:
        `size()` device names, as Keras's `distribution.list_devices`.

    Raises:
        ValueError: If `device_type` is not `"cpu"`, `"gpu"` or `None`.

    Examples:
        >>> from xcnn import distribution
        >>> distribution.list_devices("cpu")
        ['cpu:0']
    """
    if device_type is None:
        device_type = "gpu" if B.get_backend() == "cupy" else "cpu"
    if device_type not in ("cpu", "gpu"):
        raise ValueError(f"device_type must be 'cpu', 'gpu' or None, got {device_type!r}")
    return [f"{device_type}:{i}" for i in range(size())]


def seed_streams(model: Model, seed: int) -> None:
    """Restart ``model``'s random streams from ``seed``: the shuffle stream (the same on every
    rank) and, under data parallelism, this rank's stream for dropout and augmentation.

    Args:
        model: A built xcnn model.
        seed: The seed, an int >= 0.

    Examples:
        >>> import numpy as np
        >>> from xcnn import distribution
        >>> from xcnn.layers import Dense, Dropout, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4,)), Dropout(0.5), Dense(1)])
        >>> model.compile(loss="mse")
        >>> x, y = np.ones((8, 4), "float32"), np.zeros((8, 1), "float32")
        >>> losses = []
        >>> for _ in range(2):
        ...     model.set_weights([np.ones((4, 1), "float32"), np.zeros(1, "float32")])
        ...     distribution.seed_streams(model, 7)
        ...     losses.append(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])
        >>> losses[0] == losses[1]  # the same dropout masks after the same seed
        True
    """
    model._use_step_rng(B.rng(model.backend, seed))
    current = active()
    if current is not None:
        current.seed_layer_streams(model, seed)


def chief_writes(write: Callable[..., _Result]) -> Callable[..., _Result | None]:
    """Decorate a method that writes files: under data parallelism rank 0 writes and every
    rank waits at a barrier, so that the file is complete when any rank goes on. Every rank
    must call it (as every rank runs the same callbacks).

    Args:
        write: The function that writes.

    Returns:
        The decorated function; on ranks other than 0 it returns `None`.

    Examples:
        >>> from xcnn.distribution import chief_writes
        >>> @chief_writes
        ... def write_note(path):
        ...     with open(path, "w") as f:
        ...         f.write("done")
        ...     return path
        >>> write_note("note.txt")  # one process: it is the chief
        'note.txt'
    """

    @functools.wraps(write)
    def on_rank_zero(*args, **kwargs):
        current = active()
        if current is None:
            return write(*args, **kwargs)
        result = write(*args, **kwargs) if current.is_chief else None
        current.barrier()
        return result

    return on_rank_zero
