"""Weight initializers by name, as in Keras.

Draws are made on the host with NumPy's PCG64 from the model's seed, then copied to the
model's backend once at build time: one seed gives the same starting weights on every
backend, which is what the backend-parity tests rely on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

from ._typing import Shape


def fans(shape: Shape) -> tuple[float, float]:
    """`(fan_in, fan_out)` of a weight shape.

    A Dense kernel `(in, out)` gives `(in, out)`; a conv kernel `(F, KH, KW, C)` gives
    `(KH * KW * C, KH * KW * F)`; any other shape its size twice.

    Args:
        shape: The weight's shape.

    Returns:
        The two fans.

    Examples:
        >>> from xcnn.initializers import fans
        >>> fans((3, 2))
        (3, 2)
        >>> fans((8, 3, 3, 1))
        (9, 72)
    """
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        f, kh, kw, c = shape
        return kh * kw * c, kh * kw * f
    size = math.prod(shape)
    return size, size


class Initializer:
    """Base class: `init(shape, rng) -> np.ndarray` with float64 host values.

    Subclasses set `name` and implement `__call__`; layers accept one as `*_initializer`.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> init = initializers.get("he_normal")
        >>> init((3, 2), rng).shape
        (3, 2)
        >>> init
        he_normal
    """

    name = "initializer"

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Draw initial values.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.

        Raises:
            NotImplementedError: In the base class.
        """
        raise NotImplementedError

    def __repr__(self):
        return self.name


class Constant(Initializer):
    """Every entry `value`; `"zeros"` and `"ones"` are constants.

    Args:
        value: The value.
        name: The name it is saved under.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> initializers.Constant(0.5)((2, 2), rng).tolist()
        [[0.5, 0.5], [0.5, 0.5]]
    """

    def __init__(self, value: float = 0.0, name: str = "constant") -> None:
        self.value, self.name = value, name

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """An array of `value`.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
        return np.full(shape, self.value, dtype=np.float64)


class RandomNormal(Initializer):
    """Normal draws with `mean` and `stddev` (Keras's defaults).

    By name: `"normal"` or `"random_normal"`.

    Args:
        mean: The mean.
        stddev: The standard deviation.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> values = initializers.RandomNormal(stddev=0.1)((1000,), rng)
        >>> bool(abs(values.std() - 0.1) < 0.01)
        True
    """

    name = "normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Normal draws.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
        return rng.normal(self.mean, self.stddev, size=shape)


class RandomUniform(Initializer):
    """Uniform draws in `[minval, maxval)` (Keras's defaults).

    By name: `"uniform"` or `"random_uniform"`.

    Args:
        minval: The lower bound.
        maxval: The upper bound.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> values = initializers.RandomUniform(0.0, 1.0)((100,), rng)
        >>> bool(values.min() >= 0.0 and values.max() < 1.0)
        True
    """

    name = "uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Uniform draws.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
        return rng.uniform(self.minval, self.maxval, size=shape)


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance `scale / fan`.

    From a truncated normal, a normal or a uniform distribution.

    Glorot, He and LeCun initializers are instances (`"glorot_uniform"`: scale 1, `fan_avg`,
    uniform; `"he_normal"`: scale 2, `fan_in`, normal; ...).

    Args:
        scale: The variance's numerator.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"` (see `fans`).
        distribution: `"truncated_normal"` (cut at two standard deviations, variance corrected),
            `"normal"` or `"uniform"`.
        name: The name it is saved under.

    Raises:
        ValueError: If `mode` or `distribution` is unknown.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> init = initializers.VarianceScaling(2.0, "fan_in", "uniform")
        >>> values = init((100, 10), rng)
        >>> bool(abs(values).max() <= (3 * 2.0 / 100) ** 0.5)
        True
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        name: str = "variance_scaling",
    ) -> None:
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "normal", "uniform"):
            raise ValueError(f"distribution must be 'truncated_normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution, self.name = scale, mode, distribution, name

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Draws of variance `scale / fan`.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
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


_REGISTRY: dict[str, Callable[[], Initializer]] = {
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
def Zeros() -> Initializer:
    """Keras's class name for `get("zeros")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.Zeros()
        zeros
    """
    return get("zeros")


def Ones() -> Initializer:
    """Keras's class name for `get("ones")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.Ones()
        ones
    """
    return get("ones")


def GlorotUniform() -> Initializer:
    """Keras's class name for `get("glorot_uniform")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.GlorotUniform()
        glorot_uniform
    """
    return get("glorot_uniform")


def GlorotNormal() -> Initializer:
    """Keras's class name for `get("glorot_normal")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.GlorotNormal()
        glorot_normal
    """
    return get("glorot_normal")


def HeNormal() -> Initializer:
    """Keras's class name for `get("he_normal")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.HeNormal()
        he_normal
    """
    return get("he_normal")


def HeUniform() -> Initializer:
    """Keras's class name for `get("he_uniform")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.HeUniform()
        he_uniform
    """
    return get("he_uniform")


def LecunNormal() -> Initializer:
    """Keras's class name for `get("lecun_normal")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.LecunNormal()
        lecun_normal
    """
    return get("lecun_normal")


def LecunUniform() -> Initializer:
    """Keras's class name for `get("lecun_uniform")`.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.LecunUniform()
        lecun_uniform
    """
    return get("lecun_uniform")


def get(identifier: str | Initializer) -> Initializer:
    """An initializer from a name or an `Initializer` (returned as it is).

    Names are those of `NAMES`, or Keras's class names (`"HeNormal"`).

    Args:
        identifier: `"he_normal"`, `"HeNormal"`, ... or an `Initializer`.

    Returns:
        The initializer.

    Raises:
        ValueError: If the name is unknown.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.get("HeNormal")
        he_normal
        >>> initializers.get("zeros")
        zeros
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        # Keras accepts its class names too: "HeNormal" is "he_normal"
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", identifier).lower()
        if name in _REGISTRY:
            return _REGISTRY[name]()
    raise ValueError(f"unknown initializer {identifier!r}; expected one of {NAMES} or an Initializer")
