"""Normalization layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
import functools
import math
import numbers

from .. import constraints, initializers, ops, regularizers
from .layer import Layer, Rewrite, _reg_config
from .._typing import Array, ConstraintLike, InitializerLike, RegularizerLike, Shape


class BatchNormalization(Layer):
    """Normalizes each channel (the last axis) with batch statistics while training and the
    moving averages at inference, then scales by `gamma` and shifts by `beta`.

    Keras's arguments and defaults. Only `axis=-1` (channels last) is supported. A frozen layer
    (`trainable = False`) always runs in inference mode, as in Keras. Weights, in Keras's order:
    `gamma`, `beta` (trainable, `(C,)`), `moving_mean`, `moving_variance` (non-trainable, `(C,)`).

    Args:
        axis: Must be -1 (the channels, last).
        momentum: The moving averages' decay, in `[0, 1]`.
        epsilon: Added to the variance before the square root; positive.
        center: Whether to learn `beta`.
        scale: Whether to learn `gamma`.
        beta_initializer: How `beta` is initialised.
        gamma_initializer: How `gamma` is initialised.
        moving_mean_initializer: How the moving mean is initialised.
        moving_variance_initializer: How the moving variance is initialised.
        beta_regularizer: A penalty on `beta`.
        gamma_regularizer: A penalty on `gamma`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.
        beta_constraint: A constraint the optimizer applies to `beta` after each update.
        gamma_constraint: A constraint the optimizer applies to `gamma` after each update.

    Input shape:
        `(N, ..., C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `axis` is not -1, `momentum` is outside `[0, 1]`, or `epsilon` is not
            positive.

    Examples:
        >>> from xcnn.layers import BatchNormalization, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 3)), BatchNormalization()])
        >>> model.output_shape
        (None, 4, 4, 3)
    """

    private_output = True  # a fresh result outside training (see Layer.private_output)

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 0.001,
        center: bool = True,
        scale: bool = True,
        beta_initializer: InitializerLike = "zeros",
        gamma_initializer: InitializerLike = "ones",
        moving_mean_initializer: InitializerLike = "zeros",
        moving_variance_initializer: InitializerLike = "ones",
        beta_regularizer: RegularizerLike = None,
        gamma_regularizer: RegularizerLike = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
        beta_constraint: ConstraintLike = None,
        gamma_constraint: ConstraintLike = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        if axis != -1 and not isinstance(axis, int):
            raise ValueError(f"axis must be -1 (the channels, last), got {axis!r}")
        self.axis = axis
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        if not epsilon > 0.0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(..., C)`.

        Returns:
            The output shape without the batch axis, `(..., C)`.

        Raises:
            ValueError: If the input has no channel axis.

        Examples:
            >>> from xcnn.layers import BatchNormalization
            >>> BatchNormalization().compute_output_shape((4, 4, 3))
            (4, 4, 3)
        """
        if self.axis not in (-1, len(input_shape)):  # axis counts the batch axis, as in Keras
            raise ValueError(
                f"BatchNormalization {self.name}: only axis=-1 (channels last) is supported, got axis={self.axis} "
                f"for inputs of shape (None, {', '.join(map(str, input_shape))})"
            )
        return input_shape

    def build_weights(self, input_shape: Shape) -> None:
        """Create the layer's weights for inputs of `input_shape`; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis, `(..., C)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((4, 4, 3)), layer])
            >>> {k: tuple(w.shape) for k, w in {**layer.params, **layer.state}.items()}
            {'gamma': (3,), 'beta': (3,), 'moving_mean': (3,), 'moving_variance': (3,)}
        """
        c = (input_shape[-1],)
        if self.scale:
            self.add_weight(
                "gamma", c, self.gamma_initializer, self.gamma_regularizer, constraint=self.gamma_constraint
            )
        if self.center:
            self.add_weight("beta", c, self.beta_initializer, self.beta_regularizer, constraint=self.beta_constraint)
        self.add_weight("moving_mean", c, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", c, self.moving_variance_initializer, trainable=False)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, ..., C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (batch statistics then, and the moving averages
                are updated; the moving averages otherwise).

        Returns:
            The output batch, `(N, ..., C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((4, 4, 3)), layer])
            >>> x = np.ones((2, 4, 4, 3), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 3)
        """
        xp = self.xp
        self._batch_statistics = training = training and self.trainable
        self._native: tuple[Array, Array, Array] | None = None
        if training and ops.native_available(x):
            return self._call_native(x)
        spread = functools.partial(ops.spread_channels, x=x)  # per-channel vectors, for NumPy's fast loops
        if training:
            mean = ops.channel_mean(x)
            centered = x - spread(mean)
            var = ops.channel_dot(centered, centered) / math.prod(x.shape[:-1])
            self._update_moving_statistics(mean, var)
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
            centered = None  # grad centres x itself, if it needs to
        # kept for grad: the centred input (or the input and the mean it is centred on) and
        # 1/std, not x-hat = centred / std (one pass and one activation-sized array fewer: the
        # backward folds 1/std into its per-channel factors)
        self._input: Array | None = None if training else x
        self._mean: Array | None = None if training else mean
        self._centered, self._inv_std = centered, 1.0 / xp.sqrt(var + self.epsilon)
        self._scaled_inv_std = self._scaled(self._inv_std)
        if training:
            y = centered * spread(self._scaled_inv_std)
            if self.center:
                y += spread(self.params["beta"])  # y is this call's own array
            return y
        # constant statistics: y = x s + (beta - mean s), s = gamma / std, two passes and one new
        # array (as PyTorch's CPU kernel folds it) where centring first makes three and two
        y = x * spread(self._scaled_inv_std)
        y += spread(self._shift(mean, self._scaled_inv_std))
        return y

    def call_rewritten(self, x: Array, training: bool, rewrite: Rewrite) -> Array:
        """`call` under the model plan's `rewrite`: with `rewrite.folded_before`, outside training, the identity.

        The layer before it has folded this one into its kernel (`Rewrite.batch_norm`).

        Args:
            x: The input batch, `(N, ..., C)`, float32 or float64.
            training: Whether this is a training step (then the layer runs as `call`).
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            The output batch, `(N, ..., C)`: `x` itself when folded.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((3,)), layer])
            >>> x = np.ones((2, 3), "float32")
            >>> layer.call_rewritten(x, False, Rewrite(folded_before=True)) is x
            True
        """
        if rewrite.folded_before and not training:
            return x
        return self.call(x, training)

    def inference_affine(self) -> tuple[Array, Array]:
        """The layer outside training as a per-channel affine map: `(scale, shift)`, each `(C,)`.

        `y = x * scale + shift`, with `scale = gamma / sqrt(moving_variance + epsilon)` and
        `shift = beta - moving_mean * scale`.

        Returns:
            `scale` and `shift`, in the layer's dtype, on its backend and device.

        Examples:
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization(epsilon=3.0)
            >>> model = Sequential([Input((2,)), layer])
            >>> [v.tolist() for v in layer.inference_affine()]
            [[0.5, 0.5], [0.0, 0.0]]
        """
        scale = self._scaled(1.0 / self.xp.sqrt(self.state["moving_variance"] + self.epsilon))
        return scale, self._shift(self.state["moving_mean"], scale)

    def _scaled(self, inv_std):
        """``gamma / std`` (``1 / std`` without gamma)."""
        return inv_std * self.params["gamma"] if self.scale else inv_std

    def _shift(self, mean, scale):
        """``beta - mean * scale`` (without beta: ``-mean * scale``)."""
        shift = -mean * scale
        return shift + self.params["beta"] if self.center else shift

    def _update_moving_statistics(self, mean: Array, var: Array) -> None:
        m = self.momentum
        self.state["moving_mean"] = self.state["moving_mean"] * m + mean * (1.0 - m)
        self.state["moving_variance"] = self.state["moving_variance"] * m + var * (1.0 - m)

    def _call_native(self, x: Array) -> Array:
        """`call` with batch statistics by torch's own kernel (see `xcnn.ops.native`): keeps the
        input and the batch's mean and variance for `grad`, as that kernel's backward takes them."""
        y, mean, var = ops.native.native_batch_norm(x, self.params.get("gamma"), self.params.get("beta"), self.epsilon)
        self._update_moving_statistics(mean, var)
        self._native = (x, mean, var)
        return y

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. Fills `self.grads` with the gradients of the weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, ..., C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, ..., C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((4, 4, 3)), layer])
            >>> x = np.ones((2, 4, 4, 3), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 3)
            >>> sorted(layer.grads)
            ['beta', 'gamma']
        """
        if self._native is not None:
            return self._grad_native(dy, need_dx)
        inv_std, spread = self._inv_std, functools.partial(ops.spread_channels, x=dy)
        needs_dgamma = self.scale or (need_dx and self._batch_statistics)
        centered = self._centered
        if centered is None and needs_dgamma:  # called in inference mode: centre the kept input now
            centered = self._input - spread(self._mean)
        # sum(dy * x-hat) = sum(dy * centred) / std, per channel
        dgamma = ops.channel_dot(dy, centered) * inv_std if needs_dgamma else None
        dbeta = ops.channel_sum(dy) if self.center or (need_dx and self._batch_statistics) else None
        if self.scale:
            self.grads["gamma"] = dgamma
        if self.center:
            self.grads["beta"] = dbeta
        if not need_dx:
            return None
        scaled_inv_std = self._scaled_inv_std  # gamma / std: the forward's, gamma has not changed since
        if not self._batch_statistics:
            # the moving statistics are constants: the layer is affine in x
            return dy * spread(scaled_inv_std)
        # with batch statistics the mean and variance depend on x too (dxhat = dy * gamma):
        # dx = s dy - s (dbeta + x-hat dgamma) / count, s = gamma / std, x-hat = centred / std
        per_sample = scaled_inv_std / math.prod(dy.shape[:-1])
        dx = dy * spread(scaled_inv_std)
        dx -= centered * spread(per_sample * inv_std * dgamma)
        dx -= spread(per_sample * dbeta)
        return dx

    def _grad_native(self, dy: Array, need_dx: bool) -> Array | None:
        """`grad` after `_call_native`, by torch's own kernel."""
        assert self._native is not None
        x, mean, var = self._native
        dx, dgamma, dbeta = ops.native.native_batch_norm_backward(
            dy, x, self.params.get("gamma"), mean, var, self.epsilon, need_dx
        )
        if self.scale:
            self.grads["gamma"] = dgamma
        if self.center:
            self.grads["beta"] = dbeta
        return dx

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import BatchNormalization
            >>> BatchNormalization().get_config()['momentum']
            0.99
        """
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_regularizer": _reg_config(self.beta_regularizer),
            "gamma_regularizer": _reg_config(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (by default its last axis, the channels), then scales
    by `gamma` and shifts by `beta`, as Keras's `LayerNormalization`.

    `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, the mean and (biased) variance taken
    per sample over the axes in `axis`; the same in training and inference (no moving
    statistics). Weights, in Keras's order: `gamma`, `beta` (trainable), each of the sizes of the
    normalized axes (`(C,)` for `axis=-1`). For a list of axes their sizes come in the order of
    `sorted(axis)` and are laid over the input's axes in the input's order, as Keras does (so a
    list mixing negative and positive axes, such as `[-1, 1]`, gives `(C, H)` weights reshaped,
    not transposed, to `(H, C)`, exactly as in Keras).

    Keras 3.15 on PyTorch fails on (or, where sizes coincide, normalizes the wrong axes for)
    consecutive axes that do not end at the last one, such as `axis=1` of images; xcnn computes
    the layer normalization those axes ask for, as Keras's other backends do.

    Args:
        axis: The axis, or a list of axes, to normalize over, counting the batch axis as 0
            (negative from the end); not the batch axis.
        epsilon: Added to the variance before the square root; positive.
        center: Whether to learn `beta`.
        scale: Whether to learn `gamma`.
        beta_initializer: How `beta` is initialised.
        gamma_initializer: How `gamma` is initialised.
        beta_regularizer: A penalty on `beta`.
        gamma_regularizer: A penalty on `gamma`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.
        beta_constraint: A constraint the optimizer applies to `beta` after each update.
        gamma_constraint: A constraint the optimizer applies to `gamma` after each update.

    Input shape:
        `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        TypeError: If `axis` is not an int or a list of ints.
        ValueError: If `epsilon` is not positive, or (when called) an axis is out of range,
            repeated, or the batch axis.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Input, LayerNormalization
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), LayerNormalization()], dtype="float64")
        >>> model.predict(np.array([[1.0, 2.0, 3.0]]), verbose=0).round(4).tolist()
        [[-1.2238, 0.0, 1.2238]]
        >>> [w.shape for w in model.get_weights()]  # gamma, beta
        [(3,), (3,)]
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 0.001,
        center: bool = True,
        scale: bool = True,
        beta_initializer: InitializerLike = "zeros",
        gamma_initializer: InitializerLike = "ones",
        beta_regularizer: RegularizerLike = None,
        gamma_regularizer: RegularizerLike = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
        beta_constraint: ConstraintLike = None,
        gamma_constraint: ConstraintLike = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        if isinstance(axis, (list, tuple)) and axis and all(_is_int(a) for a in axis):
            self.axis: int | list[int] = [int(a) for a in axis]
        elif _is_int(axis):
            self.axis = int(axis)  # type: ignore[arg-type]
        else:
            raise TypeError(f"axis must be an int or a non-empty list of ints (the batch axis is 0), got {axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0.0:
            raise ValueError(f"epsilon must be a positive number, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _axes(self, rank: int) -> tuple[int, ...]:
        """The normalized axes of an input of `rank` axes (batch included), sorted and non-negative."""
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = sorted(a + rank if a < 0 else a for a in given)
        if any(not 1 <= a < rank for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(
                f"LayerNormalization {self.name}: axis {self.axis} must name distinct axes other than the "
                f"batch axis of inputs of rank {rank} (1 to {rank - 1}, or -1 to -{rank - 1})"
            )
        return tuple(axes)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(...)`.

        Returns:
            The output shape without the batch axis, the input's.

        Raises:
            ValueError: If `axis` is out of range for the input, repeats an axis or names the
                batch axis.

        Examples:
            >>> from xcnn.layers import LayerNormalization
            >>> LayerNormalization(axis=[1, 2]).compute_output_shape((4, 4, 3))
            (4, 4, 3)
        """
        self._axes(len(input_shape) + 1)
        return input_shape

    def build_weights(self, input_shape: Shape) -> None:
        """Create the layer's weights for inputs of `input_shape`; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis, `(...)`.

        Examples:
            >>> from xcnn.layers import Input, LayerNormalization
            >>> from xcnn.models import Sequential
            >>> layer = LayerNormalization(axis=[2, 3])
            >>> model = Sequential([Input((5, 4, 3)), layer])
            >>> {k: tuple(w.shape) for k, w in layer.params.items()}
            {'gamma': (4, 3), 'beta': (4, 3)}
        """
        self._axes(len(input_shape) + 1)  # refuses the batch axis: every axis below is a sample's
        full = (0, *input_shape)
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        shape = tuple(full[a] for a in sorted(given))  # Keras's order: sorted by the values given
        if self.scale:
            self.add_weight(
                "gamma", shape, self.gamma_initializer, self.gamma_regularizer, constraint=self.gamma_constraint
            )
        if self.center:
            self.add_weight(
                "beta", shape, self.beta_initializer, self.beta_regularizer, constraint=self.beta_constraint
            )

    def _spread(self, w: Array, x: Array, axes: tuple[int, ...]) -> Array:
        """A weight reshaped (as Keras reshapes it) to broadcast against `x` over the normalized axes."""
        if axes == (x.ndim - 1,):
            return w
        shape = [1] * x.ndim
        for a in axes:
            shape[a] = x.shape[a]
        return self.xp.reshape(w, tuple(shape))

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, ...)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, LayerNormalization
            >>> from xcnn.models import Sequential
            >>> layer = LayerNormalization()
            >>> model = Sequential([Input((4, 4, 3)), layer])
            >>> layer.call(np.ones((2, 4, 4, 3), "float32"), training=False).shape
            (2, 4, 4, 3)
        """
        xp = self.xp
        axes = self._axes(x.ndim)
        centered = x - xp.mean(x, axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(xp.mean(centered * centered, axis=axes, keepdims=True) + self.epsilon)
        normalized = centered * inv_std
        self._axes_used, self._normalized, self._inv_std = axes, normalized, inv_std
        y = normalized
        if self.scale:
            y = y * self._spread(self.params["gamma"], x, axes)
        if self.center:
            y = y + self._spread(self.params["beta"], x, axes)
        return y

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. Fills `self.grads` with the
        gradients of the weights (summed over the batch and the axes not normalized).

        Args:
            dy: The gradient w.r.t. the output, `(N, ...)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, ...)`, (`None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, LayerNormalization
            >>> from xcnn.models import Sequential
            >>> layer = LayerNormalization()
            >>> model = Sequential([Input((3,)), layer], dtype="float64")
            >>> y = layer.call(np.array([[1.0, 2.0, 4.0]]), training=True)
            >>> bool(abs(layer.grad(np.ones_like(y), need_dx=True).sum()) < 1e-12)  # sum(y) does not change with x
            True
            >>> sorted(layer.grads)
            ['beta', 'gamma']
        """
        xp, axes, normalized = self.xp, self._axes_used, self._normalized
        others = tuple(i for i in range(dy.ndim) if i not in axes)
        # summed over the other axes, then laid out as the weight is (the inverse of `_spread`)
        if self.center:
            self.grads["beta"] = xp.reshape(xp.sum(dy, axis=others), tuple(self.params["beta"].shape))
        if self.scale:
            self.grads["gamma"] = xp.reshape(xp.sum(dy * normalized, axis=others), tuple(self.params["gamma"].shape))
        if not need_dx:
            return None
        # x-hat's gradient g = dy * gamma; the mean and variance depend on x too:
        # dx = (g - mean(g) - x-hat * mean(g * x-hat)) / std, the means over the normalized axes
        g = dy * self._spread(self.params["gamma"], dy, axes) if self.scale else dy
        dx = g - xp.mean(g, axis=axes, keepdims=True)
        dx = dx - normalized * xp.mean(g * normalized, axis=axes, keepdims=True)
        return dx * self._inv_std

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import LayerNormalization
            >>> LayerNormalization(axis=[1, 2], epsilon=1e-5).get_config()['axis']
            [1, 2]
        """
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_regularizer": _reg_config(self.beta_regularizer),
            "gamma_regularizer": _reg_config(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
