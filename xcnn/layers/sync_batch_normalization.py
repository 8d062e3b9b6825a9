"""SyncBatchNormalization: batch statistics of the global batch under data parallelism."""

from __future__ import annotations

import math

from .. import ops
from .._typing import Array
from ..distribution import active as active_distribution
from .normalization import BatchNormalization


class SyncBatchNormalization(BatchNormalization):
    """:class:`BatchNormalization` whose training statistics are those of the global batch.

    Under data parallelism (:mod:`xcnn.distribution`) each rank normalizes its part of the
    batch with the mean and variance of the whole global batch: the forward pass sums the
    ranks' channel sums and counts (one small allreduce) and then their centred squares
    (another), the backward pass the two channel sums the input gradient needs (a third), so K
    ranks train exactly as one process does (plain BatchNormalization uses each rank's own
    statistics). In one process it is BatchNormalization. Same arguments and shapes:
    ``(N, ..., C) -> (N, ..., C)``; frozen (``trainable = False``) it runs in inference mode
    with no collective, as BatchNormalization does.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import BatchNormalization, Input, SyncBatchNormalization
        >>> from xcnn.models import Sequential
        >>> x = np.array([[1.0], [3.0], [5.0]], "float32")
        >>> sync, plain = SyncBatchNormalization(), BatchNormalization()
        >>> _ = Sequential([Input((1,)), sync]), Sequential([Input((1,)), plain])
        >>> [round(float(v), 4) for v in sync.call(x, training=True).ravel()]  # one process: BatchNormalization
        [-1.2245, 0.0, 1.2245]
        >>> np.array_equal(sync.call(x, training=True), plain.call(x, training=True))
        True
    """

    def call(self, x: Array, training: bool) -> Array:
        """Normalize `x` `(N, ..., C)` with the statistics of the global batch (summed across
        ranks) while training, the moving ones otherwise; `(N, ..., C)` in `x`'s dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel, set_distribution
            >>> from xcnn.layers import Input, SyncBatchNormalization
            >>> from xcnn.models import Sequential
            >>> class WithRank0(Communicator):  # rank 1 of 2, given rank 0's allreduce buffers in order
            ...     rank, size = 1, 2
            ...     def __init__(self, *rank0_buffers):
            ...         self.rank0_buffers = list(rank0_buffers)
            ...     def allreduce_sum_(self, buffer):
            ...         return buffer + self.rank0_buffers.pop(0)
            >>> layer = SyncBatchNormalization()
            >>> _ = Sequential([Input((1,)), layer])
            >>> # rank 0 holds [[1], [3]]: its channel sum and count, then its squares about the mean 3
            >>> set_distribution(DataParallel(WithRank0(np.array([4.0, 2.0]), np.array([4.0]))))
            >>> y = layer.call(np.array([[5.0]], "float32"), training=True)  # this rank's one sample
            >>> set_distribution(None)
            >>> round(float(y[0, 0]), 4)  # (5 - 3) / sqrt(8 / 3 + epsilon): the statistics of [1, 3, 5]
            1.2245
        """
        dist = active_distribution()
        if not (training and self.trainable) or dist is None:
            return super().call(x, training)
        xp = self.xp
        self._batch_statistics = True
        self._native = None  # the global statistics are its own; torch's kernel takes no allreduce
        self._count = math.prod(x.shape[:-1])
        _, var, centered = self._global_statistics(dist, ops.channel_sum(x), self._count, x)
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self._centered = centered  # what BatchNormalization.grad reads, should the distribution be gone by then
        self._xhat = centered * self._inv_std
        y = self._xhat * self.params["gamma"] if self.scale else self._xhat
        return y + self.params["beta"] if self.center else y

    def _global_statistics(self, dist, local_sum, count, x):
        """Mean and variance over every rank's samples (two allreduces of C + 1 and C numbers);
        updates the moving averages; ``x`` None on a rank without samples."""
        xp = self.xp
        dtype = local_sum.dtype
        reduce = dist.collective_for(self._backend).allreduce_sum_
        sums = reduce(xp.concat([local_sum, xp.full((1,), count, dtype=dtype)]))
        mean = sums[:-1] / sums[-1]
        centered = None if x is None else x - mean
        squares = ops.channel_sum(centered * centered) if x is not None else xp.zeros_like(local_sum)
        var = reduce(squares) / sums[-1]
        self._global_count = sums[-1]
        m = self.momentum
        self.state["moving_mean"] = self.state["moving_mean"] * m + mean * (1.0 - m)
        self.state["moving_variance"] = self.state["moving_variance"] * m + var * (1.0 - m)
        return mean, var, centered

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The input gradient `(N, ..., C)` of the global-batch normalization (its channel sums
        allreduced across ranks, one allreduce); fills the `gamma`/`beta` gradients with this
        rank's sums (the gradient allreduce adds them up). `None` when `need_dx` is false.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel, set_distribution
            >>> from xcnn.layers import Input, SyncBatchNormalization
            >>> from xcnn.models import Sequential
            >>> class WithRank0(Communicator):  # rank 1 of 2, given rank 0's allreduce buffers in order
            ...     rank, size = 1, 2
            ...     def __init__(self, *rank0_buffers):
            ...         self.rank0_buffers = list(rank0_buffers)
            ...     def allreduce_sum_(self, buffer):
            ...         return buffer + self.rank0_buffers.pop(0)
            >>> layer = SyncBatchNormalization()
            >>> _ = Sequential([Input((1,)), layer])
            >>> # rank 0 holds [[1], [3]] and [[5]] here, as in `call`; in the backward pass its dy is 0
            >>> rank0 = WithRank0(np.array([4.0, 2.0]), np.array([4.0]), np.array([0.0, 0.0]))
            >>> set_distribution(DataParallel(rank0))
            >>> y = layer.call(np.array([[5.0]], "float32"), training=True)
            >>> dx = layer.grad(np.ones((1, 1), "float32"), need_dx=True)
            >>> set_distribution(None)
            >>> rank0.rank0_buffers  # three allreduces: two forward, one backward
            []
            >>> round(float(dx[0, 0]), 4)  # BatchNormalization's dx on [[1], [3], [5]], dy [0, 0, 1], at 5
            0.1022
        """
        dist = active_distribution()
        if dist is None or not hasattr(self, "_global_count"):
            return super().grad(dy, need_dx)
        xp = self.xp
        # dy is the gradient of this rank's mean loss; the global loss weighs it by the rank's share
        # w = count / global count. gamma and beta take this rank's sums (the gradient allreduce
        # weighs them by w); the input gradient needs the global sums of w dy and w dy xhat.
        dbeta = ops.channel_sum(dy)
        dgamma = ops.channel_sum(dy * self._xhat)
        if self.scale:
            self.grads["gamma"] = dgamma
        if self.center:
            self.grads["beta"] = dbeta
        share = self._count / self._global_count
        sums = dist.collective_for(self._backend).allreduce_sum_(xp.concat([dbeta * share, dgamma * share]))
        del self._global_count
        if not need_dx:
            return None
        c = dbeta.shape[0]
        scaled_inv_std = self._inv_std * self.params["gamma"] if self.scale else self._inv_std
        # dx = inv_std gamma (dy - (S_beta + xhat S_gamma) / w / global count), w * global count = count
        return scaled_inv_std * (dy - (sums[:c] + self._xhat * sums[c:]) / self._count)

    def join_without_samples(self, phase: str) -> None:
        """Take part in this layer's allreduces on a rank whose part of the batch is empty.

        Args:
            phase: `"forward"` (the two allreduces of the statistics; the moving averages are
                updated from the other ranks') or `"backward"` (the one of the input gradient).

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel, set_distribution
            >>> from xcnn.layers import Input, SyncBatchNormalization
            >>> from xcnn.models import Sequential
            >>> class WithRank0(Communicator):  # rank 1 of 2, given rank 0's allreduce buffers in order
            ...     rank, size = 1, 2
            ...     def __init__(self, *rank0_buffers):
            ...         self.rank0_buffers = list(rank0_buffers)
            ...     def allreduce_sum_(self, buffer):
            ...         return buffer + self.rank0_buffers.pop(0)
            >>> layer = SyncBatchNormalization()  # momentum 0.99
            >>> _ = Sequential([Input((1,)), layer])
            >>> rank0 = WithRank0(np.array([4.0, 2.0]), np.array([2.0]))  # rank 0 holds [[1], [3]]
            >>> set_distribution(DataParallel(rank0))
            >>> layer.join_without_samples("forward")
            >>> set_distribution(None)
            >>> layer.state["moving_mean"].round(4).tolist(), rank0.rank0_buffers  # 0.01 * the mean 2
            ([0.02], [])
        """
        dist = active_distribution()
        if dist is None:  # one process: no other rank runs an allreduce to take part in
            return
        xp = self.xp
        zeros = xp.zeros_like(self.state["moving_mean"])  # (C,), also without gamma (scale=False)
        if phase == "forward":
            self._global_statistics(dist, zeros, 0, None)
            del self._global_count
        else:
            dist.collective_for(self._backend).allreduce_sum_(xp.concat([zeros, zeros]))
