"""SyncBatchNormalization: batch statistics of the global batch under data parallelism."""

from __future__ import annotations

import math

from .. import ops
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
    """

    def call(self, x, training):
        """Normalize `x` `(N, ..., C)` with the statistics of the global batch (summed across
        ranks) while training, the moving ones otherwise."""
        dist = active_distribution()
        if not (training and self.trainable) or dist is None:
            return super().call(x, training)
        xp = self.xp
        self._batch_statistics = True
        self._count = math.prod(x.shape[:-1])
        _, var, centered = self._global_statistics(dist, ops.channel_sum(x), self._count, x)
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
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

    def grad(self, dy, need_dx):
        """The input gradient `(N, ..., C)` of the global-batch normalization (its channel sums
        allreduced across ranks); fills the `gamma`/`beta` gradients."""
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

    def join_without_samples(self, phase):
        """Take part in this layer's allreduces on a rank whose part of the batch is empty."""
        dist = active_distribution()
        xp = self.xp
        zeros = xp.zeros_like(self.state["moving_mean"])  # (C,), also without gamma (scale=False)
        if phase == "forward":
            self._global_statistics(dist, zeros, 0, None)
            del self._global_count
        else:
            dist.collective_for(self._backend).allreduce_sum_(xp.concat([zeros, zeros]))
