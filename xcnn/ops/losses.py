"""Losses as pure functions: `loss(y_pred, y_true, sample_weight=None) -> scalar` beside
`loss_backward` (the gradient of that scalar w.r.t. `y_pred`).

Shapes: `y_pred` and `y_true` are `(N, ..., K)`; each loss is first reduced over the
last axis to one value per sample (`(N, ...)`), as Keras's loss functions are, then Keras's
`"sum_over_batch_size"` reduction gives the scalar: `sum(values * w) / values.size`, where
`sample_weight` `w` is `(N,)` (or `None`: all ones). The fused softmax/sigmoid forms take
logits: their gradients (`softmax(z) - y`, `sigmoid(z) - y`, scaled) stay exact where
`log(p)` would underflow.
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
