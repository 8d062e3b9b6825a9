"""Type aliases for xcnn's annotations.

The Python array API has no single array type (a NumPy ``ndarray``, a ``torch.Tensor``, a CuPy
or array_api_strict array all qualify), so arrays, namespaces, devices and dtypes are ``Any``
under names that say what is meant.
"""

from __future__ import annotations

from typing import Any

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
