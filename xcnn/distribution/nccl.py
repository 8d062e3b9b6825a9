"""NCCL collectives for CuPy arrays: the gradient buffer never leaves the GPU.

Rank 0 makes NCCL's unique id and MPI broadcasts it (the usual bootstrap, as ChainerMN does);
small objects, metric sums and barriers still go over MPI. Imported only when a CuPy model
trains data-parallel, so a CPU-only install never touches CUDA.
"""

from __future__ import annotations

import numpy as np

from .communicator import Communicator, MPICommunicator


def nccl_available():
    """True when ``cupy.cuda.nccl`` imports and reports NCCL (``pip install nvidia-nccl-cu12``)."""
    try:
        from cupy.cuda import nccl
    except Exception:  # no cupy, no CUDA, or cupy built without NCCL
        return False
    return bool(getattr(nccl, "available", True))


def use_local_gpu(mpi):
    """Make this rank's current CUDA device the ``local rank``-th one of its node (one GPU per rank)."""
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
    """

    def __init__(self, mpi=None):
        if not nccl_available():
            raise ImportError('NCCLCommunicator needs CuPy with NCCL: pip install "xcnn[cuda12,mpi]" '
                              '(or cuda13), which brings nvidia-nccl')
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

    def allreduce_sum_(self, buffer):
        kind, stream = self._check(buffer)
        ptr = buffer.data.ptr
        self.comm.allReduce(ptr, ptr, buffer.size, kind, self._nccl.NCCL_SUM, stream)
        return buffer

    def bcast_(self, buffer, root=0):
        kind, stream = self._check(buffer)
        self.comm.bcast(buffer.data.ptr, buffer.size, kind, root, stream)
        return buffer

    def allreduce_host(self, values):
        return self.mpi.allreduce_host(values)

    def bcast_object(self, obj, root=0):
        return self.mpi.bcast_object(obj, root)

    def allgather_object(self, obj):
        return self.mpi.allgather_object(obj)

    def allgather_rows(self, rows):
        return self.mpi.allgather_rows(rows)

    def barrier(self):
        self._cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()
