"""Normalization layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
import functools
import math

from .. import initializers, ops, regularizers
from .layer import Layer, _reg_config
from .._typing import Array, InitializerLike, RegularizerLike, Shape


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
            self.add_weight("gamma", c, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", c, self.beta_initializer, self.beta_regularizer)
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
        spread = functools.partial(ops.spread_channels, x=x)  # per-channel vectors, for NumPy's fast loops
        if training:
            mean = ops.channel_mean(x)
            centered = x - spread(mean)
            var = ops.channel_mean(centered * centered)
            m = self.momentum
            self.state["moving_mean"] = self.state["moving_mean"] * m + mean * (1.0 - m)
            self.state["moving_variance"] = self.state["moving_variance"] * m + var * (1.0 - m)
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
            centered = None  # grad centres x itself, if it needs to
        # kept for grad: the centred input (or the input and the mean it is centred on) and
        # 1/std, not x-hat = centred / std (one pass and one activation-sized array fewer: the
        # backward folds 1/std into its per-channel factors)
        self._input: Array | None = None if training else x
        self._mean: Array | None = None if training else mean
        self._centered, self._inv_std = centered, 1.0 / xp.sqrt(var + self.epsilon)
        self._scaled_inv_std = self._inv_std * self.params["gamma"] if self.scale else self._inv_std
        if training:
            y = centered * spread(self._scaled_inv_std)
            if self.center:
                y += spread(self.params["beta"])  # y is this call's own array
            return y
        # constant statistics: y = x s + (beta - mean s), s = gamma / std, two passes and one new
        # array (as PyTorch's CPU kernel folds it) where centring first makes three and two
        shift = -mean * self._scaled_inv_std
        if self.center:
            shift = shift + self.params["beta"]
        y = x * spread(self._scaled_inv_std)
        y += spread(shift)
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
        inv_std, spread = self._inv_std, functools.partial(ops.spread_channels, x=dy)
        needs_dgamma = self.scale or (need_dx and self._batch_statistics)
        centered = self._centered
        if centered is None and needs_dgamma:  # called in inference mode: centre the kept input now
            centered = self._input - spread(self._mean)
        # sum(dy * x-hat) = sum(dy * centred) / std, per channel
        dgamma = ops.channel_sum(dy * centered) * inv_std if needs_dgamma else None
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
        }
