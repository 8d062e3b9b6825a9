"""The NCCL path of xcnn.distribution on a GPU machine (issue 17; ci/gpu.sh runs it).

    python ci/nccl_check.py            # one rank: NCCL communicator, in-place sum and broadcast
    mpiexec -n 2 python -m mpi4py ci/nccl_check.py   # two GPUs: the same, summed over both

Then, with two GPUs or more, ci/gpu.sh runs tests/distributed_worker.py's float64 scenario on
CuPy over 2 ranks (training against one process, to 1e-12). Prints what it checked; exits
non-zero on a wrong value.
"""

import sys

import numpy as np


def main():
    from xcnn import distribution as D

    if not D.nccl_available():
        print("NCCL not available: cupy.cuda.nccl does not import (pip install nvidia-nccl-cu12 or -cu13)")
        return 1
    import cupy

    mpi = D.MPICommunicator()
    nccl = D.NCCLCommunicator(mpi)
    values = cupy.arange(10, dtype=cupy.float32) + nccl.rank
    summed = nccl.allreduce_sum_(values)
    expected = sum(np.arange(10, dtype=np.float32) + r for r in range(nccl.size))
    ok = summed is values and np.array_equal(cupy.asnumpy(summed), expected)
    broadcast = nccl.bcast_(cupy.full(4, float(nccl.rank), dtype=cupy.float64))
    ok &= np.array_equal(cupy.asnumpy(broadcast), np.zeros(4))
    chosen = D.DataParallel(mpi).collective_for("cupy")
    ok &= isinstance(chosen, D.NCCLCommunicator) or mpi.size == 1
    nccl.barrier()
    if mpi.rank == 0:
        print(
            f"NCCL on {mpi.size} rank(s): in-place float32 allreduce, float64 broadcast, "
            f"chosen for cupy buffers: {'ok' if ok else 'WRONG'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
