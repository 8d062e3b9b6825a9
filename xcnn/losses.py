"""Losses with Keras's names and arguments, by name or as objects in `model.compile`.

>>> import numpy as np
>>> loss = CategoricalCrossentropy(label_smoothing=0.1)  # model.compile("adam", loss) takes it
>>> y_true, y_pred = np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])
>>> round(float(loss(y_true, y_pred)), 4)                 # the batch loss, as in Keras
0.2925

Each loss is the mean over the batch of a per-sample value (Keras's "sum_over_batch_size").
When the output layer ends in softmax (sigmoid) and the loss is categorical (binary)
cross-entropy on probabilities, the model computes the loss from the logits and sends
`(p - y) / N` straight back past the activation: exact where `log(p)` would underflow.
With `from_logits=True` the model's output itself is taken as the logits, as in Keras.

Keras's function forms (`mean_squared_error(y_true, y_pred)`, `sparse_categorical_crossentropy(
y_true, y_pred, from_logits=False)`, ...) return one loss per sample on any backend, and
`compile` takes them too (as their class with the default arguments).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend as B
from ._typing import Array, DType
from .ops import losses as L


class Loss:
    """Base class of the losses.

    `value(y_pred, target, sample_weight)` and `gradient(...)` work on device arrays: `y_pred`
    `(N, K)`; `target` what `targets` makes of the labels (one-hot or smoothed), `(N, K)`;
    `sample_weight` `(N,)` or `None`. Calling a loss, `loss(y_true, y_pred)`, gives the batch loss
    in Keras's argument order. Subclasses set `name` (the Keras function name) and keep their
    constructor arguments as attributes (the config).

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import MeanSquaredError
        >>> loss = MeanSquaredError()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)
        0.04
    """

    name = "loss"
    sparse = False  # targets are integer labels

    @property
    def fuses_with(self) -> str | None:
        """The output activation whose backward this loss can absorb (`None`: none).

        When the model's output layer ends in it, the model computes the loss from the logits.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanSquaredError
            >>> loss = MeanSquaredError()
            >>> loss.fuses_with
        """
        return None

    def targets(self, y: Array, num_classes: int, dtype: DType) -> Array:
        """Targets as the loss expects them, from the (device) labels of a batch.

        Args:
            y: The labels: `(N, K)` (one-hot or values), or `(N,)` class indices for a sparse loss.
            num_classes: `K`, the model's outputs per sample.
            dtype: The dtype of the targets (the outputs').

        Returns:
            `(N, K)` targets (label smoothing applied where set).

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanSquaredError
            >>> loss = MeanSquaredError()
            >>> loss.targets(np.array([[0.0, 1.0]]), 2, "float64").tolist()
            [[0.0, 1.0]]
        """
        return y

    def __call__(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> Array:
        """The batch loss in Keras's argument order: `loss(y_true, y_pred)`."""
        target = self.targets(y_true, y_pred.shape[-1], y_pred.dtype)
        return self.value(y_pred, target, sample_weight)

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """The batch loss: the mean over the batch of each sample's (weighted) loss.

        Args:
            y_pred: The model's outputs, `(N, K)`, float32 or float64, on any backend.
            target: The targets as `targets` makes them, `(N, K)`, in `y_pred`'s dtype.
            sample_weight: `(N,)` weights of each sample's loss, or `None`.

        Returns:
            A 0-d array in the outputs' dtype.

        Raises:
            NotImplementedError: In the base class; every loss implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanSquaredError
            >>> loss = MeanSquaredError()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.04
        """
        raise NotImplementedError

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """The gradient of `value` w.r.t. `y_pred`.

        Args:
            y_pred: The model's outputs, `(N, K)`, float32 or float64, on any backend.
            target: The targets as `targets` makes them, `(N, K)`, in `y_pred`'s dtype.
            sample_weight: `(N,)` weights of each sample's loss, or `None`.

        Returns:
            `(N, K)`, in `y_pred`'s dtype.

        Raises:
            NotImplementedError: In the base class; every loss implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanSquaredError
            >>> loss = MeanSquaredError()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[0.2, -0.2]]
        """
        raise NotImplementedError

    def value_from_logits(self, logits: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """The batch loss computed from the logits (exact where `log(p)` would underflow).

        Args:
            logits: The model's outputs before the activation, `(N, K)`, float32 or float64, on any backend.
            target: The targets as `targets` makes them, `(N, K)`, in `logits`'s dtype.
            sample_weight: `(N,)` weights of each sample's loss, or `None`.

        Returns:
            A 0-d array in the outputs' dtype.

        Raises:
            NotImplementedError: In the base class; every loss implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> logits = np.log(np.array([[0.2, 0.8]]))
            >>> round(float(loss.value_from_logits(logits, target)), 4)
            0.2231
        """
        raise NotImplementedError

    def gradient_from_logits(
        self, logits: Array, target: Array, sample_weight: Array | None = None, probabilities: Array | None = None
    ) -> Array:
        """The gradient of `value_from_logits` w.r.t. the logits (`(p - y) / N` for softmax cross-entropy).

        Args:
            logits: The model's outputs before the activation, `(N, K)`, float32 or float64, on any backend.
            target: The targets as `targets` makes them, `(N, K)`, in `logits`'s dtype.
            sample_weight: `(N,)` weights of each sample's loss, or `None`.
            probabilities: The fused activation of `logits` (the model's output) when the caller
                has it already, which saves recomputing it; `None`: computed here.

        Returns:
            `(N, K)`, in `logits`'s dtype.

        Raises:
            NotImplementedError: In the base class; every loss implements it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> logits = np.log(np.array([[0.2, 0.8]]))
            >>> loss.gradient_from_logits(logits, target).round(4).tolist()
            [[0.2, -0.2]]
        """
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The loss's name and constructor arguments, which `get` accepts back.

        Returns:
            `{"name": ..., <argument>: <value>, ...}`.

        Examples:
            >>> from xcnn.losses import Huber, get
            >>> config = Huber(delta=2.0).get_config()
            >>> config
            {'name': 'huber', 'delta': 2.0}
            >>> get(config)
            Huber(delta=2.0)
        """
        code = type(self).__init__.__code__
        return {"name": self.name, **{k: getattr(self, k) for k in code.co_varnames[1 : code.co_argcount]}}

    def _arguments(self) -> dict[str, Any]:
        """The constructor arguments: the config without the name."""
        return {k: v for k, v in self.get_config().items() if k != "name"}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._arguments().items())
        return f"{type(self).__name__}({args})"


def _label_smoothing(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {value!r}")
    return float(value)


class CategoricalCrossentropy(Loss):
    """`-sum(y * log(p))` per sample, `y` one-hot `(N, K)`.

    Args:
        from_logits: The model's output is logits (no softmax), as in Keras.
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.

    Raises:
        ValueError: If `label_smoothing` is not a number in `[0, 1]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import CategoricalCrossentropy
        >>> loss = CategoricalCrossentropy()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)
        0.2231
    """

    name = "categorical_crossentropy"
    _targets_sum_to_one = False  # the user's targets need not be distributions

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)

    @property
    def fuses_with(self) -> str | None:
        """The output activation whose backward this loss can absorb (`None`: none).

        When the model's output layer ends in it, the model computes the loss from the logits.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> loss.fuses_with
            'softmax'
        """
        return None if self.from_logits else "softmax"

    def targets(self, y: Array, num_classes: int, dtype: DType) -> Array:
        """As `Loss.targets`: the labels `(N, K)` as given, smoothed to `y * (1 - s) + s / K` by
        `label_smoothing` `s`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> loss.targets(np.array([[0.0, 1.0]]), 2, "float64").tolist()
            [[0.0, 1.0]]
            >>> CategoricalCrossentropy(label_smoothing=0.2).targets(np.array([[0.0, 1.0]]), 2, "float64").tolist()
            [[0.1, 0.9]]
        """
        if self.label_smoothing:
            return y * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        return y

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: `xcnn.ops.losses.categorical_crossentropy` of the probabilities, or
        `softmax_cross_entropy` of the logits when `from_logits`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.2231
        """
        if self.from_logits:
            return L.softmax_cross_entropy(y_pred, target, sample_weight)
        return L.categorical_crossentropy(y_pred, target, sample_weight)

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: `xcnn.ops.losses.categorical_crossentropy_backward` (Keras rescales each
        row of `y_pred` to sum to 1 first), or `softmax_cross_entropy_backward` when `from_logits`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[1.0, -0.25]]
        """
        if self.from_logits:
            return L.softmax_cross_entropy_backward(y_pred, target, sample_weight, self._targets_sum_to_one)
        return L.categorical_crossentropy_backward(y_pred, target, sample_weight)

    def value_from_logits(self, logits: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value_from_logits`: `xcnn.ops.losses.softmax_cross_entropy` (the loss of a fused
        softmax output).

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> logits = np.log(np.array([[0.2, 0.8]]))
            >>> round(float(loss.value_from_logits(logits, target)), 4)
            0.2231
        """
        return L.softmax_cross_entropy(logits, target, sample_weight)

    def gradient_from_logits(
        self, logits: Array, target: Array, sample_weight: Array | None = None, probabilities: Array | None = None
    ) -> Array:
        """As `Loss.gradient_from_logits`: `xcnn.ops.losses.softmax_cross_entropy_backward`, which
        skips summing the target rows where they are one-hot labels (the sparse loss).

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import CategoricalCrossentropy
            >>> loss = CategoricalCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> logits = np.log(np.array([[0.2, 0.8]]))
            >>> loss.gradient_from_logits(logits, target).round(4).tolist()
            [[0.2, -0.2]]
        """
        return L.softmax_cross_entropy_backward(logits, target, sample_weight, self._targets_sum_to_one, probabilities)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy against integer labels `(N,)` (one-hot on the device).

    Args:
        from_logits: The model's output is logits (no softmax), as in Keras.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import SparseCategoricalCrossentropy
        >>> loss = SparseCategoricalCrossentropy()
        >>> round(float(loss(np.array([1]), np.array([[0.2, 0.8]]))), 4)
        0.2231
    """

    name = "sparse_categorical_crossentropy"
    sparse = True
    _targets_sum_to_one = True  # one-hot rows made from the labels

    def __init__(self, from_logits: bool = False) -> None:
        super().__init__(from_logits=from_logits)

    def targets(self, y: Array, num_classes: int, dtype: DType) -> Array:
        """As `Loss.targets`: the class indices `(N,)` one-hot encoded on the device, `(N, K)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import SparseCategoricalCrossentropy
            >>> loss = SparseCategoricalCrossentropy()
            >>> loss.targets(np.array([1]), 2, "float64").tolist()
            [[0.0, 1.0]]
        """
        return L.one_hot(y, num_classes, dtype)


class BinaryCrossentropy(Loss):
    """`-(y log p + (1 - y) log(1 - p))`, mean over the K outputs of a sample; targets in `[0, 1]`, `(N, K)`.

    Args:
        from_logits: The model's output is logits (no sigmoid), as in Keras.
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.

    Raises:
        ValueError: If `label_smoothing` is not a number in `[0, 1]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import BinaryCrossentropy
        >>> loss = BinaryCrossentropy()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)
        0.2231
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)

    @property
    def fuses_with(self) -> str | None:
        """The output activation whose backward this loss can absorb (`None`: none).

        When the model's output layer ends in it, the model computes the loss from the logits.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import BinaryCrossentropy
            >>> loss = BinaryCrossentropy()
            >>> loss.fuses_with
            'sigmoid'
        """
        return None if self.from_logits else "sigmoid"

    def targets(self, y: Array, num_classes: int, dtype: DType) -> Array:
        """As `Loss.targets`: the labels `(N, K)` as given, smoothed to `y * (1 - s) + s / 2` by
        `label_smoothing` `s`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import BinaryCrossentropy
            >>> loss = BinaryCrossentropy()
            >>> loss.targets(np.array([[0.0, 1.0]]), 2, "float64").tolist()
            [[0.0, 1.0]]
            >>> BinaryCrossentropy(label_smoothing=0.2).targets(np.array([[0.0, 1.0]]), 2, "float64").tolist()
            [[0.1, 0.9]]
        """
        if self.label_smoothing:
            return y * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: `xcnn.ops.losses.binary_crossentropy` of the probabilities, or
        `sigmoid_binary_crossentropy` of the logits when `from_logits`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import BinaryCrossentropy
            >>> loss = BinaryCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.2231
        """
        if self.from_logits:
            return L.sigmoid_binary_crossentropy(y_pred, target, sample_weight)
        return L.binary_crossentropy(y_pred, target, sample_weight)

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: `xcnn.ops.losses.binary_crossentropy_backward`, or
        `sigmoid_binary_crossentropy_backward` w.r.t. the logits when `from_logits`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import BinaryCrossentropy
            >>> loss = BinaryCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[0.625, -0.625]]
        """
        if self.from_logits:
            return L.sigmoid_binary_crossentropy_backward(y_pred, target, sample_weight)
        return L.binary_crossentropy_backward(y_pred, target, sample_weight)

    def value_from_logits(self, logits: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value_from_logits`: `xcnn.ops.losses.sigmoid_binary_crossentropy` (the loss of a
        fused sigmoid output).

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import BinaryCrossentropy
            >>> loss = BinaryCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> logits = np.log(np.array([[0.2, 0.8]]))
            >>> round(float(loss.value_from_logits(logits, target)), 4)
            0.4966
        """
        return L.sigmoid_binary_crossentropy(logits, target, sample_weight)

    def gradient_from_logits(
        self, logits: Array, target: Array, sample_weight: Array | None = None, probabilities: Array | None = None
    ) -> Array:
        """As `Loss.gradient_from_logits`: `xcnn.ops.losses.sigmoid_binary_crossentropy_backward`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import BinaryCrossentropy
            >>> loss = BinaryCrossentropy()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> logits = np.log(np.array([[0.2, 0.8]]))
            >>> loss.gradient_from_logits(logits, target).round(4).tolist()
            [[0.0833, -0.2778]]
        """
        return L.sigmoid_binary_crossentropy_backward(logits, target, sample_weight, probabilities)


class MeanSquaredError(Loss):
    """`mean((y_pred - y)**2)` over the outputs of a sample, then over the batch.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import MeanSquaredError
        >>> loss = MeanSquaredError()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)
        0.04
    """

    name = "mean_squared_error"

    def __init__(self) -> None:
        pass

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: `xcnn.ops.losses.mean_squared_error`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanSquaredError
            >>> loss = MeanSquaredError()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.04
        """
        return L.mean_squared_error(y_pred, target, sample_weight)

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: `xcnn.ops.losses.mean_squared_error_backward`, `2 (y_pred - y) / (N K)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanSquaredError
            >>> loss = MeanSquaredError()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[0.2, -0.2]]
        """
        return L.mean_squared_error_backward(y_pred, target, sample_weight)


class MeanAbsoluteError(Loss):
    """`mean(|y_pred - y|)` over the outputs of a sample, then over the batch.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import MeanAbsoluteError
        >>> loss = MeanAbsoluteError()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)
        0.2
    """

    name = "mean_absolute_error"

    def __init__(self) -> None:
        pass

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: `xcnn.ops.losses.mean_absolute_error`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanAbsoluteError
            >>> loss = MeanAbsoluteError()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.2
        """
        return L.mean_absolute_error(y_pred, target, sample_weight)

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: `xcnn.ops.losses.mean_absolute_error_backward`, `sign(y_pred - y) / (N K)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import MeanAbsoluteError
            >>> loss = MeanAbsoluteError()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[0.5, -0.5]]
        """
        return L.mean_absolute_error_backward(y_pred, target, sample_weight)


class Huber(Loss):
    """Quadratic for errors up to `delta`, linear beyond (see `xcnn.ops.losses.huber`).

    Args:
        delta: Where the loss turns linear; positive.

    Raises:
        ValueError: If `delta` is not a positive number.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import Huber
        >>> loss = Huber(delta=0.5)
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 2.0]]))), 4)
        0.1975
    """

    name = "huber"

    def __init__(self, delta: float = 1.0) -> None:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
            raise ValueError(f"delta must be a positive number, got {delta!r}")
        self.delta = float(delta)

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: `xcnn.ops.losses.huber` with this loss's `delta`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import Huber
            >>> loss = Huber(delta=0.5)
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 2.0]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.1975
        """
        return L.huber(y_pred, target, self.delta, sample_weight)

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: `xcnn.ops.losses.huber_backward` with this loss's `delta`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import Huber
            >>> loss = Huber(delta=0.5)
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 2.0]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[0.1, 0.25]]
        """
        return L.huber_backward(y_pred, target, self.delta, sample_weight)


