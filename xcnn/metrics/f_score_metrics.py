"""Keras's `FBetaScore` and `F1Score`: the F-score from per-class (or global) true positive,
false positive and false negative counts summed on the device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._typing import Array, DType
from ..backend import array_namespace
from .metric import Metric, as_array

_EPSILON = 1e-7
_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """Keras's `FBetaScore`: `(1 + beta**2) * P * R / (beta**2 * P + R)` from precision `P` and
    recall `R`, per class or averaged.

    A prediction is positive where it is above `threshold`, or, with `threshold=None`, where it
    is its row's largest (and not 0); the targets are one-hot or multi-label 0/1 rows. Weighted
    counts are summed on the device; `result()` reads them once. As Keras, `1e-7` is added to
    each denominator.

    Args:
        average: `None` (one score per class: `result()` is a NumPy array `(K,)`), `"micro"`
            (one score from the counts of every entry), `"macro"` (the mean of the class scores)
            or `"weighted"` (their mean weighted by each class's number of positive targets).
        beta: How much more recall counts than precision; > 0.
        threshold: A number in `(0, 1]`, or `None` for the row's largest prediction.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the counts take the predictions' dtype).

    Input shape:
        Targets and predictions `(N, K)`; `sample_weight` `(N,)`.

    Raises:
        ValueError: If `average`, `beta` or `threshold` is not one of the values above.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import FBetaScore
        >>> metric = FBetaScore(average="micro", beta=2.0)
        >>> metric.update_state(np.array([[1, 0], [0, 1], [1, 0]]), np.array([[0.9, 0.1], [0.6, 0.4], [0.8, 0.2]]))
        >>> round(metric.result(), 4)  # P = R = 2/3
        0.6667
    """

    _direction = "up"
    summed_state = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: DType | None = None,
    ) -> None:
        if average not in _AVERAGES:
            raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"beta must be a number > 0, got {beta!r}")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0
        ):
            raise ValueError(f"threshold must be None or a number in (0, 1], got {threshold!r}")
        self.average, self.beta = average, float(beta)
        self.threshold = None if threshold is None else float(threshold)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        """Forget every batch seen so far.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import F1Score
            >>> metric = F1Score(average="macro")
            >>> metric.update_state(np.array([[1, 0]]), np.array([[0.9, 0.1]]))
            >>> metric.reset_state()
            >>> metric.result()
            0.0
        """
        self.true_positives: Any = None
        self.false_positives: Any = None
        self.false_negatives: Any = None
        self.intermediate_weights: Any = None

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """Add one batch's true positive, false positive and false negative counts (on the device).

        Args:
            y_true: One-hot or multi-label 0/1 targets `(N, K)`.
            y_pred: Scores or probabilities `(N, K)`.
            sample_weight: `(N,)` weights, or `None`.

        Raises:
            ValueError: If `y_true` or `y_pred` is not `(N, K)`, or they differ in shape.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import F1Score
            >>> metric = F1Score(threshold=0.5)
            >>> metric.update_state(np.array([[1, 1], [1, 0]]), np.array([[0.6, 0.3], [0.7, 0.8]]))
            >>> metric.result().round(4).tolist()  # class 0: P = R = 1; class 1: P = R = 0
            [1.0, 0.0]
        """
        xp = array_namespace(y_pred)
        y_true = as_array(y_true, y_pred)
        if y_pred.ndim != 2 or tuple(y_true.shape) != tuple(y_pred.shape):
            raise ValueError(
                f"{type(self).__name__} needs targets and predictions of one shape (N, K), got y_true "
                f"{tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}"
            )
        if not xp.isdtype(y_pred.dtype, "real floating"):
            y_pred = xp.astype(y_pred, xp.float64 if xp.isdtype(y_true.dtype, "real floating") else xp.float32)
        y_true = xp.astype(y_true, y_pred.dtype)
        if self.threshold is None:
            top = xp.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= top) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = xp.astype(predicted, y_pred.dtype)
        weight = None
        if sample_weight is not None:
            w = as_array(sample_weight, y_pred)
            weight = xp.astype(xp.reshape(w, (-1, 1)), y_pred.dtype)

        def weighted_sum(values):
            if weight is not None:
                values = values * weight
            return xp.sum(values) if self.average == "micro" else xp.sum(values, axis=0)

        counts = (
            weighted_sum(predicted * y_true),
            weighted_sum(predicted * (1.0 - y_true)),
            weighted_sum((1.0 - predicted) * y_true),
            weighted_sum(y_true),
        )
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights = counts
        else:
            self.true_positives = self.true_positives + counts[0]
            self.false_positives = self.false_positives + counts[1]
            self.false_negatives = self.false_negatives + counts[2]
            self.intermediate_weights = self.intermediate_weights + counts[3]

    def device_state(self) -> tuple[Array, ...]:
        """The true positive, false positive, false negative and positive-target counts, `(K,)`
        each (0-d with `average="micro"`), on the device; `()` before any batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import F1Score
            >>> metric = F1Score()
            >>> metric.update_state(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.1], [0.6, 0.4]]))
            >>> [a.tolist() for a in metric.device_state()]
            [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
        """
        if self.true_positives is None:
            return ()
        return (self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights)

    def result_from(self, host_state: Sequence[np.ndarray]) -> Any:
        """The score from `device_state`'s counts copied to the host: a float, or a NumPy array
        `(K,)` with `average=None` (0.0 before any batch).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import F1Score
            >>> metric = F1Score(average="micro")
            >>> metric.update_state(np.array([[1, 0]]), np.array([[0.9, 0.1]]))
            >>> round(metric.result_from([np.asarray(3.0), np.asarray(1.0), np.asarray(1.0), np.asarray(4.0)]), 4)
            0.75
        """
        if self.true_positives is None:
            return 0.0
        tp, fp, fn, support = (np.asarray(a, dtype=np.float64) for a in host_state)
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        beta2 = self.beta**2
        score = (1.0 + beta2) * (precision * recall) / (beta2 * precision + recall + _EPSILON)
        if self.average == "weighted":
            return float(np.sum(score * support / (np.sum(support) + _EPSILON)))
        if self.average is not None:
            return float(np.mean(score))
        return score

    def get_config(self) -> dict[str, Any]:
        """As `Metric.get_config`: the constructor arguments (Keras's config).

        Examples:
            >>> from xcnn.metrics import FBetaScore
            >>> FBetaScore(average="macro", beta=0.5).get_config()
            {'name': 'fbeta_score', 'dtype': None, 'average': 'macro', 'beta': 0.5, 'threshold': None}
        """
        return {
            "name": self.name,
            "dtype": self.dtype,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """Keras's `F1Score`: `FBetaScore` with `beta=1`, `2 * P * R / (P + R)`.

    Args:
        average: `None` (one score per class, a NumPy array `(K,)`), `"micro"`, `"macro"` or
            `"weighted"` (see `FBetaScore`).
        threshold: A number in `(0, 1]`, or `None` for the row's largest prediction.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the counts take the predictions' dtype).

    Input shape:
        Targets and predictions `(N, K)`; `sample_weight` `(N,)`.

    Raises:
        ValueError: If `average` or `threshold` is not one of the values above.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import F1Score
        >>> metric = F1Score(average="macro")
        >>> metric.update_state(np.array([[1, 0], [0, 1], [1, 0]]), np.array([[0.9, 0.1], [0.6, 0.4], [0.8, 0.2]]))
        >>> round(metric.result(), 4)  # class 0: 0.8, class 1: 0
        0.4
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: DType | None = None,
    ) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        """As `FBetaScore.get_config`, without `beta` (Keras's config).

        Examples:
            >>> from xcnn.metrics import F1Score
            >>> F1Score(average="weighted").get_config()
            {'name': 'f1_score', 'dtype': None, 'average': 'weighted', 'threshold': None}
        """
        config = super().get_config()
        del config["beta"]
        return config
