"""Array backends: one small registry, lazy imports, host<->device edges, seeded RNGs.

A *backend* is a name for an array library that speaks the Python array API:

==================  ==========================================  =====================
name                namespace                                   device
==================  ==========================================  =====================
``numpy``           ``array_api_compat.numpy``                  CPU
``array_api_strict`` ``array_api_strict`` (catches non-portable  CPU
                    code in tests)
``torch``           ``array_api_compat.torch``                  CPU (CUDA tensors work)
``cupy``            ``array_api_compat.cupy``                   CUDA GPU
==================  ==========================================  =====================

Importing :mod:`xcnn` never imports torch or cupy; they are imported the first time
their backend is asked for.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

import numpy as np

BACKENDS = ("numpy", "array_api_strict", "torch", "cupy")

# backend name -> (module to import for the namespace, the library's own module)
_MODULES = {
    "numpy": ("array_api_compat.numpy", "numpy"),
    "array_api_strict": ("array_api_strict", "array_api_strict"),
    "torch": ("array_api_compat.torch", "torch"),
    "cupy": ("array_api_compat.cupy", "cupy"),
}

_default = None  # set lazily from $XCNN_BACKEND


def _check_name(name):
    if name not in _MODULES:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    return name


def _cuda_answers():
    """True when cupy imports and at least one CUDA device answers."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device, broken install: not available
        return False


def is_available(name):
    """Whether backend ``name`` can be used on this machine (cupy: a CUDA device answers)."""
    _check_name(name)
    if name == "cupy":
        return _cuda_answers()
    return importlib.util.find_spec(_MODULES[name][1]) is not None


def available():
    """The backend names usable here, in :data:`BACKENDS` order."""
    return [name for name in BACKENDS if is_available(name)]


_namespaces: dict[str, object] = {}  # name -> namespace, once imported: every op asks, several times a step


def namespace(name=None):
    """The array-API namespace of backend ``name`` (default: :func:`get_backend`)."""
    name = name or get_backend()
    found = _namespaces.get(name)
    if found is not None:
        return found
    _check_name(name)
    if not is_available(name):
        raise ValueError(f"backend {name!r} is not available here; available: {available()}")
    found = _namespaces[name] = importlib.import_module(_MODULES[name][0])
    return found


def set_backend(name):
    """Set the default backend for new models (also read from ``$XCNN_BACKEND``)."""
    global _default
    _default = _check_name(name)


def get_backend():
    """The default backend: ``set_backend``'s choice, else ``$XCNN_BACKEND``, else numpy."""
    global _default
    if _default is None:
        _default = _check_name(os.environ.get("XCNN_BACKEND", "numpy"))
    return _default


_backend_of_type: dict[type, str] = {}  # array type -> backend name


def backend_of(x):
    """The backend name of array ``x`` (TypeError for something that is not an array)."""
    kind = type(x)
    name = _backend_of_type.get(kind)
    if name is None:
        name = kind.__module__.split(".")[0]
        if name not in ("numpy", "cupy", "torch", "array_api_strict"):
            raise TypeError(f"expected an array of one of the backends {BACKENDS}, got {kind.__name__}")
        _backend_of_type[kind] = name
    return name


def array_namespace(*arrays):
    """The namespace shared by ``arrays``; mixing backends is a ``TypeError``.

    ``None`` entries are ignored, so optional arguments can be passed straight through.
    """
    names = {backend_of(a) for a in arrays if a is not None}
    if len(names) != 1:
        raise TypeError(
            f"arrays must all come from one backend, got {sorted(names) or 'no arrays'}; "
            "move them with xcnn.backend.asarray(...) first"
        )
    return namespace(names.pop())


def name_of(xp):
    """The backend name of namespace ``xp``."""
    for name, (module, _) in _MODULES.items():
        if xp.__name__ == module:
            return name
    raise ValueError(f"{xp.__name__} is not an xcnn backend namespace")


def asarray(host_array, backend=None, dtype=None):
    """Copy a host (NumPy or array-like) array onto ``backend`` (a name); the host->device edge.

    ``dtype`` may be a string (``"float32"``) or a dtype of that namespace.
    """
    xp = namespace(backend)
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    if backend_of_or_none(host_array) not in (None, "numpy"):
        host_array = to_numpy(host_array)
    return xp.asarray(np.asarray(host_array), dtype=dtype)


def backend_of_or_none(x):
    """The backend name of ``x``, or None for a non-array (a list, a scalar)."""
    try:
        return backend_of(x)
    except TypeError:
        return None


def to_numpy(x):
    """Copy array ``x`` of any backend to a NumPy array on the host; the device->host edge."""
    name = backend_of(x)
    if name == "numpy":
        return np.asarray(x)
    if name == "cupy":
        return x.get()
    if name == "torch":
        return x.detach().cpu().numpy()
    return np.from_dlpack(x)


def device_description(name):
    """A short human description of the device behind backend ``name``."""
    if name == "cupy":
        import cupy

        dev = cupy.cuda.Device()
        props = cupy.cuda.runtime.getDeviceProperties(dev.id)
        return f"CUDA device {dev.id}: {props['name'].decode()}"
    if name == "torch":
        import torch

        gpu = f", CUDA: {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
        return f"CPU{gpu} (torch {torch.__version__})"
    return "CPU"


class Generator:
    """Seeded random arrays created on one backend (the array API has no random module).

    On the CPU backends the numbers come from NumPy's PCG64 and are then handed to the
    backend (host and device are the same memory), so one seed gives the same numbers
    on numpy, array_api_strict and torch. On cupy they are drawn on the GPU with
    ``cupy.random`` so that per-step draws (dropout masks, shuffles) never cross to the host.
    """

    def __init__(self, backend=None, seed=None):
        self.backend = _check_name(backend or get_backend())
        self.xp = namespace(self.backend)
        if self.backend == "cupy":
            import cupy

            # RandomState has every draw used here (normal, uniform, permutation) on the GPU
            self._gen = cupy.random.RandomState(seed)
            self._random = self._gen.random_sample
        else:
            self._gen = np.random.default_rng(seed)
            self._random = self._gen.random

    def _out(self, values, dtype):
        if self.backend == "cupy":
            return values.astype(dtype or "float64", copy=False)
        return asarray(values, self.backend, dtype)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        """Normal draws of ``shape`` on this backend."""
        return self._out(self._gen.normal(mean, std, size=shape), dtype)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        """Uniform draws in ``[low, high)`` of ``shape`` on this backend."""
        return self._out(self._gen.uniform(low, high, size=shape), dtype)

    def bernoulli(self, shape, p, dtype=None):
        """A mask of ``shape``: 1 with probability ``p``, else 0, in ``dtype``."""
        return self._out(self._random(size=shape) < p, dtype or "float64")

    def permutation(self, n):
        """A random permutation of ``range(n)`` as an int64 array on this backend."""
        if self.backend == "cupy":
            return self._gen.permutation(n)
        return asarray(self._gen.permutation(n), self.backend, "int64")


def rng(backend=None, seed=None):
    """A :class:`Generator` for ``backend`` seeded with ``seed``."""
    return Generator(backend, seed)