class KLDivergence(Loss):
    """`sum(y * log(y / p))` per sample, both clipped to `[1e-7, 1]` as in Keras.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import KLDivergence
        >>> loss = KLDivergence()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)
        0.2231
    """

    name = "kl_divergence"

    def __init__(self) -> None:
        pass

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: `xcnn.ops.losses.kl_divergence`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import KLDivergence
            >>> loss = KLDivergence()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> round(float(loss.value(y_pred, target)), 4)
            0.2231
        """
        return L.kl_divergence(y_pred, target, sample_weight)

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: `xcnn.ops.losses.kl_divergence_backward`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import KLDivergence
            >>> loss = KLDivergence()
            >>> target = loss.targets(np.array([[0.0, 1.0]]), 2, "float64")
            >>> y_pred = np.array([[0.2, 0.8]])
            >>> loss.gradient(y_pred, target).round(4).tolist()
            [[-0.0, -1.25]]
        """
        return L.kl_divergence_backward(y_pred, target, sample_weight)


class _Elementwise(Loss):
    """A loss whose value and gradient are one pair of `xcnn.ops.losses` functions (`_op`,
    `_op_backward`), which take the loss's constructor arguments by their names."""

    _op: Any = None
    _op_backward: Any = None

    def __init__(self) -> None:
        pass

    def value(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.value`: the `xcnn.ops.losses` function of the loss's name, given its arguments.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import LogCosh
            >>> round(float(LogCosh().value(np.array([[1.0, 0.0]]), np.zeros((1, 2)))), 4)
            0.2169
        """
        return type(self)._op(y_pred, target, sample_weight=sample_weight, **self._arguments())

    def gradient(self, y_pred: Array, target: Array, sample_weight: Array | None = None) -> Array:
        """As `Loss.gradient`: the `xcnn.ops.losses` function of the loss's name, `_backward`, given
        its arguments.

        Examples:
            >>> import numpy as np
            >>> from xcnn.losses import LogCosh
            >>> LogCosh().gradient(np.array([[1.0, 0.0]]), np.zeros((1, 2))).round(4).tolist()
            [[0.3808, 0.0]]
        """
        return type(self)._op_backward(y_pred, target, sample_weight=sample_weight, **self._arguments())


class MeanAbsolutePercentageError(_Elementwise):
    """`100 * mean(|y - y_pred| / max(|y|, 1e-7))` over the outputs of a sample, then over the
    batch (see `xcnn.ops.losses.mean_absolute_percentage_error`).

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import MeanAbsolutePercentageError
        >>> loss = MeanAbsolutePercentageError()
        >>> round(float(loss(np.array([[1.0, 2.0]]), np.array([[1.5, 2.0]]))), 4)
        25.0
    """

    name = "mean_absolute_percentage_error"
    _op = staticmethod(L.mean_absolute_percentage_error)
    _op_backward = staticmethod(L.mean_absolute_percentage_error_backward)


class MeanSquaredLogarithmicError(_Elementwise):
    """`mean((log(max(y_pred, 1e-7) + 1) - log(max(y, 1e-7) + 1))**2)` over the outputs of a
    sample, then over the batch (see `xcnn.ops.losses.mean_squared_logarithmic_error`).

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import MeanSquaredLogarithmicError
        >>> loss = MeanSquaredLogarithmicError()
        >>> round(float(loss(np.array([[0.0, 0.0]]), np.array([[np.e - 1.0, 0.0]]))), 4)
        0.5
    """

    name = "mean_squared_logarithmic_error"
    _op = staticmethod(L.mean_squared_logarithmic_error)
    _op_backward = staticmethod(L.mean_squared_logarithmic_error_backward)


class LogCosh(_Elementwise):
    """`mean(log(cosh(y_pred - y)))` over the outputs of a sample, then over the batch (see
    `xcnn.ops.losses.log_cosh`): quadratic for small errors, linear for large ones.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import LogCosh
        >>> loss = LogCosh()
        >>> round(float(loss(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))), 4)
        0.2169
    """

    name = "log_cosh"
    _op = staticmethod(L.log_cosh)
    _op_backward = staticmethod(L.log_cosh_backward)


class Hinge(_Elementwise):
    """`mean(max(1 - y * y_pred, 0))` over the outputs of a sample, then over the batch; targets
    -1 or 1, and 0/1 labels become -1/1 as in Keras (see `xcnn.ops.losses.hinge`).

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import Hinge
        >>> loss = Hinge()
        >>> round(float(loss(np.array([[1.0, 0.0]]), np.array([[0.3, -2.0]]))), 4)
        0.35
    """

    name = "hinge"
    _op = staticmethod(L.hinge)
    _op_backward = staticmethod(L.hinge_backward)


class SquaredHinge(_Elementwise):
    """`mean(max(1 - y * y_pred, 0)**2)` over the outputs of a sample, then over the batch;
    targets as in `Hinge` (see `xcnn.ops.losses.squared_hinge`).

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import SquaredHinge
        >>> loss = SquaredHinge()
        >>> round(float(loss(np.array([[1.0, 0.0]]), np.array([[0.3, -2.0]]))), 4)
        0.245
    """

    name = "squared_hinge"
    _op = staticmethod(L.squared_hinge)
    _op_backward = staticmethod(L.squared_hinge_backward)


# --- the arguments of the losses below, checked as Keras takes them -----------------------------


def _number(name, value, low=None, low_inclusive=True):
    """``value`` as a float, or one ValueError naming ``name`` and what it accepts."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if low is not None and (value < low if low_inclusive else value <= low):
        raise ValueError(f"{name} must be a number {'>=' if low_inclusive else '>'} {low}, got {value!r}")
    return float(value)


def _axis(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"axis must be an int (the class axis, -1 for the last), got {value!r}")
    return value


class CategoricalHinge(_Elementwise):
    """Keras's `CategoricalHinge`: `max(max((1 - y) * p) - sum(y * p) + 1, 0)` per sample, `y`
    one-hot `(N, K)` and `p` scores `(N, K)`; the mean over the batch.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import CategoricalHinge
        >>> loss = CategoricalHinge()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.6, 0.4]]))), 4)  # 0.6 - 0.4 + 1
        1.2
    """

    name = "categorical_hinge"
    _op = staticmethod(L.categorical_hinge)
    _op_backward = staticmethod(L.categorical_hinge_backward)


class Poisson(_Elementwise):
    """Keras's `Poisson`: `mean(p - y * log(p + 1e-7))` over the last axis, then over the batch;
    `p` predicted rates (positive), `y` counts, `(N, K)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import Poisson
        >>> loss = Poisson()
        >>> round(float(loss(np.array([[1.0, 1.0]]), np.array([[1.0, 2.0]]))), 4)  # (1 + 2 - log 2) / 2
        1.1534
    """

    name = "poisson"
    _op = staticmethod(L.poisson)
    _op_backward = staticmethod(L.poisson_backward)


class CosineSimilarity(_Elementwise):
    """Keras's `CosineSimilarity` loss: minus the cosine of the angle between `y` and `p` along
    `axis`, per sample (`-1` when they point the same way), then the mean over the batch. Each
    vector is divided by `max(|x|, 1e-7)` as Keras does (a zero vector stays zero).

    Args:
        axis: The axis of the vectors (`-1`: the last); not the batch axis.

    Raises:
        ValueError: If `axis` is not an int, or (when the loss is computed) the batch axis of
            `y_pred`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import CosineSimilarity
        >>> loss = CosineSimilarity()
        >>> round(float(loss(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 2.0], [1.0, 1.0]]))), 4)
        -0.8536
    """

    name = "cosine_similarity"
    _op = staticmethod(L.cosine_similarity)
    _op_backward = staticmethod(L.cosine_similarity_backward)

    def __init__(self, axis: int = -1) -> None:
        self.axis = _axis(axis)


class BinaryFocalCrossentropy(_Elementwise):
    """Keras's `BinaryFocalCrossentropy`: binary cross-entropy scaled by `(1 - p_t)**gamma`,
    `p_t = y p + (1 - y)(1 - p)`, so that easy examples count less; the mean over `axis`, then
    over the batch. Probabilities are clipped to `[1e-7, 1 - 1e-7]` inside the cross-entropy.

    Args:
        apply_class_balancing: Weigh positives by `alpha` and negatives by `1 - alpha`.
        alpha: The positives' weight with `apply_class_balancing`.
        gamma: The focusing exponent, >= 0 (0: plain binary cross-entropy).
        from_logits: `y_pred` holds logits (a sigmoid is applied first).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.
        axis: The axis averaged over (`-1`: the last); not the batch axis.

    Input shape:
        Targets in `[0, 1]` and predictions, both `(N, ..., K)`.

    Raises:
        ValueError: If `alpha` is not a number, `gamma` is not a number >= 0, `label_smoothing`
            is not in `[0, 1]` or `axis` is not an int, or (when the loss is computed) if `axis`
            is the batch axis of `y_pred`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import BinaryFocalCrossentropy
        >>> loss = BinaryFocalCrossentropy(gamma=2.0)
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)  # 0.04 * -log(0.8)
        0.0089
    """

    name = "binary_focal_crossentropy"
    _op = staticmethod(L.binary_focal_crossentropy)
    _op_backward = staticmethod(L.binary_focal_crossentropy_backward)

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ) -> None:
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = _number("alpha", alpha)
        self.gamma = _number("gamma", gamma, low=0.0)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)
        self.axis = _axis(axis)


class CategoricalFocalCrossentropy(_Elementwise):
    """Keras's `CategoricalFocalCrossentropy`: `-sum(alpha * (1 - p)**gamma * y * log(p))` over
    `axis` per sample, then the mean over the batch; `y` one-hot (or soft) targets. As Keras,
    the probabilities are divided by their sum and clipped to `[1e-7, 1 - 1e-7]` first.

    Args:
        alpha: The weight of every class's term.
        gamma: The focusing exponent, >= 0 (0: `alpha` times categorical cross-entropy).
        from_logits: `y_pred` holds logits (a softmax over `axis` is applied first).
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.
        axis: The class axis (`-1`: the last); not the batch axis.

    Input shape:
        One-hot targets and predictions, both `(N, ..., K)`.

    Raises:
        ValueError: If `alpha` is not a number, `gamma` is not a number >= 0, `label_smoothing`
            is not in `[0, 1]` or `axis` is not an int, or (when the loss is computed) if `axis`
            is the batch axis of `y_pred`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.losses import CategoricalFocalCrossentropy
        >>> loss = CategoricalFocalCrossentropy()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))), 4)  # 0.25 * 0.04 * -log(0.8)
        0.0022
    """

    name = "categorical_focal_crossentropy"
    _op = staticmethod(L.categorical_focal_crossentropy)
    _op_backward = staticmethod(L.categorical_focal_crossentropy_backward)

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ) -> None:
        self.alpha = _number("alpha", alpha)
        self.gamma = _number("gamma", gamma, low=0.0)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _label_smoothing(label_smoothing)
        self.axis = _axis(axis)


_CLASSES = (
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    BinaryCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    Huber,
    KLDivergence,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    LogCosh,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    Poisson,
    CosineSimilarity,
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
)
# Keras's function names and aliases, and the class names (Keras accepts both as strings)
_REGISTRY = {
    **{cls.name: cls for cls in _CLASSES},
    **{cls.__name__: cls for cls in _CLASSES},
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "kld": KLDivergence,
    "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
}
NAMES = tuple(_REGISTRY)


def get(identifier: str | dict[str, Any] | Loss) -> Loss:
    """A `Loss` from a name, a config dict or a `Loss` instance (returned as it is).

    Args:
        identifier: A Keras name or alias (`"mse"`, `"categorical_crossentropy"`,
            `"CategoricalCrossentropy"`, ...; see `NAMES`), `get_config()`'s output, a `Loss`, or
            one of this module's function forms (`xcnn.losses.mean_squared_error`, ...), which
            means its class with the default arguments, as in Keras.

    Returns:
        The loss object.

    Raises:
        ValueError: If the name (or the config's `name`) is unknown.

    Examples:
        >>> from xcnn.losses import get
        >>> get("mse")
        MeanSquaredError()
        >>> get({"name": "categorical_crossentropy", "label_smoothing": 0.1})
        CategoricalCrossentropy(from_logits=False, label_smoothing=0.1)
        >>> from xcnn import losses
        >>> get(losses.hinge)
        Hinge()
    """
    if isinstance(identifier, Loss):
        return identifier
    if callable(identifier) and not isinstance(identifier, type) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if isinstance(identifier, dict):
        config = dict(identifier)
        cls = _REGISTRY.get(config.pop("name", None))
        if cls is None:
            raise ValueError(f"unknown loss config {identifier!r}; its 'name' must be one of {NAMES}")
        return cls(**config)
    if isinstance(identifier, str) and identifier in _REGISTRY:
        return _REGISTRY[identifier]()
    raise ValueError(
        f"unknown loss {identifier!r}; expected one of {NAMES}, an xcnn.losses.Loss instance or one of "
        "xcnn.losses' functions"
    )


# --- Keras's function forms: one loss value per sample ------------------------------------------


def _inputs(y_true, y_pred, true_dtype="float"):
    """``(xp, y_true, y_pred)``: host values made NumPy arrays, `y_pred` a float array, `y_true`
    moved to its backend and device (in its dtype, or `y_pred`'s for ``true_dtype="float"``)."""
    if B.backend_of_or_none(y_pred) is None:
        y_pred = np.asarray(y_pred)
    xp = B.array_namespace(y_pred)
    if not xp.isdtype(y_pred.dtype, "real floating"):
        y_pred = xp.astype(y_pred, xp.float32)  # Keras's floatx
    if B.backend_of_or_none(y_true) != B.backend_of(y_pred):
        y_true = B.asarray(
            np.asarray(y_true) if B.backend_of_or_none(y_true) is None else y_true,
            B.backend_of(y_pred),
            device=y_pred.device,
        )
    if true_dtype == "float" and y_true.dtype != y_pred.dtype:
        y_true = xp.astype(y_true, y_pred.dtype)
    return xp, y_true, y_pred


def _same_rank(xp, y_true, y_pred):
    """Keras's `squeeze_or_expand_to_same_rank`: ranks one apart are matched on a size-1 last axis."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = xp.reshape(y_pred, (*y_pred.shape, 1))
        else:
            y_true = xp.reshape(y_true, y_true.shape[:-1])
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = xp.reshape(y_true, (*y_true.shape, 1))
        else:
            y_pred = xp.reshape(y_pred, y_pred.shape[:-1])
    return y_true, y_pred


def _per_sample(values, y_true, y_pred, *args, same_rank=False, **kwargs):
    """``values(xp, y_pred, y_true, *args, **kwargs)``, an `xcnn.ops.losses` per-sample op, on the
    inputs as `_inputs` makes them; ``same_rank`` matches their ranks first, as Keras does for
    the losses that call `squeeze_or_expand_to_same_rank`."""
    xp, y_true, y_pred = _inputs(y_true, y_pred)
    if same_rank:
        y_true, y_pred = _same_rank(xp, y_true, y_pred)
    return values(xp, y_pred, y_true, *args, **kwargs)


def mean_squared_error(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.mean_squared_error`: `mean((y_true - y_pred)**2)` over the last axis.

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions, as in Keras), any
            backend or host values.
        y_pred: The predictions, `(N, ..., K)`, an array of any backend (or host values).

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.mean_squared_error(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])).round(4).tolist()
        [0.04]
    """
    return _per_sample(L._mean_squared_error_values, y_true, y_pred, same_rank=True)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.mean_absolute_error`: `mean(|y_true - y_pred|)` over the last axis.

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: The predictions, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.mean_absolute_error(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])).round(4).tolist()
        [0.2]
    """
    return _per_sample(L._mean_absolute_error_values, y_true, y_pred, same_rank=True)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.mean_absolute_percentage_error`: `100 * mean(|y_true - y_pred| /
    max(|y_true|, 1e-7))` over the last axis.

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: The predictions, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.mean_absolute_percentage_error(np.array([[1.0, 2.0]]), np.array([[1.5, 2.0]])).tolist()
        [25.0]
    """
    return _per_sample(L._mape_values, y_true, y_pred, same_rank=True)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.mean_squared_logarithmic_error`: `mean((log(max(y_pred, 1e-7) + 1) -
    log(max(y_true, 1e-7) + 1))**2)` over the last axis.

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: The predictions, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.mean_squared_logarithmic_error(np.array([[0.0, 0.0]]), np.array([[np.e - 1, 0.0]])).round(4).tolist()
        [0.5]
    """
    return _per_sample(L._msle_values, y_true, y_pred, same_rank=True)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Array:
    """Keras's `losses.huber`: `e**2 / 2` where `|e| <= delta`, else `delta * |e| - delta**2 / 2`,
    `e = y_pred - y_true`, averaged over the last axis.

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: The predictions, `(N, ..., K)`.
        delta: Where the loss turns linear.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.huber(np.array([[0.0, 1.0]]), np.array([[0.2, 2.0]]), delta=0.5).round(4).tolist()
        [0.1975]
    """
    return _per_sample(L._huber_values, y_true, y_pred, float(delta), same_rank=True)


def log_cosh(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.log_cosh`: `mean(log(cosh(y_pred - y_true)))` over the last axis.

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: The predictions, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.log_cosh(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])).round(4).tolist()
        [0.2169]
    """
    return _per_sample(L._log_cosh_values, y_true, y_pred, same_rank=True)


def kl_divergence(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.kl_divergence`: `sum(t * log(t / p))` over the last axis, `t` and `p`
    clipped to `[1e-7, 1]`.

    Args:
        y_true: The target distributions, `(N, ..., K)`.
        y_pred: The predicted distributions, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.kl_divergence(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])).round(4).tolist()
        [0.2231]
    """
    return _per_sample(L._kl_divergence_values, y_true, y_pred)


def hinge(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.hinge`: `mean(max(1 - y_true * y_pred, 0))` over the last axis; labels
    that are all 0 or 1 become -1 or 1 first.

    Args:
        y_true: The targets, -1/1 or 0/1, `(N, ..., K)`.
        y_pred: The scores, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.hinge(np.array([[1, 0], [0, 1]]), np.array([[0.3, -2.0], [0.8, 0.4]])).round(4).tolist()
        [0.35, 1.2]
    """
    return _per_sample(L._hinge_values, y_true, y_pred)


def squared_hinge(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.squared_hinge`: `mean(max(1 - y_true * y_pred, 0)**2)` over the last axis;
    targets as in `hinge`.

    Args:
        y_true: The targets, -1/1 or 0/1, `(N, ..., K)`.
        y_pred: The scores, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.squared_hinge(np.array([[1, 0], [0, 1]]), np.array([[0.3, -2.0], [0.8, 0.4]])).round(4).tolist()
        [0.245, 1.8]
    """
    return _per_sample(L._hinge_values, y_true, y_pred, squared=True)


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Array:
    """Keras's `losses.categorical_crossentropy`: `-sum(y_true * log(p))` over the class axis.

    Probabilities are first divided by their sum and clipped to `[1e-7, 1 - 1e-7]`, as Keras does;
    with `from_logits` the log-softmax of `y_pred` is used.

    Args:
        y_true: One-hot (or soft) targets, `(N, ..., K)`.
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K)`.
        from_logits: `y_pred` holds logits.
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.
        axis: The class axis.

    Returns:
        One loss per sample, `y_pred`'s shape without the class axis, on its backend and dtype.

    Raises:
        ValueError: If `label_smoothing` is not a number in `[0, 1]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> y_true, y_pred = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> losses.categorical_crossentropy(y_true, y_pred).round(4).tolist()
        [0.2231, 0.5108]
    """
    smoothing = _label_smoothing(label_smoothing)
    xp, y_true, y_pred = _inputs(y_true, y_pred)
    y_true, y_pred = L._last(xp, y_true, axis), L._last(xp, y_pred, axis)
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + smoothing / y_true.shape[-1]
    if from_logits:
        return L._softmax_cross_entropy_values(xp, y_pred, y_true)
    return L._categorical_crossentropy_values(xp, y_pred, y_true)


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> Array:
    """Keras's `losses.sparse_categorical_crossentropy`: categorical cross-entropy against integer
    class labels.

    Args:
        y_true: Class labels, `(N, ...)` (or `(N, ..., 1)`), whole numbers in `[0, K)`.
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K)`.
        from_logits: `y_pred` holds logits.
        ignore_class: A label whose samples get a loss of 0 (segmentation's "void"), or `None`.
        axis: The class axis of `y_pred`.

    Returns:
        One loss per sample, `y_pred`'s shape without the class axis, on its backend and dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> y_pred = np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> losses.sparse_categorical_crossentropy(np.array([1, 0]), y_pred).round(4).tolist()
        [0.2231, 0.5108]
        >>> losses.sparse_categorical_crossentropy(np.array([1, 0]), y_pred, ignore_class=0).round(4).tolist()
        [0.2231, 0.0]
    """
    xp, labels, y_pred = _inputs(y_true, y_pred, true_dtype=None)
    y_pred = L._last(xp, y_pred, axis)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = xp.reshape(labels, labels.shape[:-1])
    labels = xp.astype(labels, xp.int64)
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = xp.where(valid, labels, xp.zeros_like(labels))
    one_hot = xp.reshape(L.one_hot(xp.reshape(labels, (-1,)), y_pred.shape[-1], y_pred.dtype), y_pred.shape)
    if from_logits:
        values = L._softmax_cross_entropy_values(xp, y_pred, one_hot)
    else:
        values = L._categorical_crossentropy_values(xp, y_pred, one_hot)
    return values if valid is None else xp.where(valid, values, xp.zeros_like(values))


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Array:
    """Keras's `losses.binary_crossentropy`: `-(y log p + (1 - y) log(1 - p))`, averaged over `axis`.

    Probabilities are clipped to `[1e-7, 1 - 1e-7]`; with `from_logits` the stable form on logits.

    Args:
        y_true: Targets in `[0, 1]`, `(N, ..., K)`.
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K)`.
        from_logits: `y_pred` holds logits.
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.
        axis: The axis averaged over.

    Returns:
        One loss per sample, `y_pred`'s shape without `axis`, on its backend and dtype.

    Raises:
        ValueError: If `label_smoothing` is not a number in `[0, 1]`.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> y_true, y_pred = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.2, 0.8], [0.6, 0.4]])
        >>> losses.binary_crossentropy(y_true, y_pred).round(4).tolist()
        [0.2231, 0.5108]
    """
    smoothing = _label_smoothing(label_smoothing)
    xp, y_true, y_pred = _inputs(y_true, y_pred)
    y_true, y_pred = L._last(xp, y_true, axis), L._last(xp, y_pred, axis)
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + 0.5 * smoothing
    if from_logits:
        return L._sigmoid_binary_crossentropy_values(xp, y_pred, y_true)
    return L._binary_crossentropy_values(xp, y_pred, y_true)


def categorical_hinge(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.categorical_hinge`: `max(max((1 - y_true) * y_pred) - sum(y_true * y_pred)
    + 1, 0)` over the last axis.

    Args:
        y_true: One-hot targets, `(N, ..., K)`.
        y_pred: The scores, `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.categorical_hinge(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.6, 0.4], [0.9, 0.1]])).round(4).tolist()
        [1.2, 0.2]
    """
    return _per_sample(L._categorical_hinge_values, y_true, y_pred)


def poisson(y_true: Any, y_pred: Any) -> Array:
    """Keras's `losses.poisson`: `mean(y_pred - y_true * log(y_pred + 1e-7))` over the last axis.

    Args:
        y_true: The counts, `(N, ..., K)`.
        y_pred: The predicted rates (positive), `(N, ..., K)`.

    Returns:
        One loss per sample, `(N, ...)`, on `y_pred`'s backend in its dtype.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.poisson(np.array([[1.0, 1.0]]), np.array([[1.0, 2.0]])).round(4).tolist()
        [1.1534]
    """
    return _per_sample(L._poisson_values, y_true, y_pred)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Array:
    """Keras's `losses.cosine_similarity`: minus the cosine of the angle between `y_true` and
    `y_pred` along `axis` (each divided by `max(|x|, 1e-7)`).

    Args:
        y_true: The targets, `(N, ..., K)` (or `(N,)` for `(N, 1)` predictions).
        y_pred: The predictions, `(N, ..., K)`.
        axis: The axis of the vectors.

    Returns:
        One value per sample, `y_pred`'s shape without `axis`, on its backend and dtype.

    Raises:
        ValueError: If `axis` is not an int.

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.cosine_similarity(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 2.0], [1.0, 1.0]])).round(4).tolist()
        [-1.0, -0.7071]
    """
    axis = _axis(axis)
    xp, y_true, y_pred = _inputs(y_true, y_pred)
    y_true, y_pred = _same_rank(xp, y_true, y_pred)
    return L._cosine_similarity_values(xp, L._last(xp, y_pred, axis), L._last(xp, y_true, axis))


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    """Keras's `losses.binary_focal_crossentropy`: binary cross-entropy times `(1 - p_t)**gamma`
    (`p_t = y p + (1 - y)(1 - p)`), averaged over `axis` (see `BinaryFocalCrossentropy`).

    Args:
        y_true: Targets in `[0, 1]`, `(N, ..., K)`.
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K)`.
        apply_class_balancing: Weigh positives by `alpha` and negatives by `1 - alpha`.
        alpha: The positives' weight with `apply_class_balancing`.
        gamma: The focusing exponent, >= 0.
        from_logits: `y_pred` holds logits.
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / 2`.
        axis: The axis averaged over.

    Returns:
        One loss per sample, `y_pred`'s shape without `axis`, on its backend and dtype.

    Raises:
        ValueError: If an argument is out of its range (see `BinaryFocalCrossentropy`).

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.binary_focal_crossentropy(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])).round(4).tolist()
        [0.0089]
    """
    loss = BinaryFocalCrossentropy(apply_class_balancing, alpha, gamma, from_logits, label_smoothing, axis)
    xp, y_true, y_pred = _inputs(y_true, y_pred)
    y_pred, y_true = L._class_axis_last(xp, y_pred, y_true, loss.axis)
    return L._binary_focal_crossentropy_values(
        xp, y_pred, y_true, loss.apply_class_balancing, loss.alpha, loss.gamma, loss.from_logits, loss.label_smoothing
    )


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    """Keras's `losses.categorical_focal_crossentropy`: `-sum(alpha * (1 - p)**gamma * y * log(p))`
    over the class axis (see `CategoricalFocalCrossentropy`).

    Args:
        y_true: One-hot (or soft) targets, `(N, ..., K)`.
        y_pred: Probabilities, or logits with `from_logits`, `(N, ..., K)`.
        alpha: The weight of every class's term.
        gamma: The focusing exponent, >= 0.
        from_logits: `y_pred` holds logits.
        label_smoothing: `s` in `[0, 1]` turns the targets into `y * (1 - s) + s / K`.
        axis: The class axis.

    Returns:
        One loss per sample, `y_pred`'s shape without the class axis, on its backend and dtype.

    Raises:
        ValueError: If an argument is out of its range (see `CategoricalFocalCrossentropy`).

    Examples:
        >>> import numpy as np
        >>> from xcnn import losses
        >>> losses.categorical_focal_crossentropy(np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]])).round(4).tolist()
        [0.0022]
    """
    loss = CategoricalFocalCrossentropy(alpha, gamma, from_logits, label_smoothing, axis)
    xp, y_true, y_pred = _inputs(y_true, y_pred)
    y_pred, y_true = L._class_axis_last(xp, y_pred, y_true, loss.axis)
    return L._categorical_focal_crossentropy_values(
        xp, y_pred, y_true, loss.alpha, loss.gamma, loss.from_logits, loss.label_smoothing
    )


# the function forms, which `get` (and so `compile`) also takes: each means its class's defaults
_FUNCTIONS = {
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    huber: Huber,
    kl_divergence: KLDivergence,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    log_cosh: LogCosh,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    poisson: Poisson,
    cosine_similarity: CosineSimilarity,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
}
