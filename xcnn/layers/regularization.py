"""Regularization layers: active while training only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._checks import real_number
from .layer import Layer, _require_rank
from .preprocessing import _seed_arg
from .reshaping import _data_format_arg
from .._typing import Array, Shape


class Dropout(Layer):
    """Zeroes a fraction `rate` of inputs while training and scales the rest by `1 / (1 - rate)`.

    Args:
        rate: The fraction dropped, in `[0, 1)`.
        noise_shape: The mask's shape with the batch axis, as in Keras; `None` entries take the
            input's size and size-1 entries share one draw along that axis (`(None, 1, 1, C)`
            drops whole channels).
        seed: The layer draws from its own stream started from `seed` instead of the model's
            per-step stream.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `rate` is not in `[0, 1)`, `seed` is not a non-negative int, or (when
            called) `noise_shape` does not fit the input.

    Examples:
        >>> from xcnn.layers import Dropout, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 2)), Dropout(0.5)])
        >>> model.output_shape
        (None, 4, 4, 2)
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.rate = real_number(rate, "rate", 0.0, 1.0, high_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = _seed_arg(seed)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(...)`.

        Returns:
            The output shape without the batch axis, `(...)`.

        Raises:
            ValueError: If `noise_shape` does not fit the input.

        Examples:
            >>> from xcnn.layers import Dropout
            >>> Dropout(0.5).compute_output_shape((4, 4, 2))
            (4, 4, 2)
        """
        if self.noise_shape is not None:
            full = (None, *input_shape)
            if len(self.noise_shape) != len(full) or any(
                d is not None and d not in (1, n) for d, n in zip(self.noise_shape[1:], input_shape)
            ):
                raise ValueError(
                    f"noise_shape {self.noise_shape} does not fit inputs {full}: it needs one entry per "
                    "axis (batch first), each None, 1 or the input's size"
                )
        return input_shape

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, ...)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (the mask is drawn only then; otherwise the input
                passes unchanged).

        Returns:
            The output batch, `(N, ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dropout, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dropout(0.5)
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 2)
        """
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        shape = (
            tuple(x.shape)
            if self.noise_shape is None
            else tuple(n if d is None else d for d, n in zip(self.noise_shape, x.shape))
        )
        self._mask = self.rng.bernoulli(shape, 1.0 - self.rate, dtype=x.dtype) * (1.0 / (1.0 - self.rate))
        return x * self._mask

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, ...)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, ...)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dropout, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dropout(0.5)
            >>> model = Sequential([Input((4, 4, 2)), layer])
            >>> x = np.ones((2, 4, 4, 2), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 2)
        """
        return dy if self._mask is None else dy * self._mask

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Dropout
            >>> Dropout(0.5).get_config()['rate']
            0.5
        """
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
        }


class SpatialDropout2D(Dropout):
    """Drops whole channels while training, as Keras's `SpatialDropout2D`.

    For each image and channel one draw decides whether the whole `(H, W)` feature map is zeroed
    (with probability `rate`) or kept and scaled by `1 / (1 - rate)`; at inference the input
    passes unchanged. The same as `Dropout(rate, noise_shape=(None, 1, 1, C))`: neighbouring
    pixels of a feature map are correlated, so dropping them one by one regularizes little.

    Args:
        rate: The fraction of channels dropped, in `[0, 1)`.
        data_format: `"channels_last"` or `None` (xcnn's images are `(N, H, W, C)`).
        seed: The layer draws from its own stream started from `seed` instead of the model's
            per-step stream.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `rate` is not in `[0, 1)`, `seed` is not a non-negative int, `data_format`
            is `"channels_first"`, or (when called) the input is not `(N, H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Input, SpatialDropout2D
        >>> from xcnn.models import Sequential
        >>> layer = SpatialDropout2D(0.5, seed=0)
        >>> model = Sequential([Input((3, 3, 4)), layer])
        >>> y = layer.forward([np.ones((2, 3, 3, 4), "float32")], training=True)
        >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])  # whole channels 0 or 1 / (1 - rate)
        True
        >>> bool((y == y[:, :1, :1, :]).all())  # one draw per image and channel
        True
    """

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(rate, noise_shape=(None, 1, 1, None), seed=seed, name=name, input_shape=input_shape)
        self.data_format = _data_format_arg(data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(H, W, C)`.

        Raises:
            ValueError: If the input is not `(H, W, C)`.

        Examples:
            >>> from xcnn.layers import SpatialDropout2D
            >>> SpatialDropout2D(0.5).compute_output_shape((4, 4, 2))
            (4, 4, 2)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import SpatialDropout2D
            >>> SpatialDropout2D(0.3, seed=1, name="drop").get_config()
            {'name': 'drop', 'rate': 0.3, 'seed': 1, 'data_format': 'channels_last'}
        """
        return {"name": self.name, "rate": self.rate, "seed": self.seed, "data_format": self.data_format}


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` while training, as Keras's
    `GaussianNoise`; at inference the input passes unchanged.

    The gradient passes unchanged in both modes (the noise does not depend on the input).

    Args:
        stddev: The noise's standard deviation, in `[0, 1]` (Keras's range).
        seed: The layer draws from its own stream started from `seed` instead of the model's
            per-step stream.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `stddev` is not in `[0, 1]` or `seed` is not a non-negative int.
        TypeError: If `stddev` is not a number.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import GaussianNoise, Input
        >>> from xcnn.models import Sequential
        >>> layer = GaussianNoise(0.1, seed=0)
        >>> model = Sequential([Input((1000,)), layer])
        >>> x = np.zeros((2, 1000), "float32")
        >>> bool(abs(float(layer.forward([x], training=True).std()) - 0.1) < 0.01)
        True
        >>> bool((layer.forward([x], training=False) == x).all())
        True
    """

    def __init__(
        self,
        stddev: float,
        seed: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.stddev = real_number(stddev, "stddev", 0.0, 1.0)
        self.seed = _seed_arg(seed)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation).

        Args:
            x: The input batch, `(N, ...)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (noise is added only then).

        Returns:
            The output batch, `(N, ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import GaussianNoise, Input
            >>> from xcnn.models import Sequential
            >>> layer = GaussianNoise(0.5)
            >>> model = Sequential([Input((3,)), layer])
            >>> layer.call(np.ones((2, 3), "float32"), training=False).tolist()
            [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
        """
        if not training or self.stddev == 0.0:
            return x
        return x + self.rng.normal(tuple(x.shape), 0.0, self.stddev, dtype=x.dtype)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input, `dy` itself.

        Args:
            dy: The gradient w.r.t. the output, `(N, ...)`.
            need_dx: Whether the gradient w.r.t. the input is wanted.

        Returns:
            The gradient w.r.t. the input, `(N, ...)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import GaussianNoise
            >>> GaussianNoise(0.5).grad(np.ones(2), need_dx=True).tolist()
            [1.0, 1.0]
        """
        return dy

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import GaussianNoise
            >>> GaussianNoise(0.2, seed=3).get_config()['stddev']
            0.2
        """
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
