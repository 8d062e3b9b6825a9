"""Regression metrics with Keras's names: the mean over samples of a per-sample error."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._typing import Array, DType
from ..backend import array_namespace
from .metric import MeanMetricWrapper


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
