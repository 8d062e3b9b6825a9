"""Type aliases for xcnn's annotations.

The Python array API has no single array type (a NumPy ``ndarray``, a ``torch.Tensor``, a CuPy
or array_api_strict array all qualify), so arrays, namespaces, devices and dtypes are ``Any``
under names that say what is meant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from xcnn.activations import ActivationFunction
    from xcnn.constraints import Constraint
    from xcnn.initializers import Initializer
    from xcnn.regularizers import Regularizer

Array = Any
"""An array of any supported backend (NumPy, array_api_strict, PyTorch, CuPy)."""

Namespace = Any
"""An array-API namespace (``array_api_compat.numpy``, ``array_api_strict``, ...)."""

Device = Any
"""A device in its backend's own terms (``"cpu"``, a ``torch.device``, a CuPy device id, ...)."""

DType = Any
"""A dtype of a namespace, or its name as a string (``"float32"``)."""

Shape = tuple[int, ...]
"""An array shape."""

# What the layers' arguments accept, resolved lazily (the strings keep xcnn._typing free of
# imports from the rest of xcnn, which imports it).
ActivationLike: TypeAlias = "str | ActivationFunction | dict[str, Any] | Callable[..., Any] | None"
"""An activation: a name (`"relu"`), an `xcnn.activations.ActivationFunction`, a config dict,
a `(forward, backward)` pair or a callable with a `.backward`; `None` means none (linear)."""

InitializerLike: TypeAlias = "str | Initializer"
"""An initializer: a name (`"glorot_uniform"`, `"HeNormal"`) or an `xcnn.initializers.Initializer`."""

RegularizerLike: TypeAlias = "str | dict[str, Any] | Regularizer | None"
"""A weight regularizer: `"l1"`, `"l2"`, a config dict, an `xcnn.regularizers.Regularizer`, or
`None`."""

ConstraintLike: TypeAlias = "str | dict[str, Any] | Constraint | Callable[..., Any] | None"
"""A weight constraint: a name (`"max_norm"`), a serialized dict, an `xcnn.constraints.Constraint`
(or a callable `w -> w`), or `None`."""

IntPair: TypeAlias = "int | tuple[int, int]"
"""One int for both spatial axes, or `(rows, cols)`."""

Padding: TypeAlias = "int | str | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]"
"""Padding of the ops: an int, `(ph, pw)`, `((top, bottom), (left, right))`, `"valid"` or `"same"`."""
