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

    ``summed_state``: the names of the state attributes that are sums over samples (device
    arrays or host numbers), which a data-parallel run adds up over its ranks before
    ``result()``; None for a metric whose state does not add up that way.
    """

    summed_state: tuple[str, ...] | None = None

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
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


def _snake(camel):
    out = []
    for i, c in enumerate(camel):
        if c.isupper() and i and not camel[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def as_array(value, like):
    """``value`` (host or device) on ``like``'s backend; device arrays pass through untouched."""
    if B.backend_of_or_none(value) == B.backend_of(like):
        return value
    return B.asarray(value, B.backend_of(like))


class MeanMetricWrapper(Metric):
    """The mean of ``fn(y_true, y_pred) -> (N, ...)`` values over every sample seen.

    ``fn`` takes device arrays (``y_true`` as given to ``fit``: labels or one-hot) and returns
    one value per sample (or per entry); the sum and the count are kept, the sum on the device.
    """

    summed_state = ("total", "count")

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

    def result(self):
        if self.total is None:
            return 0.0
        count = self.count if isinstance(self.count, int) else float(B.to_numpy(self.count))
        return float(B.to_numpy(self.total)) / count if count else 0.0

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._kwargs}

    def __call__(self, y_true, y_pred, sample_weight=None):
        fresh = MeanMetricWrapper(self._fn, name=self.name, dtype=self.dtype, **self._kwargs)
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()
