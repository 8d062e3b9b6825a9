"""Data augmentation as layers, drawn from the model's per-step random stream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
import math

from .. import backend as B
from .. import ops
from ..config import floatx
from .layer import Layer, SymbolicTensor, _require_rank
from .._typing import Array, Shape


class _ImageAugmentation(Layer):
    """A random augmentation of images `(N, H, W, C)` that keeps their shape; called on arrays
    without `training=`, it augments, as Keras's (see `Layer.eager_training`)."""

    eager_training = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(H, W, C)`.

        Raises:
            ValueError: If the input is not `(H, W, C)`.

        Examples:
            >>> from xcnn.layers import RandomFlip
            >>> RandomFlip().compute_output_shape((4, 4, 1))
            (4, 4, 1)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return input_shape


class RandomTranslation(_ImageAugmentation):
    """Shifts each training image by a random whole number of pixels, filling the uncovered
    border with `fill_value`; at inference images pass unchanged.

    Up to `round(height_factor * H)` rows and `round(width_factor * W)` columns either way.
    Keras's `RandomTranslation` with `fill_mode="constant"` and `interpolation="nearest"`: data
    augmentation as a layer, drawn from the model's per-step random stream.

    Args:
        height_factor: The largest shift as a fraction of the height, in `[0, 1)`.
        width_factor: The largest shift as a fraction of the width, in `[0, 1)`.
        fill_value: The value of the uncovered border.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If a factor is not a number in `[0, 1)`, or (when called) the input is not
            `(H, W, C)`.

    Examples:
        >>> from xcnn.layers import RandomTranslation, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((8, 8, 1)), RandomTranslation(0.1, 0.1)])
        >>> model.output_shape
        (None, 8, 8, 1)
    """

    _offsets: Any  # the last training step's shifts (rows, cols), or None

    def __init__(
        self,
        height_factor: float,
        width_factor: float,
        fill_value: float = 0.0,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        for arg, value in (("height_factor", height_factor), ("width_factor", width_factor)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"{arg} must be a number in [0, 1), got {value!r}")
        self.height_factor, self.width_factor = float(height_factor), float(width_factor)
        self.fill_value = float(fill_value)

    def _reach(self, x):
        return round(self.height_factor * x.shape[1]), round(self.width_factor * x.shape[2])

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (random transforms are drawn only then; otherwise
                the input passes unchanged).

        Returns:
            The output batch, `(N, H, W, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomTranslation, Input
            >>> from xcnn.models import Sequential
            >>> layer = RandomTranslation(0.1, 0.1)
            >>> model = Sequential([Input((8, 8, 1)), layer])
            >>> x = np.ones((2, 8, 8, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 8, 8, 1)
        """
        self._offsets = None
        reach = self._reach(x)
        if not training or reach == (0, 0):
            return x
        xp, n = self.xp, x.shape[0]
        # whole shifts in [-reach, reach] per image and axis
        self._offsets = [
            xp.astype(xp.floor(self.rng.uniform((n,), dtype=x.dtype) * (2 * r + 1)), xp.int64) - r for r in reach
        ]
        return self._shift(x, reach, *self._offsets, self.fill_value)  # type: ignore[call-arg]  # two offsets

    def _shift(self, x, reach, rows_down, cols_right, fill):
        """``out[n, i, j] = x[n, i - rows_down[n], j - cols_right[n]]``, ``fill`` outside x: one
        gather from the padded images."""
        xp = self.xp
        n, h, w, c = x.shape
        (rh, rw), device = reach, x.device
        padded = ops._geometry.pad_images(x, ((rh, rh), (rw, rw)), fill)
        hp, wp = h + 2 * rh, w + 2 * rw
        ints = xp.int64
        # flat index of out[n, 0, 0] in the padded images, plus that of pixel (i, j) in one image
        first = xp.arange(n, dtype=ints, device=device) * (hp * wp) + (rh - rows_down) * wp + (rw - cols_right)
        within = xp.reshape(
            xp.reshape(xp.arange(h, dtype=ints, device=device) * wp, (h, 1))
            + xp.reshape(xp.arange(w, dtype=ints, device=device), (1, w)),
            (1, h * w),
        )
        pixel = xp.reshape(xp.reshape(first, (n, 1)) + within, (-1,))
        return xp.reshape(B.take_indices(xp, xp.reshape(padded, (n * hp * wp, c)), pixel, 0), (n, h, w, c))

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, H, W, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomTranslation, Input
            >>> from xcnn.models import Sequential
            >>> layer = RandomTranslation(0.1, 0.1)
            >>> model = Sequential([Input((8, 8, 1)), layer])
            >>> x = np.ones((2, 8, 8, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 8, 8, 1)
        """
        if not need_dx or self._offsets is None:
            return dy
        # the adjoint of a shift with a constant border is the opposite shift with a zero border
        return self._shift(dy, self._reach(dy), -self._offsets[0], -self._offsets[1], 0.0)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomTranslation
            >>> RandomTranslation(0.1, 0.1).get_config()['height_factor']
            0.1
        """
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "fill_value": self.fill_value,
        }


class Rescaling(Layer):
    """`x * scale + offset` (e.g. `Rescaling(1 / 255)`), in training and inference alike.

    Args:
        scale: The factor (one number).
        offset: Added after scaling.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `scale` or `offset` is not a number (per-channel scales are not supported).

    Examples:
        >>> from xcnn.layers import Rescaling, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 1)), Rescaling(1 / 255)])
        >>> model.output_shape
        (None, 4, 4, 1)
    """

    def __init__(
        self, scale: float, offset: float = 0.0, name: str | None = None, input_shape: Sequence[int] | None = None
    ) -> None:
        super().__init__(name, None, input_shape)
        for arg, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{arg} must be a number (per-channel scales are not supported), got {value!r}")
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, ...)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Rescaling, Input
            >>> from xcnn.models import Sequential
            >>> layer = Rescaling(1 / 255)
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 1)
        """
        return x * self.scale + self.offset

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
            >>> from xcnn.layers import Rescaling, Input
            >>> from xcnn.models import Sequential
            >>> layer = Rescaling(1 / 255)
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 1)
        """
        return dy * self.scale

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Rescaling
            >>> Rescaling(1 / 255).get_config()['scale']
            0.00392156862745098
        """
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


_FLIP_AXES = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (2, 1)}


