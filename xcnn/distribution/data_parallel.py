"""Data parallelism: every rank holds the whole model and a slice of each global batch.

One optimizer step on K ranks is one step of single-process training on the global batch:

1. rank r takes its part of the global batch of ``B`` samples (an even split: ``n_r`` is
   ``B // K`` or one more; a rank with ``n_r = 0`` still takes part);
2. it computes the mean-loss gradient ``g_r`` of its ``n_r`` samples;
3. one in-place allreduce sums the flat buffer ``[n_r g_r, n_r loss_r, n_r]`` over the ranks,
   so every rank divides by the global count and holds ``g = sum_r n_r g_r / B``: exactly the
   gradient of the global batch's mean loss (a mean of the ranks' means would weight a
   short shard like a full one);
4. regularization and weight decay are then added on every rank to identical weights: once.

Weights and the shuffle stream are broadcast from rank 0 when ``fit`` starts; the random
layers (dropout, augmentation) draw from one stream per rank.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend as B
from .._typing import Array
from .communicator import Communicator, MPICommunicator
from .nccl import NCCLCommunicator, nccl_available, use_local_gpu


def even_split(n: int, parts: int, index: int) -> tuple[int, int]:
    """``(start, stop)`` of part ``index`` when ``n`` items are split into ``parts`` contiguous
    parts whose sizes differ by at most one (the first ``n % parts`` parts get the extra item).

    Args:
        n: The number of items, >= 0.
        parts: The number of parts, >= 1.
        index: The part, `0 <= index < parts`.

    Returns:
        The part's `(start, stop)`; `start == stop` for an empty part.

    Examples:
        >>> from xcnn.distribution import even_split
        >>> [even_split(5, 3, i) for i in range(3)]
        [(0, 2), (2, 4), (4, 5)]
    """
    base, extra = divmod(n, parts)
    start = index * base + min(index, extra)
    return start, start + base + (1 if index < extra else 0)


class DataParallel:
    """Data-parallel training over the ranks of ``communicator`` (default: the MPI world).

    Keras's name: ``xcnn.distribution.set_distribution(DataParallel())`` before ``fit``, then
    launch K copies of the script, ``mpiexec -n K python -m mpi4py train.py``. ``fit``'s
    ``batch_size`` is the global batch; results equal single-process training on it.

    communicator: a :class:`~xcnn.distribution.Communicator` or an ``mpi4py`` communicator.
    CuPy models sum their gradients with NCCL on the GPU when CuPy has it.

    Raises:
        TypeError: If `communicator` is neither a `Communicator` nor an mpi4py communicator.
        ImportError: If `communicator` is `None` and mpi4py is not installed.

    Examples:
        >>> from xcnn.distribution import Communicator, DataParallel
        >>> DataParallel(Communicator())  # one process, no MPI
        DataParallel(rank=0, size=1, communicator=Communicator)
    """

    def __init__(self, communicator: Any = None) -> None:
        if communicator is None:
            communicator = MPICommunicator()
        elif not isinstance(communicator, Communicator):
            if not hasattr(communicator, "Allreduce"):
                raise TypeError(
                    "communicator must be an xcnn.distribution.Communicator or an mpi4py "
                    f"communicator, got {type(communicator).__name__}"
                )
            communicator = MPICommunicator(communicator)
        self.communicator = communicator
        self._device_collectives: dict[
            str, Communicator
        ] = {}  # backend name -> communicator for that backend's buffers
        if B.get_backend() == "cupy" and isinstance(communicator, MPICommunicator) and communicator.size > 1:
            use_local_gpu(communicator)  # before any model is built: one GPU per rank of a node

    @property
    def rank(self) -> int:
        """This process's rank, from 0 to `size - 1`.

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> DataParallel(Communicator()).rank
            0
        """
        return self.communicator.rank

    @property
    def size(self) -> int:
        """The number of ranks.

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> DataParallel(Communicator()).size
            1
        """
        return self.communicator.size

    @property
    def is_chief(self) -> bool:
        """Whether this rank writes files and prints (rank 0).

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> DataParallel(Communicator()).is_chief
            True
        """
        return self.rank == 0

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, size={self.size}, communicator={type(self.communicator).__name__})"

    # --- collectives per backend ---------------------------------------------------------------
    def collective_for(self, backend: str) -> Communicator:
        """The communicator that sums ``backend``'s device buffers: NCCL for ``cupy`` when CuPy has
        it (created on first use, collectively), else this distribution's communicator.

        Args:
            backend: A backend name (`"numpy"`, `"torch"`, `"cupy"`, ...).

        Returns:
            The communicator for that backend's buffers.

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> one = Communicator()
            >>> DataParallel(one).collective_for("numpy") is one
            True
        """
        found = self._device_collectives.get(backend)
        if found is None:
            found = self.communicator
            if backend == "cupy" and isinstance(self.communicator, MPICommunicator) and nccl_available():
                found = NCCLCommunicator(self.communicator)
            self._device_collectives[backend] = found
        return found

    # --- data -------------------------------------------------------------------------------
    def split(self, start: int, stop: int) -> tuple[int, int]:
        """This rank's ``(start, stop)`` part of the global batch ``[start, stop)``.

        Args:
            start: The global batch's first row.
            stop: One past its last row.

        Returns:
            This rank's rows, an `even_split` of the batch (possibly empty).

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> DataParallel(Communicator()).split(100, 132)  # one rank takes the whole batch
            (100, 132)
        """
        lo, hi = even_split(stop - start, self.size, self.rank)
        return start + lo, start + hi

    # --- fit ------------------------------------------------------------------------------------
    def begin_fit(self, model: Any, seed: int | None) -> None:
        """Make every rank start ``fit`` from rank 0's model: same architecture (checked), weights,
        optimizer state and shuffle stream; the random layers get this rank's own stream.

        Collective: every rank calls it (from `fit`), with the same `seed`.

        Args:
            model: This rank's model, built.
            seed: `fit`'s seed, or `None` (then rank 0's model seed).

        Raises:
            ValueError: If the model is not built, or the ranks hold different models or optimizers.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)], seed=0)
            >>> model.compile("sgd", "mse")
            >>> before = model.get_weights()
            >>> DataParallel(Communicator()).begin_fit(model, seed=1)  # one rank: it is rank 0
            >>> all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
            True
            >>> DataParallel(Communicator()).begin_fit(Sequential([Dense(2)]), seed=1)
            Traceback (most recent call last):
            ...
            ValueError: model ... is not built: under data parallelism fit broadcasts rank 0's weights ...
        """
        if not model.built:
            raise ValueError(
                f"model {model.name} is not built: under data parallelism fit broadcasts rank 0's "
                "weights before the first batch, so give the model its input shape (an Input, "
                "input_shape=, or build()) before fitting it on batches from a generator"
            )
        self.collective_for(model.backend)
        self._check_same_model(model)
        self._broadcast_weights(model)
        comm = self.communicator
        seeded_alike = seed is not None or len(set(comm.allgather_object(model.seed))) == 1
        _sync_generator(model._step_rng, comm, seeded_alike)  # shuffles: identical on every rank
        _sync_generator(model._host_rng, comm, seeded_alike)
        if seed is not None:
            self.seed_layer_streams(model, seed)
        elif getattr(model, "_rank_rng", None) is None or model._rank_rng.backend != model.backend:
            self.seed_layer_streams(model, comm.bcast_object(model.seed))
        else:
            for layer in model._layers:  # continue this rank's stream from the last fit
                if getattr(layer, "seed", None) is None:
                    layer.rng = model._rank_rng

    def seed_layer_streams(self, model: Any, seed: int) -> None:
        """Seed this rank's stream for dropout and augmentation from ``seed`` and the rank (a
        layer given its own ``seed=`` gets its own stream, also drawn from the rank).

        Args:
            model: This rank's model, built.
            seed: The seed, an int >= 0.

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> from xcnn.layers import Dropout, Input
            >>> from xcnn.models import Sequential
            >>> dropout = Dropout(0.5)
            >>> model = Sequential([Input((4,)), dropout])
            >>> DataParallel(Communicator()).seed_layer_streams(model, 7)
            >>> dropout.rng is model._rank_rng
            True
        """
        model._rank_rng = B.rng(model.backend, self._rank_seed(seed), model.device)
        for layer in model._layers:
            layer.rng = model._rank_rng
            own = getattr(layer, "seed", None)
            if own is not None:
                layer.rng = B.rng(model.backend, self._rank_seed(own), model.device)

    def _rank_seed(self, seed):
        return int(np.random.SeedSequence([int(seed) % 2**64, self.rank + 1]).generate_state(1)[0])

    def _weight_slots(self, model):
        """``(dict, key)`` of every array a rank's model holds: weights, moving statistics and
        optimizer slots, in one order that only depends on the architecture."""
        slots = [(d, k) for _, _, d in model._weight_dicts() for k in d]
        if model.optimizer is not None:
            # in layer order, not by key: the layers' automatic names depend on what else each
            # process built before, the order of the layers does not
            state = model.optimizer.state
            keys = [f"{layer.name}/{k}" for layer in model._layers for k in layer.params]
            keys = [key for key in keys if key in state] + sorted(set(state) - set(keys))
            slots += [(state[key], s) for key in keys for s in sorted(state[key])]
        return slots

    def _check_same_model(self, model):
        signature = [
            model.backend,
            model.dtype,
            [(k, tuple(d[k].shape)) for d, k in self._weight_slots(model)],
            None if model.optimizer is None else model.optimizer.get_config(),
        ]
        everyone = self.communicator.allgather_object(signature)
        for rank, other in enumerate(everyone):
            if other != everyone[0]:
                raise ValueError(
                    f"rank {rank} holds a different model or optimizer than rank 0 (architecture, "
                    "dtype, backend or optimizer differ); build the same model on every rank"
                )

    def _broadcast_weights(self, model):
        slots = self._weight_slots(model)
        if model.optimizer is not None:
            model.optimizer.iterations = self.communicator.bcast_object(model.optimizer.iterations)
        if not slots:
            return
        xp = B.namespace(model.backend)
        flat = xp.concat([xp.reshape(d[k], (-1,)) for d, k in slots])
        flat = self.collective_for(model.backend).bcast_(flat)
        if not self.is_chief:
            _unpack(xp, flat, slots)

    def _gradient_slots(self, model):
        # the weights the optimizer updates: a frozen layer's (trainable = False) take no gradient
        return [(layer, k) for layer in model._layers if layer.trainable for k in layer.params]

    def allreduce_gradients(self, model: Any, loss: Array, count: int) -> Array:
        """Replace each rank's mean-loss gradients over its ``count`` samples by the global
        batch's (one allreduce of one flat buffer); returns the global batch's mean loss.

        Collective: every rank calls it once per step.

        Args:
            model: This rank's model, holding its gradients (`layer.grads`).
            loss: This rank's mean loss, a 0-d array on the model's backend.
            count: This rank's number of samples (0 for an empty part).

        Returns:
            The global batch's mean loss, a 0-d array in the model's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> class WithRank0(Communicator):  # rank 1 of 2, given rank 0's buffer (to show the sum)
            ...     rank, size = 1, 2
            ...     def __init__(self, rank0_buffer):
            ...         self.rank0_buffer = rank0_buffer
            ...     def allreduce_sum_(self, buffer):
            ...         return buffer + self.rank0_buffer
            >>> model = Sequential([Input((2,)), Dense(1)], seed=0)
            >>> dense = model.layers[0]
            >>> dense.grads = {"kernel": np.full((2, 1), 4.0, "float32"), "bias": np.full(1, 4.0, "float32")}
            >>> # rank 0: 3 samples, gradient 0, loss 1; packed [3 * gradient, 3 * loss, 3]
            >>> rank0 = np.array([0.0, 0.0, 0.0, 3.0, 3.0], "float32")
            >>> loss = DataParallel(WithRank0(rank0)).allreduce_gradients(model, np.asarray(2.0, "float32"), 1)
            >>> float(loss), dense.grads["kernel"].ravel().tolist()  # (3 * 1 + 2) / 4, (3 * 0 + 4) / 4
            (1.25, [1.0, 1.0])
        """
        xp = B.namespace(model.backend)
        dtype = getattr(xp, model.dtype)
        refs = self._gradient_slots(model)
        parts = [
            xp.reshape(layer.grads[k] if k in layer.grads else xp.zeros_like(layer.params[k]), (-1,))
            for layer, k in refs
        ]
        local_loss = xp.reshape(xp.astype(loss, dtype), (1,))
        parts += [local_loss, xp.ones_like(local_loss)]
        # weighted by the local sample count after packing: one multiply, not one per tensor;
        # the last entry (1 * count) becomes the global count
        flat = self.collective_for(model.backend).allreduce_sum_(xp.concat(parts) * count)
        total = flat[-1]
        mean = flat[:-2] / total
        start = 0
        for layer, k in refs:
            shape = tuple(layer.params[k].shape)
            stop = start + math.prod(shape)
            layer.grads[k] = xp.reshape(mean[start:stop], shape)
            start = stop
        return flat[-2] / total

    def step_without_samples(self, model: Any, y: Array) -> tuple[Array, Array, Array]:
        """A training step for a rank whose part of the global batch is empty (``y`` its empty
        targets): it adds zero gradients to the allreduce and applies the same update as the
        others. Returns ``(loss, predictions, y)`` as ``_train_step`` does (no rows).

        Collective: it takes part in the step's allreduces as the other ranks do.

        Args:
            model: This rank's model.
            y: The empty targets, `(0, ...)`.

        Returns:
            `(loss, predictions, y)`: the global batch's mean loss, `(0, ...)` predictions, `y`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> class WithRank0(Communicator):  # rank 1 of 2, given rank 0's buffer (to show the sum)
            ...     rank, size = 1, 2
            ...     def __init__(self, rank0_buffer):
            ...         self.rank0_buffer = rank0_buffer
            ...     def allreduce_sum_(self, buffer):
            ...         return buffer + self.rank0_buffer
            >>> model = Sequential([Input((2,)), Dense(1, kernel_initializer="zeros")], seed=0)
            >>> model.compile("sgd", "mse")  # learning rate 0.01
            >>> rank0 = np.array([2.0, 2.0, 2.0, 1.0, 2.0], "float32")  # 2 samples, gradient 1, loss 0.5
            >>> dist = DataParallel(WithRank0(rank0))
            >>> loss, predictions, _ = dist.step_without_samples(model, np.zeros((0, 1)))
            >>> float(loss), predictions.shape, model.optimizer.iterations
            (0.5, (0, 1), 1)
            >>> [[round(float(v), 4) for v in w.ravel()] for w in model.get_weights()]  # rank 0's update
            [[-0.01, -0.01], [-0.01]]
        """
        # SyncBatchNormalization's allreduces, as the other ranks run them: the forward pass's
        # when the layer uses batch statistics (trainable), the backward pass's, in reverse, when
        # a gradient reaches it
        synced = [layer for layer in model._layers if hasattr(layer, "join_without_samples") and layer.trainable]
        for layer in synced:
            layer.join_without_samples("forward")
        reached = model._tensors_needing_gradients()
        for layer in reversed(synced):
            if id(layer.output) in reached:
                layer.join_without_samples("backward")
        for layer in model._layers:
            layer.grads = {}
        zero_loss, rows = model._empty_outputs()
        loss = self.allreduce_gradients(model, zero_loss, 0)
        return model._apply_gradients(loss), rows, y

    def sum_metrics(self, sums: Any) -> np.ndarray:
        """Every rank's metric sums and counts (a 1-D host array) added up in float64.

        Collective: every rank calls it.

        Args:
            sums: This rank's sums, a 1-D NumPy array or sequence of numbers.

        Returns:
            The float64 NumPy array of the sums over the ranks.

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> DataParallel(Communicator()).sum_metrics([3, 4])  # one rank: its own sums, in float64
            array([3., 4.])
        """
        return self.communicator.allreduce_host(np.asarray(sums, dtype=np.float64))

    def average_state(self, model: Any) -> None:
        """Average the non-trainable state (BatchNormalization's moving statistics) over the
        ranks, so that evaluation and saving see one model.

        Collective: every rank calls it (at the end of an epoch).

        Args:
            model: This rank's model.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> class WithRank0(Communicator):  # rank 1 of 2, given rank 0's buffer (to show the sum)
            ...     rank, size = 1, 2
            ...     def __init__(self, rank0_buffer):
            ...         self.rank0_buffer = rank0_buffer
            ...     def allreduce_sum_(self, buffer):
            ...         return buffer + self.rank0_buffer
            >>> model = Sequential([Input((2,)), BatchNormalization()])  # moving mean 0, variance 1
            >>> rank0 = np.array([2.0, 2.0, 3.0, 3.0], "float32")  # its moving mean 2, variance 3
            >>> DataParallel(WithRank0(rank0)).average_state(model)
            >>> [w.tolist() for w in model.get_weights()[2:]]  # moving mean, moving variance
            [[1.0, 1.0], [2.0, 2.0]]
        """
        slots = [(d, k) for layer, kind, d in model._weight_dicts() if kind == "state" for k in d]
        if not slots:
            return
        xp = B.namespace(model.backend)
        flat = xp.concat([xp.reshape(d[k], (-1,)) for d, k in slots])
        flat = self.collective_for(model.backend).allreduce_sum_(flat)
        _unpack(xp, flat / self.size, slots)

    def gather_predictions(self, model: Any, outputs: list[Array], to_numpy: bool) -> Array:
        """The whole prediction in sample order, on every rank, from this rank's part of each
        batch (``outputs``, one array per batch, each ``(n_r, ...)``): one gather of the rows
        and one of the part sizes, then batch by batch the ranks' parts in rank order.

        Collective: every rank calls it.

        Args:
            model: This rank's model.
            outputs: This rank's outputs, one `(n_r, ...)` array per batch (at least one).
            to_numpy: Whether to return a NumPy array (else one on the model's backend and device).

        Returns:
            The predictions of every sample, `(N, ...)`, in sample order.

        Examples:
            >>> import numpy as np
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((2,)), Dense(1)])
            >>> batches = [np.array([[0.0], [1.0]]), np.array([[2.0]])]  # one rank: every row is its own
            >>> DataParallel(Communicator()).gather_predictions(model, batches, to_numpy=True).ravel().tolist()
            [0.0, 1.0, 2.0]
        """
        xp = B.namespace(model.backend)
        local = B.to_numpy(outputs[0] if len(outputs) == 1 else xp.concat(outputs, axis=0))
        sizes = self.communicator.allgather_object([int(o.shape[0]) for o in outputs])  # [rank][batch]
        rows = self.communicator.allgather_rows(local)
        counts = np.asarray(sizes, dtype=np.int64)  # (ranks, batches)
        # where each rank's part of each batch starts in rows (rank-major)
        firsts = np.reshape(np.cumsum(counts) - counts.reshape(-1), counts.shape)
        order = [
            np.arange(firsts[r, b], firsts[r, b] + counts[r, b])
            for b in range(counts.shape[1])
            for r in range(counts.shape[0])
        ]
        full = rows[np.concatenate(order) if order else np.zeros(0, dtype=np.int64)]
        return full if to_numpy else B.asarray(full, model.backend, device=model.device)

    def barrier(self) -> None:
        """Return once every rank has called it (collective).

        Examples:
            >>> from xcnn.distribution import Communicator, DataParallel
            >>> DataParallel(Communicator()).barrier()  # one rank: returns at once
        """
        self.communicator.barrier()


def _unpack(xp, flat, slots):
    start = 0
    for d, k in slots:
        shape = tuple(d[k].shape)
        stop = start + math.prod(shape)
        d[k] = xp.reshape(flat[start:stop], shape)
        start = stop


def _sync_generator(gen, comm, seeded_alike):
    """Give every rank rank 0's random stream ``gen`` (an xcnn Generator or a NumPy Generator).

    NumPy's state is copied exactly. CuPy's RandomState keeps its state on the GPU with no
    getter: when every rank seeded it alike it is left alone (so one rank draws what one
    process would), else every rank is reseeded from one draw of rank 0's."""
    inner = getattr(gen, "_gen", gen)
    if isinstance(inner, np.random.Generator):
        state = comm.bcast_object(inner.bit_generator.state if comm.rank == 0 else None)
        if comm.rank != 0:
            inner.bit_generator.state = state
        return
    if not seeded_alike:
        seed = comm.bcast_object(int(inner.randint(0, 2**31 - 1)) if comm.rank == 0 else None)
        inner.seed(seed)
