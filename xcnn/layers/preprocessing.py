"""Data augmentation as layers, drawn from the model's per-step random stream."""

from __future__ import annotations

from .. import ops
from .layer import Layer


class RandomTranslation(Layer):
    """Shifts each training image by a random whole number of pixels, up to
    ``round(height_factor * H)`` rows and ``round(width_factor * W)`` columns either way,
    filling the uncovered border with ``fill_value``; at inference images pass unchanged.

    Keras's ``RandomTranslation`` with ``fill_mode="constant"`` and ``interpolation="nearest"``:
    data augmentation as a layer, drawn from the model's per-step random stream.
    """

    def __init__(self, height_factor, width_factor, fill_value=0.0, name=None, input_shape=None):
        super().__init__(name, None, input_shape)
        for arg, value in (("height_factor", height_factor), ("width_factor", width_factor)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"{arg} must be a number in [0, 1), got {value!r}")
        self.height_factor, self.width_factor = float(height_factor), float(width_factor)
        self.fill_value = float(fill_value)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name} expects images (H, W, C), got input shape {input_shape}")
        return input_shape

    def _reach(self, x):
        return round(self.height_factor * x.shape[1]), round(self.width_factor * x.shape[2])

    def call(self, x, training):
        self._offsets = None
        reach = self._reach(x)
        if not training or reach == (0, 0):
            return x
        xp, n = self.xp, x.shape[0]
        # whole shifts in [-reach, reach] per image and axis
        self._offsets = [xp.astype(xp.floor(self.rng.uniform((n,), dtype=x.dtype) * (2 * r + 1)), xp.int64) - r
                         for r in reach]
        return self._shift(x, reach, *self._offsets, self.fill_value)

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
        within = xp.reshape(xp.reshape(xp.arange(h, dtype=ints, device=device) * wp, (h, 1))
                            + xp.reshape(xp.arange(w, dtype=ints, device=device), (1, w)), (1, h * w))
        pixel = xp.reshape(xp.reshape(first, (n, 1)) + within, (-1,))
        return xp.reshape(xp.take(xp.reshape(padded, (n * hp * wp, c)), pixel, axis=0), (n, h, w, c))

    def grad(self, dy, need_dx):
        if not need_dx or self._offsets is None:
            return dy
        # the adjoint of a shift with a constant border is the opposite shift with a zero border
        return self._shift(dy, self._reach(dy), -self._offsets[0], -self._offsets[1], 0.0)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor,
                "fill_value": self.fill_value}