class RandomFlip(_ImageAugmentation):
    """While training, flips each image at random with probability 1/2; at inference images pass
    unchanged.

    Left-right with `mode="horizontal"`, upside down with `"vertical"`, each independently with
    `"horizontal_and_vertical"` (the default). Draws from the model's per-step random stream, or
    from its own stream when given `seed`.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"`.
        seed: Seed of the layer's own random stream (default: the model's stream).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `mode` is unknown, `seed` is not a non-negative int, or (when called) the
            input is not `(H, W, C)`.

    Examples:
        >>> from xcnn.layers import RandomFlip, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 1)), RandomFlip("horizontal")])
        >>> model.output_shape
        (None, 4, 4, 1)
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        if mode not in _FLIP_AXES:
            raise ValueError(f"mode must be one of {sorted(_FLIP_AXES)}, got {mode!r}")
        self.mode, self.seed = mode, _seed_arg(seed)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (random transforms are drawn only then; otherwise
                the input passes unchanged).

        Returns:
            The output batch, `(N, H, W, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomFlip, Input
            >>> from xcnn.models import Sequential
            >>> layer = RandomFlip("horizontal")
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 1)
        """
        self._flips = []
        if not training:
            return x
        xp = self.xp
        for axis in _FLIP_AXES[self.mode]:
            flip = self.rng.uniform((x.shape[0], 1, 1, 1), dtype=x.dtype) < 0.5
            self._flips.append((axis, flip))
            x = xp.where(flip, xp.flip(x, axis=axis), x)
        return x

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        # each flip is its own inverse and adjoint: undo them in reverse order
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, H, W, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomFlip, Input
            >>> from xcnn.models import Sequential
            >>> layer = RandomFlip("horizontal")
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 1)
        """
        xp = self.xp
        for axis, flip in reversed(self._flips):
            dy = xp.where(flip, xp.flip(dy, axis=axis), dy)
        return dy

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomFlip
            >>> RandomFlip("horizontal").get_config()['mode']
            'horizontal'
        """
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}


def _seed_arg(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative int, got {seed!r}")
    return seed


class _Resampling(_ImageAugmentation):
    """A random geometric augmentation: each image resampled at source coordinates drawn per
    image in training (`_source_coordinates`), passed unchanged at inference; the gradient
    w.r.t. the input is the resampling's adjoint. `fill_mode`, `interpolation`, `fill_value`
    and `rng` are the subclass's."""

    fill_mode: str
    interpolation: str
    fill_value: float

    def _source_coordinates(self, n: int, hw: tuple[int, int]) -> tuple[Array, Array] | None:
        raise NotImplementedError

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (random transforms are drawn only then; otherwise
                the input passes unchanged).

        Returns:
            The output batch, `(N, H, W, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomRotation, Input
            >>> from xcnn.models import Sequential
            >>> layer = RandomRotation(0.1)
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> layer.call(x, training=False).shape
            (2, 4, 4, 1)
        """
        self._plan = None
        # coordinates in float64 so that which pixels a corner lands on does not depend on the dtype
        coordinates = self._source_coordinates(x.shape[0], tuple(x.shape[1:3])) if training else None
        if coordinates is None:
            return x
        rows, cols = coordinates
        self._plan = ops.sampling_plan(tuple(x.shape), rows, cols, self.interpolation, self.fill_mode)
        self._x_shape = tuple(x.shape)
        return ops.resample(x, self._plan, tuple(x.shape[1:3]), self.fill_value)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, H, W, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomRotation, Input
            >>> from xcnn.models import Sequential
            >>> layer = RandomRotation(0.1)
            >>> model = Sequential([Input((4, 4, 1)), layer])
            >>> x = np.ones((2, 4, 4, 1), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 4, 4, 1)
        """
        if not need_dx or self._plan is None:
            return dy
        return ops.resample_backward(dy, self._plan, self._x_shape)


class RandomRotation(_Resampling):
    """While training, rotates each image about its centre by a random angle; at inference images
    pass unchanged.

    The angle is drawn uniformly from `factor`, a fraction of a full turn (`0.1` means up to 36
    degrees either way, a pair `(low, high)` a range), and images are resampled as Keras does.
    Draws from the model's per-step random stream, or from its own stream when given `seed`. The
    gradient w.r.t. the input is the resampling's adjoint.

    Args:
        factor: The largest angle as a fraction of a turn, or a range `(low, high)`.
        fill_mode: `"reflect"`, `"constant"` (with `fill_value`), `"nearest"`, `"wrap"` or
            `"mirror"`.
        interpolation: `"bilinear"` or `"nearest"`.
        seed: Seed of the layer's own random stream (default: the model's stream).
        fill_value: The value outside the image with `fill_mode="constant"`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `factor` is not a number or an ordered pair, `fill_mode` or
            `interpolation` is unknown, `seed` is not a non-negative int, or (when called) the
            input is not `(H, W, C)`.

    Examples:
        >>> from xcnn.layers import RandomRotation, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 1)), RandomRotation(0.1)])
        >>> model.output_shape
        (None, 4, 4, 1)
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            low, high = -abs(float(factor)), abs(float(factor))
        else:
            try:
                low, high = (float(f) for f in factor)  # type: ignore[union-attr]
            except (TypeError, ValueError):
                raise ValueError(f"factor must be a number or a pair (low, high), got {factor!r}") from None
        if low > high:
            raise ValueError(f"factor's low must not exceed its high, got {factor!r}")
        if fill_mode not in ops.sampling.FILL_MODES:
            raise ValueError(f"fill_mode must be one of {ops.sampling.FILL_MODES}, got {fill_mode!r}")
        if interpolation not in ops.sampling.INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {ops.sampling.INTERPOLATIONS}, got {interpolation!r}")
        self.factor = (low, high)
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.seed, self.fill_value = _seed_arg(seed), float(fill_value)

    def _source_coordinates(self, n, hw):
        if self.factor == (0.0, 0.0):
            return None
        low, high = (2.0 * math.pi * f for f in self.factor)
        angles = self.rng.uniform((n,), low, high, dtype="float64")
        return ops.rotation_coordinates(angles, hw, self.xp.float64)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomRotation
            >>> RandomRotation(0.1).get_config()['factor']
            [-0.1, 0.1]
        """
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
        }


class RandomZoom(_Resampling):
    """While training, zooms each image in or out about its centre by a random factor; at
    inference images pass unchanged (Keras's `RandomZoom`).

    The height factor is drawn uniformly from `1 + height_factor` (`0.2` means 0.8 to 1.2, a pair
    `(low, high)` a range; above 1 zooms out, the image shrinking, below 1 in), the width factor
    likewise from `width_factor`, or equal to the height's when it is `None` (the aspect kept).
    Images are resampled as Keras does; draws come from the model's per-step random stream, or
    from the layer's own stream when given `seed`. The gradient w.r.t. the input is the
    resampling's adjoint.

    Args:
        height_factor: A number in (-1, 1] (the range `(-f, f)`), or a pair of them.
        width_factor: The same for the width, or `None` to zoom both axes alike.
        fill_mode: `"reflect"`, `"constant"` (with `fill_value`), `"nearest"` or `"wrap"`.
        interpolation: `"bilinear"` or `"nearest"`.
        seed: Seed of the layer's own random stream (default: the model's stream).
        fill_value: The value outside the image with `fill_mode="constant"`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If a factor is not a number in (-1, 1] or a pair of them, `fill_mode` or
            `interpolation` is unknown, `seed` is not a non-negative int, or (when called) the
            input is not `(H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import RandomZoom
        >>> images = np.random.default_rng(0).random((2, 6, 6, 1), dtype=np.float32)
        >>> layer = RandomZoom(0.3, seed=1)
        >>> layer(images, training=True).shape, bool((layer(images, training=False) == images).all())
        ((2, 6, 6, 1), True)
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float] | None = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        self.height_factor = _zoom_range(height_factor, "height_factor")
        self.width_factor = None if width_factor is None else _zoom_range(width_factor, "width_factor")
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise ValueError(f"fill_mode must be one of ('reflect', 'wrap', 'constant', 'nearest'), got {fill_mode!r}")
        if interpolation not in ops.sampling.INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {ops.sampling.INTERPOLATIONS}, got {interpolation!r}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.seed, self.fill_value = _seed_arg(seed), float(fill_value)

    def _source_coordinates(self, n, hw):
        if self.height_factor == (0.0, 0.0) and self.width_factor in (None, (0.0, 0.0)):
            return None
        xp = self.xp
        low, high = self.height_factor
        heights = self.rng.uniform((n, 1), 1.0 + low, 1.0 + high, dtype="float64")
        if self.width_factor is None:
            widths = heights
        else:
            low, high = self.width_factor
            widths = self.rng.uniform((n, 1), 1.0 + low, 1.0 + high, dtype="float64")
        return ops.zoom_coordinates(xp.concat([heights, widths], axis=1), hw, xp.float64)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomZoom
            >>> RandomZoom(0.2).get_config()['height_factor']
            [-0.2, 0.2]
        """
        return {
            **super().get_config(),
            "height_factor": list(self.height_factor),
            "width_factor": None if self.width_factor is None else list(self.width_factor),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
        }


def _zoom_range(factor, name):
    """``factor`` as Keras's RandomZoom reads it: ``f`` means ``(-|f|, |f|)``; each in (-1, 1]."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        bounds = (-abs(float(factor)), abs(float(factor)))
    elif (
        isinstance(factor, (list, tuple))
        and len(factor) == 2
        and all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in factor)
    ):
        bounds = tuple(sorted(float(f) for f in factor))
    else:
        raise ValueError(f"{name} must be a number or a pair of numbers in (-1, 1], got {factor!r}")
    if not all(-1.0 < f <= 1.0 for f in bounds) or not all(math.isfinite(f) for f in bounds):
        raise ValueError(f"{name} must lie in (-1, 1] (a zoom by 1 + factor), got {factor!r}")
    return bounds


