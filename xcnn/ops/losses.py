"""Losses as pure functions: ``loss(y_pred, y_true, sample_weight=None) -> scalar`` beside
``loss_backward`` (the gradient of that scalar w.r.t. ``y_pred``).

Shapes: ``y_pred`` and ``y_true`` are ``(N, ..., K)``; each loss is first reduced over the
last axis to one value per sample (``(N, ...)``), as Keras's loss functions are, then Keras's
``"sum_over_batch_size"`` reduction gives the scalar: ``sum(values * w) / values.size``, where
``sample_weight`` ``w`` is ``(N,)`` (or ``None``: all ones). The fused softmax/sigmoid forms take
logits: their gradients (``softmax(z) - y``, ``sigmoid(z) - y``, scaled) stay exact where
``log(p)`` would underflow.
"""

from __future__ import annotations

from ..backend import array_namespace
from .activations import log_softmax, sigmoid, softmax

# probabilities are clipped away from 0 and 1 before a log, as Keras does
EPSILON = 1e-7


def _clip_probabilities(xp, p):
    """``p`` clipped to ``[EPSILON, 1 - EPSILON]``, as two element-wise kernels: the generic
    ``clip`` that array-api-compat gives CuPy indexes with boolean masks (a device sync)."""
    return xp.minimum(xp.maximum(p, EPSILON), 1.0 - EPSILON)


def one_hot(labels, num_classes, dtype):
    """Integer labels ``(N,)`` -> one-hot ``(N, num_classes)`` in ``dtype`` (on the labels' device)."""
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
def softmax_cross_entropy(logits, y_true, sample_weight=None):
    """Categorical cross-entropy of ``softmax(logits)`` against ``y_true``, both ``(N, K)``."""
    xp = array_namespace(logits, y_true)
    if sample_weight is None:  # one sum over all entries, times -1/N: two kernels fewer than per-sample sums
        return xp.sum(y_true * log_softmax(logits)) * (-1.0 / _rows(logits))
    return _reduce(-xp.sum(y_true * log_softmax(logits), axis=-1), sample_weight)


def softmax_cross_entropy_backward(logits, y_true, sample_weight=None, targets_sum_to_one=False, probabilities=None):
    """The gradient w.r.t. ``logits``; ``targets_sum_to_one``: each row of ``y_true`` is known
    to sum to 1 (one-hot labels), which saves computing that sum; ``probabilities``:
    ``softmax(logits)`` when the caller has it already (the model's output), not recomputed."""
    xp = array_namespace(logits, y_true)
    p = softmax(logits) if probabilities is None else probabilities
    # d/dz of -sum(y * log_softmax(z)) is softmax(z) * sum(y) - y (sum(y) = 1 for one-hot or
    # smoothed targets, kept general for targets that are not distributions)
    if targets_sum_to_one:
        grad = p - y_true
    else:
        grad = p * xp.sum(y_true, axis=-1, keepdims=True) - y_true
    return _scale(grad, sample_weight, _rows(logits))


def categorical_crossentropy(p, y_true, sample_weight=None):
    """Cross-entropy of probabilities ``p`` against ``y_true``, both ``(N, K)``. As Keras, ``p`` is
    first divided by its sum over the last axis, then clipped to ``[eps, 1 - eps]``."""
    xp = array_namespace(p, y_true)
    q = xp.minimum(xp.maximum(p / xp.sum(p, axis=-1, keepdims=True), EPSILON), 1.0 - EPSILON)
    return _reduce(-xp.sum(y_true * xp.log(q), axis=-1), sample_weight)


def categorical_crossentropy_backward(p, y_true, sample_weight=None):
    xp = array_namespace(p, y_true)
    total = xp.sum(p, axis=-1, keepdims=True)
    normalized = p / total
    q = xp.minimum(xp.maximum(normalized, EPSILON), 1.0 - EPSILON)
    weighted = y_true * _clip_mask(xp, normalized)  # only unclipped entries carry a gradient
    # L = -sum_i y_i log(p_i / s): dL/dp_j = (-y_j / q_j + sum_i y_i) / s on unclipped entries
    grad = (xp.sum(weighted, axis=-1, keepdims=True) - weighted / q) / total
    return _scale(grad, sample_weight, _rows(p))


