"""Metrics that are a loss averaged over every sample seen, with Keras's names: the
cross-entropies, KL divergence, Poisson, the hinges, log-cosh and cosine similarity.

Each is a `MeanMetricWrapper` of the loss function of the same name in `xcnn.losses` (one value
per sample, on the device), so the metric and the loss compute the same numbers.
"""

from __future__ import annotations

import math

from .. import losses
from .._typing import Array, DType
from ..backend import array_namespace
from .metric import MeanMetricWrapper, as_array


class BinaryCrossentropy(MeanMetricWrapper):
    """Keras's `metrics.BinaryCrossentropy`: the mean over samples of `losses.binary_crossentropy`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).
        from_logits: The predictions are logits (no sigmoid).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.

    Input shape:
        Targets in `[0, 1]` and predictions, both `(N, K)` (or `(N, ..., K)`).

    Raises:
        ValueError: If `label_smoothing` is not a number in `[0, 1]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import BinaryCrossentropy
        >>> metric = BinaryCrossentropy()
        >>> metric.update_state(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))
        >>> round(metric.result(), 4)
        0.2231
    """

    _direction = "down"

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: DType | None = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
    ) -> None:
        losses._label_smoothing(label_smoothing)
        super().__init__(
            losses.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )


class CategoricalCrossentropy(MeanMetricWrapper):
    """Keras's `metrics.CategoricalCrossentropy`: the mean over samples of
    `losses.categorical_crossentropy`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).
        from_logits: The predictions are logits (no softmax).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.
        axis: The class axis.

    Input shape:
        One-hot targets and predictions, both `(N, K)` (or `(N, ..., K)`).

    Raises:
        ValueError: If `label_smoothing` is not a number in `[0, 1]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import CategoricalCrossentropy
        >>> metric = CategoricalCrossentropy()
        >>> metric.update_state(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.2, 0.8], [0.6, 0.4]]))
        >>> round(metric.result(), 4)  # (-log 0.8 - log 0.6) / 2
        0.367
    """

    _direction = "down"

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: DType | None = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ) -> None:
        losses._label_smoothing(label_smoothing)
        super().__init__(
            losses.categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=losses._axis(axis),
        )


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Keras's `metrics.SparseCategoricalCrossentropy`: the mean over samples of
    `losses.sparse_categorical_crossentropy` (integer class labels).

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).
        from_logits: The predictions are logits (no softmax).
        ignore_class: A label whose samples count with a loss of 0, or `None`.
        axis: The class axis of the predictions.

    Input shape:
        Labels `(N,)` (or `(N, 1)`) and predictions `(N, K)`.

    Raises:
        ValueError: If `axis` is not an int.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import SparseCategoricalCrossentropy
        >>> metric = SparseCategoricalCrossentropy()
        >>> metric.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]))
        >>> round(metric.result(), 4)
        0.367
    """

    _direction = "down"

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: DType | None = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ) -> None:
        super().__init__(
            losses.sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=losses._axis(axis),
        )

    def update_state(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> None:
        """As `MeanMetricWrapper.update_state`; with `ignore_class` and `sample_weight`, the ignored
        samples' weights are 0, so they leave the count too (as Keras weighs them; unweighted,
        they count with a loss of 0, as in Keras).

        Examples:
            >>> import numpy as np
            >>> from xcnn.metrics import SparseCategoricalCrossentropy
            >>> metric = SparseCategoricalCrossentropy(ignore_class=0)
            >>> y_true, y_pred = np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]])
            >>> metric.update_state(y_true, y_pred)
            >>> round(metric.result(), 4)  # (-log 0.8 + 0) / 2
            0.1116
            >>> metric.reset_state()
            >>> metric.update_state(y_true, y_pred, sample_weight=np.array([1.0, 1.0]))
            >>> round(metric.result(), 4)  # -log 0.8 / 1
            0.2231
        """
        ignore_class = self._kwargs["ignore_class"]
        if sample_weight is None or ignore_class is None:
            super().update_state(y_true, y_pred, sample_weight)
            return
        xp = array_namespace(y_pred)
        y_true = as_array(y_true, y_pred)
        values = self._fn(y_true, y_pred, **self._kwargs)
        valid = xp.astype(xp.reshape(y_true != ignore_class, values.shape), values.dtype)
        w = as_array(sample_weight, y_pred)
        weight = xp.astype(xp.reshape(w, (w.shape[0],) + (1,) * (values.ndim - 1)), values.dtype) * valid
        per_entry = math.prod(values.shape[1:])
        total, count = xp.sum(values * weight) / per_entry, xp.sum(weight) / per_entry
        self.total = total if self.total is None else self.total + total
        self.count = self.count + count


class KLDivergence(MeanMetricWrapper):
    """Keras's `metrics.KLDivergence`: the mean over samples of `losses.kl_divergence`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Input shape:
        Target and predicted distributions, both `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import KLDivergence
        >>> metric = KLDivergence()
        >>> metric.update_state(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))
        >>> round(metric.result(), 4)
        0.2231
    """

    _direction = "down"

    def __init__(self, name: str = "kl_divergence", dtype: DType | None = None) -> None:
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Keras's `metrics.Poisson`: the mean over samples of `losses.poisson`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Input shape:
        Counts and predicted rates, both `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Poisson
        >>> metric = Poisson()
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[1.0, 2.0]]))
        >>> round(metric.result(), 4)
        1.1534
    """

    _direction = "down"

    def __init__(self, name: str = "poisson", dtype: DType | None = None) -> None:
        super().__init__(losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Keras's `metrics.Hinge`: the mean over samples of `losses.hinge` (0/1 labels become -1/1).

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Input shape:
        Targets (-1/1 or 0/1) and scores, both `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import Hinge
        >>> metric = Hinge()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.3, -2.0]]))
        >>> round(metric.result(), 4)
        0.35
    """

    _direction = "down"

    def __init__(self, name: str = "hinge", dtype: DType | None = None) -> None:
        super().__init__(losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Keras's `metrics.SquaredHinge`: the mean over samples of `losses.squared_hinge`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Input shape:
        Targets (-1/1 or 0/1) and scores, both `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import SquaredHinge
        >>> metric = SquaredHinge()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.3, -2.0]]))
        >>> round(metric.result(), 4)
        0.245
    """

    _direction = "down"

    def __init__(self, name: str = "squared_hinge", dtype: DType | None = None) -> None:
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Keras's `metrics.CategoricalHinge`: the mean over samples of `losses.categorical_hinge`.

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Input shape:
        One-hot targets and scores, both `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import CategoricalHinge
        >>> metric = CategoricalHinge()
        >>> metric.update_state(np.array([[0.0, 1.0]]), np.array([[0.6, 0.4]]))
        >>> round(metric.result(), 4)
        1.2
    """

    _direction = "down"

    def __init__(self, name: str = "categorical_hinge", dtype: DType | None = None) -> None:
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Keras's `metrics.LogCoshError`: the mean over samples of `losses.log_cosh` (named
    `"logcosh"` by default, as in Keras).

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).

    Input shape:
        Targets and predictions, both `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import LogCoshError
        >>> metric = LogCoshError()
        >>> metric.update_state(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))
        >>> metric.name, round(metric.result(), 4)
        ('logcosh', 0.2169)
    """

    _direction = "down"

    def __init__(self, name: str = "logcosh", dtype: DType | None = None) -> None:
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


def _cosine_similarity(y_true: Array, y_pred: Array, axis: int = -1) -> Array:
    """The cosine similarity per sample (minus `losses.cosine_similarity`)."""
    values = losses.cosine_similarity(y_true, y_pred, axis=axis)
    return -values


class CosineSimilarity(MeanMetricWrapper):
    """Keras's `metrics.CosineSimilarity`: the mean over samples of the cosine of the angle
    between the target and the prediction along `axis` (1: the same direction; minus
    `losses.cosine_similarity`).

    Args:
        name: The metric's name, its key in the logs.
        dtype: Kept for Keras compatibility (the state takes the predictions' dtype).
        axis: The axis of the vectors.

    Input shape:
        Targets and predictions, both `(N, K)`.

    Raises:
        ValueError: If `axis` is not an int.

    Examples:
        >>> import numpy as np
        >>> from xcnn.metrics import CosineSimilarity
        >>> metric = CosineSimilarity()
        >>> metric.update_state(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 2.0], [1.0, 1.0]]))
        >>> round(metric.result(), 4)  # (1 + 0.7071) / 2
        0.8536
    """

    _direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype: DType | None = None, axis: int = -1) -> None:
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=losses._axis(axis))
