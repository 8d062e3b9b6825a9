"""Losses as pure functions: ``loss(y_pred, y_true) -> scalar`` beside ``loss_backward``.

All losses are means over the batch, as in Keras. The fused softmax/sigmoid forms take
logits: their gradient ``(p - y) / N`` stays exact where ``log(p)`` would underflow.
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


def softmax_cross_entropy(logits, y_true):
    """Categorical cross-entropy of ``softmax(logits)`` against one-hot ``y_true``, both ``(N, K)``."""
    xp = array_namespace(logits, y_true)
    return -xp.sum(y_true * log_softmax(logits)) / logits.shape[0]


def softmax_cross_entropy_backward(logits, y_true):
    return (softmax(logits) - y_true) / logits.shape[0]


def categorical_crossentropy(p, y_true):
    """Cross-entropy of probabilities ``p`` against one-hot ``y_true``, both ``(N, K)``."""
    xp = array_namespace(p, y_true)
    return -xp.sum(y_true * xp.log(_clip_probabilities(xp, p))) / p.shape[0]


def categorical_crossentropy_backward(p, y_true):
    xp = array_namespace(p, y_true)
    clipped = _clip_probabilities(xp, p)
    inside = xp.astype((p > EPSILON) & (p < 1.0 - EPSILON), p.dtype)
    return -y_true / clipped * inside / p.shape[0]


def sigmoid_binary_crossentropy(logits, y_true):
    """Binary cross-entropy of ``sigmoid(logits)`` against 0/1 targets, mean over all entries."""
    xp = array_namespace(logits, y_true)
    per_entry = xp.maximum(logits, 0.0) - logits * y_true + xp.log1p(xp.exp(-xp.abs(logits)))
    return xp.mean(per_entry)


def sigmoid_binary_crossentropy_backward(logits, y_true):
    return (sigmoid(logits) - y_true) / _size(logits)


def binary_crossentropy(p, y_true):
    """Binary cross-entropy of probabilities ``p``, mean over all entries."""
    xp = array_namespace(p, y_true)
    q = _clip_probabilities(xp, p)
    return -xp.mean(y_true * xp.log(q) + (1.0 - y_true) * xp.log(1.0 - q))


def binary_crossentropy_backward(p, y_true):
    xp = array_namespace(p, y_true)
    q = _clip_probabilities(xp, p)
    inside = xp.astype((p > EPSILON) & (p < 1.0 - EPSILON), p.dtype)
    return (q - y_true) / (q * (1.0 - q)) * inside / _size(p)


def mean_squared_error(y_pred, y_true):
    """Mean of ``(y_pred - y_true)**2`` over all entries."""
    xp = array_namespace(y_pred, y_true)
    d = y_pred - y_true
    return xp.mean(d * d)


def mean_squared_error_backward(y_pred, y_true):
    return 2.0 * (y_pred - y_true) / _size(y_pred)


def _size(x):
    size = 1
    for d in x.shape:
        size *= d
    return size
