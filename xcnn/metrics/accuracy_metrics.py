"""Accuracy metrics with Keras's names: each a per-sample function beside its Metric class.

The functions take device arrays ``y_true`` (as given to ``fit``) and ``y_pred`` ``(N, K)``
and return one value per sample (``(N,)``; ``(N, K)`` for the binary ones), 1.0 for a hit.
"""

from __future__ import annotations

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


def accuracy(y_true, y_pred):
    """1.0 where ``y_pred == y_true`` exactly (both already class labels or values)."""
    xp = array_namespace(y_pred)
    return xp.astype(_same_rank(xp, y_true, y_pred) == y_pred, y_pred.dtype)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold)`` equals the 0/1 target, per entry ``(N, K)``."""
    xp = array_namespace(y_pred)
    predicted = xp.astype(y_pred > threshold, y_pred.dtype)
    return xp.astype(_same_rank(xp, y_true, y_pred) == predicted, y_pred.dtype)


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` is ``argmax(y_true)`` (one-hot targets ``(N, K)``)."""
    xp = array_namespace(y_pred)
    return xp.astype(xp.argmax(y_true, axis=-1) == xp.argmax(y_pred, axis=-1), y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` is the integer label (``(N,)`` or ``(N, 1)``)."""
    xp = array_namespace(y_pred)
    predicted = xp.astype(xp.argmax(y_pred, axis=-1), y_pred.dtype)
    return xp.astype(_labels(xp, y_true, y_pred) == predicted, y_pred.dtype)


def _in_top_k(xp, y_pred, target_score, k):
    # the target is among the top k when fewer than k scores beat it strictly (ties count for
    # the target, as Keras's in_top_k: target >= k-th largest)
    beaten_by = xp.sum(xp.astype(y_pred > xp.reshape(target_score, (-1, 1)), y_pred.dtype), axis=-1)
    return xp.astype(beaten_by < k, y_pred.dtype)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class of one-hot ``y_true`` is among the ``k`` highest scores."""
    xp = array_namespace(y_pred)
    classes = xp.arange(y_pred.shape[-1], device=y_pred.device)
    hot = xp.astype(xp.reshape(xp.argmax(y_true, axis=-1), (-1, 1)) == classes, y_pred.dtype)
    return _in_top_k(xp, y_pred, xp.sum(y_pred * hot, axis=-1), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the ``k`` highest scores."""
    xp = array_namespace(y_pred)
    classes = xp.astype(xp.arange(y_pred.shape[-1], device=y_pred.device), y_pred.dtype)
    hot = xp.astype(xp.reshape(_labels(xp, y_true, y_pred), (-1, 1)) == classes, y_pred.dtype)
    return _in_top_k(xp, y_pred, xp.sum(y_pred * hot, axis=-1), k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal the labels exactly (see :func:`accuracy`)."""

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches 0/1 targets (see :func:`binary_accuracy`)."""

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the top class matches one-hot targets."""

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the top class matches integer labels."""

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


def _positive_int(k, name="k"):
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{name} must be a positive int, got {k!r}")
    return k


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the ``k`` highest scores."""

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=_positive_int(k))
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores."""

    _direction = "up"  # which way is better, for callbacks in mode="auto"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=_positive_int(k))
        self.k = k