class RandomContrast(_ImageAugmentation):
    """While training, scales each image's deviations from its mean by a random factor and clips
    to `value_range`; at inference images pass unchanged (Keras's `RandomContrast`).

    Per image and channel, `y = clip((x - mean) * c + mean, *value_range)` with `mean` over the
    image's pixels and `c` drawn per image, as Keras 3 draws it: uniformly from `[1 - low, 1 +
    high]` for `factor=(low, high)` (each in [0, 1]), and from `[1, 1 + f]` for a number `f`
    (Keras reads `f` as `(0, f)`, so a number only raises the contrast). Draws come from the
    model's per-step random stream, or from the layer's own stream when given `seed`.

    Args:
        factor: A number in [0, 1], or a pair `(low, high)` of them.
        value_range: `(lowest, highest)` value of the images (Keras's default `(0, 255)`).
        seed: Seed of the layer's own random stream (default: the model's stream).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `factor` is not a number in [0, 1] or a pair of them, `value_range` is not
            an increasing pair, `seed` is not a non-negative int, or (when called) the input is not
            `(H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import RandomContrast
        >>> images = np.full((2, 3, 3, 1), 100.0)
        >>> images[:, 0, 0, 0] = 110.0
        >>> out = RandomContrast(0.5, seed=0)(images, training=True)  # nothing reaches 0 or 255 here
        >>> bool(np.allclose(out.mean(axis=(1, 2)), images.mean(axis=(1, 2)))), bool((out[:, 0, 0] >= 110).all())
        (True, True)
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            bounds = (0.0, float(factor))
        elif (
            isinstance(factor, (list, tuple))
            and len(factor) == 2
            and all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in factor)
        ):
            low, high = sorted(float(f) for f in factor)
            bounds = (low, high)
        else:
            raise ValueError(f"factor must be a number in [0, 1] or a pair of them, got {factor!r}")
        if not all(0.0 <= f <= 1.0 for f in bounds):
            raise ValueError(f"factor must lie in [0, 1] (a contrast of 1 - low to 1 + high), got {factor!r}")
        try:
            low, high = (float(v) for v in value_range)
        except (TypeError, ValueError):
            raise ValueError(f"value_range must be a pair (lowest, highest), got {value_range!r}") from None
        if not low < high:
            raise ValueError(f"value_range must be an increasing pair (lowest, highest), got {value_range!r}")
        self.factor = bounds
        self.value_range = (low, high)
        self.seed = _seed_arg(seed)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (the contrast changes only then).

        Returns:
            The output batch, `(N, H, W, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomContrast
            >>> RandomContrast(0.2).call(np.ones((1, 2, 2, 1)), training=False).tolist()
            [[[[1.0], [1.0]], [[1.0], [1.0]]]]
        """
        self._contrast = None
        if not training:
            return x
        xp = self.xp
        low, high = self.factor
        contrast = self.rng.uniform((x.shape[0], 1, 1, 1), 1.0 - low, 1.0 + high, dtype=x.dtype)
        mean = xp.mean(x, axis=(1, 2), keepdims=True)
        y = (x - mean) * contrast + mean
        self._contrast = contrast
        self._inside = (y >= self.value_range[0]) & (y <= self.value_range[1])  # where no clip held it
        # as two element-wise kernels: array-api-compat's clip indexes with a mask on torch (a sync)
        return xp.minimum(xp.maximum(y, self.value_range[0]), self.value_range[1])

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `y = c*x + (1 - c)*mean(x)` where not clipped, so `dx = c*g + (1 - c)*mean(g)` with `g`
        the output gradient where not clipped (zero where clipped), means over each image's
        pixels.

        Args:
            dy: The gradient w.r.t. the output, `(N, H, W, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)` (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomContrast
            >>> layer = RandomContrast(0.2)
            >>> y = layer.call(np.ones((1, 2, 2, 1)), training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (1, 2, 2, 1)
        """
        if not need_dx or self._contrast is None:
            return dy
        xp = self.xp
        g = xp.where(self._inside, dy, xp.zeros_like(dy))
        return self._contrast * g + (1.0 - self._contrast) * xp.mean(g, axis=(1, 2), keepdims=True)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomContrast
            >>> RandomContrast(0.2).get_config()['factor']
            [0.0, 0.2]
        """
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
            "seed": self.seed,
        }


class Resizing(Layer):
    """Resizes images to `(height, width)`, in training and at inference (Keras's `Resizing`).

    Bilinear or nearest sampling at half-pixel centres, as Keras computes it on its torch
    backend (PyTorch's `interpolate`; no antialiasing when shrinking). The gradient w.r.t. the
    input is the resampling's adjoint.

    Args:
        height: The output height.
        width: The output width.
        interpolation: `"bilinear"` or `"nearest"`.
        crop_to_aspect_ratio: Keras's option to crop first; only `False` (xcnn resizes the whole
            image).
        pad_to_aspect_ratio: Keras's option to pad first; only `False`.
        fill_mode: Keras's padding fill (used with `pad_to_aspect_ratio` only); `"constant"`.
        fill_value: Keras's padding value (the same).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, height, width, C)`.

    Raises:
        ValueError: If `height` or `width` is not a positive whole number, `interpolation` is
            unknown, a crop or pad to the aspect ratio is asked for, or (when called) the input is
            not `(H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Resizing
        >>> Resizing(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()  # means of 2x2 blocks
        [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        from .._checks import positive_int

        super().__init__(name, None, input_shape)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")
        if interpolation not in ops.sampling.INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {ops.sampling.INTERPOLATIONS}, got {interpolation!r}")
        for flag, value in (
            ("crop_to_aspect_ratio", crop_to_aspect_ratio),
            ("pad_to_aspect_ratio", pad_to_aspect_ratio),
        ):
            if value:
                raise ValueError(f"{flag}=True is not supported: xcnn's Resizing resizes the whole image")
        if fill_mode != "constant":
            raise ValueError(f"fill_mode must be 'constant' (it pads only with pad_to_aspect_ratio), got {fill_mode!r}")
        self.interpolation, self.fill_value = interpolation, float(fill_value)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(height, width, C)`.

        Raises:
            ValueError: If the input is not `(H, W, C)`.

        Examples:
            >>> from xcnn.layers import Resizing
            >>> Resizing(8, 6).compute_output_shape((4, 4, 3))
            (8, 6, 3)
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return (self.height, self.width, input_shape[2])

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Unused: resizing is the same in training and at inference.

        Returns:
            The output batch, `(N, height, width, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Resizing
            >>> Resizing(4, 2, interpolation="nearest")(np.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0].tolist()
            [[0.0, 1.0], [0.0, 1.0], [2.0, 3.0], [2.0, 3.0]]
        """
        out_hw = (self.height, self.width)
        key = (tuple(x.shape), B.device_key(x.device))
        if getattr(self, "_plan_key", None) != key:  # the plan depends on shape and device alone: once each
            rows, cols = ops.resize_coordinates(
                self.xp, x.shape[0], tuple(x.shape[1:3]), out_hw, self.interpolation, x.device
            )
            self._plan = ops.sampling_plan(tuple(x.shape), rows, cols, self.interpolation, "nearest")
            self._plan_key, self._x_shape = key, tuple(x.shape)
        return ops.resample(x, self._plan, out_hw, 0.0)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, height, width, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)` (`None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Resizing
            >>> layer = Resizing(2, 2)
            >>> y = layer(np.ones((1, 4, 4, 1)))
            >>> layer.grad(np.ones_like(y), need_dx=True).sum()  # each output's 1 spread over 4 inputs
            np.float64(4.0)
        """
        if not need_dx:
            return None
        return ops.resample_backward(dy, self._plan, self._x_shape)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Resizing
            >>> Resizing(8, 6).get_config()['height']
            8
        """
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": False,
            "pad_to_aspect_ratio": False,
            "fill_mode": "constant",
            "fill_value": self.fill_value,
        }


