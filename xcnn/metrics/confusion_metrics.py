"""Metrics from confusion counts: `AUC` (the area under the ROC curve at fixed thresholds),
`Precision` and `Recall` (at one threshold), and the counts themselves (`TruePositives`,
`FalsePositives`, `TrueNegatives`, `FalseNegatives`, at one threshold or several)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend as B
from .._typing import Array, DType
from ..backend import array_namespace
from ..ops.activations import sigmoid
from .metric import Metric, as_array

_EPSILON = 1e-7


class AUC(Metric):
    """Keras's `AUC`: the area under the ROC curve from confusion counts at fixed thresholds.

    The subset `curve="ROC"`, `summation_method="interpolation"`, one label: true/false positive and
    negative counts at `num_thresholds` thresholds spread evenly over `[0, 1]` are summed on the
    device; `result()` integrates the ROC curve by the trapezoid rule, as Keras does.

    Args:
        num_thresholds: The number of thresholds (> 1).
        curve: Must be `"ROC"`.
        summation_method: Must be `"interpolation"`.
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility.
        thresholds: Must be `None`.
        multi_label: Must be false.
        from_logits: The predictions are logits (a sigmoid is applied first).

    Input shape:
        Predictions `(N,)` or `(N, K)` (probabilities, or logits), every entry judged against the
        0/1 target at its place, of the same size.

    Raises:
        ValueError: If `num_thresholds` is not an int > 1, or an argument asks for what xcnn's AUC
            does not support.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import AUC
        >>> auc = AUC()
        >>> auc.update_state(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
        >>> round(auc.result(), 4)
        0.75
    """

    _direction = "up"
    summed_state = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str = "auc",
        dtype: DType | None = None,
        thresholds: Any = None,
        multi_label: bool = False,
        from_logits: bool = False,
    ) -> None:
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
            raise ValueError(f"num_thresholds must be an int > 1, got {num_thresholds!r}")
        if curve != "ROC" or summation_method != "interpolation" or thresholds is not None or multi_label:
            raise ValueError(
                "xcnn's AUC supports curve='ROC', summation_method='interpolation', thresholds=None and "
                f"multi_label=False only; got curve={curve!r}, summation_method={summation_method!r}, "
                f"thresholds={thresholds!r}, multi_label={multi_label!r}"
            )
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, curve, summation_method
        self.thresholds, self.multi_label, self.from_logits = thresholds, multi_label, bool(from_logits)
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - _EPSILON, *inner, 1.0 + _EPSILON])
        self._device_thresholds: tuple[Any, Any] | None = None  # (backend, device, dtype), the thresholds there
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        """Forget every batch seen so far.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import AUC
            >>> auc = AUC()
            >>> auc.update_state(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
            >>> auc.reset_state()
            >>> auc.result()
            0.0
        """
        self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """Add one batch's confusion counts at every threshold (on the device).

        Args:
            y_true: 0/1 targets, one per prediction.
            y_pred: Probabilities (or logits with `from_logits`), `(N,)` or `(N, K)`.
            sample_weight: Must be `None`.

        Raises:
            ValueError: If `sample_weight` is given, or the targets and predictions differ in size.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import AUC
            >>> auc = AUC()
            >>> auc.update_state(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
            >>> auc.update_state(np.array([1]), np.array([0.9]))
            >>> round(auc.result(), 4)
            0.8333
        """
        xp = array_namespace(y_pred)
        y_true = as_array(y_true, y_pred)
        if sample_weight is not None:
            raise ValueError("xcnn's AUC does not take sample_weight")
        p = sigmoid(y_pred) if self.from_logits else y_pred
        p = xp.minimum(xp.maximum(xp.reshape(p, (-1, 1)), 0.0), 1.0)  # not xp.clip: it syncs on CuPy
        positive = xp.reshape(xp.astype(y_true, p.dtype), (-1, 1)) > 0.5
        if positive.shape[0] != p.shape[0]:
            raise ValueError(
                f"AUC needs one target per prediction, got y_true {tuple(y_true.shape)} "
                f"for y_pred {tuple(y_pred.shape)}"
            )
        key = (B.backend_of(p), str(p.device), str(p.dtype))
        if self._device_thresholds is None or self._device_thresholds[0] != key:  # copied once, not per batch
            self._device_thresholds = key, B.asarray(self._thresholds, key[0], p.dtype, device=p.device)
        thresholds = self._device_thresholds[1]  # (T,)
        above = p > xp.reshape(thresholds, (1, -1))  # (M, T): predicted positive at each threshold
        pos = xp.astype(positive, p.dtype)
        neg = 1.0 - pos
        above = xp.astype(above, p.dtype)
        counts = (
            xp.sum(above * pos, axis=0),
            xp.sum(above * neg, axis=0),
            xp.sum((1.0 - above) * neg, axis=0),
            xp.sum((1.0 - above) * pos, axis=0),
        )
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = counts
        else:
            self.true_positives = self.true_positives + counts[0]
            self.false_positives = self.false_positives + counts[1]
            self.true_negatives = self.true_negatives + counts[2]
            self.false_negatives = self.false_negatives + counts[3]

    def device_state(self) -> tuple[Array, ...]:
        """The true/false positive/negative counts at each threshold `(T,)` each, on the device; `()` before any batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import AUC
            >>> auc = AUC(num_thresholds=3)  # thresholds 0, 0.5 and 1
            >>> auc.update_state(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
            >>> [a.tolist() for a in auc.device_state()]  # TP, FP, TN, FN at each threshold
            [[2.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 2.0], [0.0, 1.0, 2.0]]
        """
        if self.true_positives is None:
            return ()
        return (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives)

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """The area under the curve from `device_state`'s four count vectors copied to the host.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import AUC
            >>> auc = AUC(num_thresholds=3)
            >>> auc.update_state(np.array([0, 1]), np.array([0.2, 0.9]))
            >>> tp, fp, tn, fn = (np.array(c) for c in ([2, 1, 0], [2, 0, 0], [0, 2, 2], [0, 1, 2]))
            >>> auc.result_from([tp, fp, tn, fn])  # ROC points (1, 1), (0, 0.5), (0, 0): trapezoids
            0.75
        """
        if self.true_positives is None:
            return 0.0
        tp, fp, tn, fn = (a.astype(np.float64) for a in host_state)
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            fp_rate = np.where(fp + tn > 0, fp / (fp + tn), 0.0)
        heights = (recall[:-1] + recall[1:]) / 2.0
        return float(np.sum((fp_rate[:-1] - fp_rate[1:]) * heights))

    def get_config(self) -> dict[str, Any]:
        """As `Metric.get_config`: AUC's constructor arguments.

        Examples:
            >>> from xcnn.metrics import AUC
            >>> AUC(num_thresholds=50).get_config()["num_thresholds"]
            50
        """
        return {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
        }


def _matched(who, y_true, y_pred, sample_weight):
    """``(xp, y_true, y_pred, weight)``: the targets on the predictions' device and of their shape
    (ranks one apart matched on a size-1 last axis), the `(N,)` weights shaped to broadcast
    against the predictions (or `None`)."""
    xp = array_namespace(y_pred)
    y_true = as_array(y_true, y_pred)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:  # (N,) targets for (N, 1) outputs
        y_true = xp.reshape(y_true, (*y_true.shape, 1))
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:  # (N, 1) targets for (N,) outputs
        y_true = xp.reshape(y_true, y_true.shape[:-1])
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{who} needs one target per prediction, got y_true {tuple(y_true.shape)} for y_pred {tuple(y_pred.shape)}"
        )
    weight = None
    if sample_weight is not None:
        w = as_array(sample_weight, y_pred)
        weight = xp.astype(xp.reshape(w, (w.shape[0],) + (1,) * (y_pred.ndim - 1)), y_pred.dtype)
    return xp, y_true, y_pred, weight


class _ThresholdCounts(Metric):
    """Precision and Recall: weighted confusion counts at one threshold, summed on the device.

    As Keras's `update_confusion_matrix_variables`: every entry of `y_pred` is one prediction,
    positive where it is above the threshold; its target is positive where it is non-zero; a
    sample's weight counts for each of its entries.
    """

    _direction = "up"
    summed_state = ("true_positives", "false_positives", "false_negatives")

    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: DType | None = None,
    ) -> None:
        given = thresholds
        if isinstance(given, (list, tuple)):
            if len(given) != 1:
                raise ValueError(
                    f"thresholds must be one number in [0, 1] (xcnn's {type(self).__name__} keeps one "
                    f"threshold), got {thresholds!r}"
                )
            given = given[0]
        if given is not None and (
            isinstance(given, bool) or not isinstance(given, (int, float)) or not 0.0 <= given <= 1.0
        ):
            raise ValueError(f"thresholds must be a number in [0, 1], got {thresholds!r}")
        if top_k is not None:
            raise ValueError(f"xcnn's {type(self).__name__} takes top_k=None only, got top_k={top_k!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int) or class_id < 0):
            raise ValueError(f"class_id must be None or a class index (an int >= 0), got {class_id!r}")
        self.thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self._threshold = 0.5 if given is None else float(given)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        """Forget every batch seen so far.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Precision
            >>> metric = Precision()
            >>> metric.update_state(np.array([1, 0]), np.array([0.9, 0.8]))
            >>> metric.reset_state()
            >>> metric.result()
            0.0
        """
        self.true_positives = self.false_positives = self.false_negatives = None

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """Add one batch's true positive, false positive and false negative counts (on the device).

        Args:
            y_true: Targets, one per prediction (positive where non-zero): `(N, ...)`, or `(N,)`
                for `(N, 1)` predictions.
            y_pred: Probabilities (or scores), `(N, ...)`; positive where above the threshold.
            sample_weight: `(N,)` weights, each counting for every entry of its sample, or `None`.

        Raises:
            ValueError: If the targets and predictions differ in shape, or `class_id` is set and
                `y_pred` has no class axis.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Recall
            >>> metric = Recall()
            >>> metric.update_state(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.7]))
            >>> metric.result()
            0.5
        """
        xp, y_true, y_pred, weight = _matched(type(self).__name__, y_true, y_pred, sample_weight)
        if self.class_id is not None:
            if y_pred.ndim < 2:
                raise ValueError(
                    f"class_id needs predictions with a class axis (N, K), got y_pred {tuple(y_pred.shape)}"
                )
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            weight = None if weight is None else weight[..., 0]
        predicted = y_pred > self._threshold
        actual = y_true != 0
        one = xp.ones_like(y_pred) if weight is None else xp.broadcast_to(weight, y_pred.shape)
        zero = xp.zeros_like(y_pred)
        counts = (
            xp.sum(xp.where(predicted & actual, one, zero)),
            xp.sum(xp.where(predicted & ~actual, one, zero)),
            xp.sum(xp.where(~predicted & actual, one, zero)),
        )
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.false_negatives = counts
        else:
            self.true_positives = self.true_positives + counts[0]
            self.false_positives = self.false_positives + counts[1]
            self.false_negatives = self.false_negatives + counts[2]

    def device_state(self) -> tuple[Array, ...]:
        """The true positive, false positive and false negative counts, 0-d arrays on the device; `()` before any batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Precision
            >>> metric = Precision()
            >>> metric.update_state(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.7]))
            >>> [float(a) for a in metric.device_state()]
            [1.0, 1.0, 1.0]
        """
        if self.true_positives is None:
            return ()
        return (self.true_positives, self.false_positives, self.false_negatives)

    def get_config(self) -> dict[str, Any]:
        """As `Metric.get_config`: the constructor arguments (Keras's `Precision`/`Recall` config).

        Examples:
            >>> from xcnn.metrics import Precision
            >>> Precision(thresholds=0.3, name="p").get_config()
            {'thresholds': 0.3, 'top_k': None, 'class_id': None, 'name': 'p', 'dtype': None}
        """
        return {
            "thresholds": self.thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
            "name": self.name,
            "dtype": self.dtype,
        }


class Precision(_ThresholdCounts):
    """Keras's `Precision`: true positives over predicted positives, `TP / (TP + FP)`.

    Binary and multi-label: every entry of `y_pred` is one prediction, positive where it is above
    `thresholds` (0.5 by default), judged against the target at its place (positive where
    non-zero), as Keras counts them. `class_id` looks at one column of `(N, K)` predictions only.
    0.0 while nothing was predicted positive (Keras's `divide_no_nan`).

    Args:
        thresholds: The threshold, a number in `[0, 1]` (or a list of one); `None`: 0.5.
        top_k: Must be `None` (xcnn does not keep only the top k predictions).
        class_id: The column of `(N, K)` predictions to judge, or `None` for every entry.
        name: The metric's name, its key in the logs (default `"precision"`).
        dtype: Kept for Keras compatibility (the counts take the predictions' dtype).

    Input shape:
        Targets and predictions of one shape, `(N,)` or `(N, K)` (or `(N,)` targets for `(N, 1)`
        predictions).

    Raises:
        ValueError: If `thresholds` is not one number in `[0, 1]`, `top_k` is set, or `class_id`
            is not a class index.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Precision
        >>> metric = Precision()
        >>> metric.update_state(np.array([[1, 0], [1, 1]]), np.array([[0.9, 0.6], [0.4, 0.8]]))
        >>> round(metric.result(), 4)  # TP 2 (0.9, 0.8), FP 1 (0.6)
        0.6667
    """

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """`TP / (TP + FP)` from `device_state`'s counts copied to the host (0.0 when empty).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Precision
            >>> metric = Precision()
            >>> metric.update_state(np.array([1]), np.array([0.9]))
            >>> metric.result_from([np.asarray(3.0), np.asarray(1.0), np.asarray(5.0)])
            0.75
        """
        if self.true_positives is None:
            return 0.0
        tp, fp = float(host_state[0]), float(host_state[1])
        return tp / (tp + fp) if tp + fp else 0.0


class Recall(_ThresholdCounts):
    """Keras's `Recall`: true positives over actual positives, `TP / (TP + FN)`.

    Counted as `Precision` counts (every entry one prediction, positive above `thresholds`, 0.5
    by default; targets positive where non-zero). 0.0 while no target was positive.

    Args:
        thresholds: The threshold, a number in `[0, 1]` (or a list of one); `None`: 0.5.
        top_k: Must be `None` (xcnn does not keep only the top k predictions).
        class_id: The column of `(N, K)` predictions to judge, or `None` for every entry.
        name: The metric's name, its key in the logs (default `"recall"`).
        dtype: Kept for Keras compatibility (the counts take the predictions' dtype).

    Input shape:
        Targets and predictions of one shape, `(N,)` or `(N, K)` (or `(N,)` targets for `(N, 1)`
        predictions).

    Raises:
        ValueError: If `thresholds` is not one number in `[0, 1]`, `top_k` is set, or `class_id`
            is not a class index.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Recall
        >>> metric = Recall(class_id=1)
        >>> metric.update_state(np.array([[1, 0], [1, 1]]), np.array([[0.9, 0.6], [0.4, 0.8]]))
        >>> metric.result()  # column 1: one positive target, found
        1.0
    """

    def result_from(self, host_state: Sequence[np.ndarray]) -> float:
        """`TP / (TP + FN)` from `device_state`'s counts copied to the host (0.0 when empty).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import Recall
            >>> metric = Recall()
            >>> metric.update_state(np.array([1]), np.array([0.9]))
            >>> metric.result_from([np.asarray(3.0), np.asarray(1.0), np.asarray(1.0)])
            0.75
        """
        if self.true_positives is None:
            return 0.0
        tp, fn = float(host_state[0]), float(host_state[2])
        return tp / (tp + fn) if tp + fn else 0.0


def _parse_thresholds(thresholds):
    """Keras's `thresholds` argument as a list of floats in `[0, 1]` (`None`: `[0.5]`)."""
    given = [thresholds] if thresholds is None or not isinstance(thresholds, (list, tuple)) else list(thresholds)
    if thresholds is None:
        return [0.5]
    if not given or any(isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0 for t in given):
        raise ValueError(f"thresholds must be a number in [0, 1] or a non-empty list of them, got {thresholds!r}")
    return [float(t) for t in given]


class _ConfusionCount(Metric):
    """One confusion count (`_condition`: "tp", "fp", "tn" or "fn") at each threshold, weighted
    and summed on the device, as Keras's `_ConfusionMatrixConditionCount`: every entry of
    `y_pred` is one prediction, positive above the threshold, its target positive where non-zero."""

    _condition = ""
    summed_state = ("accumulator",)

    def __init__(
        self, thresholds: float | Sequence[float] | None = None, name: str | None = None, dtype: DType | None = None
    ) -> None:
        self._thresholds = _parse_thresholds(thresholds)
        self.thresholds = thresholds
        self._device_thresholds: tuple[Any, Any] | None = None
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self.accumulator: Any = None

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        xp, y_true, y_pred, weight = _matched(type(self).__name__, y_true, y_pred, sample_weight)
        p = xp.reshape(y_pred, (-1, 1))
        actual = xp.reshape(y_true != 0, (-1, 1))
        key = (B.backend_of(p), str(p.device), str(p.dtype))
        if self._device_thresholds is None or self._device_thresholds[0] != key:  # copied once, not per batch
            host = np.asarray(self._thresholds, dtype=np.float64)
            self._device_thresholds = key, xp.reshape(B.asarray(host, key[0], p.dtype, device=p.device), (1, -1))
        predicted = p > self._device_thresholds[1]  # (M, T)
        condition = {
            "tp": predicted & actual,
            "fp": predicted & ~actual,
            "tn": ~predicted & ~actual,
            "fn": ~predicted & actual,
        }[self._condition]
        one = xp.ones_like(p) if weight is None else xp.reshape(xp.broadcast_to(weight, y_pred.shape), (-1, 1))
        counts = xp.sum(xp.where(condition, one, xp.zeros_like(one)), axis=0)  # (T,)
        self.accumulator = counts if self.accumulator is None else self.accumulator + counts

    def device_state(self) -> tuple[Array, ...]:
        return () if self.accumulator is None else (self.accumulator,)

    def result_from(self, host_state: Sequence[np.ndarray]) -> Any:
        counts = np.zeros(len(self._thresholds)) if self.accumulator is None else np.asarray(host_state[0], np.float64)
        return float(counts[0]) if len(self._thresholds) == 1 else counts

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.thresholds}


_COUNT_DOC = """Keras's `{cls}`: the (weighted) number of {what}.

    Every entry of `y_pred` is one prediction, positive where it is above the threshold; its
    target (at the same place) is positive where non-zero; a sample's weight counts for each of
    its entries, as Keras counts them. The counts are summed on the device.

    Args:
        thresholds: A threshold in `[0, 1]` (default 0.5), or a list of them: then `result()` is
            a NumPy array of one count per threshold.
        name: The metric's name, its key in the logs (default `"{snake}"`).
        dtype: Kept for Keras compatibility (the counts take the predictions' dtype).

    Input shape:
        Targets and predictions of one shape, `(N,)` or `(N, K)` (or `(N,)` targets for `(N, 1)`
        predictions); `sample_weight` `(N,)`.

    Raises:
        ValueError: If `thresholds` is not a number in `[0, 1]` or a list of them, or the targets
            and predictions differ in shape.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import {cls}
        >>> metric = {cls}()
        >>> metric.update_state(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.7, 0.1]))
        >>> metric.result()
        1.0
        >>> metric = {cls}(thresholds=[0.0, 0.5, 1.0])
        >>> metric.update_state(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.7, 0.1]))
        >>> metric.result().tolist()
        {several}
    """


class TruePositives(_ConfusionCount):
    _condition = "tp"


class FalsePositives(_ConfusionCount):
    _condition = "fp"


class TrueNegatives(_ConfusionCount):
    _condition = "tn"


class FalseNegatives(_ConfusionCount):
    _condition = "fn"


TruePositives.__doc__ = _COUNT_DOC.format(
    cls="TruePositives", what="positive targets predicted positive", snake="true_positives", several="[2.0, 1.0, 0.0]"
)
FalsePositives.__doc__ = _COUNT_DOC.format(
    cls="FalsePositives", what="negative targets predicted positive", snake="false_positives", several="[2.0, 1.0, 0.0]"
)
TrueNegatives.__doc__ = _COUNT_DOC.format(
    cls="TrueNegatives", what="negative targets predicted negative", snake="true_negatives", several="[0.0, 1.0, 2.0]"
)
FalseNegatives.__doc__ = _COUNT_DOC.format(
    cls="FalseNegatives", what="positive targets predicted negative", snake="false_negatives", several="[0.0, 1.0, 2.0]"
)
