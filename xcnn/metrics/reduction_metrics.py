"""Keras's `Mean` and `Sum`: running statistics of values you pass yourself
(`update_state(values, sample_weight)`), kept on the values' device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend as B
from .._typing import Array, DType
from .metric import Metric, as_array


def _samplewise(values, sample_weight, reduce, like=None):
    """Keras's `reduce_to_samplewise_values`: ``(values, weights)`` with ``values`` one per sample
    (each sample's entries reduced by ``reduce``, "mean" or "sum", and weighted), ``weights``
    the per-sample weights or `None`. Host values go to ``like``'s backend and device (the
    running state's), else become NumPy arrays."""
    if B.backend_of_or_none(values) is None:
        values = np.asarray(values) if like is None else as_array(np.asarray(values), like)
    xp = B.array_namespace(values)
    if not xp.isdtype(values.dtype, "real floating"):
        values = xp.astype(values, xp.float64 if B.backend_of(values) == "numpy" else xp.float32)

    def reduced(x, start):
        axes = tuple(range(start, x.ndim))
        if not axes:
            return x
        return xp.mean(x, axis=axes) if reduce == "mean" else xp.sum(x, axis=axes)

    weight = None
    if sample_weight is not None:
        from ..losses import _same_rank

        weight = as_array(sample_weight, values)
        weight = xp.astype(weight, values.dtype) if weight.dtype != values.dtype else weight
        values, weight = _same_rank(xp, values, weight)
        weight_ndim = weight.ndim
        if values.ndim > weight_ndim:
            values = reduced(values, weight_ndim)
        if weight_ndim > values.ndim:
            raise ValueError(f"sample_weight {tuple(weight.shape)} has more axes than the values {tuple(values.shape)}")
        weight = xp.broadcast_to(weight, values.shape)
        values = values * weight
        if weight_ndim > 1:
            weight = reduced(weight, 1)
    return reduced(values, 1), weight


class _Running(Metric):
    """A sum on the device (`total`) and a count (a host int while unweighted, else a device sum)."""

    summed_state: tuple[str, ...] | None = ("total", "count")
    _handles_host_values = True  # host values (lists) join the state where it already lives

    def reset_state(self) -> None:
        self.total: Any = None
        self.count: Any = 0

    def _add(self, total, count):
        self.total = total if self.total is None else self.total + total
        self.count = self.count + count

    def device_state(self) -> tuple[Array, ...]:
        if self.total is None:
            return ()
        return (self.total,) if isinstance(self.count, int) else (self.total, self.count)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class Mean(_Running):
    """Keras's `metrics.Mean`: the (weighted) mean of the values given to `update_state`.

    Each sample's value is the mean of its entries; a sample's weight scales its value and
    the weights' sum is the count, as in Keras. The sum stays on the values' device; `result()`
    reads it (one host copy). Not a compile metric: it takes values, not `(y_true, y_pred)`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the values' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Mean
        >>> metric = Mean()
        >>> metric.update_state(np.array([1.0, 3.0, 5.0]))
        >>> metric.update_state(np.array([2.0, 8.0]), sample_weight=np.array([1.0, 0.0]))
        >>> metric.result()  # (1 + 3 + 5 + 2) / (3 + 1)
        2.75
    """

    def __init__(self, name: str = "mean", dtype: DType | None = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, values: Array, sample_weight: Array | None = None) -> None:  # type: ignore[override]
        """Add values (on their device; no host copy).

        Args:
            values: An array (any backend, or host values), `(N, ...)` or a scalar.
            sample_weight: Weights broadcastable to `values`, `(N,)` (per sample) or of `values`'s
                shape, or `None`.

        Raises:
            ValueError: If `sample_weight` has more axes than `values`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Mean
            >>> metric = Mean()
            >>> metric.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]))  # two samples: 2 and 6
            >>> metric.result()
            4.0
        """
        values, weight = _samplewise(values, sample_weight, "mean", self.total)
        xp = B.array_namespace(values)
        if weight is not None:
            count: Any = xp.sum(weight)
        else:
            count = values.shape[0] if values.ndim >= 1 else 1
        self._add(xp.sum(values), count)

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """The mean from the host copies of `device_state`: the total over the count (0.0 when empty).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Mean
            >>> metric = Mean()
            >>> metric.update_state(np.array([1.0, 2.0]))
            >>> metric.result_from([np.asarray(3.0)])  # a total of 3 over the 2 values seen
            1.5
        """
        if self.total is None:
            return 0.0
        count = self.count if isinstance(self.count, int) else float(host_state[1])
        return float(host_state[0]) / count if count else 0.0


class Sum(_Running):
    """Keras's `metrics.Sum`: the (weighted) sum of the values given to `update_state`.

    Kept on the values' device; `result()` reads it (one host copy). Not a compile metric: it
    takes values, not `(y_true, y_pred)`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the values' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Sum
        >>> metric = Sum()
        >>> metric.update_state(np.array([1.0, 3.0, 5.0]))
        >>> metric.update_state(np.array([2.0, 8.0]), sample_weight=np.array([0.5, 0.0]))
        >>> metric.result()
        10.0
    """

    summed_state = ("total",)

    def __init__(self, name: str = "sum", dtype: DType | None = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        """Forget every value seen so far.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Sum
            >>> metric = Sum()
            >>> metric.update_state(np.array([1.0, 3.0]))
            >>> metric.reset_state()
            >>> metric.result()
            0.0
        """
        self.total = None

    def update_state(self, values: Array, sample_weight: Array | None = None) -> None:  # type: ignore[override]
        """Add values (on their device; no host copy).

        Args:
            values: An array (any backend, or host values), any shape.
            sample_weight: Weights broadcastable to `values`, `(N,)` (per sample) or of `values`'s
                shape, or `None`.

        Raises:
            ValueError: If `sample_weight` has more axes than `values`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Sum
            >>> metric = Sum()
            >>> metric.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]))
            >>> metric.result()
            16.0
        """
        values, _ = _samplewise(values, sample_weight, "sum", self.total)
        total = B.array_namespace(values).sum(values)
        self.total = total if self.total is None else self.total + total

    def device_state(self) -> tuple[Array, ...]:
        """`(total,)`, a 0-d array on the values' device; `()` before any update.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Sum
            >>> metric = Sum()
            >>> metric.update_state(np.array([1.0, 3.0]))
            >>> [float(a) for a in metric.device_state()]
            [4.0]
        """
        return () if self.total is None else (self.total,)

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """The sum from the host copy of `device_state` (0.0 when empty).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Sum
            >>> metric = Sum()
            >>> metric.update_state(np.array([1.0]))
            >>> metric.result_from([np.asarray(4.0)])
            4.0
        """
        return 0.0 if self.total is None else float(host_state[0])
