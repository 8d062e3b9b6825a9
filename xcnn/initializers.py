"""Weight initializers by name, as in Keras.

Draws are made on the host with NumPy's PCG64 from the model's seed, then copied to the
model's backend once at build time: one seed gives the same starting weights on every
backend, which is what the backend-parity tests rely on.

Keras's names are all here: the classes (`HeNormal()`, `TruncatedNormal(stddev=0.1)`,
`Orthogonal()`, ...) and their lowercase aliases (`he_normal`, `truncated_normal`, ...). An
initializer given a `seed` draws from its own generator, `numpy.random.default_rng(seed)`, the
same values at every call (as a Keras initializer with an int seed), instead of from the
model's stream. The values are not Keras's for that seed (Keras draws with its backend's
generator); the distributions are.
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
    seed: int | None = None  # a seed of its own; None: draw from the model's generator

    def _generator(self, rng: np.random.Generator) -> np.random.Generator:
        """The generator to draw from: ``rng`` (the model's), or one made from ``seed``."""
        return rng if self.seed is None else np.random.default_rng(self.seed)

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
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> values = initializers.RandomNormal(stddev=0.1)((1000,), rng)
        >>> bool(abs(values.std() - 0.1) < 0.01)
        True
    """

    name = "normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Normal draws.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
        return self._generator(rng).normal(self.mean, self.stddev, size=shape)


class RandomUniform(Initializer):
    """Uniform draws in `[minval, maxval)` (Keras's defaults).

    By name: `"uniform"` or `"random_uniform"`.

    Args:
        minval: The lower bound.
        maxval: The upper bound.
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> values = initializers.RandomUniform(0.0, 1.0)((100,), rng)
        >>> bool(values.min() >= 0.0 and values.max() < 1.0)
        True
    """

    name = "uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Uniform draws.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
        return self._generator(rng).uniform(self.minval, self.maxval, size=shape)


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance `scale / fan`.

    From a truncated normal, a normal or a uniform distribution.

    Glorot, He and LeCun initializers are instances (`"glorot_uniform"`: scale 1, `fan_avg`,
    uniform; `"he_normal"`: scale 2, `fan_in`, normal; ...).

    Args:
        scale: The variance's numerator.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"` (see `fans`).
        distribution: `"truncated_normal"` (cut at two standard deviations, variance corrected;
            `"normal"` is the same, as in Keras), `"untruncated_normal"` or `"uniform"`.
        name: The name it is saved under.
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Raises:
        ValueError: If `mode` or `distribution` is unknown, or `scale` is not positive.

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
        seed: int | None = None,
    ) -> None:
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "distribution must be 'truncated_normal' (or 'normal'), 'untruncated_normal' or 'uniform', "
                f"got {distribution!r}"
            )
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        self.scale, self.mode, self.distribution, self.name = scale, mode, distribution, name
        self.seed = seed

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
        rng = self._generator(rng)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return rng.standard_normal(size=shape) * math.sqrt(variance)
        # truncated at two standard deviations; 0.8796... corrects the variance the cut removes
        return _truncated_standard_normal(rng, shape) * (math.sqrt(variance) / 0.87962566103423978)


def _truncated_standard_normal(rng, shape):
    """Standard normal draws, those beyond two standard deviations drawn again (Keras's cut)."""
    values = rng.standard_normal(size=shape)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(values) > 2.0
    return values


class TruncatedNormal(Initializer):
    """Normal draws with `mean` and `stddev`, those more than two `stddev` from the mean drawn
    again (Keras's `TruncatedNormal`: no variance correction, so the values' standard deviation
    is about `0.88 * stddev`).

    By name: `"truncated_normal"`.

    Args:
        mean: The mean.
        stddev: The standard deviation before the cut; > 0.
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Raises:
        ValueError: If `stddev` is not a positive number.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> values = initializers.TruncatedNormal(1.0, 0.1)((1000,), np.random.default_rng(0))
        >>> bool(values.min() >= 0.8 and values.max() <= 1.2)
        True
    """

    name = "truncated_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or not stddev > 0:
            raise ValueError(f"stddev must be a positive number, got {stddev!r}")
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """Truncated normal draws, within `mean +- 2 * stddev`.

        Args:
            shape: The weight's shape (xcnn's layout).
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.
        """
        return self.mean + _truncated_standard_normal(self._generator(rng), shape) * self.stddev


class Orthogonal(Initializer):
    """An orthogonal matrix times `gain` (Keras's `Orthogonal`, Saxe et al. 2014).

    The weight is taken as a matrix of its inputs by its outputs, as Keras takes it in its
    layout: `(in, out)` for a Dense kernel, `(KH * KW * C, F)` for a conv kernel (xcnn's
    `(F, KH, KW, C)` is drawn as Keras's and transposed), `(prod(shape[:-1]), shape[-1])`
    otherwise. Its columns are orthonormal when it has at least as many rows as columns, its
    rows otherwise: the Q of the QR factorization of a normal draw, signs fixed by R's diagonal.

    By name: `"orthogonal"`.

    Args:
        gain: The factor applied to the orthogonal matrix.
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Raises:
        ValueError: (When called) if the shape has fewer than two axes.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> q = initializers.Orthogonal()((6, 3), np.random.default_rng(0))
        >>> bool(np.allclose(q.T @ q, np.eye(3)))
        True
    """

    name = "orthogonal"

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, seed

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """`gain` times an orthogonal matrix, reshaped to `shape`.

        Args:
            shape: The weight's shape (xcnn's layout), at least two axes.
            rng: The host generator to draw from (the model's initial-weight stream).

        Returns:
            A float64 NumPy array of `shape`.

        Raises:
            ValueError: If the shape has fewer than two axes.
        """
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a weight of at least two axes, got shape {shape}")
        conv = len(shape) == 4  # xcnn's (F, KH, KW, C): Keras's (KH, KW, C, F) transposed
        keras_shape = (*shape[1:], shape[0]) if conv else shape
        rows, cols = math.prod(keras_shape[:-1]), keras_shape[-1]
        a = self._generator(rng).standard_normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        matrix = q if rows >= cols else q.T  # (rows, cols)
        if conv:
            return self.gain * matrix.T.reshape(shape)
        return self.gain * matrix.reshape(shape)


class Identity(Initializer):
    """`gain` times the identity matrix (ones on the diagonal of a 2-D weight, rectangular too).

    By name: `"identity"`.

    Args:
        gain: The value on the diagonal.

    Raises:
        ValueError: (When called) if the weight is not 2-D.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> initializers.Identity(2.0)((2, 3), np.random.default_rng(0)).tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    name = "identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """`gain * eye(rows, cols)`.

        Args:
            shape: The weight's shape, two axes.
            rng: Unused (no draws).

        Returns:
            A float64 NumPy array of `shape`.

        Raises:
            ValueError: If the shape does not have two axes.
        """
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D weight, got shape {tuple(shape)}")
        return self.gain * np.eye(*shape)


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
    "constant": lambda: Constant(0.0, "constant"),
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal,
    "identity": Identity,
}
NAMES = tuple(sorted(_REGISTRY))


def _seeded(init: Initializer, seed: int | None) -> Initializer:
    init.seed = seed
    return init


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


def GlorotUniform(seed: int | None = None) -> Initializer:
    """Keras's class name for `get("glorot_uniform")`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.GlorotUniform()
        glorot_uniform
    """
    return _seeded(get("glorot_uniform"), seed)


def GlorotNormal(seed: int | None = None) -> Initializer:
    """Keras's class name for `get("glorot_normal")`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.GlorotNormal()
        glorot_normal
    """
    return _seeded(get("glorot_normal"), seed)


def HeNormal(seed: int | None = None) -> Initializer:
    """Keras's class name for `get("he_normal")`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.HeNormal()
        he_normal
    """
    return _seeded(get("he_normal"), seed)


def HeUniform(seed: int | None = None) -> Initializer:
    """Keras's class name for `get("he_uniform")`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.HeUniform()
        he_uniform
    """
    return _seeded(get("he_uniform"), seed)


def LecunNormal(seed: int | None = None) -> Initializer:
    """Keras's class name for `get("lecun_normal")`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.LecunNormal()
        lecun_normal
    """
    return _seeded(get("lecun_normal"), seed)


def LecunUniform(seed: int | None = None) -> Initializer:
    """Keras's class name for `get("lecun_uniform")`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Returns:
        A fresh initializer.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.LecunUniform()
        lecun_uniform
    """
    return _seeded(get("lecun_uniform"), seed)


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


# Keras 3's lowercase names are aliases of its classes; so are they here
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
identity = Identity
OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity
