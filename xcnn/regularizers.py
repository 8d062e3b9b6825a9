"""Weight penalties added to the loss and its gradient: ``kernel_regularizer=l2(1e-4)``."""

from __future__ import annotations

from .backend import array_namespace


class Regularizer:
    """``penalty(w)`` (a 0-d array) and ``gradient(w)`` (the shape of w)."""

    def __init__(self, l1=0.0, l2=0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"regularization factors must be non-negative, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def penalty(self, w):
        xp = array_namespace(w)
        total = xp.sum(w * w) * self.l2
        if self.l1:
            total = total + xp.sum(xp.abs(w)) * self.l1
        return total

    def gradient(self, w):
        xp = array_namespace(w)
        grad = w * (2.0 * self.l2)
        if self.l1:
            # sign(w) as two comparisons: array-api-compat's sign for CuPy syncs (it masks NaNs)
            grad = grad + (xp.astype(w > 0, w.dtype) - xp.astype(w < 0, w.dtype)) * self.l1
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


def l1(factor=0.01):
    """``factor * sum(|w|)``."""
    return Regularizer(l1=factor)


def l2(factor=0.01):
    """``factor * sum(w**2)`` (Keras's convention: no 1/2)."""
    return Regularizer(l2=factor)


def l1_l2(l1=0.01, l2=0.01):
    return Regularizer(l1=l1, l2=l2)


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return Regularizer(**identifier)
    if identifier in ("l1", "l2"):
        return {"l1": l1, "l2": l2}[identifier]()
    raise ValueError(f"unknown regularizer {identifier!r}; use xcnn.regularizers.l1(...) or l2(...)")


# Keras's class names
def L1(l1=0.01):
    return Regularizer(l1=l1)


def L2(l2=0.01):
    return Regularizer(l2=l2)


def L1L2(l1=0.0, l2=0.0):
    return Regularizer(l1=l1, l2=l2)
