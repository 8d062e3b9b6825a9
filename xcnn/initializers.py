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
from .config import floatx


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

    Subclasses set `name` and implement `_draw(shape, rng)` (float64 values drawn from the
    generator `rng`); layers accept one as `*_initializer` and call it with their model's
    generator. Called as in Keras, `init(shape)` or `init(shape, dtype="float64")`, it draws
    from its own seed, or afresh without one.

    Examples:
        >>> import numpy as np
        >>> from xcnn import initializers
        >>> rng = np.random.default_rng(0)
        >>> init = initializers.get("he_normal")
        >>> init((3, 2), rng).shape
        (3, 2)
        >>> init
        he_normal
        >>> initializers.HeNormal(seed=1)((3, 3)).dtype
        dtype('float32')
    """

    name = "initializer"
    seed: int | None = None  # a seed of its own; None: draw from the model's generator
    _call_seed: int | None = None  # an unseeded instance's seed for calls without a generator

    def __call__(
        self, shape: Shape, rng: np.random.Generator | None = None, dtype: str | np.dtype | None = None
    ) -> np.ndarray:
        """Draw initial values: for a layer from its model's generator, or as Keras's `init(shape)`.

        With a `seed` of its own the initializer draws from `numpy.random.default_rng(seed)`
        (the same values at every call, as a Keras initializer with an int seed); without one,
        from `rng`, or, when `rng` is `None`, from a seed the instance draws at its first such
        call and keeps: as Keras's unseeded initializer, one instance gives the same values at
        each call, another instance other values.

        Args:
            shape: The weight's shape, a tuple or list of non-negative ints: in xcnn's layout
                when `rng` is given (a layer's call), else in Keras's, as Keras's `init(shape)`
                (a conv kernel `(KH, KW, C, F)`, whose fans are Keras's).
            rng: The host generator to draw from (a layer passes its model's initial-weight
                stream), or `None`. As Keras's positional `init(shape, dtype)`, a dtype given
                here is taken as `dtype`.
            dtype: The float dtype of the values. `None`: float64 when `rng` is given (a
                layer casts them to its own dtype), else `xcnn.config.floatx()`, as Keras.

        Returns:
            A NumPy array of `shape`.

        Raises:
            ValueError: If `shape` is not a sequence of non-negative ints, or `dtype` is not a
                float dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn import initializers
            >>> init = initializers.HeUniform(seed=1)
            >>> values = init((3, 3))
            >>> values.shape, values.dtype
            ((3, 3), dtype('float32'))
            >>> bool((init((3, 3)) == values).all())  # its own seed: the same values each call
            True
            >>> init((2,), dtype="float64").dtype
            dtype('float64')
            >>> init((2, 2), np.random.default_rng(0)).dtype  # as a layer calls it
            dtype('float64')
        """
        if rng is not None and not isinstance(rng, np.random.Generator):
            if dtype is not None:
                raise ValueError(f"rng must be a numpy.random.Generator or None, got {rng!r}")
            rng, dtype = None, rng  # Keras's init(shape, dtype)
        called_directly = rng is None  # as Keras's init(shape): the shape is in Keras's layout
        if isinstance(shape, (int, np.integer)) or not isinstance(shape, (tuple, list)):
            raise ValueError(f"shape must be a tuple or list of non-negative ints, got {shape!r}")
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise ValueError(f"shape must be a tuple or list of non-negative ints, got {shape!r}")
        if dtype is None and rng is None:
            dtype = floatx()
        if dtype is not None:
            try:
                wanted = np.dtype(dtype)
            except TypeError:
                wanted = None
            if wanted is None or wanted.kind != "f":
                raise ValueError(f"dtype must be a float dtype such as 'float32' or 'float64', got {dtype!r}")
            dtype = wanted
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:  # as Keras's unseeded initializer: a seed drawn once, kept by the instance
            if self.__dict__.get("_call_seed") is None:
                self._call_seed = int(np.random.default_rng().integers(2**63))
            rng = np.random.default_rng(self._call_seed)
        shape = tuple(int(n) for n in shape)
        if called_directly and len(shape) == 4:  # Keras's (KH, KW, C, F): drawn in xcnn's layout, turned
            kh, kw, c, f = shape
            values = np.ascontiguousarray(self._draw((f, kh, kw, c), rng).transpose(1, 2, 3, 0))
        else:
            values = self._draw(shape, rng)
        return values if dtype is None else values.astype(dtype, copy=False)

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        """The values: float64 draws from ``rng`` (the generator chosen by ``__call__``)."""
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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.stddev, size=shape)


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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, size=shape)


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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        return self.mean + _truncated_standard_normal(rng, shape) * self.stddev


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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a weight of at least two axes, got shape {shape}")
        conv = len(shape) == 4  # xcnn's (F, KH, KW, C): Keras's (KH, KW, C, F) transposed
        keras_shape = (*shape[1:], shape[0]) if conv else shape
        rows, cols = math.prod(keras_shape[:-1]), keras_shape[-1]
        a = rng.standard_normal(size=(max(rows, cols), min(rows, cols)))
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

    def _draw(self, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D weight, got shape {tuple(shape)}")
        return self.gain * np.eye(*shape)


# Keras's classes of the named initializers: ``get("he_normal")`` is a ``HeNormal``, as in Keras.
class Zeros(Constant):
    """Every entry 0, Keras's `Zeros`; by name `"zeros"`.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.Zeros()((2,)).tolist()
        [0.0, 0.0]
        >>> type(initializers.get("zeros")).__name__
        'Zeros'
    """

    def __init__(self) -> None:
        super().__init__(0.0, "zeros")


class Ones(Constant):
    """Every entry 1, Keras's `Ones`; by name `"ones"`.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.Ones()((2,)).tolist()
        [1.0, 1.0]
        >>> type(initializers.get("ones")).__name__
        'Ones'
    """

    def __init__(self) -> None:
        super().__init__(1.0, "ones")


class GlorotUniform(VarianceScaling):
    """Keras's `GlorotUniform`: uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`.

    A `VarianceScaling(scale=1.0, mode="fan_avg", distribution="uniform")`; by name `"glorot_uniform"`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.GlorotUniform()
        glorot_uniform
        >>> type(initializers.get("glorot_uniform")).__name__
        'GlorotUniform'
        >>> initializers.GlorotUniform(seed=1)((3, 3)).shape
        (3, 3)
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_avg", "uniform", "glorot_uniform", seed)


class GlorotNormal(VarianceScaling):
    """Keras's `GlorotNormal`: truncated normal, `stddev = sqrt(2 / (fan_in + fan_out))`.

    A `VarianceScaling(scale=1.0, mode="fan_avg", distribution="truncated_normal")`; by name `"glorot_normal"`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.GlorotNormal()
        glorot_normal
        >>> type(initializers.get("glorot_normal")).__name__
        'GlorotNormal'
        >>> initializers.GlorotNormal(seed=1)((3, 3)).shape
        (3, 3)
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", "glorot_normal", seed)


class HeNormal(VarianceScaling):
    """Keras's `HeNormal`: truncated normal, `stddev = sqrt(2 / fan_in)`.

    A `VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")`; by name `"he_normal"`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.HeNormal()
        he_normal
        >>> type(initializers.get("he_normal")).__name__
        'HeNormal'
        >>> initializers.HeNormal(seed=1)((3, 3)).shape
        (3, 3)
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2.0, "fan_in", "truncated_normal", "he_normal", seed)


class HeUniform(VarianceScaling):
    """Keras's `HeUniform`: uniform in `[-limit, limit]`, `limit = sqrt(6 / fan_in)`.

    A `VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform")`; by name `"he_uniform"`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.HeUniform()
        he_uniform
        >>> type(initializers.get("he_uniform")).__name__
        'HeUniform'
        >>> initializers.HeUniform(seed=1)((3, 3)).shape
        (3, 3)
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2.0, "fan_in", "uniform", "he_uniform", seed)


class LecunNormal(VarianceScaling):
    """Keras's `LecunNormal`: truncated normal, `stddev = sqrt(1 / fan_in)`.

    A `VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal")`; by name `"lecun_normal"`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.LecunNormal()
        lecun_normal
        >>> type(initializers.get("lecun_normal")).__name__
        'LecunNormal'
        >>> initializers.LecunNormal(seed=1)((3, 3)).shape
        (3, 3)
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "truncated_normal", "lecun_normal", seed)


class LecunUniform(VarianceScaling):
    """Keras's `LecunUniform`: uniform in `[-limit, limit]`, `limit = sqrt(3 / fan_in)`.

    A `VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")`; by name `"lecun_uniform"`.

    Args:
        seed: A seed of its own (see the module's note), or `None` for the model's stream.

    Examples:
        >>> from xcnn import initializers
        >>> initializers.LecunUniform()
        lecun_uniform
        >>> type(initializers.get("lecun_uniform")).__name__
        'LecunUniform'
        >>> initializers.LecunUniform(seed=1)((3, 3)).shape
        (3, 3)
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(1.0, "fan_in", "uniform", "lecun_uniform", seed)


_REGISTRY: dict[str, Callable[[], Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
    "glorot_normal": GlorotNormal,
    "glorot_uniform": GlorotUniform,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "constant": lambda: Constant(0.0, "constant"),
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal,
    "identity": Identity,
}
NAMES = tuple(sorted(_REGISTRY))


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
