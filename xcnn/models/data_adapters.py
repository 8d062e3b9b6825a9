"""The data path of ``fit``/``evaluate``/``predict``: one adapter per kind of input, each
yielding device batches ``(x, y, sample_weight)``, as Keras's ``trainers/data_adapters``.

- :class:`ArrayDataAdapter`: NumPy or backend arrays ``x``, ``y`` (and ``sample_weight``).
  Data sets that fit (``DEVICE_DATA_LIMIT``) are copied to the device once and sliced (and
  shuffled) there; larger ones are copied batch by batch from the host.
- :class:`GeneratorDataAdapter`: a Python generator or any iterable of ``(x, y)`` or
  ``(x, y, sample_weight)`` batches (``x`` alone for ``predict``), each copied as it comes.
- :class:`PyDatasetAdapter`: a ``keras.utils.PyDataset``-like sequence (``__len__`` and
  ``__getitem__`` returning batches); ``shuffle`` permutes the batch order, and its
  ``on_epoch_end()`` is called after each epoch, as Keras does.

:class:`EpochIterator` turns an adapter into epochs of ``steps_per_epoch`` batches, with
Keras's rule: with ``steps_per_epoch`` set, an epoch continues where the last one stopped,
and a data set that runs out ends the epoch early (and is started afresh for the next).
Host<->device copies happen only here; ``class_weight`` becomes per-sample weights on the
device.

Under data parallelism (``split``: the active :class:`~xcnn.distribution.DataParallel`) every
adapter yields this rank's part of each global batch (an even split, possibly empty), so every
rank takes the same number of steps and the ranks' parts together are the one-process batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend as B
from .._checks import positive_int
from .._typing import Array

if TYPE_CHECKING:
    from ..distribution import DataParallel

Batch = tuple[Array, Array | None, Array | None]
"""A device batch `(x, y, sample_weight)`; `y` is `None` for `predict`, `sample_weight` when not given."""


def is_array(x: Any) -> bool:
    """Whether `x` is an array of any backend (it has a `shape` and a `dtype`).

    Args:
        x: Anything.

    Returns:
        `True` for a NumPy, array_api_strict, PyTorch or CuPy array (or any object with `shape`
        and `dtype`), else `False`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.models.data_adapters import is_array
        >>> is_array(np.zeros((2, 3))), is_array([[0.0, 0.0]])
        (True, False)
    """
    return hasattr(x, "shape") and hasattr(x, "dtype")


def is_sequence(x: Any) -> bool:
    """Whether `x` is a PyDataset-like sequence of batches (`__len__` and `__getitem__`; not an
    array, a `str` or a `dict`).

    Args:
        x: Anything.

    Returns:
        `True` when `fit`/`evaluate`/`predict` would read `x` batch by batch as `x[i]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.models.data_adapters import is_sequence
        >>> batches = [(np.zeros((2, 3)), np.zeros((2, 1)))]
        >>> is_sequence(batches), is_sequence(np.zeros((2, 3))), is_sequence("abc")
        (True, False, False)
    """
    return not is_array(x) and hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (str, dict))


def _unpack(batch, with_y):
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)``."""
    if isinstance(batch, (tuple, list)):
        if not 1 <= len(batch) <= 3:
            raise ValueError(
                f"a batch must be x, (x, y) or (x, y, sample_weight), got a sequence of {len(batch)} items"
            )
        parts = tuple(batch) + (None,) * (3 - len(batch))
    else:
        parts = (batch, None, None)
    if with_y and parts[1] is None:
        raise ValueError("each batch must be (x, y) or (x, y, sample_weight) for fit and evaluate; got x alone")
    return parts


class DataAdapter:
    """One pass over the data as device batches; ``num_batches`` (None when unknown).

    The base of the adapters that `get_data_adapter` returns; a subclass implements `batches`.

    Examples:
    >>> import numpy as np
    >>> from xcnn.layers import Dense, Input
    >>> from xcnn.models import Sequential
    >>> model = Sequential([Input((3,)), Dense(1)])
    >>> model.compile(loss="mse")
        >>> from xcnn.models.data_adapters import DataAdapter, get_data_adapter
        >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=2)
        >>> isinstance(adapter, DataAdapter), adapter.num_batches
        (True, 3)
    """

    num_batches: int | None = None

    def batches(self) -> Iterator[Batch]:
        """An iterator over this pass's device batches ``(x, y, sample_weight)``.

        Returns:
            An iterator of `(x, y, sample_weight)`: `x` `(B, ...)` in the model's dtype, `y`
            (`None` for `predict`) and `sample_weight` `(B,)` (`None` when not given) on the
            model's backend and device.

        Raises:
            NotImplementedError: In the base class (each subclass implements it).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import get_data_adapter
            >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=2)
            >>> [tuple(x.shape) for x, y, w in adapter.batches()]
            [(2, 3), (2, 3), (1, 3)]
        """
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called after each epoch (nothing here; `PyDatasetAdapter` passes it on to its source).

        Examples:
            >>> from xcnn.models.data_adapters import DataAdapter
            >>> DataAdapter().on_epoch_end()
        """


class _Batcher:
    """What every adapter does to a batch: check it, move it to the device, weigh it."""

    def __init__(self, model, with_y, class_weight, split=None):
        self.model, self.with_y, self.split = model, with_y, split
        # the class-weight table goes to the device once, not with every batch
        self.class_weight = (
            None if class_weight is None else model._device(_class_weight_table(model, class_weight), model.dtype)
        )

    def to_device(self, x, y, sample_weight, checked=False):
        model = self.model
        if not checked:
            x = model._check_x(x)
            if y is not None:
                y = model._check_y(y, x.shape[0])
            sample_weight = _check_sample_weight(sample_weight, x.shape[0])
            if self.split is not None:  # [distribution] this rank's rows of the (whole, checked) batch
                start, stop = self.split.split(0, x.shape[0])
                x, y, sample_weight = (None if a is None else a[start:stop, ...] for a in (x, y, sample_weight))
        xb = model._device(x, model.dtype)
        yb = None if y is None else model._device(y, model._label_dtype())
        wb = None if sample_weight is None else model._device(sample_weight, model.dtype)
        return xb, yb, self.weigh(yb, wb)

    def weigh(self, yb, wb):
        """Per-sample weights from ``class_weight`` (on the device) where no sample weights are given."""
        if self.class_weight is None or yb is None:
            return wb
        if wb is not None:
            raise ValueError("class_weight and sample_weight cannot both be given (as in Keras)")
        xp = B.namespace(self.model.backend)
        if self.model.loss.sparse or yb.ndim == 1:
            labels = xp.reshape(yb, (-1,))
        elif yb.shape[-1] == 1:
            labels = xp.round(xp.reshape(yb, (-1,)))
        else:
            labels = xp.argmax(yb, axis=-1)
        return xp.take(self.class_weight, xp.astype(labels, xp.int64), axis=0)


def _class_weight_table(model, class_weight):
    """``{class: weight}`` -> a host table indexed by class (1.0 for classes not named), as Keras."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    bad = [k for k in class_weight if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0]
    if bad:
        raise ValueError(f"class_weight keys must be class indices (ints >= 0), got {bad}")
    units = model._output.item_shape[-1]
    size = 2 if units == 1 else units
    beyond = sorted(int(k) for k in class_weight if k >= size)
    if beyond:
        raise ValueError(f"class_weight names class {beyond[0]}, but the model has {size} classes (0 to {size - 1})")
    table = np.ones(size)
    for k, w in class_weight.items():
        if (
            isinstance(w, bool)
            or not isinstance(w, (int, float, np.integer, np.floating))
            or not np.isfinite(w)
            or w < 0
        ):
            raise ValueError(f"class_weight values must be finite numbers >= 0, got {w!r} for class {k}")
        table[int(k)] = float(w)
    return table


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    if not is_array(sample_weight):
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if tuple(sample_weight.shape) != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},), one weight per sample, got {tuple(sample_weight.shape)}"
        )
    if isinstance(sample_weight, np.ndarray) and not (np.isfinite(sample_weight) & (sample_weight >= 0)).all():
        raise ValueError("sample_weight must hold finite numbers >= 0 (a weight per sample)")
    return sample_weight


class ArrayDataAdapter(DataAdapter):
    """Batches of ``batch_size`` from arrays, shuffled each pass when ``shuffle``.

    Made by `get_data_adapter` for array inputs.

    Args:
        batcher: What checks, moves and weighs each batch (made by `get_data_adapter`).
        x: The inputs, `(N, ...)`, NumPy or backend arrays.
        y: The targets, `(N, ...)`, or `None` (for `predict`).
        sample_weight: One weight per sample, `(N,)`, or `None`.
        batch_size: The rows per batch (the last batch may be smaller).
        shuffle: Whether to visit the rows in a new random order each pass.
        names: The names of `x` and `y` in error messages.

    Raises:
        ValueError: If `x` has no samples for `fit`/`evaluate`, or `x`, `y` or `sample_weight`
            has the wrong shape or number of rows.

    Examples:
    >>> import numpy as np
    >>> from xcnn.layers import Dense, Input
    >>> from xcnn.models import Sequential
    >>> model = Sequential([Input((3,)), Dense(1)])
    >>> model.compile(loss="mse")
        >>> from xcnn.models.data_adapters import ArrayDataAdapter, get_data_adapter
        >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=2)
        >>> isinstance(adapter, ArrayDataAdapter), adapter.num_batches
        (True, 3)
    """

    def __init__(
        self,
        batcher: _Batcher,
        x: Array,
        y: Array | None = None,
        sample_weight: Array | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
        names: tuple[str, str] = ("x", "y"),
    ) -> None:
        model = batcher.model
        x = model._check_x(x, names[0])
        if x.shape[0] == 0 and batcher.with_y:
            raise ValueError(f"{names[0]} has no samples (shape {tuple(x.shape)}); fit and evaluate need at least one")
        if y is not None:
            y = model._check_y(y, x.shape[0], names[1])
        sample_weight = _check_sample_weight(sample_weight, x.shape[0])
        self.batcher, self.batch_size, self.shuffle = batcher, batch_size, shuffle
        self.n = x.shape[0]
        self.num_batches = -(-self.n // batch_size)
        self.resident = model._fits_on_device(x)
        if self.resident:  # once for all passes; class weights are looked up per batch
            x = model._device(x, model.dtype)
            y = None if y is None else model._device(y, model._label_dtype())
            sample_weight = None if sample_weight is None else model._device(sample_weight, model.dtype)
        self.x, self.y, self.sample_weight = x, y, sample_weight

    def batches(self) -> Iterator[Batch]:
        """This pass's device batches `(x, y, sample_weight)` of `batch_size` rows (see `DataAdapter.batches`).

        Returns:
            An iterator of `(x, y, sample_weight)` on the model's backend and device.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import get_data_adapter
            >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=4)
            >>> [tuple(y.shape) for x, y, w in adapter.batches()]
            [(4, 1), (1, 1)]
        """
        model, n, size, dist = self.batcher.model, self.n, self.batch_size, self.batcher.split
        if self.resident:
            xp = B.namespace(model.backend)
            order = model._step_rng.permutation(n) if self.shuffle else None
            for start in range(0, n, size):
                stop = min(start + size, n)  # slices past the end are not portable
                if dist is not None:
                    start, stop = dist.split(start, stop)  # [distribution] this rank's part
                if order is None:
                    parts = [None if a is None else a[start:stop, ...] for a in (self.x, self.y, self.sample_weight)]
                else:
                    idx = order[start:stop]
                    parts = [
                        None if a is None else xp.take(a, idx, axis=0) for a in (self.x, self.y, self.sample_weight)
                    ]
                yield parts[0], parts[1], self.batcher.weigh(parts[1], parts[2])
            return
        order = model._host_rng.permutation(n) if self.shuffle else np.arange(n)
        orders = {}  # (backend, device) -> the order on that device, copied there once per pass

        def rows(a, start, stop):
            """Rows ``order[start:stop]`` of ``a``, gathered where ``a`` lives (never through NumPy
            for device data: CuPy and CUDA tensors refuse the implicit copy)."""
            name = B.backend_of_or_none(a)
            if name in (None, "numpy"):
                return np.asarray(a)[order[start:stop]]
            key = (name, B.device_key(a.device))
            if key not in orders:
                orders[key] = B.asarray(order, name, "int64", device=a.device)
            return B.namespace(name).take(a, orders[key][start:stop], axis=0)

        for start in range(0, n, size):
            stop = min(start + size, n)
            if dist is not None:
                start, stop = dist.split(start, stop)  # [distribution] this rank's part
            x, y, sample_weight = (
                None if a is None else rows(a, start, stop) for a in (self.x, self.y, self.sample_weight)
            )
            yield self.batcher.to_device(x, y, sample_weight, checked=True)


class GeneratorDataAdapter(DataAdapter):
    """Batches from a generator or any iterable; each pass calls ``iter`` on it again (so a
    generator yields its batches once; a list of batches or a re-iterable object every time).

    Made by `get_data_adapter` for a generator or iterable; its length is unknown.

    Args:
        batcher: What checks, moves and weighs each batch (made by `get_data_adapter`).
        source: The batches: `(x, y)`, `(x, y, sample_weight)`, or `x` alone for `predict`.

    Examples:
    >>> import numpy as np
    >>> from xcnn.layers import Dense, Input
    >>> from xcnn.models import Sequential
    >>> model = Sequential([Input((3,)), Dense(1)])
    >>> model.compile(loss="mse")
        >>> from xcnn.models.data_adapters import GeneratorDataAdapter, get_data_adapter
        >>> source = ((np.zeros((2, 3)), np.zeros((2, 1))) for _ in range(3))
        >>> adapter = get_data_adapter(model, source)
        >>> isinstance(adapter, GeneratorDataAdapter), adapter.num_batches
        (True, None)
    """

    def __init__(self, batcher: _Batcher, source: Any) -> None:
        self.batcher, self.source = batcher, source

    def batches(self) -> Iterator[Batch]:
        """The source's batches, each checked and copied to the device (see `DataAdapter.batches`).

        Returns:
            An iterator of `(x, y, sample_weight)` on the model's backend and device.

        Raises:
            ValueError: If a batch is not `x`, `(x, y)` or `(x, y, sample_weight)` (or has no `y`
                for `fit`/`evaluate`), or its parts have the wrong shapes.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import get_data_adapter
            >>> source = [(np.zeros((2, 3)), np.zeros((2, 1))), (np.zeros((1, 3)), np.zeros((1, 1)))]
            >>> [tuple(x.shape) for x, y, w in get_data_adapter(model, source).batches()]
            [(2, 3), (1, 3)]
        """
        for batch in self.source:
            yield self.batcher.to_device(*_unpack(batch, self.batcher.with_y))


class PyDatasetAdapter(DataAdapter):
    """Batches ``source[i]`` for ``i < len(source)``, in a new random order each pass when ``shuffle``.

    Made by `get_data_adapter` for a PyDataset-like sequence (see `is_sequence`).

    Args:
        batcher: What checks, moves and weighs each batch (made by `get_data_adapter`).
        source: The sequence; `source[i]` is `(x, y)`, `(x, y, sample_weight)`, or `x` alone for
            `predict`.
        shuffle: Whether to visit the batches in a new random order each pass.

    Examples:
    >>> import numpy as np
    >>> from xcnn.layers import Dense, Input
    >>> from xcnn.models import Sequential
    >>> model = Sequential([Input((3,)), Dense(1)])
    >>> model.compile(loss="mse")
        >>> from xcnn.models.data_adapters import PyDatasetAdapter, get_data_adapter
        >>> source = [(np.zeros((2, 3)), np.zeros((2, 1)))] * 4
        >>> adapter = get_data_adapter(model, source)
        >>> isinstance(adapter, PyDatasetAdapter), adapter.num_batches
        (True, 4)
    """

    def __init__(self, batcher: _Batcher, source: Any, shuffle: bool = False) -> None:
        self.batcher, self.source, self.shuffle = batcher, source, shuffle
        self.num_batches = len(source)

    def batches(self) -> Iterator[Batch]:
        """The batches `source[i]`, each checked and copied to the device (see `DataAdapter.batches`).

        Returns:
            An iterator of `(x, y, sample_weight)` on the model's backend and device.

        Raises:
            ValueError: If a batch is not `x`, `(x, y)` or `(x, y, sample_weight)` (or has no `y`
                for `fit`/`evaluate`), or its parts have the wrong shapes.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import get_data_adapter
            >>> source = [(np.zeros((2, 3)), np.zeros((2, 1))), (np.zeros((1, 3)), np.zeros((1, 1)))]
            >>> [tuple(x.shape) for x, y, w in get_data_adapter(model, source).batches()]
            [(2, 3), (1, 3)]
        """
        order = range(len(self.source))
        if self.shuffle:
            order = self.batcher.model._host_rng.permutation(len(self.source))
        for i in order:
            yield self.batcher.to_device(*_unpack(self.source[int(i)], self.batcher.with_y))

    def on_epoch_end(self) -> None:
        """Calls the source's `on_epoch_end()` when it has one (as Keras does for a `PyDataset`).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import get_data_adapter
            >>> class Batches(list):
            ...     epochs = 0
            ...     def on_epoch_end(self):
            ...         self.epochs += 1
            >>> source = Batches([(np.zeros((2, 3)), np.zeros((2, 1)))])
            >>> get_data_adapter(model, source).on_epoch_end()
            >>> source.epochs
            1
        """
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


def get_data_adapter(
    model: Any,
    x: Any,
    y: Array | None = None,
    sample_weight: Array | None = None,
    batch_size: int | None = None,
    shuffle: bool = False,
    class_weight: dict[int, float] | None = None,
    with_y: bool = True,
    names: tuple[str, str] = ("x", "y"),
    split: DataParallel | None = None,
) -> DataAdapter:
    """The adapter for ``x``: arrays (with ``y``), a PyDataset-like sequence, or an iterable
    of batches. ``batch_size`` (default 32) applies to arrays only, as in Keras. ``split``: a
    :class:`~xcnn.distribution.DataParallel` whose rank takes its part of every batch.

    Args:
        model: The (built) model whose backend, device, dtype and input checks the batches get.
        x: The inputs: an array `(N, ...)` (or nested lists of numbers), a PyDataset-like
            sequence of batches, or an iterable (e.g. a generator) of batches.
        y: The targets `(N, ...)` when `x` is an array (required for `fit`/`evaluate`).
        sample_weight: One weight per sample, `(N,)`, when `x` is an array.
        batch_size: The rows per batch when `x` is an array (default 32).
        shuffle: Whether each pass visits the rows (arrays) or batches (sequences) in a new
            random order.
        class_weight: `{class index: weight}`, turned into per-sample weights.
        with_y: Whether the batches must have targets (`fit`/`evaluate`; `False` for `predict`).
        names: The names of `x` and `y` in error messages.
        split: The active `DataParallel` (this rank takes its part of every batch), or `None`.

    Returns:
        An `ArrayDataAdapter`, `PyDatasetAdapter` or `GeneratorDataAdapter`.

    Raises:
        ValueError: If `y` is missing for an array `x` with `with_y`, `y`, `sample_weight` or
            `batch_size` is given with batches, or the arrays have wrong shapes.
        TypeError: If `x` is none of the above, or `class_weight` is not a dict.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(1)])
        >>> model.compile(loss="mse")
        >>> from xcnn.models.data_adapters import get_data_adapter
        >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=2)
        >>> type(adapter).__name__, adapter.num_batches
        ('ArrayDataAdapter', 3)
    """
    batcher = _Batcher(model, with_y, class_weight, split)
    if isinstance(x, list) and x and not isinstance(x[0], tuple):
        x = np.asarray(x)  # nested lists of numbers, not a list of (x, y) batches
    if is_array(x):
        if with_y and y is None:
            raise ValueError("y is required when x is an array (pass the targets, or a generator of (x, y) batches)")
        batch_size = 32 if batch_size is None else positive_int(batch_size, "batch_size")
        return ArrayDataAdapter(batcher, x, y, sample_weight, batch_size, shuffle, names)
    kind = "a PyDataset-like sequence" if is_sequence(x) else "a generator or iterable of batches"
    for name, value in (("y", y), ("sample_weight", sample_weight), ("batch_size", batch_size)):
        if value is not None:
            raise ValueError(f"{name} must not be given when x is {kind}: the batches carry it (as in Keras)")
    if is_sequence(x):
        return PyDatasetAdapter(batcher, x, shuffle)
    if hasattr(x, "__iter__"):
        return GeneratorDataAdapter(batcher, x)
    raise TypeError(f"x must be an array, a PyDataset-like sequence or an iterable of batches, got {type(x).__name__}")


class EpochIterator:
    """Epochs of batches from an adapter, with Keras's ``steps_per_epoch`` rule (see the module).

    Args:
        adapter: The data (from `get_data_adapter`).
        steps_per_epoch: The batches per epoch (an epoch continues where the last one stopped),
            or `None` for one whole pass per epoch.

    Raises:
        ValueError: If `steps_per_epoch` is not a positive int or `None`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(1)])
        >>> model.compile(loss="mse")
        >>> from xcnn.models.data_adapters import EpochIterator, get_data_adapter
        >>> adapter = get_data_adapter(model, np.zeros((6, 3)), np.zeros((6, 1)), batch_size=4)
        >>> epochs = EpochIterator(adapter, steps_per_epoch=1)  # the 2nd epoch continues the pass
        >>> [[tuple(x.shape) for step, (x, y, w) in epochs.epoch()] for _ in range(2)]
        [[(4, 3)], [(2, 3)]]
    """

    def __init__(self, adapter: DataAdapter, steps_per_epoch: int | None = None) -> None:
        if steps_per_epoch is not None and (
            isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1
        ):
            raise ValueError(f"steps_per_epoch must be a positive int or None, got {steps_per_epoch!r}")
        self.adapter, self.steps_per_epoch = adapter, steps_per_epoch
        self._current: Iterator[Batch] | None = None  # the pass under way, between epochs too
        self._seen = 0
        self.exhausted = False  # an iterable of unknown length ran out

    @property
    def num_batches(self) -> int | None:
        """The batches of one epoch: `steps_per_epoch`, else the adapter's (`None` when unknown).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import EpochIterator, get_data_adapter
            >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=2)
            >>> EpochIterator(adapter).num_batches, EpochIterator(adapter, 7).num_batches
            (3, 7)
        """
        return self.steps_per_epoch or self.adapter.num_batches

    def epoch(self) -> Iterator[tuple[int, Batch]]:
        """Yield ``(step, (x, y, sample_weight))`` for one epoch.

        A data set that runs out before `steps_per_epoch` batches warns and ends the epoch early.
        The adapter's `on_epoch_end()` is called at the end.

        Returns:
            An iterator of `(step, (x, y, sample_weight))`, `step` counting from 0.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(1)])
            >>> model.compile(loss="mse")
            >>> from xcnn.models.data_adapters import EpochIterator, get_data_adapter
            >>> adapter = get_data_adapter(model, np.zeros((5, 3)), np.zeros((5, 1)), batch_size=2)
            >>> [(step, len(x)) for step, (x, y, w) in EpochIterator(adapter).epoch()]
            [(0, 2), (1, 2), (2, 1)]
        """
        known = self.adapter.num_batches
        if self._current is None or self.steps_per_epoch is None:
            self._current, self._seen = self.adapter.batches(), 0
        step = 0
        while self.steps_per_epoch is None or step < self.steps_per_epoch:
            if known is not None and self._seen >= known:
                if self.steps_per_epoch:
                    _ran_out()
                break
            try:
                batch = next(self._current)
            except StopIteration:
                if self.steps_per_epoch is not None or known is not None:
                    _ran_out()
                self._current = None
                self.exhausted = known is None
                break
            self._seen += 1
            yield step, batch
            step += 1
        if known is not None and self._seen >= known:
            self._current = None
        self.adapter.on_epoch_end()


def _ran_out():
    warnings.warn(
        "the input ran out of data; the epoch ends early. Make sure it can give at least "
        "steps_per_epoch * epochs batches (as Keras warns)",
        stacklevel=3,
    )
