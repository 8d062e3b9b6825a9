"""Losses as pure functions: `loss(y_pred, y_true, sample_weight=None) -> scalar` beside
`loss_backward` (the gradient of that scalar w.r.t. `y_pred`).

Shapes: `y_pred` and `y_true` are `(N, ..., K)`; each loss is first reduced over the
last axis to one value per sample (`(N, ...)`), as Keras's loss functions are, then Keras's
`"sum_over_batch_size"` reduction gives the scalar: `sum(values * w) / values.size`, where
`sample_weight` `w` is `(N,)` (or `None`: all ones). The losses with an `axis` argument
(cosine similarity, the focal cross-entropies) reduce over that axis instead of the last. The
fused softmax/sigmoid forms take logits: their gradients (`softmax(z) - y`, `sigmoid(z) - y`,
scaled) stay exact where `log(p)` would underflow.
"""

from __future__ import annotations

import math

from .._typing import Array, DType
from ..backend import array_namespace
from .activations import log_softmax, sigmoid, softmax

# probabilities are clipped away from 0 and 1 before a log, as Keras does
EPSILON = 1e-7


def _clip_probabilities(xp, p):
    """``p`` clipped to ``[EPSILON, 1 - EPSILON]``, as two element-wise kernels: the generic
    ``clip`` that array-api-compat gives CuPy indexes with boolean masks (a device sync)."""
    return xp.minimum(xp.maximum(p, EPSILON), 1.0 - EPSILON)


def one_hot(labels: Array, num_classes: int, dtype: DType) -> Array:
    """Integer labels `(N,)` -> one-hot `(N, num_classes)` in `dtype`.

    On the labels' backend and device.

    Args:
        labels: Integer class labels `(N,)`.
        num_classes: The number of classes.
        dtype: The result's dtype (of the labels' namespace).

    Returns:
        `(N, num_classes)` ones and zeros.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import one_hot
        >>> one_hot(np.array([2, 0]), 3, np.float32).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    xp = array_namespace(labels)
    classes = xp.arange(num_classes, device=labels.device)
    return xp.astype(xp.reshape(labels, (-1, 1)) == classes, dtype)


def _size(x):
    size = 1
    for d in x.shape:
        size *= d
    return size


def _per_sample_weight(sample_weight, ndim):
    """``(N,)`` weights reshaped to broadcast against an ``ndim``-dimensional array."""
    xp = array_namespace(sample_weight)
    return xp.reshape(sample_weight, (sample_weight.shape[0],) + (1,) * (ndim - 1))


def _reduce(values, sample_weight):
    """Keras's ``sum_over_batch_size``: ``sum(values * w) / values.size`` (``values``: ``(N, ...)``)."""
    xp = array_namespace(values)
    if sample_weight is not None:
        values = values * _per_sample_weight(sample_weight, values.ndim)
    return xp.sum(values) / _size(values)


def _scale(grad, sample_weight, per_sample_count):
    """The gradient of ``_reduce`` applied to an element-wise gradient ``grad`` ``(N, ..., K)``:
    each sample's rows times its weight, divided by the number of per-sample values."""
    if sample_weight is not None:
        grad = grad * _per_sample_weight(sample_weight, grad.ndim)
    return grad / per_sample_count


def _rows(y_pred):
    """Number of per-sample values: every axis but the last."""
    return _size(y_pred) // y_pred.shape[-1]


def _last(xp, x, axis):
    """``x`` with ``axis`` moved last (the per-sample values are reduced over the last axis)."""
    return x if axis in (-1, x.ndim - 1) else xp.moveaxis(x, axis, -1)


def _clip_mask(xp, p):
    """1 where ``p`` lies strictly inside the clip range (the clip passes a gradient), else 0."""
    return xp.astype((p > EPSILON) & (p < 1.0 - EPSILON), p.dtype)


