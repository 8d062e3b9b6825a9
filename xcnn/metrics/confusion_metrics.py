"""`AUC`: the area under the ROC curve from confusion counts at fixed thresholds."""

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
