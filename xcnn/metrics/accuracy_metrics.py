"""Accuracy metrics with Keras's names: each a per-sample function beside its Metric class.

The functions take device arrays `y_true` (as given to `fit`) and `y_pred` `(N, K)`
and return one value per sample (`(N,)`; `(N, K)` for the binary ones), 1.0 for a hit.
"""

from __future__ import annotations

from .._typing import Array, DType
from ..backend import array_namespace
from .metric import MeanMetricWrapper


def _labels(xp, y_true, y_pred):
    """Integer-like class labels ``(N,)`` from ``(N,)`` or ``(N, 1)`` labels, in ``y_pred``'s dtype."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = xp.reshape(y_true, y_true.shape[:-1])
    return xp.astype(y_true, y_pred.dtype)


def _same_rank(xp, y_true, y_pred):
    """``(N,)`` against ``(N, 1)`` predictions: add the axis, as Keras's squeeze_or_expand does."""
    if y_true.ndim == y_pred.ndim - 1:
        y_true = xp.reshape(y_true, (*y_true.shape, 1))
    return xp.astype(y_true, y_pred.dtype)


def accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where `y_pred == y_true` exactly (both already class labels or values).

    Args:
        y_true: Labels or values `(N, ...)`, or `(N,)` against `(N, 1)` predictions.
        y_pred: Predictions of the same kind, `(N, ...)`, float.

    Returns:
        `(N, ...)` ones and zeros in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import accuracy
        >>> accuracy(np.array([1.0, 2.0]), np.array([1.0, 3.0])).tolist()
        [1.0, 0.0]
    """
    xp = array_namespace(y_pred)
    return xp.astype(_same_rank(xp, y_true, y_pred) == y_pred, y_pred.dtype)


def binary_accuracy(y_true: Array, y_pred: Array, threshold: float = 0.5) -> Array:
    """1.0 where `(y_pred > threshold)` equals the 0/1 target, per entry `(N, K)`.

    Args:
        y_true: 0/1 targets `(N, K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: Probabilities `(N, K)`, float.
        threshold: The probability above which a prediction counts as 1.

    Returns:
        `(N, K)` ones and zeros in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import binary_accuracy
        >>> binary_accuracy(np.array([[1.0], [0.0]]), np.array([[0.7], [0.6]])).tolist()
        [[1.0], [0.0]]
    """
    xp = array_namespace(y_pred)
    predicted = xp.astype(y_pred > threshold, y_pred.dtype)
    return xp.astype(_same_rank(xp, y_true, y_pred) == predicted, y_pred.dtype)


def categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where `argmax(y_pred)` is `argmax(y_true)` (one-hot targets `(N, K)`).

    Args:
        y_true: One-hot targets `(N, K)`.
        y_pred: Scores `(N, K)`, float.

    Returns:
        `(N,)` ones and zeros in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import categorical_accuracy
        >>> y_true = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
        >>> y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> categorical_accuracy(y_true, y_pred).tolist()
        [1.0, 0.0, 1.0]
    """
    xp = array_namespace(y_pred)
    return xp.astype(xp.argmax(y_true, axis=-1) == xp.argmax(y_pred, axis=-1), y_pred.dtype)


def sparse_categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """1.0 where `argmax(y_pred)` is the integer label (`(N,)` or `(N, 1)`).

    Args:
        y_true: Integer labels `(N,)` or `(N, 1)`.
        y_pred: Scores `(N, K)`, float.

    Returns:
        `(N,)` ones and zeros in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import sparse_categorical_accuracy
        >>> sparse_categorical_accuracy(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])).tolist()
        [1.0, 1.0, 0.0]
    """
    xp = array_namespace(y_pred)
    predicted = xp.astype(xp.argmax(y_pred, axis=-1), y_pred.dtype)
    return xp.astype(_labels(xp, y_true, y_pred) == predicted, y_pred.dtype)


def _in_top_k(xp, y_pred, target_score, k):
    # the target is among the top k when fewer than k scores beat it strictly (ties count for
    # the target, as Keras's in_top_k: target >= k-th largest)
    beaten_by = xp.sum(xp.astype(y_pred > xp.reshape(target_score, (-1, 1)), y_pred.dtype), axis=-1)
    return xp.astype(beaten_by < k, y_pred.dtype)


def top_k_categorical_accuracy(y_true: Array, y_pred: Array, k: int = 5) -> Array:
    """1.0 where the class of one-hot `y_true` is among the `k` highest scores (ties count as hits, as in Keras).

    Args:
        y_true: One-hot targets `(N, K)`.
        y_pred: Scores `(N, K)`, float.
        k: How many of the highest scores count.

    Returns:
        `(N,)` ones and zeros in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import top_k_categorical_accuracy
        >>> y_true = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
        >>> y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> top_k_categorical_accuracy(y_true, y_pred, k=1).tolist()
        [1.0, 0.0, 1.0]
    """
    xp = array_namespace(y_pred)
    classes = xp.arange(y_pred.shape[-1], device=y_pred.device)
    hot = xp.astype(xp.reshape(xp.argmax(y_true, axis=-1), (-1, 1)) == classes, y_pred.dtype)
    return _in_top_k(xp, y_pred, xp.sum(y_pred * hot, axis=-1), k)


def sparse_top_k_categorical_accuracy(y_true: Array, y_pred: Array, k: int = 5) -> Array:
    """1.0 where the integer label is among the `k` highest scores.

    Args:
        y_true: Integer labels `(N,)` or `(N, 1)`.
        y_pred: Scores `(N, K)`, float.
        k: How many of the highest scores count.

    Returns:
        `(N,)` ones and zeros in `y_pred`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import sparse_top_k_categorical_accuracy
        >>> sparse_top_k_categorical_accuracy(np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), k=2).tolist()
        [1.0, 1.0, 1.0]
    """
    xp = array_namespace(y_pred)
    classes = xp.astype(xp.arange(y_pred.shape[-1], device=y_pred.device), y_pred.dtype)
    hot = xp.astype(xp.reshape(_labels(xp, y_true, y_pred), (-1, 1)) == classes, y_pred.dtype)
    return _in_top_k(xp, y_pred, xp.sum(y_pred * hot, axis=-1), k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal the labels exactly (see `accuracy`).

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Accuracy
        >>> metric = Accuracy()
        >>> y_true = np.array([1.0, 2.0])
        >>> y_pred = np.array([1.0, 3.0])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.5
    """

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name: str = "accuracy", dtype: DType | None = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches 0/1 targets (see `binary_accuracy`).

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        threshold: The probability above which a prediction counts as 1.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import BinaryAccuracy
        >>> metric = BinaryAccuracy()
        >>> y_true = np.array([[1.0], [0.0]])
        >>> y_pred = np.array([[0.7], [0.6]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.5
    """

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name: str = "binary_accuracy", dtype: DType | None = None, threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the top class matches one-hot targets (see `categorical_accuracy`).

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import CategoricalAccuracy
        >>> metric = CategoricalAccuracy()
        >>> y_true = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
        >>> y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.6667
    """

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name: str = "categorical_accuracy", dtype: DType | None = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the top class matches integer labels (see `sparse_categorical_accuracy`).

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import SparseCategoricalAccuracy
        >>> metric = SparseCategoricalAccuracy()
        >>> y_true = np.array([1, 0, 0])
        >>> y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.6667
    """

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: DType | None = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


def _positive_int(k, name="k"):
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{name} must be a positive int, got {k!r}")
    return k


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the `k` highest scores.

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        k: How many of the highest scores count.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Raises:
        ValueError: If `k` is not a positive int.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import TopKCategoricalAccuracy
        >>> metric = TopKCategoricalAccuracy(k=1)
        >>> y_true = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
        >>> y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        0.6667
    """

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: DType | None = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=_positive_int(k))
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest scores.

    A running mean over every sample seen, kept on the arrays' device.

    Args:
        k: How many of the highest scores count.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Raises:
        ValueError: If `k` is not a positive int.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import SparseTopKCategoricalAccuracy
        >>> metric = SparseTopKCategoricalAccuracy(k=2)
        >>> y_true = np.array([1, 0, 0])
        >>> y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> metric.update_state(y_true, y_pred)
        >>> round(metric.result(), 4)
        1.0
    """

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: DType | None = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=_positive_int(k))
        self.k = k