# --- categorical cross-entropy ------------------------------------------------------------------
def softmax_cross_entropy(logits: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Categorical cross-entropy of `softmax(logits)` against `y_true`.

    Keras's `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample
    values.

    Args:
        logits: The scores before the activation, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import softmax_cross_entropy, softmax_cross_entropy_backward
        >>> logits = np.log(np.array([[0.2, 0.8], [0.6, 0.4]]))
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(softmax_cross_entropy(logits, y_true)), 4)
        0.367
        >>> round(float(softmax_cross_entropy(logits, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.1116
    """
    xp = array_namespace(logits, y_true)
    if sample_weight is None:  # one sum over all entries, times -1/N: two kernels fewer than per-sample sums
        return xp.sum(y_true * log_softmax(logits)) * (-1.0 / _rows(logits))
    return _reduce(_softmax_cross_entropy_values(xp, logits, y_true), sample_weight)


def _softmax_cross_entropy_values(xp, logits, y_true):
    return -xp.sum(y_true * log_softmax(logits), axis=-1)


def softmax_cross_entropy_backward(
    logits: Array,
    y_true: Array,
    sample_weight: Array | None = None,
    targets_sum_to_one: bool = False,
    probabilities: Array | None = None,
) -> Array:
    """The gradient of `softmax_cross_entropy` w.r.t. `logits`.

    Args:
        logits: The scores before the activation, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).
        targets_sum_to_one: Each row of `y_true` is known to sum to 1 (one-hot labels), which
            saves computing that sum.
        probabilities: `softmax(logits)` when the caller has it already (the model's output).

    Returns:
        An array of `logits`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import softmax_cross_entropy, softmax_cross_entropy_backward
        >>> logits = np.log(np.array([[0.2, 0.8], [0.6, 0.4]]))
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> softmax_cross_entropy_backward(logits, y_true).round(4).tolist()
        [[0.1, -0.1], [-0.2, 0.2]]
    """
    xp = array_namespace(logits, y_true)
    p = softmax(logits) if probabilities is None else probabilities
    # d/dz of -sum(y * log_softmax(z)) is softmax(z) * sum(y) - y (sum(y) = 1 for one-hot or
    # smoothed targets, kept general for targets that are not distributions)
    if targets_sum_to_one:
        grad = p - y_true
    else:
        grad = p * xp.sum(y_true, axis=-1, keepdims=True) - y_true
    return _scale(grad, sample_weight, _rows(logits))


def categorical_crossentropy(p: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Categorical cross-entropy of probabilities `p` against `y_true`.

    As Keras, `p` is first divided by its sum over the last axis, then clipped to `[eps, 1 - eps]`.
    Keras's `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample
    values.

    Args:
        p: Probabilities, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import categorical_crossentropy, categorical_crossentropy_backward
        >>> p = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(categorical_crossentropy(p, y_true)), 4)
        0.367
        >>> round(float(categorical_crossentropy(p, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.1116
    """
    xp = array_namespace(p, y_true)
    return _reduce(_categorical_crossentropy_values(xp, p, y_true), sample_weight)


def _categorical_crossentropy_values(xp, p, y_true):
    q = xp.minimum(xp.maximum(p / xp.sum(p, axis=-1, keepdims=True), EPSILON), 1.0 - EPSILON)
    return -xp.sum(y_true * xp.log(q), axis=-1)


def categorical_crossentropy_backward(p: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `categorical_crossentropy` w.r.t. `p`.

    Args:
        p: Probabilities, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `p`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import categorical_crossentropy, categorical_crossentropy_backward
        >>> p = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> categorical_crossentropy_backward(p, y_true).round(4).tolist()
        [[0.5, -0.125], [-0.3333, 0.5]]
    """
    xp = array_namespace(p, y_true)
    total = xp.sum(p, axis=-1, keepdims=True)
    normalized = p / total
    q = xp.minimum(xp.maximum(normalized, EPSILON), 1.0 - EPSILON)
    weighted = y_true * _clip_mask(xp, normalized)  # only unclipped entries carry a gradient
    # L = -sum_i y_i log(p_i / s): dL/dp_j = (-y_j / q_j + sum_i y_i) / s on unclipped entries
    grad = (xp.sum(weighted, axis=-1, keepdims=True) - weighted / q) / total
    return _scale(grad, sample_weight, _rows(p))


# --- binary cross-entropy -----------------------------------------------------------------------
def sigmoid_binary_crossentropy(logits: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Binary cross-entropy of `sigmoid(logits)` against targets in `[0, 1]`.

    The mean over the K outputs of each sample, then over the batch. Keras's `"sum_over_batch_size"`
    reduction: `sum(values * w) / values.size` over the per-sample values.

    Args:
        logits: The scores before the activation, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import sigmoid_binary_crossentropy, sigmoid_binary_crossentropy_backward
        >>> logits = np.log(np.array([[0.2, 0.8], [0.6, 0.4]]))
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(sigmoid_binary_crossentropy(logits, y_true)), 4)
        0.5776
        >>> round(float(sigmoid_binary_crossentropy(logits, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.2483
    """
    xp = array_namespace(logits, y_true)
    return _reduce(_sigmoid_binary_crossentropy_values(xp, logits, y_true), sample_weight)


def _sigmoid_binary_crossentropy_values(xp, logits, y_true):
    zero = xp.zeros((), dtype=logits.dtype, device=logits.device)
    per_entry = xp.maximum(logits, zero) - logits * y_true + xp.log1p(xp.exp(-xp.abs(logits)))
    return xp.mean(per_entry, axis=-1)


def sigmoid_binary_crossentropy_backward(
    logits: Array, y_true: Array, sample_weight: Array | None = None, probabilities: Array | None = None
) -> Array:
    # each sample's K entries are averaged, then the N samples: (sigmoid(z) - y) / (K * N)
    """The gradient of `sigmoid_binary_crossentropy` w.r.t. `logits`.

    Args:
        logits: The scores before the activation, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).
        probabilities: `sigmoid(logits)` when the caller has it already (the model's output).

    Returns:
        An array of `logits`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import sigmoid_binary_crossentropy, sigmoid_binary_crossentropy_backward
        >>> logits = np.log(np.array([[0.2, 0.8], [0.6, 0.4]]))
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> sigmoid_binary_crossentropy_backward(logits, y_true).round(4).tolist()
        [[0.0417, -0.1389], [-0.1562, 0.0714]]
    """
    p = sigmoid(logits) if probabilities is None else probabilities
    grad = (p - y_true) / logits.shape[-1]
    return _scale(grad, sample_weight, _rows(logits))


def binary_crossentropy(p: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Binary cross-entropy of probabilities `p`, clipped to `[eps, 1 - eps]`.

    The mean over the K outputs of each sample, then over the batch. Keras's `"sum_over_batch_size"`
    reduction: `sum(values * w) / values.size` over the per-sample values.

    Args:
        p: Probabilities, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import binary_crossentropy, binary_crossentropy_backward
        >>> p = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(binary_crossentropy(p, y_true)), 4)
        0.367
        >>> round(float(binary_crossentropy(p, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.1116
    """
    xp = array_namespace(p, y_true)
    return _reduce(_binary_crossentropy_values(xp, p, y_true), sample_weight)


def _binary_crossentropy_values(xp, p, y_true):
    q = xp.minimum(xp.maximum(p, EPSILON), 1.0 - EPSILON)
    per_entry = -(y_true * xp.log(q) + (1.0 - y_true) * xp.log(1.0 - q))
    return xp.mean(per_entry, axis=-1)


def binary_crossentropy_backward(p: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `binary_crossentropy` w.r.t. `p`.

    Args:
        p: Probabilities, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `p`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import binary_crossentropy, binary_crossentropy_backward
        >>> p = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> binary_crossentropy_backward(p, y_true).round(4).tolist()
        [[0.3125, -0.3125], [-0.4167, 0.4167]]
    """
    xp = array_namespace(p, y_true)
    q = xp.minimum(xp.maximum(p, EPSILON), 1.0 - EPSILON)
    grad = (q - y_true) / (q * (1.0 - q)) * _clip_mask(xp, p) / p.shape[-1]
    return _scale(grad, sample_weight, _rows(p))


# --- regression ---------------------------------------------------------------------------------
def mean_squared_error(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `(y_pred - y_true)**2` over the last axis, then over the batch.

    Keras's `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample
    values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_squared_error, mean_squared_error_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(mean_squared_error(y_pred, y_true)), 4)
        0.1
        >>> round(float(mean_squared_error(y_pred, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.02
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_mean_squared_error_values(xp, y_pred, y_true), sample_weight)


def _mean_squared_error_values(xp, y_pred, y_true):
    d = y_pred - y_true
    return xp.mean(d * d, axis=-1)


def mean_squared_error_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `mean_squared_error` w.r.t. `y_pred`.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_squared_error, mean_squared_error_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> mean_squared_error_backward(y_pred, y_true).round(4).tolist()
        [[0.1, -0.1], [-0.2, 0.2]]
    """
    grad = 2.0 * (y_pred - y_true) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def mean_absolute_error(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `|y_pred - y_true|` over the last axis, then over the batch.

    Keras's `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample
    values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_absolute_error, mean_absolute_error_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(mean_absolute_error(y_pred, y_true)), 4)
        0.3
        >>> round(float(mean_absolute_error(y_pred, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.1
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_mean_absolute_error_values(xp, y_pred, y_true), sample_weight)


def _mean_absolute_error_values(xp, y_pred, y_true):
    return xp.mean(xp.abs(y_pred - y_true), axis=-1)


def mean_absolute_error_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `mean_absolute_error` w.r.t. `y_pred`.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_absolute_error, mean_absolute_error_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> mean_absolute_error_backward(y_pred, y_true).round(4).tolist()
        [[0.25, -0.25], [-0.25, 0.25]]
    """
    xp = array_namespace(y_pred, y_true)
    error = y_pred - y_true
    # its sign by comparisons (compat's sign for CuPy syncs); 0 where equal, as autograd's abs
    grad = (xp.astype(error > 0, error.dtype) - xp.astype(error < 0, error.dtype)) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def huber(y_pred: Array, y_true: Array, delta: float = 1.0, sample_weight: Array | None = None) -> Array:
    """Huber loss: `e**2 / 2` where `|e| <= delta`, else `delta * |e| - delta**2 / 2`.

    `e = y_pred - y_true`; the mean over the last axis, then over the batch. Keras's
    `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        delta: Where the loss turns linear.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import huber, huber_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(huber(y_pred, y_true, delta=0.5)), 4)
        0.05
        >>> round(float(huber(y_pred, y_true, delta=0.5, sample_weight=np.array([1.0, 0.0]))), 4)
        0.01
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_huber_values(xp, y_pred, y_true, delta), sample_weight)


def _huber_values(xp, y_pred, y_true, delta):
    error = y_pred - y_true
    magnitude = xp.abs(error)
    per_entry = xp.where(magnitude <= delta, 0.5 * error * error, delta * magnitude - 0.5 * delta * delta)
    return xp.mean(per_entry, axis=-1)


def huber_backward(y_pred: Array, y_true: Array, delta: float = 1.0, sample_weight: Array | None = None) -> Array:
    """The gradient of `huber` w.r.t. `y_pred`.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        delta: Where the loss turns linear.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import huber, huber_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> huber_backward(y_pred, y_true, delta=0.5).round(4).tolist()
        [[0.05, -0.05], [-0.1, 0.1]]
    """
    xp = array_namespace(y_pred, y_true)
    error = y_pred - y_true
    grad = xp.minimum(xp.maximum(error, -delta), delta) / y_pred.shape[-1]  # e inside, delta * sign(e) outside
    return _scale(grad, sample_weight, _rows(y_pred))


def kl_divergence(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """`sum(t * log(t / p))` over the last axis, both clipped to `[eps, 1]`, as Keras.

    Keras's `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample
    values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import kl_divergence, kl_divergence_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(kl_divergence(y_pred, y_true)), 4)
        0.367
        >>> round(float(kl_divergence(y_pred, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.1116
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_kl_divergence_values(xp, y_pred, y_true), sample_weight)


def _kl_divergence_values(xp, y_pred, y_true):
    t = xp.minimum(xp.maximum(y_true, EPSILON), 1.0)
    p = xp.minimum(xp.maximum(y_pred, EPSILON), 1.0)
    return xp.sum(t * xp.log(t / p), axis=-1)


def kl_divergence_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `kl_divergence` w.r.t. `y_pred`.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import kl_divergence, kl_divergence_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> kl_divergence_backward(y_pred, y_true).round(4).tolist()
        [[-0.0, -0.625], [-0.8333, -0.0]]
    """
    xp = array_namespace(y_pred, y_true)
    t = xp.minimum(xp.maximum(y_true, EPSILON), 1.0)
    p = xp.minimum(xp.maximum(y_pred, EPSILON), 1.0)
    # clip passes the gradient on [eps, 1] inclusive, as torch.clamp's autograd does
    inside = xp.astype((y_pred >= EPSILON) & (y_pred <= 1.0), y_pred.dtype)
    return _scale(-t / p * inside, sample_weight, _rows(y_pred))


# --- more regression and margin losses (Keras's formulas) ---------------------------------------
def _tie_share(xp, a, b):
    """The gradient share of ``a`` in ``maximum(a, b)``: 1 where it wins, 1/2 at a tie (as
    torch.maximum's autograd, which Keras on PyTorch uses), 0 where it loses."""
    return xp.astype(a > b, a.dtype) + 0.5 * xp.astype(a == b, a.dtype)


def _sign(xp, x):
    """``sign(x)`` by comparisons (0 at 0, as autograd's ``abs``; compat's sign syncs on CuPy)."""
    return xp.astype(x > 0, x.dtype) - xp.astype(x < 0, x.dtype)


def hinge_labels(y_true: Array) -> Array:
    """Keras's hinge targets: labels that are all 0 or 1 become -1 or 1; others pass unchanged.

    The test covers every entry of `y_true` at once and happens on the device (no host copy).

    Args:
        y_true: The targets, `(N, ..., K)`, float32 or float64, on any backend.

    Returns:
        An array of `y_true`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import hinge_labels
        >>> hinge_labels(np.array([[0.0, 1.0]])).tolist()
        [[-1.0, 1.0]]
        >>> hinge_labels(np.array([[-1.0, 1.0]])).tolist()  # already -1/1
        [[-1.0, 1.0]]
    """
    xp = array_namespace(y_true)
    binary = xp.all((y_true == 0.0) | (y_true == 1.0))
    return xp.where(binary, 2.0 * y_true - 1.0, y_true)


def _mape_values(xp, y_pred, y_true):
    return 100.0 * xp.mean(xp.abs((y_true - y_pred) / xp.maximum(xp.abs(y_true), EPSILON)), axis=-1)


def mean_absolute_percentage_error(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """`100 * mean(|y_true - y_pred| / max(|y_true|, eps))` over the last axis, then over the batch.

    Keras's formula (`eps` = 1e-7); Keras's `"sum_over_batch_size"` reduction: `sum(values * w) /
    values.size` over the per-sample values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_absolute_percentage_error
        >>> y_pred = np.array([[1.5, 2.0], [0.5, 4.0]])
        >>> y_true = np.array([[1.0, 2.0], [1.0, 5.0]])
        >>> round(float(mean_absolute_percentage_error(y_pred, y_true)), 4)
        30.0
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_mape_values(xp, y_pred, y_true), sample_weight)


def mean_absolute_percentage_error_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `mean_absolute_percentage_error` w.r.t. `y_pred` (0 where `y_pred == y_true`).

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_absolute_percentage_error_backward
        >>> y_pred = np.array([[1.5, 2.0], [0.5, 4.0]])
        >>> y_true = np.array([[1.0, 2.0], [1.0, 5.0]])
        >>> mean_absolute_percentage_error_backward(y_pred, y_true).round(4).tolist()
        [[25.0, 0.0], [-25.0, -5.0]]
    """
    xp = array_namespace(y_pred, y_true)
    grad = _sign(xp, y_pred - y_true) * (100.0 / y_pred.shape[-1]) / xp.maximum(xp.abs(y_true), EPSILON)
    return _scale(grad, sample_weight, _rows(y_pred))


def _msle_logs(xp, y_pred, y_true):
    return xp.log(xp.maximum(y_pred, EPSILON) + 1.0), xp.log(xp.maximum(y_true, EPSILON) + 1.0)


def _msle_values(xp, y_pred, y_true):
    first, second = _msle_logs(xp, y_pred, y_true)
    d = first - second
    return xp.mean(d * d, axis=-1)


def mean_squared_logarithmic_error(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2` over the last axis,
    then over the batch.

    Keras's formula (`eps` = 1e-7); Keras's `"sum_over_batch_size"` reduction: `sum(values * w) /
    values.size` over the per-sample values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_squared_logarithmic_error
        >>> y_pred = np.array([[np.e - 1.0, 0.0]])
        >>> y_true = np.array([[0.0, 0.0]])
        >>> round(float(mean_squared_logarithmic_error(y_pred, y_true)), 4)
        0.5
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_msle_values(xp, y_pred, y_true), sample_weight)


def mean_squared_logarithmic_error_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `mean_squared_logarithmic_error` w.r.t. `y_pred`.

    0 where `y_pred < eps` (the clip), half at `y_pred == eps` (as torch.maximum's autograd).

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import mean_squared_logarithmic_error_backward
        >>> y_pred = np.array([[np.e - 1.0, -1.0]])
        >>> y_true = np.array([[0.0, 0.0]])
        >>> mean_squared_logarithmic_error_backward(y_pred, y_true).round(4).tolist()
        [[0.3679, 0.0]]
    """
    xp = array_namespace(y_pred, y_true)
    first, second = _msle_logs(xp, y_pred, y_true)
    inside = _tie_share(xp, y_pred, xp.full_like(y_pred, EPSILON))
    grad = (2.0 / y_pred.shape[-1]) * (first - second) / (xp.maximum(y_pred, EPSILON) + 1.0) * inside
    return _scale(grad, sample_weight, _rows(y_pred))


def _log_cosh_values(xp, y_pred, y_true):
    x = y_pred - y_true
    z = -2.0 * x  # log(cosh(x)) = x + softplus(-2x) - log(2), Keras's stable form
    softplus = xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))
    return xp.mean(x + softplus - math.log(2.0), axis=-1)


def log_cosh(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `log(cosh(y_pred - y_true))` over the last axis, then over the batch.

    Computed as Keras does, `x + softplus(-2 x) - log(2)` (no overflow for large errors); about
    `x**2 / 2` for small errors and `|x| - log(2)` for large ones. Keras's
    `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample values.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import log_cosh
        >>> y_pred = np.array([[1.0, 0.0], [1000.0, 0.0]])
        >>> y_true = np.zeros((2, 2))
        >>> round(float(log_cosh(y_pred, y_true)), 4)  # (log(cosh(1)) + 1000 - log(2)) / 4
        249.9352
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_log_cosh_values(xp, y_pred, y_true), sample_weight)


def log_cosh_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `log_cosh` w.r.t. `y_pred`: `tanh(y_pred - y_true)`, scaled.

    Args:
        y_pred: The predictions, `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import log_cosh_backward
        >>> log_cosh_backward(np.array([[1.0, 0.0]]), np.zeros((1, 2))).round(4).tolist()
        [[0.3808, 0.0]]
    """
    xp = array_namespace(y_pred, y_true)
    grad = xp.tanh(y_pred - y_true) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def _hinge_margin(xp, y_pred, y_true):
    """``(labels, 1 - labels * y_pred)``: the hinge labels and the margin before the clip at 0."""
    labels = hinge_labels(y_true)
    return labels, 1.0 - labels * y_pred


def _hinge_values(xp, y_pred, y_true, squared=False):
    _, margin = _hinge_margin(xp, y_pred, y_true)
    clipped = xp.maximum(margin, xp.zeros_like(margin))
    return xp.mean(clipped * clipped if squared else clipped, axis=-1)


def hinge(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `max(1 - y_true * y_pred, 0)` over the last axis, then over the batch.

    Targets are -1 or 1; 0/1 labels are first turned into -1/1, as Keras does (see
    `hinge_labels`). Keras's `"sum_over_batch_size"` reduction: `sum(values * w) / values.size`
    over the per-sample values.

    Args:
        y_pred: The predictions (scores), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import hinge
        >>> y_pred = np.array([[0.3, -2.0], [0.8, 0.4]])
        >>> y_true = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(hinge(y_pred, y_true)), 4)  # (0.7 + 0 + 1.8 + 0.6) / 4
        0.775
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_hinge_values(xp, y_pred, y_true), sample_weight)


def hinge_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `hinge` w.r.t. `y_pred`: `-y_true` where the margin is violated, half
    that at the kink (as torch.maximum's autograd), scaled.

    Args:
        y_pred: The predictions (scores), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import hinge_backward
        >>> y_pred = np.array([[0.3, -2.0], [0.8, 0.4]])
        >>> y_true = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> hinge_backward(y_pred, y_true).round(4).tolist()
        [[-0.25, 0.0], [0.25, -0.25]]
    """
    xp = array_namespace(y_pred, y_true)
    labels, margin = _hinge_margin(xp, y_pred, y_true)
    grad = -labels * _tie_share(xp, margin, xp.zeros_like(margin)) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def squared_hinge(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `max(1 - y_true * y_pred, 0)**2` over the last axis, then over the batch.

    Targets as in `hinge` (0/1 labels become -1/1). Keras's `"sum_over_batch_size"` reduction:
    `sum(values * w) / values.size` over the per-sample values.

    Args:
        y_pred: The predictions (scores), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import squared_hinge
        >>> y_pred = np.array([[0.3, -2.0], [0.8, 0.4]])
        >>> y_true = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(squared_hinge(y_pred, y_true)), 4)  # (0.49 + 0 + 3.24 + 0.36) / 4
        1.0225
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_hinge_values(xp, y_pred, y_true, squared=True), sample_weight)


def squared_hinge_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `squared_hinge` w.r.t. `y_pred`: `-2 y_true max(1 - y_true y_pred, 0)`, scaled.

    Args:
        y_pred: The predictions (scores), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import squared_hinge_backward
        >>> y_pred = np.array([[0.3, -2.0], [0.8, 0.4]])
        >>> y_true = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> squared_hinge_backward(y_pred, y_true).round(4).tolist()
        [[-0.35, 0.0], [0.9, -0.3]]
    """
    xp = array_namespace(y_pred, y_true)
    labels, margin = _hinge_margin(xp, y_pred, y_true)
    grad = -2.0 * labels * xp.maximum(margin, xp.zeros_like(margin)) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


# --- Keras's categorical hinge, Poisson, cosine similarity and focal cross-entropies -------------
def _class_axis_last(xp, y_pred, y_true, axis):
    """``(y_pred, y_true)`` with the class ``axis`` moved last; the batch axis is refused, as
    ``sample_weight`` and the reduction count samples along it."""
    if y_pred.ndim < 2 or axis % y_pred.ndim == 0:
        raise ValueError(f"axis={axis} must name a class axis of y_pred {tuple(y_pred.shape)}, not its batch axis")
    return _last(xp, y_pred, axis), _last(xp, y_true, axis)


def _reduce_over_axis(values, y_pred, y_true, axis, sample_weight, *arguments):
    """``_reduce`` of ``values(xp, y_pred, y_true, *arguments)`` (per-sample values of the class
    axis put last) over the class ``axis``."""
    xp = array_namespace(y_pred, y_true)
    p, t = _class_axis_last(xp, y_pred, y_true, axis)
    return _reduce(values(xp, p, t, *arguments), sample_weight)


def _scale_over_axis(gradient, y_pred, y_true, axis, sample_weight, *arguments):
    """The backward of ``_reduce_over_axis``: ``gradient(xp, y_pred, y_true, *arguments)``
    (each sample's value's gradient, class axis last) scaled, its class axis moved back."""
    xp = array_namespace(y_pred, y_true)
    p, t = _class_axis_last(xp, y_pred, y_true, axis)
    grad = _scale(gradient(xp, p, t, *arguments), sample_weight, _rows(p))
    return grad if axis in (-1, y_pred.ndim - 1) else xp.moveaxis(grad, -1, axis)


def _inside_clip(xp, p):
    """1 where ``p`` lies in ``[EPSILON, 1 - EPSILON]``, else 0: the ends included, as
    torch.clamp's autograd (Keras's focal losses on PyTorch) still passes the gradient there."""
    return xp.astype((p >= EPSILON) & (p <= 1.0 - EPSILON), p.dtype)


def _focal_factor(xp, base, gamma):
    """``base**gamma``, the focal modulation (ones for ``gamma = 0``, without a power kernel)."""
    return xp.ones_like(base) if gamma == 0.0 else base**gamma


def _focal_factor_derivative(xp, base, gamma):
    """``d(base**gamma)/d(base)``: 0 for ``gamma = 0``, where ``gamma * base**(gamma - 1)``
    would be ``0 * inf`` at ``base = 0``."""
    return xp.zeros_like(base) if gamma == 0.0 else gamma * base ** (gamma - 1.0)


def _categorical_hinge_margin(xp, y_pred, y_true):
    """``(others, top, margin)``: ``(1 - t) * p``, its max over the last axis and ``top - pos + 1``."""
    others = (1.0 - y_true) * y_pred
    top = xp.max(others, axis=-1, keepdims=True)
    return others, top, top - xp.sum(y_true * y_pred, axis=-1, keepdims=True) + 1.0


def _categorical_hinge_values(xp, y_pred, y_true):
    _, _, margin = _categorical_hinge_margin(xp, y_pred, y_true)
    return xp.maximum(margin, xp.zeros_like(margin))[..., 0]


def categorical_hinge(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """`max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` over the last axis, then
    the mean over the batch.

    Keras's formula: the best wrong score against the right one, with a margin of 1. Keras's
    `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample values.

    Args:
        y_pred: The predictions (scores), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: One-hot targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import categorical_hinge
        >>> y_pred = np.array([[0.6, 0.4], [0.9, 0.1]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(categorical_hinge(y_pred, y_true)), 4)  # (1.2 + 0.2) / 2
        0.7
        >>> round(float(categorical_hinge(y_pred, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.6
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_categorical_hinge_values(xp, y_pred, y_true), sample_weight)


def categorical_hinge_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `categorical_hinge` w.r.t. `y_pred`.

    Where the margin is violated: 1 at the best wrong score (shared by ties, as torch.amax's
    autograd), -1 at the right one; half that at the kink (as torch.maximum's autograd), scaled.

    Args:
        y_pred: The predictions (scores), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: One-hot targets, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import categorical_hinge_backward
        >>> y_pred = np.array([[0.6, 0.4], [0.9, 0.1]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> categorical_hinge_backward(y_pred, y_true).round(4).tolist()
        [[0.5, -0.5], [-0.5, 0.5]]
    """
    xp = array_namespace(y_pred, y_true)
    others, top, margin = _categorical_hinge_margin(xp, y_pred, y_true)
    at_top = xp.astype(others == top, y_pred.dtype)  # the max's gradient is shared by ties (torch.amax)
    share = at_top / xp.sum(at_top, axis=-1, keepdims=True)
    grad = _tie_share(xp, margin, xp.zeros_like(margin)) * ((1.0 - y_true) * share - y_true)
    return _scale(grad, sample_weight, _rows(y_pred))


def _poisson_values(xp, y_pred, y_true):
    return xp.mean(y_pred - y_true * xp.log(y_pred + EPSILON), axis=-1)


def poisson(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """Mean of `y_pred - y_true * log(y_pred + eps)` over the last axis, then over the batch.

    Keras's formula (`eps` = 1e-7): the Poisson negative log-likelihood of counts `y_true` at
    rates `y_pred`, up to a term free of `y_pred`. Keras's `"sum_over_batch_size"` reduction:
    `sum(values * w) / values.size` over the per-sample values.

    Args:
        y_pred: The predicted rates (positive), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The counts, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import poisson
        >>> y_pred = np.array([[1.0, 2.0], [1.0, 1.0]])
        >>> y_true = np.array([[1.0, 1.0], [0.0, 2.0]])
        >>> round(float(poisson(y_pred, y_true)), 4)  # ((1 + 2 - log 2) / 2 + (1 + 1) / 2) / 2
        1.0767
        >>> round(float(poisson(y_pred, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        0.5767
    """
    xp = array_namespace(y_pred, y_true)
    return _reduce(_poisson_values(xp, y_pred, y_true), sample_weight)


def poisson_backward(y_pred: Array, y_true: Array, sample_weight: Array | None = None) -> Array:
    """The gradient of `poisson` w.r.t. `y_pred`: `1 - y_true / (y_pred + eps)`, scaled.

    Args:
        y_pred: The predicted rates (positive), `(N, ..., K)`, float32 or float64, on any backend.
        y_true: The counts, of the same shape and dtype.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import poisson_backward
        >>> y_pred = np.array([[1.0, 2.0], [1.0, 1.0]])
        >>> y_true = np.array([[1.0, 1.0], [0.0, 2.0]])
        >>> poisson_backward(y_pred, y_true).round(4).tolist()
        [[0.0, 0.125], [0.25, -0.25]]
    """
    grad = (1.0 - y_true / (y_pred + EPSILON)) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def _unit(xp, x):
    """Keras's `normalize`: ``x * min(1 / sqrt(sum(x**2)), 1 / eps)`` over the last axis, and that
    factor (``(..., 1)``) and whether it was below the clip (``(..., 1)``, 1.0 or 0.0)."""
    squares = xp.sum(x * x, axis=-1, keepdims=True)
    inverse = 1.0 / xp.sqrt(xp.maximum(squares, EPSILON * EPSILON))  # min(rsqrt(s), 1/eps)
    return x * inverse, inverse, xp.astype(squares > EPSILON * EPSILON, x.dtype)


def _cosine_similarity_values(xp, y_pred, y_true):
    return -xp.sum(_unit(xp, y_true)[0] * _unit(xp, y_pred)[0], axis=-1)


def _cosine_similarity_gradient(xp, y_pred, y_true):
    t_unit = _unit(xp, y_true)[0]
    _, inverse, inside = _unit(xp, y_pred)
    dot = xp.sum(t_unit * y_pred, axis=-1, keepdims=True)
    # d/dp of -sum(t_unit * p * inverse): -(t_unit * inverse - dot * p * inverse**3) unclipped
    return -(t_unit * inverse - inside * dot * y_pred * inverse * inverse * inverse)


def cosine_similarity(y_pred: Array, y_true: Array, axis: int = -1, sample_weight: Array | None = None) -> Array:
    """Minus the cosine of the angle between `y_pred` and `y_true` along `axis`, then the mean
    over the batch.

    `-1` per sample when they point the same way. As Keras, each vector is divided by
    `max(|x|, eps)` (`eps` = 1e-7: a zero vector stays zero). Keras's `"sum_over_batch_size"`
    reduction: `sum(values * w) / values.size` over the per-sample values (`y_pred`'s shape
    without `axis`).

    Args:
        y_pred: The predictions, `(N, ..., K, ...)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        axis: The axis of the vectors (`-1`: the last); not the batch axis.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Raises:
        ValueError: If `axis` is the batch axis of `y_pred` (or `y_pred` has a single axis).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import cosine_similarity
        >>> y_pred = np.array([[0.0, 2.0], [1.0, 1.0]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(cosine_similarity(y_pred, y_true)), 4)  # (-1 - 1 / sqrt(2)) / 2
        -0.8536
        >>> round(float(cosine_similarity(y_pred, y_true, sample_weight=np.array([1.0, 0.0]))), 4)
        -0.5
        >>> round(float(cosine_similarity(y_pred[:, :, None], y_true[:, :, None], axis=1)), 4)  # (N, K, 1)
        -0.8536
    """
    return _reduce_over_axis(_cosine_similarity_values, y_pred, y_true, axis, sample_weight)


def cosine_similarity_backward(
    y_pred: Array, y_true: Array, axis: int = -1, sample_weight: Array | None = None
) -> Array:
    """The gradient of `cosine_similarity` w.r.t. `y_pred`.

    `-(t / |t| - cos * p / |p|) / |p|` along `axis`, scaled; where `|p| <= eps` (the clip) only
    the first term.

    Args:
        y_pred: The predictions, `(N, ..., K, ...)`, float32 or float64, on any backend.
        y_true: The targets, of the same shape and dtype.
        axis: The axis of the vectors (`-1`: the last); not the batch axis.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Raises:
        ValueError: If `axis` is the batch axis of `y_pred` (or `y_pred` has a single axis).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import cosine_similarity_backward
        >>> y_pred = np.array([[1.0, 2.0], [1.0, 1.0]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> cosine_similarity_backward(y_pred, y_true).round(4).tolist()
        [[0.0894, -0.0447], [-0.1768, 0.1768]]
    """
    return _scale_over_axis(_cosine_similarity_gradient, y_pred, y_true, axis, sample_weight)


def _binary_focal_terms(xp, y_pred, y_true, from_logits, label_smoothing):
    """``(p, t, q, bce, base)``, what both directions need: the probabilities, the smoothed
    targets, ``p`` clipped, the per-entry cross-entropy and ``1 - p_t``, ``p_t = t p + (1 - t)(1 - p)``."""
    t = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true
    p = sigmoid(y_pred) if from_logits else y_pred
    q = _clip_probabilities(xp, p)
    bce = -(t * xp.log(q) + (1.0 - t) * xp.log(1.0 - q))
    return p, t, q, bce, 1.0 - (t * p + (1.0 - t) * (1.0 - p))


def _class_balance(t, alpha):
    """Keras's class balancing: ``alpha`` for positives, ``1 - alpha`` for negatives."""
    return t * alpha + (1.0 - t) * (1.0 - alpha)


def _binary_focal_crossentropy_values(
    xp, y_pred, y_true, apply_class_balancing, alpha, gamma, from_logits, label_smoothing
):
    _, t, _, bce, base = _binary_focal_terms(xp, y_pred, y_true, from_logits, label_smoothing)
    value = _focal_factor(xp, base, gamma) * bce
    if apply_class_balancing:
        value = _class_balance(t, alpha) * value
    return xp.mean(value, axis=-1)


def _binary_focal_crossentropy_gradient(
    xp, y_pred, y_true, apply_class_balancing, alpha, gamma, from_logits, label_smoothing
):
    p, t, q, bce, base = _binary_focal_terms(xp, y_pred, y_true, from_logits, label_smoothing)
    # d(1 - p_t)/dp = 1 - 2t; the clip passes the cross-entropy's gradient inside [eps, 1 - eps]
    dbce = (q - t) / (q * (1.0 - q)) * _inside_clip(xp, p)
    grad = _focal_factor_derivative(xp, base, gamma) * (1.0 - 2.0 * t) * bce + _focal_factor(xp, base, gamma) * dbce
    if apply_class_balancing:
        grad = _class_balance(t, alpha) * grad
    if from_logits:
        grad = grad * p * (1.0 - p)
    return grad / y_pred.shape[-1]


def binary_focal_crossentropy(
    y_pred: Array,
    y_true: Array,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Array | None = None,
) -> Array:
    """Binary cross-entropy scaled by `(1 - p_t)**gamma`, `p_t = y p + (1 - y)(1 - p)`, averaged
    over `axis`, then over the batch.

    Keras's formula: easy examples (`p_t` near 1) count less. The probabilities are clipped to
    `[eps, 1 - eps]` inside the cross-entropy (`eps` = 1e-7), not in the focal factor. Keras's
    `"sum_over_batch_size"` reduction: `sum(values * w) / values.size` over the per-sample values
    (`y_pred`'s shape without `axis`).

    Args:
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K, ...)`, float32 or
            float64, on any backend.
        y_true: Targets in `[0, 1]`, of the same shape and dtype.
        apply_class_balancing: Weigh positives by `alpha` and negatives by `1 - alpha`.
        alpha: The positives' weight with `apply_class_balancing`.
        gamma: The focusing exponent, >= 0 (0: plain binary cross-entropy).
        from_logits: `y_pred` holds logits (a sigmoid is applied first).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.
        axis: The axis averaged over (`-1`: the last); not the batch axis.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Raises:
        ValueError: If `axis` is the batch axis of `y_pred` (or `y_pred` has a single axis).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import binary_focal_crossentropy
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(binary_focal_crossentropy(y_pred, y_true)), 4)  # mean of 0.2**2 * -log(0.8), ...
        0.0453
        >>> round(float(binary_focal_crossentropy(y_pred, y_true, gamma=0.0)), 4)  # binary cross-entropy
        0.367
        >>> round(float(binary_focal_crossentropy(np.log(y_pred / (1 - y_pred)), y_true, from_logits=True)), 4)
        0.0453
    """
    return _reduce_over_axis(
        _binary_focal_crossentropy_values,
        y_pred,
        y_true,
        axis,
        sample_weight,
        apply_class_balancing,
        alpha,
        gamma,
        from_logits,
        label_smoothing,
    )


def binary_focal_crossentropy_backward(
    y_pred: Array,
    y_true: Array,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Array | None = None,
) -> Array:
    """The gradient of `binary_focal_crossentropy` w.r.t. `y_pred` (the logits with `from_logits`).

    The clip passes the cross-entropy's gradient on `[eps, 1 - eps]`, ends included (as
    torch.clamp's autograd).

    Args:
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K, ...)`, float32 or
            float64, on any backend.
        y_true: Targets in `[0, 1]`, of the same shape and dtype.
        apply_class_balancing: Weigh positives by `alpha` and negatives by `1 - alpha`.
        alpha: The positives' weight with `apply_class_balancing`.
        gamma: The focusing exponent, >= 0.
        from_logits: `y_pred` holds logits (a sigmoid is applied first).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.
        axis: The axis averaged over (`-1`: the last); not the batch axis.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Raises:
        ValueError: If `axis` is the batch axis of `y_pred` (or `y_pred` has a single axis).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import binary_focal_crossentropy_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> binary_focal_crossentropy_backward(y_pred, y_true).round(4).tolist()
        [[0.0348, -0.0348], [-0.1688, 0.1688]]
    """
    return _scale_over_axis(
        _binary_focal_crossentropy_gradient,
        y_pred,
        y_true,
        axis,
        sample_weight,
        apply_class_balancing,
        alpha,
        gamma,
        from_logits,
        label_smoothing,
    )


def _categorical_focal_terms(xp, y_pred, y_true, from_logits, label_smoothing):
    """``(p, t, total, normalized, o)``, what both directions need: the probabilities, the
    smoothed targets, ``p``'s sum over the last axis, ``p / total`` and that clipped."""
    t = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1] if label_smoothing else y_true
    p = softmax(y_pred) if from_logits else y_pred
    total = xp.sum(p, axis=-1, keepdims=True)
    normalized = p / total
    return p, t, total, normalized, _clip_probabilities(xp, normalized)


def _categorical_focal_crossentropy_values(xp, y_pred, y_true, alpha, gamma, from_logits, label_smoothing):
    _, t, _, _, o = _categorical_focal_terms(xp, y_pred, y_true, from_logits, label_smoothing)
    return xp.sum(-alpha * t * _focal_factor(xp, 1.0 - o, gamma) * xp.log(o), axis=-1)


def _categorical_focal_crossentropy_gradient(xp, y_pred, y_true, alpha, gamma, from_logits, label_smoothing):
    p, t, total, normalized, o = _categorical_focal_terms(xp, y_pred, y_true, from_logits, label_smoothing)
    factor, dfactor = _focal_factor(xp, 1.0 - o, gamma), _focal_factor_derivative(xp, 1.0 - o, gamma)
    # d(-alpha t (1 - o)**gamma log o)/do, where the clip passes it
    d_o = alpha * t * (dfactor * xp.log(o) - factor / o) * _inside_clip(xp, normalized)
    # through the division by the sum: d(p_i / s)/dp_j = (delta_ij - p_i / s) / s
    grad = (d_o - xp.sum(d_o * normalized, axis=-1, keepdims=True)) / total
    if from_logits:  # through the softmax
        grad = p * (grad - xp.sum(grad * p, axis=-1, keepdims=True))
    return grad


def categorical_focal_crossentropy(
    y_pred: Array,
    y_true: Array,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Array | None = None,
) -> Array:
    """`-sum(alpha * (1 - p)**gamma * y_true * log(p))` over the class `axis`, then the mean over
    the batch.

    Keras's formula: as Keras, the probabilities are divided by their sum over `axis` and clipped
    to `[eps, 1 - eps]` first (`eps` = 1e-7). Keras's `"sum_over_batch_size"` reduction:
    `sum(values * w) / values.size` over the per-sample values (`y_pred`'s shape without `axis`).

    Args:
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K, ...)`, float32 or
            float64, on any backend.
        y_true: One-hot (or soft) targets, of the same shape and dtype.
        alpha: The weight of every class's term.
        gamma: The focusing exponent, >= 0 (0: `alpha` times categorical cross-entropy).
        from_logits: `y_pred` holds logits (a softmax over `axis` is applied first).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.
        axis: The class axis (`-1`: the last); not the batch axis.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        The loss, a 0-d array in the inputs' dtype.

    Raises:
        ValueError: If `axis` is the batch axis of `y_pred` (or `y_pred` has a single axis).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import categorical_focal_crossentropy
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(categorical_focal_crossentropy(y_pred, y_true)), 4)  # mean of 0.25 * 0.2**2 * -log(0.8), ...
        0.0113
        >>> round(float(categorical_focal_crossentropy(y_pred, y_true, alpha=1.0, gamma=0.0)), 4)  # cross-entropy
        0.367
        >>> round(float(categorical_focal_crossentropy(np.log(y_pred), y_true, from_logits=True)), 4)
        0.0113
    """
    return _reduce_over_axis(
        _categorical_focal_crossentropy_values,
        y_pred,
        y_true,
        axis,
        sample_weight,
        alpha,
        gamma,
        from_logits,
        label_smoothing,
    )


def categorical_focal_crossentropy_backward(
    y_pred: Array,
    y_true: Array,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Array | None = None,
) -> Array:
    """The gradient of `categorical_focal_crossentropy` w.r.t. `y_pred` (the logits with `from_logits`).

    Through the division by the sum; the clip passes the gradient on `[eps, 1 - eps]`, ends
    included (as torch.clamp's autograd).

    Args:
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K, ...)`, float32 or
            float64, on any backend.
        y_true: One-hot (or soft) targets, of the same shape and dtype.
        alpha: The weight of every class's term.
        gamma: The focusing exponent, >= 0.
        from_logits: `y_pred` holds logits (a softmax over `axis` is applied first).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.
        axis: The class axis (`-1`: the last); not the batch axis.
        sample_weight: `(N,)` weights of each sample's loss, or `None` (all ones).

    Returns:
        An array of `y_pred`'s shape and dtype.

    Raises:
        ValueError: If `axis` is the batch axis of `y_pred` (or `y_pred` has a single axis).

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.losses import categorical_focal_crossentropy_backward
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> categorical_focal_crossentropy_backward(y_pred, y_true).round(4).tolist()
        [[0.0139, -0.0035], [-0.0338, 0.0506]]
    """
    return _scale_over_axis(
        _categorical_focal_crossentropy_gradient,
        y_pred,
        y_true,
        axis,
        sample_weight,
        alpha,
        gamma,
        from_logits,
        label_smoothing,
    )
