"""Communicators: the few collectives data-parallel training needs, over MPI (any backend).

A communicator sums one flat buffer in place (the step's gradients), sums a few float64
host numbers (the epoch's metric sums), broadcasts weights and small Python objects from
rank 0, gathers rows (predictions) in rank order, and waits at a barrier. :class:`MPICommunicator`
runs over ``mpi4py`` (MPICH, Open MPI, Slurm's ``srun``); :mod:`.nccl` adds NCCL for CuPy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend as B
from .._typing import Array


class Communicator:
    """The collectives of one group of ``size`` processes; this one is ``rank`` (0 is the chief).

    Every method is collective: each rank of the group must call it, in the same order. This
    base class is the group of one process, where each collective returns this rank's own
    values; a group of several (`MPICommunicator`, `NCCLCommunicator`) overrides every one.

    Examples:
        >>> from xcnn.distribution import Communicator, DataParallel
        >>> one = Communicator()
        >>> one.rank, one.size, DataParallel(one).is_chief
        (0, 1, True)
    """

    rank = 0
    size = 1

    def _alone(self, collective):
        """Refuse a collective that a group of several ranks inherited from the group of one."""
        if self.size != 1:
            raise NotImplementedError(
                f"{type(self).__name__} has {self.size} ranks but does not implement {collective}: "
                "the base class's collectives are those of a group of one process"
            )

    def allreduce_sum_(self, buffer: Array) -> Array:
        """Sum the 1-D array ``buffer`` over the ranks, element by element; returns the sum,
        written into ``buffer`` where the library can write into it.

        Args:
            buffer: A 1-D array of any backend, the same length and dtype on every rank.

        Returns:
            The element-wise sum, `buffer` itself when it was summed in place (always, for one
            process).

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator
            >>> buffer = np.array([1.0, 2.0])
            >>> summed = Communicator().allreduce_sum_(buffer)  # one rank: the sum is its own
            >>> summed is buffer, summed.tolist()
            (True, [1.0, 2.0])
        """
        self._alone("allreduce_sum_")
        return buffer

    def allreduce_host(self, values: np.ndarray) -> np.ndarray:
        """Element-wise sum over the ranks of a 1-D float64 NumPy array (metric sums).

        Args:
            values: A 1-D NumPy array (or sequence of numbers), the same length on every rank.

        Returns:
            A new float64 NumPy array, the sum.

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> from xcnn.distribution import Communicator
            >>> Communicator().allreduce_host([3, 4])
            array([3., 4.])
        """
        self._alone("allreduce_host")
        return np.array(values, dtype=np.float64, copy=True)

    def bcast_(self, buffer: Array, root: int = 0) -> Array:
        """Overwrite the 1-D array ``buffer`` with rank ``root``'s; returns it (see allreduce_sum_).

        Args:
            buffer: A 1-D array of any backend, the same length and dtype on every rank.
            root: The rank whose values everyone gets.

        Returns:
            Rank `root`'s values, `buffer` itself when it was written in place.

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator
            >>> buffer = np.array([5.0, 6.0])
            >>> Communicator().bcast_(buffer) is buffer  # one rank: it is the root
            True
        """
        self._alone("bcast_")
        return buffer

    def bcast_object(self, obj: Any, root: int = 0) -> Any:
        """Rank ``root``'s ``obj`` (a small picklable value) on every rank.

        Args:
            obj: A picklable value (ignored on ranks other than `root`).
            root: The rank whose value everyone gets.

        Returns:
            Rank `root`'s `obj`.

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> from xcnn.distribution import Communicator
            >>> Communicator().bcast_object({"epoch": 3})
            {'epoch': 3}
        """
        self._alone("bcast_object")
        return obj

    def allgather_object(self, obj: Any) -> list[Any]:
        """A list of every rank's ``obj``, in rank order.

        Args:
            obj: A small picklable value.

        Returns:
            `size` values, rank 0's first.

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> from xcnn.distribution import Communicator
            >>> Communicator().allgather_object("rank 0's")
            ["rank 0's"]
        """
        self._alone("allgather_object")
        return [obj]

    def allgather_rows(self, rows: np.ndarray) -> np.ndarray:
        """Every rank's ``(n_r, ...)`` NumPy array concatenated along axis 0 in rank order;
        the trailing shape and dtype must agree, ``n_r`` may differ (and be 0).

        Args:
            rows: This rank's rows, `(n_r, ...)`.

        Returns:
            A new NumPy array `(sum of n_r, ...)`, in `rows`'s dtype.

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator
            >>> Communicator().allgather_rows(np.arange(6).reshape(3, 2)).tolist()
            [[0, 1], [2, 3], [4, 5]]
        """
        self._alone("allgather_rows")
        return np.array(rows, copy=True, order="C")

    def barrier(self) -> None:
        """Return once every rank has called it.

        Raises:
            NotImplementedError: In a subclass of several ranks that does not override it.

        Examples:
            >>> from xcnn.distribution import Communicator
            >>> Communicator().barrier()  # one rank: returns at once
        """
        self._alone("barrier")


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError('data-parallel training over MPI needs mpi4py: pip install "xcnn[mpi]"') from None
    return MPI


class MPICommunicator(Communicator):
    """Collectives over an mpi4py communicator (default ``MPI.COMM_WORLD``).

    Buffers of any backend work: NumPy arrays and CPU torch tensors are reduced in their own
    memory (one ``Allreduce(IN_PLACE)``); others (array_api_strict, CuPy without NCCL) make
    one host copy each way.

    Args:
        comm: An mpi4py communicator (default: ``MPI.COMM_WORLD``).

    Raises:
        ImportError: If mpi4py is not installed.

    Examples:
        >>> from xcnn.distribution import MPICommunicator
        >>> world = MPICommunicator()  # a plain `python` run, no mpiexec: MPI's world of one
        >>> world.rank, world.size
        (0, 1)
    """

    def __init__(self, comm: Any = None) -> None:
        MPI = _import_mpi()
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()

    def _in_host_memory(self, buffer):
        """``(host view or copy, shared)``: a writable contiguous NumPy array of ``buffer``'s values,
        and whether it is ``buffer``'s own memory."""
        backend = B.backend_of(buffer)
        host = B.to_numpy(buffer)
        shared = backend in ("numpy", "torch") and host.flags.writeable and host.flags.c_contiguous
        return (host, True) if shared else (np.array(host, copy=True, order="C"), False)

    def allreduce_sum_(self, buffer: Array) -> Array:
        """See `Communicator.allreduce_sum_`: one `Allreduce(IN_PLACE)` over MPI.

        Examples:
            >>> import numpy as np
            >>> import array_api_strict as xps
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> buffer = np.array([1.0, 2.0])
            >>> world.allreduce_sum_(buffer) is buffer  # NumPy: summed in its own memory
            True
            >>> world.allreduce_sum_(xps.asarray([1.0, 2.0]))  # other backends: through one host copy
            Array([1., 2.], dtype=array_api_strict.float64)
        """
        host, shared = self._in_host_memory(buffer)
        self.comm.Allreduce(self._MPI.IN_PLACE, host, op=self._MPI.SUM)
        return buffer if shared else B.asarray(host, B.backend_of(buffer))

    def allreduce_host(self, values: np.ndarray) -> np.ndarray:
        """See `Communicator.allreduce_host`: one `Allreduce(IN_PLACE)` of a float64 copy.

        Examples:
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> world.allreduce_host([1, 2])
            array([1., 2.])
        """
        values = np.array(values, dtype=np.float64, copy=True)
        self.comm.Allreduce(self._MPI.IN_PLACE, values, op=self._MPI.SUM)
        return values

    def bcast_(self, buffer: Array, root: int = 0) -> Array:
        """See `Communicator.bcast_`: one MPI `Bcast`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> world.bcast_(np.array([5.0, 6.0])).tolist()
            [5.0, 6.0]
        """
        host, shared = self._in_host_memory(buffer)
        self.comm.Bcast(host, root=root)
        return buffer if shared else B.asarray(host, B.backend_of(buffer))

    def bcast_object(self, obj: Any, root: int = 0) -> Any:
        """See `Communicator.bcast_object`: mpi4py's pickling `bcast`.

        Examples:
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> world.bcast_object({"seed": 7})
            {'seed': 7}
        """
        return self.comm.bcast(obj, root=root)

    def allgather_object(self, obj: Any) -> list[Any]:
        """See `Communicator.allgather_object`: mpi4py's pickling `allgather`.

        Examples:
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> world.allgather_object(world.rank)
            [0]
        """
        return self.comm.allgather(obj)

    def allgather_rows(self, rows: np.ndarray) -> np.ndarray:
        """See `Communicator.allgather_rows`: the row counts, then one `Allgatherv`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> world.allgather_rows(np.arange(6.0).reshape(3, 2)).shape
            (3, 2)
        """
        rows = np.ascontiguousarray(rows)
        counts = self.comm.allgather(rows.shape[0])
        per_row = int(np.prod(rows.shape[1:], dtype=np.int64))
        out = np.empty((sum(counts), *rows.shape[1:]), dtype=rows.dtype)
        self.comm.Allgatherv(rows, [out, [c * per_row for c in counts]])
        return out

    def barrier(self) -> None:
        """See `Communicator.barrier`: an MPI `Barrier`.

        Examples:
            >>> from xcnn.distribution import MPICommunicator
            >>> world = MPICommunicator()  # without mpiexec: one rank
            >>> world.barrier()
        """
        self.comm.Barrier()
