"""Regularization layers: active while training only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._checks import real_number
from .layer import Layer
from .preprocessing import _seed_arg
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
