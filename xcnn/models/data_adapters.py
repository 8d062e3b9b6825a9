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

import numpy as np

from .. import backend as B
from .._checks import positive_int


def is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")


def is_sequence(x):
    """A PyDataset-like sequence of batches (not an array)."""
    return not is_array(x) and hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (str, dict))


def _unpack(batch, with_y):
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)``."""
    if isinstance(batch, (tuple, list)):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"a batch must be x, (x, y) or (x, y, sample_weight), got a sequence of {len(batch)} items")
        parts = tuple(batch) + (None,) * (3 - len(batch))
    else:
        parts = (batch, None, None)
    if with_y and parts[1] is None:
        raise ValueError("each batch must be (x, y) or (x, y, sample_weight) for fit and evaluate; got x alone")
    return parts


class DataAdapter:
    """One pass over the data as device batches; ``num_batches`` (None when unknown)."""

    num_batches = None

    def batches(self):
        """An iterator over this pass's device batches ``(x, y, sample_weight)``."""
        raise NotImplementedError

    def on_epoch_end(self):
        pass


class _Batcher:
    """What every adapter does to a batch: check it, move it to the device, weigh it."""

    def __init__(self, model, with_y, class_weight, split=None):
        self.model, self.with_y, self.split = model, with_y, split
        self.class_weight = _class_weight_table(model, class_weight) if class_weight is not None else None

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
        table = self.model._device(self.class_weight, self.model.dtype)
        return xp.take(table, xp.astype(labels, xp.int64), axis=0)


def _class_weight_table(model, class_weight):
    """``{class: weight}`` -> a host table indexed by class (1.0 for classes not named), as Keras."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    bad = [k for k in class_weight if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0]
    if bad:
        raise ValueError(f"class_weight keys must be class indices (ints >= 0), got {bad}")
    units = model._output.shape[-1]
    size = max(2 if units == 1 else units, max(class_weight, default=-1) + 1)
    table = np.ones(size)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    return table


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    if not is_array(sample_weight):
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if tuple(sample_weight.shape) != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight per sample, got {tuple(sample_weight.shape)}")
    return sample_weight


class ArrayDataAdapter(DataAdapter):
    """Batches of ``batch_size`` from arrays, shuffled each pass when ``shuffle``."""

    def __init__(self, batcher, x, y=None, sample_weight=None, batch_size=32, shuffle=False, names=("x", "y")):
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

    def batches(self):
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
                    parts = [None if a is None else xp.take(a, idx, axis=0) for a in (self.x, self.y, self.sample_weight)]
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
            parts = [None if a is None else rows(a, start, stop) for a in (self.x, self.y, self.sample_weight)]
            yield self.batcher.to_device(*parts, checked=True)


class GeneratorDataAdapter(DataAdapter):
    """Batches from a generator or any iterable; each pass calls ``iter`` on it again (so a
    generator yields its batches once; a list of batches or a re-iterable object every time)."""

    def __init__(self, batcher, source):
        self.batcher, self.source = batcher, source

    def batches(self):
        for batch in self.source:
            yield self.batcher.to_device(*_unpack(batch, self.batcher.with_y))


class PyDatasetAdapter(DataAdapter):
    """Batches ``source[i]`` for ``i < len(source)``, in a new random order each pass when ``shuffle``."""

    def __init__(self, batcher, source, shuffle=False):
        self.batcher, self.source, self.shuffle = batcher, source, shuffle
        self.num_batches = len(source)

    def batches(self):
        order = range(len(self.source))
        if self.shuffle:
            order = self.batcher.model._host_rng.permutation(len(self.source))
        for i in order:
            yield self.batcher.to_device(*_unpack(self.source[int(i)], self.batcher.with_y))

    def on_epoch_end(self):
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


def get_data_adapter(model, x, y=None, sample_weight=None, batch_size=None, shuffle=False, class_weight=None,
                     with_y=True, names=("x", "y"), split=None):
    """The adapter for ``x``: arrays (with ``y``), a PyDataset-like sequence, or an iterable
    of batches. ``batch_size`` (default 32) applies to arrays only, as in Keras. ``split``: a
    :class:`~xcnn.distribution.DataParallel` whose rank takes its part of every batch."""
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
    """Epochs of batches from an adapter, with Keras's ``steps_per_epoch`` rule (see the module)."""

    def __init__(self, adapter, steps_per_epoch=None):
        if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int)
                                            or steps_per_epoch < 1):
            raise ValueError(f"steps_per_epoch must be a positive int or None, got {steps_per_epoch!r}")
        self.adapter, self.steps_per_epoch = adapter, steps_per_epoch
        self._current = None
        self._seen = 0
        self.exhausted = False  # an iterable of unknown length ran out

    @property
    def num_batches(self):
        return self.steps_per_epoch or self.adapter.num_batches

    def epoch(self):
        """Yield ``(step, (x, y, sample_weight))`` for one epoch."""
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
    warnings.warn("the input ran out of data; the epoch ends early. Make sure it can give at least "
                  "steps_per_epoch * epochs batches (as Keras warns)", stacklevel=3)
