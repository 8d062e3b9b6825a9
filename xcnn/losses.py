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
"""

from __future__ import annotations

from typing import Any

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

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
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


_CLASSES = (
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    BinaryCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    Huber,
    KLDivergence,
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
}
NAMES = tuple(_REGISTRY)


def get(identifier: str | dict[str, Any] | Loss) -> Loss:
    """A `Loss` from a name, a config dict or a `Loss` instance (returned as it is).

    Args:
        identifier: A Keras name or alias (`"mse"`, `"categorical_crossentropy"`,
            `"CategoricalCrossentropy"`, ...; see `NAMES`), `get_config()`'s output, or a `Loss`.

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
    """
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
