"""Regression metrics with Keras's names: the mean over samples of a per-sample error."""

from __future__ import annotations

from ..backend import array_namespace
from .metric import MeanMetricWrapper


def _difference(xp, y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1:  # (N,) targets for (N, 1) outputs
        y_true = xp.reshape(y_true, (*y_true.shape, 1))
    return y_pred - xp.astype(y_true, y_pred.dtype)


def mean_squared_error(y_true, y_pred):
    """``mean((y_pred - y_true)**2)`` over the last axis: ``(N,)``."""
    xp = array_namespace(y_pred)
    d = _difference(xp, y_true, y_pred)
    return xp.mean(d * d, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|)`` over the last axis: ``(N,)``."""
    xp = array_namespace(y_pred)
    return xp.mean(xp.abs(_difference(xp, y_true, y_pred)), axis=-1)


class MeanSquaredError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)
