"""The `Metric` base class and `MeanMetricWrapper`: a running mean kept on the device."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import backend as B
from .. import config
from .._typing import Array, DType
from ..backend import array_namespace


def _with_arrays(update_state):
    """``update_state`` taking Python lists too, as Keras's does: each becomes an array of the
    backend and device of the arrays given with it (NumPy when none is), the first argument (the
    targets, or `Mean`'s values) as it is, the others (predictions, weights) as floats. (Python
    numbers already mix with any backend's arrays.)"""

    @functools.wraps(update_state)
    def update(self, *args, **kwargs):
        given = [*args, *kwargs.values()]
        if not any(isinstance(a, (list, tuple)) for a in given):
            return update_state(self, *args, **kwargs)  # the usual path, untouched
        arrays = [a for a in given if B.backend_of_or_none(a) is not None]
        like = arrays[0] if arrays else None

        def array(value, first):
            if not isinstance(value, (list, tuple)):
                return value
            host = np.asarray(value) if first else np.asarray(value, dtype=np.dtype(config.floatx()))
            if host.dtype.kind not in "biuf":
                raise TypeError(f"metric {self.name} takes arrays of numbers, got {value!r}")
            if like is None:
                return host
            return B.asarray(host, B.backend_of(like), device=like.device)

        args = [array(a, i == 0) for i, a in enumerate(args)]
        kwargs = {k: array(v, k in ("y_true", "values")) for k, v in kwargs.items()}
        return update_state(self, *args, **kwargs)

    return update


class Metric:
    """A statistic accumulated over batches, as in Keras.

    `update_state(y_true, y_pred)` adds a batch, `result()` reads the statistic, `reset_state()`
    starts again.

    The state stays on the arrays' device (sums are 0-d device arrays), so `update_state` never
    waits for the host; `result()` copies it to the host once and returns a float. Calling a
    metric, `metric(y_true, y_pred)`, gives the metric of that one batch.

    `summed_state`: the names of the state attributes that are sums over samples (device arrays
    or host numbers), which a data-parallel run adds up over its ranks before `result()`; None for
    a metric whose state does not add up that way.

    Args:
        name: The metric's name, its key in the logs (default: the class name in snake case).
        dtype: Kept for Keras compatibility.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import SparseCategoricalAccuracy
        >>> metric = SparseCategoricalAccuracy()
        >>> metric.update_state(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
        >>> metric.result()
        0.6666666666666666
        >>> metric.reset_state()
        >>> metric.result()
        0.0
    """

    summed_state: tuple[str, ...] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # every metric's update_state takes lists too, but for those that place host values themselves
        if "update_state" in cls.__dict__ and not getattr(cls, "_handles_host_values", False):
            cls.update_state = _with_arrays(cls.__dict__["update_state"])  # type: ignore[method-assign]

    def __init__(self, name: str | None = None, dtype: DType | None = None) -> None:
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def reset_state(self) -> None:
        """Forget every batch seen so far.

        Raises:
            NotImplementedError: In the base class; every metric implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalAccuracy
            >>> metric = SparseCategoricalAccuracy()
            >>> metric.update_state(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
            >>> metric.reset_state()
            >>> metric.result()
            0.0
        """
        raise NotImplementedError

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """Add one batch to the running state (on the device; no host copy).

        Args:
            y_true: The batch's targets, as given to `fit` (labels `(N,)` or one-hot `(N, K)`).
            y_pred: The model's outputs `(N, K)`, float.
            sample_weight: `(N,)` weights, or `None`.

        Raises:
            NotImplementedError: In the base class; every metric implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalAccuracy
            >>> metric = SparseCategoricalAccuracy()
            >>> metric.update_state(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
            >>> metric.update_state(np.array([1]), np.array([[0.4, 0.6]]))
            >>> metric.result()
            0.75
        """
        raise NotImplementedError

    def result(self) -> float:
        """The metric over every batch seen (its device state copied to the host in one copy: one sync); 0.0 before any batch.

        Returns:
            A float.

        Raises:
            NotImplementedError: If the metric has no `device_state` and does not override `result`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalAccuracy
            >>> metric = SparseCategoricalAccuracy()
            >>> metric.update_state(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
            >>> round(metric.result(), 4)
            0.6667
        """
        state = self.device_state()
        if state is None:
            raise NotImplementedError(f"{type(self).__name__} has no device_state, so it must override result()")
        return self.result_from(read_together(state))

    def device_state(self) -> tuple[Array, ...] | None:
        """The device arrays :meth:`result` reads, so that a caller can copy several metrics'
        states (and the loss) in one copy; ``()`` before any update. ``None`` (this default):
        a subclass that overrides :meth:`result` instead, which then reads for itself.

        Returns:
            A tuple of arrays on the metric's device (any shapes), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalAccuracy
            >>> metric = SparseCategoricalAccuracy()
            >>> metric.device_state()  # before any batch
            ()
            >>> metric.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.3, 0.7]]))
            >>> [tuple(a.shape) for a in metric.device_state()]  # one 0-d sum of the hits
            [()]
        """
        return None

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """The metric as a float from :meth:`device_state`'s arrays copied to the host (NumPy,
        same order and shapes).

        Args:
            host_state: The host copies of `device_state()`'s arrays, e.g. from `read_together`.

        Returns:
            The metric, as `result()` gives it.

        Raises:
            NotImplementedError: In this base class (a metric with a `device_state` implements it).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import MeanAbsoluteError, MeanSquaredError
            >>> from xcnn.metrics.metric import read_together
            >>> metrics = [MeanAbsoluteError(), MeanSquaredError()]
            >>> for metric in metrics:
            ...     metric.update_state(np.array([[0.0], [1.0]]), np.array([[0.5], [1.0]]))
            >>> mae, mse = read_together([a for m in metrics for a in m.device_state()])  # one copy for both
            >>> metrics[0].result_from([mae]), metrics[1].result_from([mse])
            (0.25, 0.125)
        """
        raise NotImplementedError

    def __call__(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> float:
        """Keras's stateless use: the metric of this one batch (the running state is untouched)."""
        fresh = type(self)(**self.get_config())
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()

    def get_config(self) -> dict[str, Any]:
        """The metric's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values.

        Examples:
            >>> from xcnn.metrics import TopKCategoricalAccuracy
            >>> TopKCategoricalAccuracy(k=3).get_config()
            {'name': 'top_k_categorical_accuracy', 'dtype': None, 'k': 3}
        """
        code = type(self).__init__.__code__
        return {k: getattr(self, k) for k in code.co_varnames[1 : code.co_argcount]}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def read_together(arrays: Iterable[Array]) -> list[np.ndarray]:
    """Device arrays (one backend, any shapes) as NumPy arrays of their shapes, copied to the
    host in one copy (one sync): flattened, joined in their common dtype, split again.

    Args:
        arrays: Arrays of one backend and device, any shapes and numeric dtypes.

    Returns:
        One NumPy array per input, its shape, in the inputs' common dtype (`[]` for none).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics.metric import read_together
        >>> total, counts = read_together([np.asarray(2.5), np.arange(4).reshape(2, 2)])
        >>> total.shape, counts.dtype, counts.tolist()
        ((), dtype('float64'), [[0.0, 1.0], [2.0, 3.0]])
    """
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


def as_array(value: Any, like: Array) -> Array:
    """`value` (host or device) on `like`'s backend and device; arrays already there pass through untouched.

    Args:
        value: An array of any backend, or anything `np.asarray` accepts.
        like: An array of the target backend.

    Returns:
        `value` as an array of `like`'s backend (its dtype kept).

    Raises:
        TypeError: If `like` is not an array.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics.metric import as_array
        >>> as_array([1, 2], np.zeros(1)).tolist()
        [1, 2]
    """
    if B.backend_of_or_none(value) == B.backend_of(like):
        return value
    return B.asarray(value, B.backend_of(like), device=like.device)


class MeanMetricWrapper(Metric):
    """The mean of `fn(y_true, y_pred) -> (N, ...)` values over every sample seen.

    `fn` takes device arrays (`y_true` as given to `fit`: labels or one-hot) and returns one value
    per sample (or per entry); the sum and the count are kept, the sum on the device. Keras weighs
    each sample's mean value by its weight and divides by the weights' sum; so does this.

    Args:
        fn: The per-sample function.
        name: The metric's name (default: `fn`'s name).
        dtype: Kept for Keras compatibility.
        **kwargs: Passed to `fn` on every call (e.g. `k=3`).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import MeanMetricWrapper, mean_absolute_error
        >>> metric = MeanMetricWrapper(mean_absolute_error)
        >>> metric.update_state(np.array([[0.0], [1.0]]), np.array([[0.5], [1.0]]))
        >>> metric.name, metric.result()
        ('mean_absolute_error', 0.25)
    """

    summed_state = ("total", "count")

    def __init__(
        self, fn: Callable[..., Array], name: str | None = None, dtype: DType | None = None, **kwargs: Any
    ) -> None:
        self._fn, self._kwargs = fn, kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def reset_state(self) -> None:
        """Forget every batch seen so far.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalAccuracy
            >>> metric = SparseCategoricalAccuracy()
            >>> metric.update_state(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
            >>> metric.reset_state()
            >>> metric.result()
            0.0
        """
        self.total, self.count = None, 0

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """As `Metric.update_state`: adds the batch's `fn` values (each sample's mean, times its weight)
        to the total and its size (or weight sum) to the count, on the device.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalAccuracy
            >>> metric = SparseCategoricalAccuracy()
            >>> metric.update_state(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
            >>> metric.update_state(np.array([1]), np.array([[0.4, 0.6]]))
            >>> metric.result()
            0.75
        """
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

    def device_state(self) -> tuple[Array, ...]:
        """`(total,)`, or `(total, count)` when the count is a weighted device sum; `()` before any batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import MeanMetricWrapper, mean_absolute_error
            >>> metric = MeanMetricWrapper(mean_absolute_error)
            >>> y_true, y_pred = np.array([[0.0], [1.0]]), np.array([[0.5], [1.0]])
            >>> metric.update_state(y_true, y_pred)
            >>> len(metric.device_state())  # the total; the count is a host int
            1
            >>> metric.update_state(y_true, y_pred, sample_weight=np.array([1.0, 3.0]))
            >>> len(metric.device_state())  # weighted: the count is a device sum too
            2
        """
        if self.total is None:
            return ()
        return (self.total,) if isinstance(self.count, int) else (self.total, self.count)  # weighted: a device count

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """The mean from the host copies of `device_state`: the total over the count (0.0 when empty).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import MeanMetricWrapper, mean_absolute_error
            >>> metric = MeanMetricWrapper(mean_absolute_error)
            >>> metric.update_state(np.array([[0.0], [1.0]]), np.array([[0.5], [1.0]]))
            >>> metric.result_from([np.asarray(0.5)])  # a total of 0.5 over the 2 samples seen
            0.25
        """
        if self.total is None:
            return 0.0
        count = self.count if isinstance(self.count, int) else float(host_state[1])
        return float(host_state[0]) / count if count else 0.0

    def get_config(self) -> dict[str, Any]:
        """As `Metric.get_config`, with the keyword arguments passed on to `fn`.

        Examples:
            >>> from xcnn.metrics import TopKCategoricalAccuracy
            >>> TopKCategoricalAccuracy(k=3).get_config()
            {'name': 'top_k_categorical_accuracy', 'dtype': None, 'k': 3}
        """
        return {"name": self.name, "dtype": self.dtype, **self._kwargs}

    def __call__(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> float:
        """Keras's stateless use: the metric of this one batch (the running state is untouched)."""
        fresh = MeanMetricWrapper(self._fn, name=self.name, dtype=self.dtype, **self._kwargs)
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()
