"""The :class:`Metric` base class and :class:`MeanMetricWrapper`: a running mean kept on the device."""

from __future__ import annotations

import math

from .. import backend as B
from ..backend import array_namespace


class Metric:
    """A statistic accumulated over batches: ``update_state(y_true, y_pred)``, ``result()``,
    ``reset_state()``, as in Keras.

    The state stays on the arrays' device (sums are 0-d device arrays), so ``update_state``
    never waits for the host; ``result()`` copies it to the host once and returns a float.
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        """The metric as a float: its device state copied to the host in one copy (one sync)."""
        return self.result_from(read_together(self.device_state()))

    def device_state(self):
        """The device arrays :meth:`result` reads, so that a caller can copy several metrics'
        states (and the loss) in one copy; ``()`` before any update. ``None`` (this default):
        a subclass that overrides :meth:`result` instead, which then reads for itself."""
        return None

    def result_from(self, host_state):
        """The metric as a float from :meth:`device_state`'s arrays copied to the host (NumPy,
        same order and shapes)."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Keras's stateless use: the metric of this one batch (the running state is untouched)."""
        fresh = type(self)(**self.get_config())
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()

    def get_config(self):
        code = type(self).__init__.__code__
        return {k: getattr(self, k) for k in code.co_varnames[1 : code.co_argcount]}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def read_together(arrays):
    """Device arrays (one backend, any shapes) as NumPy arrays of their shapes, copied to the
    host in one copy (one sync): flattened, joined in their common dtype, split again."""
    arrays = list(arrays)
    if not arrays:
        return []
    xp = array_namespace(*arrays)
    dtype = xp.result_type(*arrays)
    joined = xp.concat([xp.reshape(a if a.dtype == dtype else xp.astype(a, dtype), (-1,)) for a in arrays])
    host, out, start = B.to_numpy(joined), [], 0
    for a in arrays:
        size = math.prod(a.shape)
        out.append(host[start : start + size].reshape(tuple(a.shape)))
        start += size
    return out


def _snake(camel):
    out = []
    for i, c in enumerate(camel):
        if c.isupper() and i and not camel[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def as_array(value, like):
    """``value`` (host or device) on ``like``'s backend and device; arrays already on that
    backend pass through untouched."""
    if B.backend_of_or_none(value) == B.backend_of(like):
        return value
    return B.asarray(value, B.backend_of(like), device=like.device)


class MeanMetricWrapper(Metric):
    """The mean of ``fn(y_true, y_pred) -> (N, ...)`` values over every sample seen.

    ``fn`` takes device arrays (``y_true`` as given to ``fit``: labels or one-hot) and returns
    one value per sample (or per entry); the sum and the count are kept, the sum on the device.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn, self._kwargs = fn, kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def reset_state(self):
        self.total, self.count = None, 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_array(y_true, y_pred)
        values = self._fn(y_true, y_pred, **self._kwargs)
        xp = array_namespace(values)
        if sample_weight is not None:
            w = as_array(sample_weight, y_pred)
            w = xp.astype(xp.reshape(w, (w.shape[0],) + (1,) * (values.ndim - 1)), values.dtype)
            per_entry = math.prod(values.shape[1:])
            # Keras weights each sample's mean value by its weight and divides by the weights' sum
            batch_total = xp.sum(values * w) / per_entry
            batch_count = xp.sum(w)
        else:
            batch_total, batch_count = xp.sum(values) / math.prod(values.shape[1:]), values.shape[0]
        self.total = batch_total if self.total is None else self.total + batch_total
        self.count = self.count + batch_count  # a host int while unweighted, else a device sum

    def device_state(self):
        if self.total is None:
            return ()
        return (self.total,) if isinstance(self.count, int) else (self.total, self.count)  # weighted: a device count

    def result_from(self, host_state):
        if self.total is None:
            return 0.0
        count = self.count if isinstance(self.count, int) else float(host_state[1])
        return float(host_state[0]) / count if count else 0.0

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._kwargs}

    def __call__(self, y_true, y_pred, sample_weight=None):
        fresh = MeanMetricWrapper(self._fn, name=self.name, dtype=self.dtype, **self._kwargs)
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()
