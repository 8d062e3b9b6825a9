"""Losses with Keras's names and arguments, by name or as objects in ``model.compile``.

>>> import numpy as np
>>> loss = CategoricalCrossentropy(label_smoothing=0.1)  # model.compile("adam", loss) takes it
>>> y_true, y_pred = np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])
>>> round(float(loss(y_true, y_pred)), 4)                 # the batch loss, as in Keras
0.2925

Each loss is the mean over the batch of a per-sample value (Keras's "sum_over_batch_size").
When the output layer ends in softmax (sigmoid) and the loss is categorical (binary)
cross-entropy on probabilities, the model computes the loss from the logits and sends
``(p - y) / N`` straight back past the activation: exact where ``log(p)`` would underflow.
With ``from_logits=True`` the model's output itself is taken as the logits, as in Keras.
"""

from __future__ import annotations

from .ops import losses as L


class Loss:
    """Base class. ``value(y_pred, target, sample_weight)`` and ``gradient(...)`` work on device
    arrays: ``y_pred`` ``(N, K)``; ``target`` what :meth:`targets` makes of the labels (one-hot
    or smoothed), ``(N, K)``; ``sample_weight`` ``(N,)`` or ``None``. Subclasses set ``name``
    (the Keras function name) and keep their constructor arguments as attributes (the config).
    """

    name = "loss"
    sparse = False  # targets are integer labels

    @property
    def fuses_with(self):
        """The output activation whose backward this loss can absorb (None: none)."""
        return None

    def targets(self, y, num_classes, dtype):
        """Targets as the loss expects them, from the (device) labels of a batch."""
        return y

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The batch loss in Keras's argument order: ``loss(y_true, y_pred)``."""
        target = self.targets(y_true, y_pred.shape[-1], y_pred.dtype)
        return self.value(y_pred, target, sample_weight)

    def value(self, y_pred, target, sample_weight=None):
        raise NotImplementedError

    def gradient(self, y_pred, target, sample_weight=None):
        raise NotImplementedError

    def value_from_logits(self, logits, target, sample_weight=None):
        raise NotImplementedError

    def gradient_from_logits(self, logits, target, sample_weight=None, probabilities=None):
        """The gradient w.r.t. the logits; ``probabilities``: the fused activation of ``logits``
        (the model's output) when already computed, which saves recomputing it."""
        raise NotImplementedError

    def get_config(self):
        code = type(self).__init__.__code__
        return {"name": self.name, **{k: getattr(self, k) for k in code.co_varnames[1 : code.co_argcount]}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _label_smoothing(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {value!r}")
    return float(value)


class CategoricalCrossentropy(Loss):
    """``-sum(y * log(p))`` per sample, ``y`` one-hot ``(N, K)``; ``label_smoothing`` ``s`` turns
    the targets into ``y * (1 - s) + s / K``; ``from_logits``: the output is logits."""

    name = "categorical_crossentropy"
    _targets_sum_to_one = False  # the user's targets need not be distributions

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)

    @property
    def fuses_with(self):
        return None if self.from_logits else "softmax"

    def targets(self, y, num_classes, dtype):
        if self.label_smoothing:
            return y * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        return y

    def value(self, y_pred, target, sample_weight=None):
        if self.from_logits:
            return L.softmax_cross_entropy(y_pred, target, sample_weight)
        return L.categorical_crossentropy(y_pred, target, sample_weight)

    def gradient(self, y_pred, target, sample_weight=None):
        if self.from_logits:
            return L.softmax_cross_entropy_backward(y_pred, target, sample_weight, self._targets_sum_to_one)
        return L.categorical_crossentropy_backward(y_pred, target, sample_weight)

    def value_from_logits(self, logits, target, sample_weight=None):
        return L.softmax_cross_entropy(logits, target, sample_weight)

    def gradient_from_logits(self, logits, target, sample_weight=None, probabilities=None):
        return L.softmax_cross_entropy_backward(logits, target, sample_weight, self._targets_sum_to_one,
                                                probabilities)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy against integer labels ``(N,)`` (one-hot on the device)."""

    name = "sparse_categorical_crossentropy"
    sparse = True
    _targets_sum_to_one = True  # one-hot rows made from the labels

    def __init__(self, from_logits=False):
        super().__init__(from_logits=from_logits)

    def targets(self, y, num_classes, dtype):
        return L.one_hot(y, num_classes, dtype)


class BinaryCrossentropy(Loss):
    """``-(y log p + (1 - y) log(1 - p))``, mean over the K outputs of a sample; targets in
    [0, 1] ``(N, K)``; ``label_smoothing`` ``s``: ``y * (1 - s) + s / 2``."""

    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)

    @property
    def fuses_with(self):
        return None if self.from_logits else "sigmoid"

    def targets(self, y, num_classes, dtype):
        if self.label_smoothing:
            return y * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y

    def value(self, y_pred, target, sample_weight=None):
        if self.from_logits:
            return L.sigmoid_binary_crossentropy(y_pred, target, sample_weight)
        return L.binary_crossentropy(y_pred, target, sample_weight)

    def gradient(self, y_pred, target, sample_weight=None):
        if self.from_logits:
            return L.sigmoid_binary_crossentropy_backward(y_pred, target, sample_weight)
        return L.binary_crossentropy_backward(y_pred, target, sample_weight)

    def value_from_logits(self, logits, target, sample_weight=None):
        return L.sigmoid_binary_crossentropy(logits, target, sample_weight)

    def gradient_from_logits(self, logits, target, sample_weight=None, probabilities=None):
        return L.sigmoid_binary_crossentropy_backward(logits, target, sample_weight, probabilities)


class MeanSquaredError(Loss):
    """``mean((y_pred - y)**2)`` over the outputs of a sample, then over the batch."""

    name = "mean_squared_error"

    def __init__(self):
        pass

    def value(self, y_pred, target, sample_weight=None):
        return L.mean_squared_error(y_pred, target, sample_weight)

    def gradient(self, y_pred, target, sample_weight=None):
        return L.mean_squared_error_backward(y_pred, target, sample_weight)


class MeanAbsoluteError(Loss):
    """``mean(|y_pred - y|)`` over the outputs of a sample, then over the batch."""

    name = "mean_absolute_error"

    def __init__(self):
        pass

    def value(self, y_pred, target, sample_weight=None):
        return L.mean_absolute_error(y_pred, target, sample_weight)

    def gradient(self, y_pred, target, sample_weight=None):
        return L.mean_absolute_error_backward(y_pred, target, sample_weight)


class Huber(Loss):
    """Quadratic for errors up to ``delta``, linear beyond (see :func:`xcnn.ops.losses.huber`)."""

    name = "huber"

    def __init__(self, delta=1.0):
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
            raise ValueError(f"delta must be a positive number, got {delta!r}")
        self.delta = float(delta)

    def value(self, y_pred, target, sample_weight=None):
        return L.huber(y_pred, target, self.delta, sample_weight)

    def gradient(self, y_pred, target, sample_weight=None):
        return L.huber_backward(y_pred, target, self.delta, sample_weight)


class KLDivergence(Loss):
    """``sum(y * log(y / p))`` per sample, both clipped to ``[1e-7, 1]`` as in Keras."""

    name = "kl_divergence"

    def __init__(self):
        pass

    def value(self, y_pred, target, sample_weight=None):
        return L.kl_divergence(y_pred, target, sample_weight)

    def gradient(self, y_pred, target, sample_weight=None):
        return L.kl_divergence_backward(y_pred, target, sample_weight)


_CLASSES = (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError,
            MeanAbsoluteError, Huber, KLDivergence)
# Keras's function names and aliases, and the class names (Keras accepts both as strings)
_REGISTRY = {
    **{cls.name: cls for cls in _CLASSES},
    **{cls.__name__: cls for cls in _CLASSES},
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "kld": KLDivergence, "KLD": KLDivergence, "kullback_leibler_divergence": KLDivergence,
}
NAMES = tuple(_REGISTRY)


def get(identifier):
    """A :class:`Loss` from a name (``"mse"``, ``"CategoricalCrossentropy"``, ...), a config
    dict (``get_config()``'s output) or a Loss instance (returned as it is)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        cls = _REGISTRY.get(config.pop("name", None))
        if cls is None:
            raise ValueError(f"unknown loss config {identifier!r}; its 'name' must be one of {NAMES}")
        return cls(**config)
    if isinstance(identifier, str) and identifier in _REGISTRY:
        return _REGISTRY[identifier]()
    raise ValueError(f"unknown loss {identifier!r}; expected one of {NAMES} or an xcnn.losses.Loss instance")
