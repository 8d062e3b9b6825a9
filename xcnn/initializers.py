"""Weight initializers by name, as in Keras.

Draws are made on the host with NumPy's PCG64 from the model's seed, then copied to the
model's backend once at build time: one seed gives the same starting weights on every
backend, which is what the backend-parity tests rely on.
"""

from __future__ import annotations

import math
import re

import numpy as np


def fans(shape):
    """``(fan_in, fan_out)`` for a Dense kernel ``(in, out)`` or a conv kernel ``(F, KH, KW, C)``."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        f, kh, kw, c = shape
        return kh * kw * c, kh * kw * f
    size = math.prod(shape)
    return size, size


class Initializer:
    """Base class: ``init(shape, rng) -> np.ndarray`` with float64 host values."""

    name = "initializer"

    def __call__(self, shape, rng):
        raise NotImplementedError

    def __repr__(self):
        return self.name


class Constant(Initializer):
    def __init__(self, value=0.0, name="constant"):
        self.value, self.name = value, name

    def __call__(self, shape, rng):
        return np.full(shape, self.value, dtype=np.float64)


class RandomNormal(Initializer):
    name = "normal"

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)


class RandomUniform(Initializer):
    name = "uniform"

    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance ``scale / fan`` from a truncated normal or a uniform."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", name="variance_scaling"):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "normal", "uniform"):
            raise ValueError(f"distribution must be 'truncated_normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution, self.name = scale, mode, distribution, name

    def __call__(self, shape, rng):
        fan_in, fan_out = fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, size=shape)
        # truncated at two standard deviations; 0.8796... corrects the variance the cut removes
        std = math.sqrt(variance) / 0.87962566103423978
        values = rng.standard_normal(size=shape)
        bad = np.abs(values) > 2.0
        while bad.any():
            values[bad] = rng.standard_normal(size=int(bad.sum()))
            bad = np.abs(values) > 2.0
        return values * std


_REGISTRY = {
    "zeros": lambda: Constant(0.0, "zeros"),
    "ones": lambda: Constant(1.0, "ones"),
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "lecun_normal": lambda: VarianceScaling(1.0, "fan_in", "normal", "lecun_normal"),
    "lecun_uniform": lambda: VarianceScaling(1.0, "fan_in", "uniform", "lecun_uniform"),
    "glorot_normal": lambda: VarianceScaling(1.0, "fan_avg", "normal", "glorot_normal"),
    "glorot_uniform": lambda: VarianceScaling(1.0, "fan_avg", "uniform", "glorot_uniform"),
    "he_normal": lambda: VarianceScaling(2.0, "fan_in", "normal", "he_normal"),
    "he_uniform": lambda: VarianceScaling(2.0, "fan_in", "uniform", "he_uniform"),
}
NAMES = tuple(sorted(_REGISTRY))


# Keras's class names: ``initializers.HeNormal()`` is ``get("he_normal")``.
def Zeros():
    return get("zeros")


def Ones():
    return get("ones")


def GlorotUniform():
    return get("glorot_uniform")


def GlorotNormal():
    return get("glorot_normal")


def HeNormal():
    return get("he_normal")


def HeUniform():
    return get("he_uniform")


def LecunNormal():
    return get("lecun_normal")


def LecunUniform():
    return get("lecun_uniform")


def get(identifier):
    """An initializer from a name (see :data:`NAMES`) or an :class:`Initializer` instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        # Keras accepts its class names too: "HeNormal" is "he_normal"
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", identifier).lower()
        if name in _REGISTRY:
            return _REGISTRY[name]()
    raise ValueError(f"unknown initializer {identifier!r}; expected one of {NAMES} or an Initializer")
