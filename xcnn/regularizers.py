"""Weight penalties added to the loss and its gradient: `kernel_regularizer=l2(1e-4)`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._typing import Array, RegularizerLike
from .backend import array_namespace
from .config import floatx


class Regularizer:
    """A weight penalty `l1 * sum(|w|) + l2 * sum(w**2)` and its gradient.

    `penalty(w)` is a 0-d array, `gradient(w)` has the shape of `w`.

    The model adds each layer's penalties to the loss and their gradients to the weights'.

    Args:
        l1: The L1 factor; >= 0.
        l2: The L2 factor (Keras's convention: no 1/2); >= 0.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> import numpy as np
        >>> from xcnn import regularizers
        >>> w = np.array([1.0, -2.0])
        >>> reg = regularizers.Regularizer(l1=0.1, l2=0.01)
        >>> round(float(reg.penalty(w)), 4)
        0.35
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        if l1 < 0 or l2 < 0:
            raise ValueError(f"regularization factors must be non-negative, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def penalty(self, w: Array) -> Array:
        """The penalty `l1 * sum(|w|) + l2 * sum(w**2)`.

        Args:
            w: A weight, any shape, float, on any backend.

        Returns:
            A 0-d array in `w`'s dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn import regularizers
            >>> w = np.array([1.0, -2.0])
            >>> float(regularizers.l2(0.5).penalty(w))
            2.5
        """
        xp = array_namespace(w)
        total = xp.sum(w * w) * self.l2
        if self.l1:
            total = total + xp.sum(xp.abs(w)) * self.l1
        return total

    def __call__(self, x: Any) -> Array:
        """The penalty of `x`, as Keras's `regularizer(x)`: `l1(0.01)(w)`, `l2(0.01)(layer.kernel)`.

        Args:
            x: A float array on any backend, a layer's weight (`layer.kernel`), or a nested
                list of numbers (taken as `xcnn.config.floatx()`, as Keras takes it).

        Returns:
            `penalty(x)`: a 0-d array of `x`'s backend and dtype.

        Raises:
            ValueError: If `x` is not a float array or a list of numbers.

        Examples:
            >>> import numpy as np
            >>> from xcnn import regularizers
            >>> float(regularizers.l2(0.01)(np.array([[1.0, -2.0], [0.0, 3.0]])))
            0.14
            >>> float(regularizers.l1_l2(0.1, 0.0)([1.0, -2.0]))
            0.30000001192092896
        """
        from .layers.variable import Variable

        if isinstance(x, Variable):
            x = x.value
        try:
            xp = array_namespace(x)
        except TypeError:
            try:
                x = np.asarray(x, dtype=floatx())
            except (TypeError, ValueError):
                raise ValueError(f"a regularizer takes a float array or a list of numbers, got {x!r}") from None
            xp = array_namespace(x)
        if not xp.isdtype(x.dtype, "real floating"):
            raise ValueError(f"a regularizer takes a float array or a list of numbers, got an array of {x.dtype}")
        return self.penalty(x)

    def gradient(self, w: Array) -> Array:
        """The penalty's gradient `l1 * sign(w) + 2 * l2 * w`.

        Args:
            w: A weight, any shape, float, on any backend.

        Returns:
            An array of `w`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn import regularizers
            >>> w = np.array([1.0, -2.0])
            >>> regularizers.l1_l2(0.1, 0.5).gradient(w).tolist()
            [1.1, -2.1]
        """
        xp = array_namespace(w)
        grad = w * (2.0 * self.l2)
        if self.l1:
            # sign(w) as two comparisons: array-api-compat's sign for CuPy syncs (it masks NaNs)
            grad = grad + (xp.astype(w > 0, w.dtype) - xp.astype(w < 0, w.dtype)) * self.l1
        return grad

    def get_config(self) -> dict[str, float]:
        """`{"l1": ..., "l2": ...}`, which `get` accepts back.

        Returns:
            The factors.

        Examples:
            >>> from xcnn import regularizers
            >>> regularizers.l2(0.01).get_config()
            {'l1': 0.0, 'l2': 0.01}
        """
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


def l1(factor: float = 0.01) -> Regularizer:
    """`factor * sum(|w|)`.

    Args:
        factor: The L1 factor; >= 0.

    Returns:
        A `Regularizer`.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.l1(0.1)
        Regularizer(l1=0.1, l2=0.0)
    """
    return Regularizer(l1=factor)


def l2(factor: float = 0.01) -> Regularizer:
    """`factor * sum(w**2)` (Keras's convention: no 1/2).

    Args:
        factor: The L2 factor; >= 0.

    Returns:
        A `Regularizer`.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.l2(0.1)
        Regularizer(l1=0.0, l2=0.1)
    """
    return Regularizer(l2=factor)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> Regularizer:
    """`l1 * sum(|w|) + l2 * sum(w**2)`, Keras's defaults.

    Args:
        l1: The L1 factor; >= 0.
        l2: The L2 factor; >= 0.

    Returns:
        A `Regularizer`.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.l1_l2()
        Regularizer(l1=0.01, l2=0.01)
    """
    return Regularizer(l1=l1, l2=l2)


def get(identifier: RegularizerLike) -> Regularizer | None:
    """A regularizer from `"l1"`, `"l2"`, a config dict or a `Regularizer`.

    A `Regularizer` is returned as it is; `None` stays `None`.

    Args:
        identifier: `"l1"`, `"l2"` (factor 0.01), `get_config()`'s output, a `Regularizer` or `None`.

    Returns:
        The regularizer, or `None`.

    Raises:
        ValueError: If the name is unknown.
        TypeError: If a config has keys other than `l1` and `l2`.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.get("l2")
        Regularizer(l1=0.0, l2=0.01)
        >>> regularizers.get({"l1": 0.1, "l2": 0.0})
        Regularizer(l1=0.1, l2=0.0)
        >>> regularizers.get(None) is None
        True
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return Regularizer(**identifier)
    if identifier in ("l1", "l2"):
        return {"l1": l1, "l2": l2}[identifier]()
    raise ValueError(f"unknown regularizer {identifier!r}; use xcnn.regularizers.l1(...) or l2(...)")


# Keras's class names
def L1(l1: float = 0.01) -> Regularizer:
    """Keras's class name for `l1`.

    Args:
        l1: The L1 factor; >= 0.

    Returns:
        A `Regularizer`.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.L1(0.1)
        Regularizer(l1=0.1, l2=0.0)
    """
    return Regularizer(l1=l1)


def L2(l2: float = 0.01) -> Regularizer:
    """Keras's class name for `l2`.

    Args:
        l2: The L2 factor; >= 0.

    Returns:
        A `Regularizer`.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.L2(0.1)
        Regularizer(l1=0.0, l2=0.1)
    """
    return Regularizer(l2=l2)


def L1L2(l1: float = 0.0, l2: float = 0.0) -> Regularizer:
    """Keras's class name for `l1_l2`, with Keras's class defaults (0).

    Args:
        l1: The L1 factor; >= 0.
        l2: The L2 factor; >= 0.

    Returns:
        A `Regularizer`.

    Raises:
        ValueError: If a factor is negative.

    Examples:
        >>> from xcnn import regularizers
        >>> regularizers.L1L2(l2=0.1)
        Regularizer(l1=0.0, l2=0.1)
    """
    return Regularizer(l1=l1, l2=l2)
