"""Layers that only rearrange values."""

from __future__ import annotations

import math

from .. import ops
from .layer import Layer, _require_rank


class Flatten(Layer):
    """``(N, d1, d2, ...)`` -> ``(N, d1 * d2 * ...)`` in row-major order, as Keras does."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, x, training):
        self._x_shape = tuple(x.shape)
        return ops.flatten(x)

    def grad(self, dy, need_dx):
        return ops.flatten_backward(dy, self._x_shape)


class Reshape(Layer):
    """Reshape to ``target_shape`` (no batch axis; one entry may be -1), in row-major order as
    Keras does: ``(N, *input_shape)`` -> ``(N, *target_shape)``."""

    def __init__(self, target_shape, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        try:
            target = tuple(int(d) for d in target_shape)
        except TypeError:
            raise TypeError(f"target_shape must be a tuple of ints, got {target_shape!r}") from None
        if not target or target.count(-1) > 1 or any(d < 1 and d != -1 for d in target):
            raise ValueError(f"target_shape must hold positive ints and at most one -1, got {target_shape!r}")
        self.target_shape = target

    def compute_output_shape(self, input_shape):
        size, known = math.prod(input_shape), math.prod(d for d in self.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if math.prod(shape) != size:
            raise ValueError(f"Reshape {self.name} cannot turn inputs (None, {', '.join(map(str, input_shape))}) "
                             f"of {size} values into target_shape {self.target_shape}")
        return shape

    def call(self, x, training):
        self._x_shape = tuple(x.shape)
        return self.xp.reshape(x, (x.shape[0], *self.output.shape))

    def grad(self, dy, need_dx):
        return self.xp.reshape(dy, self._x_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


def _padding_pairs(padding):
    """Keras's ZeroPadding2D forms -> ``((top, bottom), (left, right))``."""
    message = f"padding must be an int, (rows, cols) or ((top, bottom), (left, right)) of ints >= 0, got {padding!r}"
    if isinstance(padding, int) and not isinstance(padding, bool):
        pairs = ((padding, padding), (padding, padding))
    else:
        try:
            rows, cols = padding
            pairs = tuple((p, p) if isinstance(p, int) else tuple(p) for p in (rows, cols))
        except (TypeError, ValueError):
            raise ValueError(message) from None
    flat = [v for pair in pairs for v in pair]
    if len(flat) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in flat):
        raise ValueError(message)
    return pairs


class ZeroPadding2D(Layer):
    """Zeros around NHWC images: ``padding`` is an int, ``(rows, cols)`` (both sides) or
    ``((top, bottom), (left, right))``. ``(N, H, W, C)`` -> ``(N, H + top + bottom, W + left + right, C)``."""

    def __init__(self, padding=(1, 1), name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        self.padding = _padding_pairs(padding)

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        (top, bottom), (left, right) = self.padding
        return (input_shape[0] + top + bottom, input_shape[1] + left + right, input_shape[2])

    def call(self, x, training):
        return ops.zero_pad2d(x, self.padding)

    def grad(self, dy, need_dx):
        return ops.zero_pad2d_backward(dy, self.padding)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class UpSampling2D(Layer):
    """Repeats each pixel ``size = (rows, cols)`` times (``interpolation="nearest"``, the Keras
    default; bilinear is not supported). ``(N, H, W, C)`` -> ``(N, H * rows, W * cols, C)``."""

    def __init__(self, size=(2, 2), interpolation="nearest", name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        self.size = ops._geometry.as_pair(size, "size")
        if interpolation != "nearest":
            raise ValueError(f"interpolation must be 'nearest' (the only one xcnn implements), got {interpolation!r}")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        _require_rank(self, input_shape, 3, "(N, H, W, C)")
        return (input_shape[0] * self.size[0], input_shape[1] * self.size[1], input_shape[2])

    def call(self, x, training):
        return ops.upsample_nearest2d(x, self.size)

    def grad(self, dy, need_dx):
        return ops.upsample_nearest2d_backward(dy, self.size)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}
