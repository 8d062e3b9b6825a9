"""Weight constraints: `kernel_constraint=MaxNorm(3)` projects a weight after each optimizer step.

As in Keras, a constraint is a function of the weight, applied by the optimizer right after it
updates that weight (`w = constraint(w)`), never at initialization. Each is written against the
array API, so it runs on the weights' backend and device (no host copies inside a step).

`axis` means what it means in Keras, for the weight in Keras's layout: a `Dense` kernel is
`(in, out)`, so `axis=0` constrains each unit's incoming weights; a `Conv2D` kernel is
`(KH, KW, C, F)`, so `axis=[0, 1, 2]` constrains each filter. xcnn keeps some kernels in other
layouts (a `Conv2D` kernel is `(F, KH, KW, C)`); the layer hands its constraint the weight in
Keras's layout and takes the result back, so a constraint (one of yours too) always sees
Keras's shapes.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ._typing import Array, ConstraintLike
from .backend import array_namespace

EPSILON = 1e-7  # Keras's backend.epsilon(), added to the norms before dividing by them

Axis = int | Sequence[int]


class Constraint:
    """Base class of weight constraints: a stateless function of the weight.

    Subclasses override `__call__(w)` (the projected weight, of `w`'s shape and dtype) and, when
    they take arguments, `get_config`. The base class leaves the weight as it is.

    Examples:
        >>> import numpy as np
        >>> from xcnn import constraints
        >>> from xcnn.backend import array_namespace
        >>> class Clip(constraints.Constraint):
        ...     def __call__(self, w):
        ...         xp = array_namespace(w)
        ...         return xp.minimum(xp.maximum(w, -1.0), 1.0)
        >>> Clip()(np.array([-3.0, 0.5, 2.0])).tolist()
        [-1.0, 0.5, 1.0]
    """

    def __call__(self, w: Array) -> Array:
        """The weight projected onto the constraint's set (here: unchanged).

        Args:
            w: A weight, any shape, float, on any backend, in Keras's layout.

        Returns:
            An array of `w`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.constraints import Constraint
            >>> Constraint()(np.array([-1.0, 2.0])).tolist()
            [-1.0, 2.0]
        """
        return w

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, from which `from_config` rebuilds the constraint.

        Returns:
            A dict of plain values (empty here).

        Examples:
            >>> from xcnn.constraints import MaxNorm
            >>> MaxNorm(3).get_config()
            {'max_value': 3, 'axis': 0}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """The constraint `get_config` describes.

        Args:
            config: The output of `get_config`.

        Returns:
            A new constraint of this class.

        Raises:
            ValueError: If an argument is out of range.

        Examples:
            >>> from xcnn.constraints import MaxNorm
            >>> MaxNorm.from_config({"max_value": 4, "axis": 0}).max_value
            4
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _number(value, name, low=None, high=None):
    """A real number (int or float, not bool), within [low, high] where given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return value.item() if hasattr(value, "item") else value  # a NumPy scalar as a plain number


def _axis(axis):
    """An int axis or a non-empty list of distinct ints (Keras takes both)."""
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    if (
        isinstance(axis, (list, tuple))
        and axis
        and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis)
        and len(set(axis)) == len(axis)
    ):
        return [int(a) for a in axis]
    raise ValueError(f"axis must be an int or a non-empty list of distinct ints, got {axis!r}")


def _norms(w, axis):
    """The L2 norms of `w` over `axis`, kept as size-1 axes (they broadcast against `w`)."""
    xp = array_namespace(w)
    return xp.sqrt(xp.sum(w * w, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each slice of the weight over `axis` whose L2 norm exceeds `max_value` to that norm.

    `w * clip(norms, 0, max_value) / (1e-7 + norms)`, as Keras: slices within the bound are
    scaled by `norms / (1e-7 + norms)` (1 to within float32 rounding).

    Args:
        max_value: The largest norm allowed; > 0.
        axis: The axis (or list of axes) the norms run over, in Keras's layout: 0 for a `Dense`
            kernel `(in, out)` (each unit's incoming weights), `[0, 1, 2]` for a `Conv2D` kernel
            `(KH, KW, C, F)` (each filter).

    Raises:
        ValueError: If `max_value` is not a positive number or `axis` not an int or list of ints.

    Examples:
        >>> import numpy as np
        >>> from xcnn.constraints import MaxNorm
        >>> w = np.array([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
        >>> MaxNorm(1.0)(w).round(4).tolist()
        [[0.6, 0.3], [0.8, 0.4]]
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = _number(max_value, "max_value")
        if not self.max_value > 0:
            raise ValueError(f"max_value must be > 0, got {max_value!r}")
        self.axis = _axis(axis)

    def __call__(self, w: Array) -> Array:
        """`w` with each slice's norm over `axis` clipped to at most `max_value`.

        Args:
            w: A weight in Keras's layout, float, on any backend.

        Returns:
            An array of `w`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.constraints import MaxNorm
            >>> MaxNorm(2.0, axis=1)(np.array([[6.0, 8.0]])).round(4).tolist()
            [[1.2, 1.6]]
        """
        xp = array_namespace(w)
        norms = _norms(w, self.axis)
        desired = xp.minimum(norms, float(self.max_value))  # norms >= 0: Keras's clip(norms, 0, max)
        return w * (desired / (norms + EPSILON))

    def get_config(self) -> dict[str, Any]:
        """`{"max_value": ..., "axis": ...}`, as Keras's.

        Returns:
            The constructor arguments.

        Examples:
            >>> from xcnn.constraints import MaxNorm
            >>> MaxNorm(3, axis=[0, 1, 2]).get_config()
            {'max_value': 3, 'axis': [0, 1, 2]}
        """
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Rescales each slice of the weight over `axis` towards a norm in `[min_value, max_value]`.

    The new norm is `rate * clip(norms, min_value, max_value) + (1 - rate) * norms`, as Keras:
    `rate=1` enforces the bounds at once, a smaller rate moves towards them step by step.

    Args:
        min_value: The smallest norm; >= 0.
        max_value: The largest norm; >= `min_value`.
        rate: How strictly the bounds are enforced, in `[0, 1]`.
        axis: The axis (or list of axes) the norms run over, in Keras's layout (see `MaxNorm`).

    Raises:
        ValueError: If a bound is negative, `max_value < min_value`, `rate` is outside `[0, 1]`,
            or `axis` is not an int or list of ints.

    Examples:
        >>> import numpy as np
        >>> from xcnn.constraints import MinMaxNorm
        >>> w = np.array([[0.3, 3.0], [0.4, 4.0]])  # column norms 0.5 and 5
        >>> MinMaxNorm(1.0, 2.0)(w).round(4).tolist()
        [[0.6, 1.2], [0.8, 1.6]]
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0) -> None:
        self.min_value = _number(min_value, "min_value", 0)
        self.max_value = _number(max_value, "max_value", 0)
        if self.max_value < self.min_value:
            raise ValueError(f"max_value must be >= min_value={min_value!r}, got {max_value!r}")
        self.rate = _number(rate, "rate", 0, 1)
        self.axis = _axis(axis)

    def __call__(self, w: Array) -> Array:
        """`w` with each slice's norm over `axis` moved towards `[min_value, max_value]`.

        Args:
            w: A weight in Keras's layout, float, on any backend.

        Returns:
            An array of `w`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.constraints import MinMaxNorm
            >>> MinMaxNorm(1.0, 2.0, rate=0.5)(np.array([3.0, 4.0])).round(4).tolist()
            [2.1, 2.8]
        """
        xp = array_namespace(w)
        norms = _norms(w, self.axis)
        clipped = xp.minimum(xp.maximum(norms, float(self.min_value)), float(self.max_value))
        desired = clipped * float(self.rate) + norms * (1.0 - float(self.rate))
        return w * (desired / (norms + EPSILON))

    def get_config(self) -> dict[str, Any]:
        """`{"min_value", "max_value", "rate", "axis"}`, as Keras's.

        Returns:
            The constructor arguments.

        Examples:
            >>> from xcnn.constraints import MinMaxNorm
            >>> MinMaxNorm().get_config()
            {'min_value': 0.0, 'max_value': 1.0, 'rate': 1.0, 'axis': 0}
        """
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Sets the negative entries of the weight to 0: `maximum(w, 0)`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.constraints import NonNeg
        >>> NonNeg()(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __call__(self, w: Array) -> Array:
        """`maximum(w, 0)`.

        Args:
            w: A weight, float, on any backend.

        Returns:
            An array of `w`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.constraints import NonNeg
            >>> NonNeg()(np.array([[-0.5, 0.5]])).tolist()
            [[0.0, 0.5]]
        """
        return array_namespace(w).maximum(w, 0.0)


class UnitNorm(Constraint):
    """Scales each slice of the weight over `axis` to L2 norm 1: `w / (1e-7 + norms)`, as Keras.

    Args:
        axis: The axis (or list of axes) the norms run over, in Keras's layout (see `MaxNorm`).

    Raises:
        ValueError: If `axis` is not an int or list of ints.

    Examples:
        >>> import numpy as np
        >>> from xcnn.constraints import UnitNorm
        >>> UnitNorm()(np.array([[3.0], [4.0]])).round(4).tolist()
        [[0.6], [0.8]]
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = _axis(axis)

    def __call__(self, w: Array) -> Array:
        """`w` divided by its norms over `axis`.

        Args:
            w: A weight in Keras's layout, float, on any backend.

        Returns:
            An array of `w`'s shape and dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.constraints import UnitNorm
            >>> UnitNorm(axis=1)(np.array([[0.0, 2.0]])).round(4).tolist()
            [[0.0, 1.0]]
        """
        return w / (_norms(w, self.axis) + EPSILON)

    def get_config(self) -> dict[str, Any]:
        """`{"axis": ...}`, as Keras's.

        Returns:
            The constructor arguments.

        Examples:
            >>> from xcnn.constraints import UnitNorm
            >>> UnitNorm(axis=[0, 1, 2]).get_config()
            {'axis': [0, 1, 2]}
        """
        return {"axis": self.axis}


# Keras's function-style names: the same classes
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

CLASSES: dict[str, type[Constraint]] = {c.__name__: c for c in (MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
"""Keras's constraint classes xcnn has, by class name (what a serialized constraint names)."""

_NAMES = {
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    **CLASSES,
}


def get(identifier: ConstraintLike) -> Constraint | Callable[[Array], Array] | None:
    """A constraint from a name, a serialized dict, a `Constraint` (or any callable) or `None`.

    Names are Keras's: `"max_norm"`, `"MaxNorm"`, `"min_max_norm"`, `"non_neg"`,
    `"unit_norm"`... (with default arguments). A dict is `serialize`'s output (Keras's
    `{"class_name": ..., "config": ...}`). A constraint or callable is returned as it is.

    Args:
        identifier: A name, a serialized constraint, a `Constraint`, a callable `w -> w` or `None`.

    Returns:
        The constraint, or `None`.

    Raises:
        ValueError: If the name or serialized class is not one of Keras's constraints, or an
            argument in a config is out of range.

    Examples:
        >>> from xcnn import constraints
        >>> constraints.get("max_norm")
        MaxNorm(max_value=2, axis=0)
        >>> constraints.get({"class_name": "UnitNorm", "config": {"axis": [0, 1, 2]}})
        UnitNorm(axis=[0, 1, 2])
        >>> constraints.get(None) is None
        True
    """
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, dict):
        name, module = identifier.get("class_name"), identifier.get("module")
        cls = CLASSES.get(name) if isinstance(name, str) else None
        if cls is None or not (module is None or str(module).startswith("keras")):
            raise ValueError(
                f"unknown constraint class {name!r} (module {module!r}); xcnn has Keras's {sorted(CLASSES)}"
            )
        config = identifier.get("config") or {}
        try:
            return cls.from_config(config)
        except TypeError:
            raise ValueError(f"constraint {name} takes no arguments {sorted(config)}: {identifier!r}") from None
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(f"unknown constraint {identifier!r}; use one of {sorted(_NAMES)}")
        return _NAMES[identifier]()
    if callable(identifier):
        return identifier
    raise ValueError(f"a constraint must be a name, a config dict, a Constraint or a callable, got {identifier!r}")


def deserialize(config: dict[str, Any]) -> Constraint:
    """The constraint `serialize` describes (Keras's name for `get` on a dict).

    Args:
        config: A serialized constraint, `{"class_name": ..., "config": ...}`.

    Returns:
        The constraint.

    Raises:
        ValueError: If the class is not one of Keras's constraints.

    Examples:
        >>> from xcnn import constraints
        >>> constraints.deserialize({"class_name": "NonNeg", "config": {}})
        NonNeg()
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a serialized constraint dict, got {config!r}")
    constraint = get(config)
    assert isinstance(constraint, Constraint)
    return constraint


def serialize(constraint: Constraint | Callable[[Array], Array] | None) -> dict[str, Any] | None:
    """A constraint as Keras serializes it (what a layer's `get_config` and `.keras` files hold).

    Args:
        constraint: One of xcnn's `Constraint`s, or `None`.

    Returns:
        `{"module": "keras.constraints", "class_name": ..., "config": ..., "registered_name":
        None}`, or `None`.

    Raises:
        ValueError: If it is a constraint of another class (yours, or a plain callable): only
            Keras's four can be saved and loaded by name.

    Examples:
        >>> from xcnn import constraints
        >>> constraints.serialize(constraints.MaxNorm(3))
        {'module': 'keras.constraints', 'class_name': 'MaxNorm', 'config': {'max_value': 3, 'axis': 0}, 'registered_name': None}
    """
    if constraint is None:
        return None
    name = type(constraint).__name__
    if CLASSES.get(name) is not type(constraint):
        what = getattr(constraint, "__name__", name)
        raise ValueError(
            f"constraint {what!r} cannot be serialized: only {sorted(CLASSES)} can be saved (pass one of them)"
        )
    config = constraint.get_config()
    return {"module": "keras.constraints", "class_name": name, "config": config, "registered_name": None}