def _aspect_window(in_hw, out_hw):
    """Keras's `smart_resize` window ``(top, left, height, width)``: the largest centred window of
    the images ``in_hw`` with the aspect ratio of ``out_hw`` (its arithmetic, to the pixel)."""
    (h, w), (th, tw) = in_hw, out_hw
    ch = max(min(h, int(float(w * th) / tw)), 1)
    cw = max(min(w, int(float(h * tw) / th)), 1)
    return int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw


class _CropToSize(Layer):
    """A crop of each image to the layer's `(height, width)`: what `CenterCrop` and `RandomCrop`
    share. The fixed path crops `window(in_hw)`, the same for every image, resized (bilinear, as
    Keras's `smart_resize` on torch) to `(height, width)` when the window is of another size;
    the plan is made once per input shape and device. The gradient is the resampling's adjoint,
    put back at the window with zeros around it. Subclasses give `window`."""

    def __init__(
        self,
        height: int,
        width: int,
        data_format: str | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        from .._checks import positive_int
        from .reshaping import _data_format_arg

        super().__init__(name, None, input_shape)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")
        self.data_format = _data_format_arg(data_format)

    def window(self, in_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """`(top, left, height, width)` of the window kept of images of size `in_hw` (each crop's own)."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(H, W, C)`.

        Returns:
            The output shape without the batch axis, `(height, width, C)`.

        Raises:
            ValueError: If the input is not `(H, W, C)`.

        Examples:
            >>> from xcnn.layers import CenterCrop, RandomCrop
            >>> CenterCrop(24, 20).compute_output_shape((28, 28, 1)), RandomCrop(24, 24).compute_output_shape((28, 28, 3))
            ((24, 20, 1), (24, 24, 3))
        """
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return (self.height, self.width, input_shape[2])

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Unused: the crop is the same in training and at inference.

        Returns:
            The output batch, `(N, height, width, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import CenterCrop
            >>> CenterCrop(1, 3)(np.arange(9.0).reshape(1, 3, 3, 1))[0, :, :, 0].tolist()
            [[3.0, 4.0, 5.0]]
        """
        top, left, ch, cw = window = self.window(tuple(x.shape[1:3]))
        out_hw = (self.height, self.width)
        self._fixed = (tuple(x.shape), window)
        crop = x[:, top : top + ch, left : left + cw, :]
        if (ch, cw) == out_hw:
            return crop
        key = (tuple(crop.shape), B.device_key(x.device))
        if getattr(self, "_plan_key", None) != key:  # the plan depends on shape and device alone: once each
            xp = B.array_namespace(x)
            rows, cols = ops.resize_coordinates(xp, crop.shape[0], (ch, cw), out_hw, "bilinear", x.device)
            self._plan = ops.sampling_plan(tuple(crop.shape), rows, cols, "bilinear", "nearest")
            self._plan_key = key
        return ops.resample(crop, self._plan, out_hw, 0.0)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, height, width, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, zero outside the window (`None` when
            `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import CenterCrop
            >>> layer = CenterCrop(1, 1)
            >>> y = layer(np.ones((1, 3, 3, 1)))
            >>> layer.grad(np.ones_like(y), need_dx=True)[0, :, :, 0].tolist()
            [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
        """
        if not need_dx:
            return None
        x_shape, (top, left, ch, cw) = self._fixed
        if (ch, cw) != (self.height, self.width):
            dy = ops.resample_backward(dy, self._plan, (x_shape[0], ch, cw, x_shape[3]))
        pads = ((top, x_shape[1] - top - ch), (left, x_shape[2] - left - cw))
        return ops._geometry.pad_images(dy, pads, 0.0)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import CenterCrop
            >>> CenterCrop(24, 20).get_config()['width']
            20
        """
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}


class CenterCrop(_CropToSize):
    """Crops the centre `(height, width)` of each image, in training and at inference (Keras's
    `CenterCrop`).

    Rows `(H - height) // 2` on, columns `(W - width) // 2` on. An image smaller than the target
    along either axis is first cropped to the largest centred window of the target's aspect
    ratio, which is then resized (bilinear) to `(height, width)`, as Keras does (its
    `smart_resize`). The gradient w.r.t. the input is zero outside the window.

    Args:
        height: The output height.
        width: The output width.
        data_format: `"channels_last"` or `None` (xcnn's images are `(N, H, W, C)`).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, height, width, C)`.

    Raises:
        ValueError: If `height` or `width` is not a positive whole number, `data_format` is
            `"channels_first"`, or (when called) the input is not `(H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import CenterCrop
        >>> CenterCrop(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
        [[5.0, 6.0], [9.0, 10.0]]
    """

    def window(self, in_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """The window of the input images that is kept (and resized, when of another size).

        Args:
            in_hw: The input size `(H, W)`.

        Returns:
            `(top, left, height, width)` of the window.

        Examples:
            >>> from xcnn.layers import CenterCrop
            >>> CenterCrop(4, 4).window((7, 6)), CenterCrop(8, 4).window((6, 6))  # the second: resized
            ((1, 1, 4, 4), (0, 1, 6, 3))
        """
        h, w = in_hw
        if h >= self.height and w >= self.width:
            return (h - self.height) // 2, (w - self.width) // 2, self.height, self.width
        return _aspect_window(in_hw, (self.height, self.width))


class RandomCrop(_CropToSize, _ImageAugmentation):
    """While training, crops a random `(height, width)` window of each image; at inference, the
    centre window as Keras documents it (Keras's `RandomCrop`).

    In training each image gets its own window, drawn uniformly among those that fit (Keras 3
    draws one window per batch; each image's crop is distributed alike). At inference, and in
    training when an image is smaller than the target along an axis, the largest centred
    window of the target's aspect ratio is cropped and resized (bilinear) to `(height, width)`
    (Keras's `smart_resize`, what its documentation says; Keras 3.15 returns such inputs
    unchanged, a known Keras bug, keras-team/keras#21868, that leaves the output shape wrong).
    Draws come from the model's per-step random stream, or from the layer's own stream when
    given `seed`. The gradient w.r.t. the input is zero outside the window.

    Args:
        height: The output height.
        width: The output width.
        seed: Seed of the layer's own random stream (default: the model's stream).
        data_format: `"channels_last"` or `None` (xcnn's images are `(N, H, W, C)`).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        `(N, height, width, C)`.

    Raises:
        ValueError: If `height` or `width` is not a positive whole number, `seed` is not a
            non-negative int, `data_format` is `"channels_first"`, or (when called) the input
            is not `(H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import RandomCrop
        >>> images = np.arange(2 * 6 * 6.0).reshape(2, 6, 6, 1)
        >>> layer = RandomCrop(4, 4, seed=0)
        >>> layer(images, training=True).shape, layer(images, training=False).shape
        ((2, 4, 4, 1), (2, 4, 4, 1))
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(height, width, data_format, name, input_shape)
        self.seed = _seed_arg(seed)

    def window(self, in_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """The window kept at inference (and resized, when of another size).

        Args:
            in_hw: The input size `(H, W)`.

        Returns:
            `(top, left, height, width)` of the window.

        Examples:
            >>> from xcnn.layers import RandomCrop
            >>> RandomCrop(4, 4).window((6, 8))  # the largest centred square, resized to 4x4
            (0, 1, 6, 6)
        """
        return _aspect_window(in_hw, (self.height, self.width))

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (random windows are drawn only then).

        Returns:
            The output batch, `(N, height, width, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomCrop
            >>> RandomCrop(2, 2).call(np.arange(16.0).reshape(1, 4, 4, 1), training=False)[0, :, :, 0].tolist()
            [[2.5, 4.5], [10.5, 12.5]]
        """
        self._starts = None
        h, w = x.shape[1:3]
        if not training or h < self.height or w < self.width or (h, w) == (self.height, self.width):
            return super().call(x, training)
        xp, n = self.xp, x.shape[0]
        draws = self.rng.uniform((n, 2), dtype="float64")
        room = xp.asarray([h - self.height, w - self.width], dtype=xp.float64, device=x.device)
        # whole offsets in [0, room] (the minimum guards a draw that rounds up to room + 1)
        self._starts = xp.astype(xp.minimum(xp.floor(draws * (room + 1.0)), room), xp.int64)
        self._x_shape = tuple(x.shape)
        return ops.crop_windows(x, self._starts, (self.height, self.width))

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, height, width, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)`, zero outside each image's window
            (`None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomCrop
            >>> layer = RandomCrop(2, 2, seed=0)
            >>> y = layer(np.ones((3, 4, 5, 1)), training=True)
            >>> layer.grad(np.ones_like(y), need_dx=True).sum(axis=(1, 2, 3)).tolist()  # 4 pixels each
            [4.0, 4.0, 4.0]
        """
        if not need_dx or self._starts is None:
            return super().grad(dy, need_dx)
        return ops.crop_windows_backward(dy, self._starts, self._x_shape)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomCrop
            >>> RandomCrop(24, 24, seed=1).get_config()['seed']
            1
        """
        return {**super().get_config(), "seed": self.seed}


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class RandomBrightness(_ImageAugmentation):
    """While training, adds a random amount to each image and clips to `value_range`; at
    inference images pass unchanged (Keras's `RandomBrightness`).

    Per image, `y = clip(x + d, *value_range)` with `d` drawn uniformly from `factor * (highest
    - lowest)` of `value_range`: a number `f` means the range `(-|f|, |f|)`, a pair `(low,
    high)` that range. The same amount is added to every pixel and channel of an image, as
    Keras does. Draws come from the model's per-step random stream, or from the layer's own
    stream when given `seed`. The gradient is zero where the output was clipped.

    Args:
        factor: A number in [-1, 1], or a pair of them.
        value_range: `(lowest, highest)` value of the images (Keras's default `(0, 255)`; Keras
            sorts the pair, so does xcnn).
        seed: Seed of the layer's own random stream (default: the model's stream).
        name: The layer's name (default: a unique one from the class name).
        input_shape: `(H, W, C)`, to build a `Sequential` without an `Input`.

    Input shape:
        `(N, H, W, C)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `factor` is not a number in [-1, 1] or a pair of them, `value_range` is
            not a pair of numbers, `seed` is not a non-negative int, or (when called) the input
            is not `(H, W, C)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import RandomBrightness
        >>> images = np.full((3, 2, 2, 1), 0.5)
        >>> out = RandomBrightness(0.2, value_range=(0, 1), seed=0)(images, training=True)
        >>> bool((np.abs(out - 0.5) <= 0.2).all()), bool((out == out[:, :1, :1]).all())  # one shift per image
        (True, True)
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, None, input_shape)
        if _number(factor):
            bounds = (-abs(float(factor)), abs(float(factor)))  # type: ignore[arg-type]  # a number here
        elif isinstance(factor, (list, tuple)) and len(factor) == 2 and all(_number(f) for f in factor):
            low, high = sorted(float(f) for f in factor)
            bounds = (low, high)
        else:
            raise ValueError(f"factor must be a number in [-1, 1] or a pair of them, got {factor!r}")
        if not all(-1.0 <= f <= 1.0 for f in bounds):
            raise ValueError(f"factor must lie in [-1, 1] (a fraction of value_range's width), got {factor!r}")
        if not (isinstance(value_range, (list, tuple)) and len(value_range) == 2 and all(map(_number, value_range))):
            raise ValueError(f"value_range must be a pair of numbers (lowest, highest), got {value_range!r}")
        low, high = sorted(float(v) for v in value_range)
        self.factor, self.value_range = bounds, (low, high)
        self.seed = _seed_arg(seed)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, H, W, C)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (the brightness changes only then).

        Returns:
            The output batch, `(N, H, W, C)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomBrightness
            >>> RandomBrightness(0.2).call(np.full((1, 1, 2, 1), 300.0), training=False).tolist()  # no clip either
            [[[[300.0], [300.0]]]]
        """
        self._inside = None
        if not training:
            return x
        xp = self.xp
        (low, high), (lowest, highest) = self.factor, self.value_range
        delta = self.rng.uniform((x.shape[0], 1, 1, 1), low, high, dtype=x.dtype) * (highest - lowest)
        y = x + delta
        self._inside = (y >= lowest) & (y <= highest)  # where no clip held it
        # as two element-wise kernels: array-api-compat's clip indexes with a mask on torch (a sync)
        return xp.minimum(xp.maximum(y, lowest), highest)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` where the output was not clipped, zero where it was.

        Args:
            dy: The gradient w.r.t. the output, `(N, H, W, C)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, H, W, C)` (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import RandomBrightness
            >>> layer = RandomBrightness((1.0, 1.0), value_range=(0, 1))
            >>> y = layer(np.array([[[[-0.5], [0.5]]]]), training=True)  # + 1: 0.5 stays, 1.5 is clipped
            >>> y.tolist(), layer.grad(np.ones_like(y), need_dx=True).tolist()
            ([[[[0.5], [1.0]]]], [[[[1.0], [0.0]]]])
        """
        if not need_dx or self._inside is None:
            return dy
        xp = self.xp
        return xp.where(self._inside, dy, xp.zeros_like(dy))

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import RandomBrightness
            >>> RandomBrightness(0.2).get_config()['factor']
            [-0.2, 0.2]
        """
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
            "seed": self.seed,
        }


_KERAS_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation Normalization divides by


def _dtype_name(dtype):
    """``"float32"`` for a dtype of any namespace, or its name."""
    return str(dtype).rsplit(".", 1)[-1]


class Normalization(Layer):
    """`(x - mean) / sqrt(variance)`, per position along `axis` (Keras's `Normalization`).

    The mean and variance are given (`mean=`, `variance=`, numbers or arrays that broadcast
    along the kept axes as Keras aligns them, from the right), or computed from data by
    `adapt`, over every axis but `axis`, and then kept as the layer's weights `mean`,
    `variance` and `count` (not trained), as Keras keeps them. The standard deviation is held
    at Keras's epsilon `1e-7` or above. With `invert=True` the layer undoes a normalization:
    `mean + x * sqrt(variance)`. The same in training and at inference.

    Args:
        axis: The axis or axes (counted with the batch axis first, as Keras counts them; `-1`
            is the last) that keep their own mean and variance; `None` for one mean and
            variance over everything.
        mean: The mean to normalize with, or `None` to use `adapt`'s (then `variance` too).
        variance: The variance, given with `mean`.
        invert: Apply the inverse transformation instead.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without
            an `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's.

    Raises:
        ValueError: If `axis` is not an int, a sequence of ints or `None`, only one of `mean`
            and `variance` is given, their shapes differ or have more axes than `axis`, or
            (when built) an axis is the batch axis or outside the input.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Normalization
        >>> data = np.array([[0.0, 10.0], [2.0, 30.0]])
        >>> layer = Normalization()
        >>> layer.adapt(data)  # per feature: means (1, 20), variances (1, 100)
        >>> layer(data).tolist()
        [[-1.0, -1.0], [1.0, 1.0]]
        >>> Normalization(mean=1.0, variance=4.0, invert=True)(np.array([[1.0, -1.0]])).tolist()
        [[3.0, -1.0]]
    """

    def __init__(
        self,
        axis: int | Sequence[int] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        import numpy as np

        super().__init__(name, None, input_shape)
        if axis is None:
            axes: tuple = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axes = (axis,)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axes = tuple(axis)
        else:
            raise ValueError(f"axis must be an int, a sequence of ints or None, got {axis!r}")
        self.axis = axes
        if (mean is None) != (variance is None):
            raise ValueError(f"mean and variance must be given together, got mean={mean!r} and variance={variance!r}")
        if mean is not None:
            mean, variance = np.asarray(mean, dtype=np.float64), np.asarray(variance, dtype=np.float64)
            if mean.shape != variance.shape:
                raise ValueError(f"mean and variance must have one shape, got {mean.shape} and {variance.shape}")
            if mean.ndim > len(axes):
                raise ValueError(
                    f"mean must have at most as many axes as axis={axis!r} names, got its shape {mean.shape}"
                )
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self._adapted: Any = None  # (mean, variance) on the host, from adapt
        # built by adapt alone (default backend, floatx): a model, or a call on other arrays,
        # builds it again for itself, keeping the statistics
        self._provisional = False
        self._set_arrays: tuple = ()  # the weights _set_statistics made (not replaced since)

    def _kept(self, rank):
        """The kept axes, non-negative and sorted, of inputs of ``rank`` axes (the batch axis included)."""
        if any(not -rank <= a < rank for a in self.axis):
            raise ValueError(
                f"Normalization {self.name}: axis {self.axis} must lie in [-{rank}, {rank}) for inputs of "
                f"{rank} axes (the batch axis included)"
            )
        kept = tuple(sorted({a % rank for a in self.axis}))
        if 0 in kept:
            raise ValueError(
                f"Normalization {self.name}: axis {self.axis} names the batch axis, whose size varies; "
                "keep other axes only"
            )
        return kept

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis.

        Returns:
            The same shape.

        Raises:
            ValueError: If an axis of `axis` is the batch axis or outside the input.

        Examples:
            >>> from xcnn.layers import Normalization
            >>> Normalization(axis=(1, 2)).compute_output_shape((4, 4, 3))
            (4, 4, 3)
        """
        self._kept(len(input_shape) + 1)
        return input_shape

    def _shapes(self, input_shape):
        """The weights' shape (the kept axes' sizes) and the broadcast shape ``(1, ...)``."""
        full = (1, *input_shape)
        kept = self._kept(len(full))
        return tuple(full[a] for a in kept), tuple(n if a in kept else 1 for a, n in enumerate(full))

    def build_weights(self, input_shape: Shape) -> None:
        """Create `mean`, `variance` and `count` (not trained) unless `mean` was given; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis.

        Raises:
            ValueError: If `adapt` saw data of other sizes along `axis`, or the given mean does
                not broadcast along the kept axes.

        Examples:
            >>> from xcnn.layers import Input, Normalization
            >>> from xcnn.models import Sequential
            >>> layer = Normalization()
            >>> model = Sequential([Input((4, 4, 3)), layer])
            >>> [w.shape for w in layer.get_weights()]  # mean, variance, count
            [(3,), (3,), ()]
        """
        import numpy as np

        shape, self._broadcast = self._shapes(input_shape)
        if self.input_mean is None:
            self.add_weight("mean", shape, "zeros", trainable=False)
            self.add_weight("variance", shape, "ones", trainable=False)
            self.add_weight("count", (), "zeros", trainable=False)
            if self._adapted is not None:
                self._set_statistics(*self._adapted)
            return
        # as Keras: the given statistics' axes align with the kept axes from the right
        kept = self._kept(len(self._broadcast))
        expanded = [1] * len(self._broadcast)
        for i in range(1, self.input_mean.ndim + 1):
            expanded[kept[-i]] = self.input_mean.shape[-i]
        try:
            mean = np.array(np.broadcast_to(self.input_mean.reshape(expanded), self._broadcast))
            variance = np.array(np.broadcast_to(self.input_variance.reshape(expanded), self._broadcast))
        except ValueError:
            raise ValueError(
                f"Normalization {self.name}: mean of shape {self.input_mean.shape} does not broadcast to the "
                f"sizes {shape} of the input along axis {self.axis}"
            ) from None
        self._given, self._given_key = (mean, variance), None  # on the host; on x's backend when called

    def _set_statistics(self, mean, variance):
        import numpy as np

        wanted = tuple(self.state["mean"].shape)
        if mean.shape != wanted:
            raise ValueError(
                f"Normalization {self.name} was adapted to data of sizes {mean.shape} along axis {self.axis}; "
                f"its input has {wanted}"
            )
        for key, value in (("mean", mean), ("variance", variance), ("count", np.zeros(()))):
            self.state[key] = B.asarray(value, self._backend, self.dtype, device=self.device)
        self._set_arrays = (self.state["mean"], self.state["variance"])

    def adapt(self, data: Any) -> None:
        """Compute the mean and variance of `data` over every axis but `axis`, as Keras's `adapt`.

        Call it before or after the layer is in a model: the statistics become the layer's
        `mean` and `variance` weights (`count` stays 0, as in Keras 3). Batches are combined as
        Keras combines them; everything is computed on the host in float64. As in Keras, a
        layer not built yet is built by `adapt` for the data's shape, on the backend, device
        and dtype a model made without arguments would give it (`xcnn.backend.get_backend()`,
        `xcnn.config.floatx()`), so `get_weights()`, `mean` and `variance` read the statistics;
        a model it is then added to (or a call on other arrays) builds it again for itself,
        keeping them.

        Args:
            data: A NumPy or backend array `(N, ...)`, a `PyDataset`, or an iterable of batches
                (arrays, or `(x, y)` and `(x, y, sample_weight)` tuples whose `x` is taken).

        Raises:
            ValueError: If the layer was given `mean` and `variance`, `data` holds no batch,
                batches differ along `axis`, or their sizes along `axis` differ from the
                built layer's.
            TypeError: If `data` is none of those.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Normalization
            >>> layer = Normalization(axis=None)
            >>> layer.adapt([np.array([1.0, 2.0]), np.array([3.0, 4.0])])  # two batches: one mean, 2.5
            >>> layer(np.array([[2.5]])).tolist()
            [[0.0]]
            >>> images = Normalization()
            >>> images.adapt(np.arange(24.0).reshape(2, 2, 2, 3))
            >>> [w.shape for w in images.get_weights()], tuple(images.mean.shape)
            ([(3,), (3,), ()], (1, 1, 1, 3))
        """
        import numpy as np

        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name} was given mean and variance; adapt computes them")

        def host(batch):
            if isinstance(batch, tuple):
                batch = batch[0]
            return np.asarray(B.to_numpy(batch) if B.backend_of_or_none(batch) is not None else batch)

        if isinstance(data, np.ndarray) or B.backend_of_or_none(data) is not None:
            batches: Any = [host(data)]
        elif hasattr(data, "__len__") and hasattr(data, "__getitem__") and not isinstance(data, (list, tuple)):
            batches = (host(data[i]) for i in range(len(data)))  # a PyDataset
        elif hasattr(data, "__iter__"):
            batches = (host(batch) for batch in data)
        else:
            raise TypeError(f"adapt takes an array, a PyDataset or an iterable of batches, got {type(data).__name__}")
        mean = variance = kept = None
        total = 0
        for batch in batches:
            kept_now = self._kept(batch.ndim)
            if kept is None:
                kept, item_shape = kept_now, tuple(batch.shape[1:])
                sizes = tuple(batch.shape[a] for a in kept)
                mean, variance = np.zeros(sizes), np.zeros(sizes)
            elif tuple(batch.shape[a] for a in kept) != sizes:
                raise ValueError(
                    f"Normalization {self.name}: adapt's batches differ along axis {self.axis}: "
                    f"{tuple(batch.shape)} after sizes {sizes}"
                )
            reduced = tuple(a for a in range(batch.ndim) if a not in kept)
            count = math.prod(batch.shape[a] for a in reduced)
            batch_mean = np.mean(batch, axis=reduced, dtype=np.float64)
            batch_variance = np.var(batch, axis=reduced, dtype=np.float64)
            total += count
            weight = count / total
            new_mean = mean * (1.0 - weight) + batch_mean * weight
            variance = (variance + (mean - new_mean) ** 2) * (1.0 - weight) + (
                batch_variance + (batch_mean - new_mean) ** 2
            ) * weight
            mean = new_mean
        if mean is None:
            raise ValueError(f"Normalization {self.name}: adapt got no batch")
        self._adapted = (mean, variance)
        if self.built:
            self._set_statistics(mean, variance)
        elif self.output is None:  # not wired into a graph, whose model builds it: build it here
            self._build_outside_a_model(B.get_backend(), floatx(), None, [item_shape])
            self._provisional = True

    def _unbuild(self):
        """Drop the provisional weights, keeping their statistics, for a build of its own."""
        import numpy as np

        kept = tuple(self.state.get(k) for k in ("mean", "variance"))
        if self.input_mean is None and not all(a is b for a, b in zip(kept, self._set_arrays)):
            # set_weights replaced them since: carry those (else adapt's float64 ones stay)
            self._adapted = tuple(np.asarray(B.to_numpy(a), dtype=np.float64) for a in kept)
        self.params, self.grads, self.state = {}, {}, {}
        self._weight_slots = []
        self.built, self._provisional = False, False

    def __call__(self, inputs: Any, training: bool | None = None) -> Any:
        """Wire the layer into a graph on `inputs`, or run it on arrays; see `Layer.__call__`.

        A layer `adapt` built outside a model is built again by the model it is wired into (on
        that model's backend and dtype), or for arrays of another backend, device or dtype, with
        the same statistics.

        Args:
            inputs: A symbolic tensor, or an array `(N, ...)`.
            training: For arrays: unused (the same in training and at inference).

        Returns:
            The layer's symbolic output, or its output array.

        Raises:
            TypeError: As `Layer.__call__`.
            ValueError: As `Layer.__call__`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Input, Normalization
            >>> from xcnn.models import Sequential
            >>> layer = Normalization()
            >>> layer.adapt(np.array([[0.0], [2.0]]))
            >>> model = Sequential([Input((1,)), layer], dtype="float64")
            >>> layer.mean.dtype, model.predict(np.array([[3.0]]), verbose=0).tolist()
            (dtype('float64'), [[2.0]])
        """
        if self._provisional:
            tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
            if tensors and isinstance(tensors[0], SymbolicTensor):
                output = super().__call__(inputs, training)
                self._unbuild()  # the model builds it now
                return output
        return super().__call__(inputs, training)

    def _call_on_arrays(self, arrays, training):
        if self._provisional and arrays:
            import numpy as np

            first = arrays[0]
            if B.backend_of_or_none(first) is None:
                first = B.asarray(np.asarray(first))
            backend = B.backend_of(first)
            xp = B.namespace(backend)
            dtype = first.dtype if xp.isdtype(first.dtype, "real floating") else xp.float32
            if (backend, B.device_key(first.device), _dtype_name(dtype)) != (
                self._backend,
                B.device_key(self.device),
                _dtype_name(self.dtype),
            ):
                self._unbuild()  # built again for these arrays, as a layer adapt did not build
        return super()._call_on_arrays(arrays, training)

    @property
    def mean(self) -> Any:
        """The mean the layer normalizes with, as Keras's `layer.mean`: an array of the layer's
        backend and dtype in the inputs' rank, 1 along the axes not kept (`(1, 1, 1, C)` for
        images with `axis=-1`); `None` before the layer is built.

        The weight itself (of the kept axes' sizes) is `get_weights()[0]` and `weights[0]`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Normalization
            >>> layer = Normalization()
            >>> layer.mean is None
            True
            >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
            >>> layer.mean.tolist()
            [[1.0, 20.0]]
        """
        return self._broadcast_statistic(0)

    @property
    def variance(self) -> Any:
        """The variance the layer normalizes with, as Keras's `layer.variance`: shaped as `mean`;
        `None` before the layer is built.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Normalization
            >>> layer = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
            >>> _ = layer(np.zeros((1, 2)))
            >>> layer.variance.tolist()
            [[4.0, 9.0]]
        """
        return self._broadcast_statistic(1)

    def _broadcast_statistic(self, index):
        if not self.built:
            return None
        if self.input_mean is None:
            return self._statistics()[index]
        return B.asarray(self._given[index], self._backend, self.dtype, device=self.device)

    def _statistics(self, like=None):
        """The mean and variance in the broadcast shape: on ``like``'s backend, device and dtype
        (given statistics are converted once per those, as a model may move), or as they are kept
        without ``like`` (given ones on the host)."""
        if self.input_mean is None:
            xp = self.xp
            return xp.reshape(self.state["mean"], self._broadcast), xp.reshape(self.state["variance"], self._broadcast)
        if like is None:
            return self._given
        backend = B.backend_of(like)
        key = (backend, B.device_key(like.device), str(like.dtype))
        if self._given_key != key:
            self._given_on = tuple(B.asarray(a, backend, like.dtype, device=like.device) for a in self._given)
            self._given_key = key
        return self._given_on

    def _std(self, variance):
        xp = B.array_namespace(variance)
        return xp.maximum(xp.sqrt(variance), _KERAS_EPSILON)

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation).

        Args:
            x: The input batch, `(N, ...)`, float32 or float64, on the layer's backend and device.
            training: Unused: the same in training and at inference.

        Returns:
            The output batch, `(N, ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Normalization
            >>> layer = Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
            >>> layer(np.array([[3.0, 3.0]])).tolist()
            [[1.0, 1.0]]
        """
        mean, variance = self._statistics(x)
        if self.invert:
            return mean + x * self._std(variance)
        return (x - mean) / self._std(variance)

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy / std` (`dy * std` when inverting); the weights are not trained.

        Args:
            dy: The gradient w.r.t. the output, `(N, ...)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, ...)` (`None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Normalization
            >>> layer = Normalization(mean=0.0, variance=4.0)
            >>> y = layer(np.ones((1, 2)))
            >>> layer.grad(np.ones_like(y), need_dx=True).tolist()
            [[0.5, 0.5]]
        """
        if not need_dx:
            return None
        std = self._std(self._statistics(dy)[1])
        return dy * std if self.invert else dy / std

    def _keras_layout(self, key, array):
        """``count`` is an integer in Keras."""
        return array.astype("int64") if key == "count" else array

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts; `mean` and
            `variance` are the given ones (nested lists or numbers), `None` when adapted.

        Examples:
            >>> from xcnn.layers import Normalization
            >>> Normalization(axis=(1, 2)).get_config()['axis']
            [1, 2]
        """
        given = self.input_mean is not None
        return {
            **super().get_config(),
            "axis": list(self.axis),
            "invert": self.invert,
            "mean": self.input_mean.tolist() if given else None,
            "variance": self.input_variance.tolist() if given else None,
        }
