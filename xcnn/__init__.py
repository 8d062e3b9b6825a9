"""xcnn: convolutional networks written once against the Python array API.

The same forward and backward code runs on NumPy (CPU) and CuPy (CUDA GPU); see
:mod:`xcnn.backend` for the backends and :mod:`xcnn.ops` for the numerical core.
"""

__version__ = "0.1.0"

from . import backend, ops
from .backend import get_backend, set_backend

__all__ = ["backend", "ops", "get_backend", "set_backend", "__version__"]
