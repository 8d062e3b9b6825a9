"""Losses by name for ``model.compile``; each knows the output activation it can fuse with.

When the output layer ends in softmax (sigmoid) and the loss is categorical (binary)
cross-entropy, the model computes the loss from the logits and sends ``(p - y) / N``
straight back past the activation: exact where ``log(p)`` would underflow.
"""

from __future__ import annotations

from .ops import losses as L


class Loss:
    name = "loss"
    fuses_with: str | None = None  # the output activation name whose backward this loss can absorb
    sparse = False  # targets are integer labels

    def targets(self, y, num_classes, dtype):
        """Targets as the loss expects them, from the (device) labels of a batch."""
        return y

    def __call__(self, y_pred, y_true):
        raise NotImplementedError

    def gradient(self, y_pred, y_true):
        raise NotImplementedError

    def from_logits(self, logits, y_true):
        raise NotImplementedError

    def gradient_from_logits(self, logits, y_true):
        raise NotImplementedError


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def __call__(self, y_pred, y_true):
        return L.categorical_crossentropy(y_pred, y_true)

    def gradient(self, y_pred, y_true):
        return L.categorical_crossentropy_backward(y_pred, y_true)

    def from_logits(self, logits, y_true):
        return L.softmax_cross_entropy(logits, y_true)

    def gradient_from_logits(self, logits, y_true):
        return L.softmax_cross_entropy_backward(logits, y_true)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    name = "sparse_categorical_crossentropy"
    sparse = True

    def targets(self, y, num_classes, dtype):
        return L.one_hot(y, num_classes, dtype)


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def __call__(self, y_pred, y_true):
        return L.binary_crossentropy(y_pred, y_true)

    def gradient(self, y_pred, y_true):
        return L.binary_crossentropy_backward(y_pred, y_true)

    def from_logits(self, logits, y_true):
        return L.sigmoid_binary_crossentropy(logits, y_true)

    def gradient_from_logits(self, logits, y_true):
        return L.sigmoid_binary_crossentropy_backward(logits, y_true)


class MeanSquaredError(Loss):
    name = "mse"

    def __call__(self, y_pred, y_true):
        return L.mean_squared_error(y_pred, y_true)

    def gradient(self, y_pred, y_true):
        return L.mean_squared_error_backward(y_pred, y_true)


_REGISTRY = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
}
NAMES = tuple(_REGISTRY)


def get(identifier):
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _REGISTRY:
        return _REGISTRY[identifier]()
    raise ValueError(f"unknown loss {identifier!r}; expected one of {NAMES} or a Loss instance")
