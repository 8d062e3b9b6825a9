"""Regression metrics with Keras's names: the mean over samples of a per-sample error."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._typing import Array, DType
from ..backend import array_namespace
from .metric import MeanMetricWrapper, Metric, as_array


def _difference(xp, y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1:  # (N,) targets for (N, 1) outputs
        y_true = xp.reshape(y_true, (*y_true.shape, 1))
    return y_pred - xp.astype(y_true, y_pred.dtype)


def mean_squared_error(y_true: Array, y_pred: Array) -> Array:
    """`mean((y_pred - y_true)**2)` over the last axis, per sample.

    Args:
        y_true: Targets `(N, K)` (or `(N,)` for `(N, 1)` outputs).
        y_pred: Predictions `(N, K)`, float.

    Returns:
        `(N,)` in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import mean_squared_error
        >>> mean_squared_error(np.array([[0.0, 1.0]]), np.array([[0.5, 1.0]])).tolist()
        [0.125]
    """
    xp = array_namespace(y_pred)
    d = _difference(xp, y_true, y_pred)
    return xp.mean(d * d, axis=-1)


def mean_absolute_error(y_true: Array, y_pred: Array) -> Array:
    """`mean(|y_pred - y_true|)` over the last axis, per sample.

    Args:
        y_true: Targets `(N, K)` (or `(N,)` for `(N, 1)` outputs).
        y_pred: Predictions `(N, K)`, float.

    Returns:
        `(N,)` in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import mean_absolute_error
        >>> mean_absolute_error(np.array([[0.0, 1.0]]), np.array([[0.5, 1.0]])).tolist()
        [0.25]
    """
    xp = array_namespace(y_pred)
    return xp.mean(xp.abs(_difference(xp, y_true, y_pred)), axis=-1)


class MeanSquaredError(MeanMetricWrapper):
    """The mean over samples of `mean_squared_error` (the metric, not the loss).

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import MeanSquaredError
        >>> metric = MeanSquaredError()
        >>> y_true = np.array([[0.0, 1.0]])
        >>> y_pred = np.array([[0.5, 1.0]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.125
    """

    _direction = "down"

    def __init__(self, name: str = "mean_squared_error", dtype: DType | None = None) -> None:
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean over samples of `mean_absolute_error` (the metric, not the loss).

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import MeanAbsoluteError
        >>> metric = MeanAbsoluteError()
        >>> y_true = np.array([[0.0, 1.0]])
        >>> y_pred = np.array([[0.5, 1.0]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.25
    """

    _direction = "down"

    def __init__(self, name: str = "mean_absolute_error", dtype: DType | None = None) -> None:
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean over samples of `losses.mean_absolute_percentage_error`, as Keras's metric.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import MeanAbsolutePercentageError
        >>> metric = MeanAbsolutePercentageError()
        >>> metric.update_state(np.array([[1.0, 2.0]]), np.array([[1.5, 2.0]]))
        >>> round(metric.result(), 4)
        25.0
    """

    _direction = "down"

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: DType | None = None) -> None:
        from ..losses import mean_absolute_percentage_error

        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean over samples of `losses.mean_squared_logarithmic_error`, as Keras's metric.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import MeanSquaredLogarithmicError
        >>> metric = MeanSquaredLogarithmicError()
        >>> metric.update_state(np.array([[0.0, 0.0]]), np.array([[np.e - 1.0, 0.0]]))
        >>> round(metric.result(), 4)
        0.5
    """

    _direction = "down"

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: DType | None = None) -> None:
        from ..losses import mean_squared_logarithmic_error

        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


def _squared_error(y_true, y_pred):
    """``(y_pred - y_true)**2`` per entry, ranks matched as Keras's RootMeanSquaredError matches them."""
    xp = array_namespace(y_pred)
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:  # (N, 1) targets for (N,) outputs
        y_true = xp.reshape(y_true, y_true.shape[:-1])
    d = _difference(xp, y_true, y_pred)
    return d * d


class RootMeanSquaredError(MeanMetricWrapper):
    """Keras's `RootMeanSquaredError`: the square root of the mean squared error over every
    sample seen (the root of `MeanSquaredError`'s running mean, not a mean of roots).

    A running mean kept on the arrays' device; each sample's weight scales its mean squared
    error, and the weights' sum is the count, as in Keras.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import RootMeanSquaredError
        >>> metric = RootMeanSquaredError()
        >>> metric.update_state(np.array([[0.0, 1.0], [2.0, 2.0]]), np.array([[1.0, 1.0], [2.0, 5.0]]))
        >>> metric.result()  # sqrt((1 + 0 + 0 + 9) / 4)
        1.5811388300841898
    """

    _direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: DType | None = None) -> None:
        super().__init__(_squared_error, name=name, dtype=dtype)

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """The square root of `MeanMetricWrapper.result_from` (0.0 when empty).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import RootMeanSquaredError
            >>> metric = RootMeanSquaredError()
            >>> metric.update_state(np.array([[0.0], [1.0]]), np.array([[2.0], [1.0]]))
            >>> metric.result_from([np.asarray(8.0)])  # a total of 8 over the 2 samples seen
            2.0
        """
        return math.sqrt(super().result_from(host_state))

    def __call__(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> float:
        """Keras's stateless use: the metric of this one batch (the running state is untouched)."""
        fresh = RootMeanSquaredError(name=self.name, dtype=self.dtype)
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """Keras's `R2Score`: the coefficient of determination `1 - SS_res / SS_tot` per output
    column, over every sample seen, then aggregated.

    Weighted sums of the targets, their squares, the squared errors and the weights are kept
    per column on the device; `result()` reads them once. A column whose targets do not vary
    (`SS_tot = 0`) scores 0, as in Keras. With `num_regressors` `p > 0`, the adjusted score
    `1 - (1 - R2) (n - 1) / (n - p - 1)`, `n` the number of target entries seen (as Keras counts
    them); Keras's warning and the plain score where `p >= n - 1`.

    Args:
        class_aggregation: `"uniform_average"` (the mean over columns),
            `"variance_weighted_average"` (weighted by each column's `SS_tot`) or `None` (one score
            per column: `result()` is a NumPy array `(K,)`).
        num_regressors: The number of independent variables, for the adjusted score; an int >= 0.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the sums take the predictions' dtype).

    Input shape:
        Targets and predictions `(N, K)` (or `(N,)` targets for `(N, 1)` predictions);
        `sample_weight` `(N,)` or `(N, K)`.

    Raises:
        ValueError: If `class_aggregation` or `num_regressors` is not one of the values above.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import R2Score
        >>> metric = R2Score()
        >>> metric.update_state(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.5], [2.5]]))
        >>> round(metric.result(), 4)  # 1 - 0.5 / 2
        0.75
    """

    _direction = "up"
    summed_state = ("sum", "squared_sum", "total_mse", "count", "num_samples")

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype: DType | None = None,
    ) -> None:
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(f"class_aggregation must be one of {_AGGREGATIONS}, got {class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"num_regressors must be an int >= 0, got {num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        """Forget every batch seen so far.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import R2Score
            >>> metric = R2Score()
            >>> metric.update_state(np.array([[1.0], [2.0]]), np.array([[1.0], [2.5]]))
            >>> metric.reset_state()
            >>> metric.result()
            0.0
        """
        self.sum: Any = None
        self.squared_sum: Any = None
        self.total_mse: Any = None
        self.count: Any = None
        self.num_samples = 0

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """Add one batch's per-column sums (on the device).

        Args:
            y_true: Targets `(N, K)`.
            y_pred: Predictions `(N, K)`.
            sample_weight: `(N,)` or `(N, K)` weights, or `None`.

        Raises:
            ValueError: If the targets and predictions are not both `(N, K)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import R2Score
            >>> metric = R2Score(class_aggregation=None)
            >>> metric.update_state(np.array([[1.0, 0.0], [3.0, 2.0]]), np.array([[1.0, 1.0], [3.0, 1.0]]))
            >>> metric.result().tolist()
            [1.0, 0.0]
        """
        from ..losses import _same_rank

        xp = array_namespace(y_pred)
        y_true = as_array(y_true, y_pred)
        y_true = xp.astype(y_true, y_pred.dtype) if y_true.dtype != y_pred.dtype else y_true
        y_true, y_pred = _same_rank(xp, y_true, y_pred)
        if y_pred.ndim != 2 or tuple(y_true.shape) != tuple(y_pred.shape):
            raise ValueError(
                f"R2Score needs targets and predictions of one shape (N, K), got y_true {tuple(y_true.shape)} "
                f"and y_pred {tuple(y_pred.shape)}"
            )
        if sample_weight is None:
            weight = xp.ones_like(y_true)
        else:
            w = as_array(sample_weight, y_pred)
            w = xp.astype(w, y_true.dtype) if w.dtype != y_true.dtype else w
            weight = xp.broadcast_to(xp.reshape(w, (-1, 1)) if w.ndim == 1 else w, y_true.shape)
        weighted = y_true * weight
        d = y_true - y_pred
        sums = (
            xp.sum(weighted, axis=0),
            xp.sum(y_true * weighted, axis=0),
            xp.sum(d * d * weight, axis=0),
            xp.sum(weight, axis=0),
        )
        if self.sum is None:
            self.sum, self.squared_sum, self.total_mse, self.count = sums
        else:
            self.sum = self.sum + sums[0]
            self.squared_sum = self.squared_sum + sums[1]
            self.total_mse = self.total_mse + sums[2]
            self.count = self.count + sums[3]
        self.num_samples += math.prod(y_true.shape)

    def device_state(self) -> tuple[Array, ...]:
        """The per-column weighted sums of the targets, their squares, the squared errors and the
        weights, `(K,)` each, on the device; `()` before any batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import R2Score
            >>> metric = R2Score()
            >>> metric.update_state(np.array([[1.0], [3.0]]), np.array([[2.0], [3.0]]))
            >>> [a.tolist() for a in metric.device_state()]
            [[4.0], [10.0], [1.0], [2.0]]
        """
        if self.sum is None:
            return ()
        return (self.sum, self.squared_sum, self.total_mse, self.count)

    def result_from(self, host_state: Sequence[np.ndarray]) -> Any:
        """The score from `device_state`'s sums copied to the host, as Keras computes it: a float,
        or a NumPy array `(K,)` with `class_aggregation=None` (0.0 before any batch).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import R2Score
            >>> metric = R2Score()
            >>> metric.update_state(np.array([[1.0], [3.0]]), np.array([[2.0], [3.0]]))
            >>> metric.result_from([np.array([4.0]), np.array([10.0]), np.array([1.0]), np.array([2.0])])
            0.5
        """
        if self.sum is None:
            return 0.0
        total_sum, squared_sum, total_mse, count = (np.asarray(a, dtype=np.float64) for a in host_state)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total_sum / count
            total = squared_sum - total_sum * mean
            raw = 1.0 - total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score: Any = float(np.mean(raw))
        elif self.class_aggregation == "variance_weighted_average":
            score = float(np.sum(total * raw) / np.sum(total))
        else:
            score = raw
        n, p = self.num_samples, self.num_regressors
        if p == 0:
            return score
        if p >= n - 1:
            reason = "More independent predictors than datapoints" if p > n - 1 else "Division by zero"
            warnings.warn(
                f"{reason} in adjusted R2 score. Falling back to standard R2 score.", UserWarning, stacklevel=2
            )
            return score
        return 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)

    def get_config(self) -> dict[str, Any]:
        """As `Metric.get_config`: the constructor arguments (Keras's config).

        Examples:
            >>> from xcnn.metrics import R2Score
            >>> R2Score(num_regressors=2).get_config()
            {'name': 'r2_score', 'dtype': None, 'class_aggregation': 'uniform_average', 'num_regressors': 2}
        """
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
