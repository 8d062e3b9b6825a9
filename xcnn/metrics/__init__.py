"""Metrics with Keras's names, by name or as objects in `model.compile(metrics=[...])`.

Each metric keeps its running state on the model's device and is read (one host copy) when
the epoch ends or the progress bar refreshes. The logs name a metric as Keras does: by the
string given in `compile` (`"acc"` -> `logs["acc"]`), else by the object's `name`.
`"accuracy"`/`"acc"` become binary, sparse-categorical or categorical accuracy from the
output and the targets, as in Keras. AUC is the ROC subset (see `AUC`); `Precision` and
`Recall` keep one threshold. A string names a metric as Keras's `metrics.get` does: by class
name or its snake case (`"binary_crossentropy"`, `"f1_score"`, `"true_positives"`, ...). The
loss functions Keras exposes here (`binary_crossentropy`, `huber`, ...) are `xcnn.losses`'s.
"""

from __future__ import annotations

import re
from typing import Any

from .._typing import Array
from .accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from ..losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .confusion_metrics import AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .f_score_metrics import F1Score, FBetaScore
from .metric import MeanMetricWrapper, Metric
from .probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .reduction_metrics import Mean, Sum
from .regression_metrics import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_squared_error,
)

_CLASSES = (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    AUC,
    Precision,
    Recall,
    RootMeanSquaredError,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    KLDivergence,
    Poisson,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    LogCoshError,
    CosineSimilarity,
    Mean,
    Sum,
    TruePositives,
    FalsePositives,
    TrueNegatives,
    FalseNegatives,
    F1Score,
    FBetaScore,
    R2Score,
)
_FUNCTIONS = (
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    mean_absolute_error,
    mean_squared_error,
)
# the loss functions keras.metrics exposes (xcnn.losses's): compile takes them, as functions
_LOSS_FUNCTIONS = (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)


def _keras_snake(name):
    """Keras's `to_snake_case`, which makes a metric's string name from its class name."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# string -> a callable that makes a fresh Metric; a name of a loss function that is also a class's
# snake-case name ("binary_crossentropy") means that class, as in Keras
_REGISTRY = {
    **{fn.__name__: (lambda fn=fn: MeanMetricWrapper(fn)) for fn in _LOSS_FUNCTIONS},
    **{_keras_snake(cls.__name__): cls for cls in _CLASSES if cls is not Accuracy},
    **{cls.__name__: cls for cls in _CLASSES},
    **{fn.__name__: (lambda fn=fn: MeanMetricWrapper(fn)) for fn in _FUNCTIONS},
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
    "auc": AUC,
    "precision": Precision,
    "recall": Recall,
    "root_mean_squared_error": RootMeanSquaredError,
}
NAMES = ("accuracy", "acc", *_REGISTRY)


def get(identifier: Any, y_true: Array | None = None, y_pred: Array | None = None) -> Metric:
    """A fresh `Metric` from a name, a `Metric` class or a function; a `Metric` is returned as it is.

    A function `fn(y_true, y_pred) -> (N,)` is wrapped in a running mean (`MeanMetricWrapper`).

    `"accuracy"`/`"acc"` look at a batch's `y_true` and `y_pred` to choose, as Keras does: binary
    accuracy for one output unit, sparse-categorical accuracy for integer labels (`y_true` of lower
    rank, or `(N, 1)` against several units), else categorical accuracy. A metric named by a
    string takes that string as its `name` (its key in the logs).

    Args:
        identifier: A name (see `NAMES`), a `Metric`, a `Metric` subclass, `serialize`'s dict, or
            a function.
        y_true: A batch's targets (needed for `"accuracy"`).
        y_pred: A batch's outputs `(N, K)` (needed for `"accuracy"`).

    Returns:
        The metric.

    Raises:
        ValueError: If the name or config is unknown, or `"accuracy"` comes without a batch.

    Examples:
        >>> import numpy as np
        >>> from xcnn import metrics
        >>> metrics.get("mae").name
        'mae'
        >>> y_true, y_pred = np.array([1, 0, 0]), np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        >>> type(metrics.get("acc", y_true, y_pred)).__name__
        'SparseCategoricalAccuracy'
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):  # serialize()'s form of a Metric object
        cls = {c.__name__: c for c in _CLASSES}.get(identifier.get("class_name"))  # type: ignore[arg-type]
        if cls is None:
            raise ValueError(
                f"unknown metric config {identifier!r}; its class_name must be one of {[c.__name__ for c in _CLASSES]}"
            )
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            if y_true is None or y_pred is None:
                raise ValueError(f"metric {identifier!r} needs a batch's y_true and y_pred to choose its kind")
            if y_pred.shape[-1] == 1:
                return BinaryAccuracy(name=identifier)
            if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
                return SparseCategoricalAccuracy(name=identifier)
            return CategoricalAccuracy(name=identifier)
        if identifier in _REGISTRY:
            metric = _REGISTRY[identifier]()
            metric.name = identifier
            return metric
    elif callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"unknown metric {identifier!r}; expected one of {NAMES}, an xcnn.metrics.Metric, "
        "or a function fn(y_true, y_pred)"
    )


def serialize(metric: Any) -> Any:
    """A JSON-able form of a compile `metrics` entry, which `get` rebuilds.

    Names stay names, Metric objects become `{"class_name", "config"}`, functions their name.

    Args:
        metric: A name, a `Metric`, a `Metric` class or a function.

    Returns:
        A string or a dict.

    Examples:
        >>> from xcnn import metrics
        >>> metrics.serialize("acc")
        'acc'
        >>> sorted(metrics.serialize(metrics.AUC(num_thresholds=3)))
        ['class_name', 'config']
    """
    if isinstance(metric, str):
        return metric
    if isinstance(metric, MeanMetricWrapper) and type(metric) is MeanMetricWrapper:
        return metric._fn.__name__
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    if isinstance(metric, type):
        return metric.__name__
    return getattr(metric, "__name__", repr(metric))


__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "Poisson",
    "Precision",
    "R2Score",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
    "top_k_categorical_accuracy",
]
