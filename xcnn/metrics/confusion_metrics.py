""":class:`AUC`: the area under the ROC curve from confusion counts at fixed thresholds."""

from __future__ import annotations

import numpy as np

from .. import backend as B
from ..backend import array_namespace
from ..ops.activations import sigmoid
from .metric import Metric, as_array

_EPSILON = 1e-7


class AUC(Metric):
    """Keras's ``AUC`` (the subset ``curve="ROC"``, ``summation_method="interpolation"``,
    one label): true/false positive and negative counts at ``num_thresholds`` thresholds spread
    evenly over [0, 1] are summed on the device; ``result()`` integrates the ROC curve by the
    trapezoid rule, as Keras does. Predictions are probabilities (``from_logits=True``: logits)
    of shape ``(N,)`` or ``(N, K)``, every entry judged against the 0/1 target at its place.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc",
                 dtype=None, thresholds=None, multi_label=False, from_logits=False):
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
            raise ValueError(f"num_thresholds must be an int > 1, got {num_thresholds!r}")
        if curve != "ROC" or summation_method != "interpolation" or thresholds is not None or multi_label:
            raise ValueError(
                "xcnn's AUC supports curve='ROC', summation_method='interpolation', thresholds=None and "
                f"multi_label=False only; got curve={curve!r}, summation_method={summation_method!r}, "
                f"thresholds={thresholds!r}, multi_label={multi_label!r}")
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, curve, summation_method
        self.thresholds, self.multi_label, self.from_logits = thresholds, multi_label, bool(from_logits)
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - _EPSILON, *inner, 1.0 + _EPSILON])
        self._device_thresholds = None  # (backend, device, dtype), the thresholds there
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        xp = array_namespace(y_pred)
        y_true = as_array(y_true, y_pred)
        if sample_weight is not None:
            raise ValueError("xcnn's AUC does not take sample_weight")
        p = sigmoid(y_pred) if self.from_logits else y_pred
        p = xp.minimum(xp.maximum(xp.reshape(p, (-1, 1)), 0.0), 1.0)  # not xp.clip: it syncs on CuPy
        positive = xp.reshape(xp.astype(y_true, p.dtype), (-1, 1)) > 0.5
        if positive.shape[0] != p.shape[0]:
            raise ValueError(f"AUC needs one target per prediction, got y_true {tuple(y_true.shape)} "
                             f"for y_pred {tuple(y_pred.shape)}")
        key = (B.backend_of(p), str(p.device), str(p.dtype))
        if self._device_thresholds is None or self._device_thresholds[0] != key:  # copied once, not per batch
            self._device_thresholds = key, B.asarray(self._thresholds, key[0], p.dtype, device=p.device)
        thresholds = self._device_thresholds[1]  # (T,)
        above = p > xp.reshape(thresholds, (1, -1))  # (M, T): predicted positive at each threshold
        pos = xp.astype(positive, p.dtype)
        neg = 1.0 - pos
        above = xp.astype(above, p.dtype)
        counts = (xp.sum(above * pos, axis=0), xp.sum(above * neg, axis=0),
                  xp.sum((1.0 - above) * neg, axis=0), xp.sum((1.0 - above) * pos, axis=0))
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = counts
        else:
            self.true_positives = self.true_positives + counts[0]
            self.false_positives = self.false_positives + counts[1]
            self.true_negatives = self.true_negatives + counts[2]
            self.false_negatives = self.false_negatives + counts[3]

    def device_state(self):
        if self.true_positives is None:
            return ()
        return (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives)

    def result_from(self, host_state):
        if self.true_positives is None:
            return 0.0
        tp, fp, tn, fn = (a.astype(np.float64) for a in host_state)
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            fp_rate = np.where(fp + tn > 0, fp / (fp + tn), 0.0)
        heights = (recall[:-1] + recall[1:]) / 2.0
        return float(np.sum((fp_rate[:-1] - fp_rate[1:]) * heights))

    def get_config(self):
        return {"num_thresholds": self.num_thresholds, "curve": self.curve, "summation_method": self.summation_method,
                "name": self.name, "dtype": self.dtype, "from_logits": self.from_logits}