# --- binary cross-entropy -----------------------------------------------------------------------
def sigmoid_binary_crossentropy(logits, y_true, sample_weight=None):
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], both ``(N, K)``:
    mean over the K outputs of each sample, then over the batch."""
    xp = array_namespace(logits, y_true)
    zero = xp.zeros((), dtype=logits.dtype, device=logits.device)
    per_entry = xp.maximum(logits, zero) - logits * y_true + xp.log1p(xp.exp(-xp.abs(logits)))
    return _reduce(xp.mean(per_entry, axis=-1), sample_weight)


def sigmoid_binary_crossentropy_backward(logits, y_true, sample_weight=None, probabilities=None):
    """The gradient w.r.t. ``logits``; ``probabilities``: ``sigmoid(logits)`` when the caller
    has it already (the model's output), not recomputed."""
    # each sample's K entries are averaged, then the N samples: (sigmoid(z) - y) / (K * N)
    p = sigmoid(logits) if probabilities is None else probabilities
    grad = (p - y_true) / logits.shape[-1]
    return _scale(grad, sample_weight, _rows(logits))


def binary_crossentropy(p, y_true, sample_weight=None):
    """Binary cross-entropy of probabilities ``p`` (clipped to ``[eps, 1 - eps]``), ``(N, K)``."""
    xp = array_namespace(p, y_true)
    q = xp.minimum(xp.maximum(p, EPSILON), 1.0 - EPSILON)
    per_entry = -(y_true * xp.log(q) + (1.0 - y_true) * xp.log(1.0 - q))
    return _reduce(xp.mean(per_entry, axis=-1), sample_weight)


def binary_crossentropy_backward(p, y_true, sample_weight=None):
    xp = array_namespace(p, y_true)
    q = xp.minimum(xp.maximum(p, EPSILON), 1.0 - EPSILON)
    grad = (q - y_true) / (q * (1.0 - q)) * _clip_mask(xp, p) / p.shape[-1]
    return _scale(grad, sample_weight, _rows(p))


# --- regression ---------------------------------------------------------------------------------
def mean_squared_error(y_pred, y_true, sample_weight=None):
    """Mean of ``(y_pred - y_true)**2`` over the last axis, then over the batch."""
    xp = array_namespace(y_pred, y_true)
    d = y_pred - y_true
    return _reduce(xp.mean(d * d, axis=-1), sample_weight)


def mean_squared_error_backward(y_pred, y_true, sample_weight=None):
    grad = 2.0 * (y_pred - y_true) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def mean_absolute_error(y_pred, y_true, sample_weight=None):
    """Mean of ``|y_pred - y_true|`` over the last axis, then over the batch."""
    xp = array_namespace(y_pred, y_true)
    return _reduce(xp.mean(xp.abs(y_pred - y_true), axis=-1), sample_weight)


def mean_absolute_error_backward(y_pred, y_true, sample_weight=None):
    xp = array_namespace(y_pred, y_true)
    error = y_pred - y_true
    # its sign by comparisons (compat's sign for CuPy syncs); 0 where equal, as autograd's abs
    grad = (xp.astype(error > 0, error.dtype) - xp.astype(error < 0, error.dtype)) / y_pred.shape[-1]
    return _scale(grad, sample_weight, _rows(y_pred))


def huber(y_pred, y_true, delta=1.0, sample_weight=None):
    """Huber loss: ``e**2 / 2`` where ``|e| <= delta``, else ``delta * |e| - delta**2 / 2``
    (``e = y_pred - y_true``), mean over the last axis, then over the batch."""
    xp = array_namespace(y_pred, y_true)
    error = y_pred - y_true
    magnitude = xp.abs(error)
    per_entry = xp.where(magnitude <= delta, 0.5 * error * error, delta * magnitude - 0.5 * delta * delta)
    return _reduce(xp.mean(per_entry, axis=-1), sample_weight)


def huber_backward(y_pred, y_true, delta=1.0, sample_weight=None):
    xp = array_namespace(y_pred, y_true)
    error = y_pred - y_true
    grad = xp.minimum(xp.maximum(error, -delta), delta) / y_pred.shape[-1]  # e inside, delta * sign(e) outside
    return _scale(grad, sample_weight, _rows(y_pred))


def kl_divergence(y_pred, y_true, sample_weight=None):
    """``sum(t * log(t / p))`` over the last axis with both clipped to ``[eps, 1]``, as Keras."""
    xp = array_namespace(y_pred, y_true)
    t = xp.minimum(xp.maximum(y_true, EPSILON), 1.0)
    p = xp.minimum(xp.maximum(y_pred, EPSILON), 1.0)
    return _reduce(xp.sum(t * xp.log(t / p), axis=-1), sample_weight)


def kl_divergence_backward(y_pred, y_true, sample_weight=None):
    xp = array_namespace(y_pred, y_true)
    t = xp.minimum(xp.maximum(y_true, EPSILON), 1.0)
    p = xp.minimum(xp.maximum(y_pred, EPSILON), 1.0)
    # clip passes the gradient on [eps, 1] inclusive, as torch.clamp's autograd does
    inside = xp.astype((y_pred >= EPSILON) & (y_pred <= 1.0), y_pred.dtype)
    return _scale(-t / p * inside, sample_weight, _rows(y_pred))
