"""NCCL collectives for CuPy arrays: the gradient buffer never leaves the GPU.

Rank 0 makes NCCL's unique id and MPI broadcasts it (the usual bootstrap, as ChainerMN does);
small objects, metric sums and barriers still go over MPI. Imported only when a CuPy model
trains data-parallel, so a CPU-only install never touches CUDA.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Array
from .communicator import Communicator, MPICommunicator


def nccl_available() -> bool:
    """True when ``cupy.cuda.nccl`` imports and reports NCCL (``pip install nvidia-nccl-cu12``).

    Returns:
        Whether `NCCLCommunicator` can be created here (`False` without CuPy, CUDA or NCCL).

    Examples:
        >>> from xcnn.distribution import nccl_available
        >>> isinstance(nccl_available(), bool)
        True
    """
    try:
        from cupy.cuda import nccl
    except Exception:  # no cupy, no CUDA, or cupy built without NCCL
        return False
    return bool(getattr(nccl, "available", True))


def use_local_gpu(mpi: MPICommunicator) -> int:
    """Make this rank's current CUDA device the ``local rank``-th one of its node (one GPU per rank).

    Collective over the ranks of `mpi` (it splits them by node). Needs CuPy and a GPU.

    Args:
        mpi: The MPI communicator of the ranks.

    Returns:
        The CUDA device id now current on this rank.

    Examples:
        >>> import cupy  # needs CuPy and a GPU (and mpi4py)
        >>> from xcnn.distribution import MPICommunicator
        >>> from xcnn.distribution.nccl import use_local_gpu
        >>> use_local_gpu(MPICommunicator())  # one rank, the first of its node: its first GPU
        0
        >>> cupy.cuda.Device().id
        0
    """
    import cupy

    local = mpi.comm.Split_type(mpi._MPI.COMM_TYPE_SHARED, key=mpi.rank)
    local_rank = local.Get_rank()
    local.Free()
    device = local_rank % cupy.cuda.runtime.getDeviceCount()
    cupy.cuda.Device(device).use()
    return device


class NCCLCommunicator(Communicator):
    """Sums and broadcasts CuPy arrays in place with NCCL on the current stream; everything
    else through ``mpi`` (an :class:`MPICommunicator`, default the MPI world).

    Call :func:`use_local_gpu` (``DataParallel`` does) before creating it and before building
    the model, so that each rank's weights live on its own GPU.

    Args:
        mpi: The MPI communicator of the ranks (default: a new `MPICommunicator` of the world).

    Raises:
        ImportError: If CuPy with NCCL is not installed (see `nccl_available`).

    The examples need CuPy with NCCL, a GPU and mpi4py; where CuPy or mpi4py is missing
    tests/test_docs.py skips them, naming the package.

    Examples:
        >>> import cupy
        >>> from xcnn.distribution import NCCLCommunicator
        >>> nccl = NCCLCommunicator()  # a plain `python` run, no mpiexec: one rank
        >>> nccl.rank, nccl.size, nccl.mpi.size
        (0, 1, 1)
    """

    def __init__(self, mpi: MPICommunicator | None = None) -> None:
        if not nccl_available():
            raise ImportError(
                'NCCLCommunicator needs CuPy with NCCL: pip install "xcnn[cuda12,mpi]" '
                "(or cuda13), which brings nvidia-nccl"
            )
        import cupy
        from cupy.cuda import nccl

        self._cupy, self._nccl = cupy, nccl
        self.mpi = mpi if mpi is not None else MPICommunicator()
        self.rank, self.size = self.mpi.rank, self.mpi.size
        unique_id = nccl.get_unique_id() if self.rank == 0 else None
        unique_id = self.mpi.bcast_object(unique_id)
        self.comm = nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self._types = {np.dtype("float32"): nccl.NCCL_FLOAT32, np.dtype("float64"): nccl.NCCL_FLOAT64}

    def _check(self, buffer):
        if not isinstance(buffer, self._cupy.ndarray) or not buffer.flags.c_contiguous:
            raise TypeError(f"NCCLCommunicator sums contiguous CuPy arrays, got {type(buffer).__name__}")
        if buffer.dtype not in self._types:
            raise TypeError(f"NCCLCommunicator sums float32 or float64 arrays, got {buffer.dtype}")
        return self._types[buffer.dtype], self._cupy.cuda.get_current_stream().ptr

    def allreduce_sum_(self, buffer: Array) -> Array:
        """See `Communicator.allreduce_sum_`: one NCCL allreduce, in place on the GPU.

        Raises:
            TypeError: If `buffer` is not a contiguous float32 or float64 CuPy array.


        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> buffer = cupy.arange(3, dtype=cupy.float32)
            >>> nccl.allreduce_sum_(buffer) is buffer, buffer.tolist()
            (True, [0.0, 1.0, 2.0])
            >>> nccl.allreduce_sum_(cupy.arange(3))
            Traceback (most recent call last):
            ...
            TypeError: NCCLCommunicator sums float32 or float64 arrays, got int64
        """
        kind, stream = self._check(buffer)
        ptr = buffer.data.ptr
        self.comm.allReduce(ptr, ptr, buffer.size, kind, self._nccl.NCCL_SUM, stream)
        return buffer

    def bcast_(self, buffer: Array, root: int = 0) -> Array:
        """See `Communicator.bcast_`: one NCCL broadcast, in place on the GPU.

        Raises:
            TypeError: If `buffer` is not a contiguous float32 or float64 CuPy array.


        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> buffer = cupy.ones(2, dtype=cupy.float64)
            >>> nccl.bcast_(buffer) is buffer, buffer.tolist()
            (True, [1.0, 1.0])
        """
        kind, stream = self._check(buffer)
        self.comm.bcast(buffer.data.ptr, buffer.size, kind, root, stream)
        return buffer

    def allreduce_host(self, values: np.ndarray) -> np.ndarray:
        """See `Communicator.allreduce_host`: over MPI.

        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> nccl.allreduce_host([1, 2])
            array([1., 2.])
        """
        return self.mpi.allreduce_host(values)

    def bcast_object(self, obj: Any, root: int = 0) -> Any:
        """See `Communicator.bcast_object`: over MPI.

        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> nccl.bcast_object({"seed": 7})
            {'seed': 7}
        """
        return self.mpi.bcast_object(obj, root)

    def allgather_object(self, obj: Any) -> list[Any]:
        """See `Communicator.allgather_object`: over MPI.

        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> nccl.allgather_object(nccl.rank)
            [0]
        """
        return self.mpi.allgather_object(obj)

    def allgather_rows(self, rows: np.ndarray) -> np.ndarray:
        """See `Communicator.allgather_rows`: over MPI.

        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> nccl.allgather_rows(cupy.arange(6.0).reshape(3, 2).get()).shape
            (3, 2)
        """
        return self.mpi.allgather_rows(rows)

    def barrier(self) -> None:
        """See `Communicator.barrier`: waits for this GPU's stream, then an MPI barrier.

        Examples:
            >>> import cupy
            >>> from xcnn.distribution import NCCLCommunicator
            >>> nccl = NCCLCommunicator()  # without mpiexec: one rank
            >>> nccl.barrier()
        """
        self._cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()
