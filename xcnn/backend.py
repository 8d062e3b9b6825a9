"""Array backends: one small registry, lazy imports, host<->device edges, seeded RNGs.

A *backend* is a name for an array library that speaks the Python array API:

==================  ==========================================  =====================
name                namespace                                   device
==================  ==========================================  =====================
``numpy``           ``array_api_compat.numpy``                  CPU
``array_api_strict`` ``array_api_strict`` (catches non-portable  CPU
                    code in tests)
``torch``           ``array_api_compat.torch``                  CPU or CUDA (``device="cuda:0"``)
``cupy``            ``array_api_compat.cupy``                   CUDA GPU (``device=0``)
==================  ==========================================  =====================

Every place that makes arrays takes ``device=``, in the backend's own terms: a torch device
(``"cpu"``, ``"cuda:0"``, ``"meta"``), a CuPy device id, an ``array_api_strict.Device``
(``"CPU_DEVICE"``, ``"device1"``...); NumPy has only ``"cpu"``. ``None`` is the backend's
default device. :func:`device_of` canonicalises, :func:`device_scope` makes one current.

Importing :mod:`xcnn` never imports torch or cupy; they are imported the first time
their backend is asked for.
"""

from __future__ import annotations

import contextlib
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


_cuda_state = None  # None: not probed yet; else (works, reason)


def _cuda_answers():
    """True when cupy imports and a tiny kernel really runs on the current CUDA device.

    ``getDeviceCount() > 0`` alone is too optimistic: a driver can answer while the CUDA
    libraries CuPy compiles and launches with (NVRTC, cuBLAS) are missing. Probed once.
    """
    global _cuda_state
    if _cuda_state is None:
        _cuda_state = _probe_cuda()
    return _cuda_state[0]


def _probe_cuda():
    if importlib.util.find_spec("cupy") is None:
        return False, "cupy is not installed"
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False, "no CUDA device answers"
        # an elementwise kernel (compiled by NVRTC), a reduction and a GEMM (cuBLAS), read back
        a = cupy.arange(6, dtype=cupy.float32).reshape(2, 3)
        got = float(((a * 2.0) @ a.T).sum())
        if got != 166.0:
            return False, f"a test kernel computed {got}, not 166"
        return True, "a test kernel ran"
    except Exception as exc:  # noqa: BLE001  no driver, no device, CUDA libraries missing: not available
        return False, f"{type(exc).__name__}: {exc}"


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


def asarray(host_array, backend=None, dtype=None, device=None):
    """Copy a host (NumPy or array-like) array onto ``backend`` (a name) and its ``device``
    (default: the backend's default device); the host->device edge.

    ``dtype`` may be a string (``"float32"``) or a dtype of that namespace. An array that is
    already on ``backend`` and ``device`` is converted on the device, never through the host.
    """
    backend = backend or get_backend()
    xp = namespace(backend)
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    device = device_of(backend, device)
    source = backend_of_or_none(host_array)
    if source == backend:  # device to device (or nothing to do): never through the host
        moved = host_array if same_device(host_array.device, device) else _move(host_array, backend, device)
        return moved if dtype is None or moved.dtype == dtype else xp.astype(moved, dtype)
    if source not in (None, "numpy"):
        host_array = to_numpy(host_array)
    with device_scope(backend, device):
        return xp.asarray(np.asarray(host_array), dtype=dtype, device=device)


def _move(x, backend, device):
    """Array ``x`` of ``backend`` copied to another ``device`` of the same backend."""
    if backend == "torch":
        return x.to(device)
    if backend == "cupy":
        import cupy

        with device_scope("cupy", device):
            return cupy.asarray(x)  # a peer copy between GPUs
    return x.to_device(device)


_default_devices: dict[str, object] = {}  # backend name -> the device that device=None means (set_default_device)


def set_default_device(backend, device):
    """Make ``device`` what ``device=None`` means for ``backend`` from now on (``None``: the
    backend's own default again); returns the previous setting. The tests use it to run every
    case on a non-default device (``array_api_strict``'s ``"device1"``, torch's ``"cuda"``)."""
    backend = _check_name(backend)
    previous = _default_devices.pop(backend, None)
    if device is not None:
        _default_devices[backend] = device_of(backend, device)
    return previous


def device_of(backend, device=None):
    """``device`` in backend ``backend``'s own terms (``None``: the backend's default device).

    numpy: ``"cpu"``; torch: a ``torch.device`` (from ``"cuda:0"``, ``"cpu"``, ``"meta"``...);
    cupy: an int device id; array_api_strict: an ``array_api_strict.Device`` (from a name
    such as ``"device1"``). A ValueError names the device and what the backend accepts.
    """
    backend = _check_name(backend or get_backend())
    if device is None:
        device = _default_devices.get(backend)
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"device for backend 'numpy' must be 'cpu' or None, got {device!r}")
        return "cpu"
    if backend == "torch":
        import torch

        if device is None:
            return torch.empty(0).device  # honours torch.set_default_device
        try:
            return torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"device for backend 'torch' must be a torch device such as 'cpu' or "
                             f"'cuda:0', got {device!r}") from None
    if backend == "cupy":
        import cupy

        if device is None:
            return cupy.cuda.runtime.getDevice()
        ident = getattr(device, "id", device)
        if isinstance(ident, str):  # from the command line: "1" or "cuda:1"
            text = ident.removeprefix("cuda:")
            ident = int(text) if text.isdigit() else ident
        if isinstance(ident, bool) or not isinstance(ident, int) or ident < 0:
            raise ValueError(f"device for backend 'cupy' must be a CUDA device id (int >= 0), got {device!r}")
        return ident
    import array_api_strict

    if device is None:
        return array_api_strict.Device()
    if isinstance(device, str):
        device = array_api_strict.Device(device)  # ValueError for an unknown name
    if not isinstance(device, array_api_strict.Device):
        raise TypeError(f"device for backend 'array_api_strict' must be an array_api_strict.Device or its "
                         f"name, got {device!r}")
    return device


def device_key(device):
    """A hashable stand-in for ``device``, equal for equal devices (``cupy.cuda.Device`` is not
    hashable; torch, array_api_strict and NumPy devices are)."""
    try:
        hash(device)
        return device
    except TypeError:
        return (type(device).__module__, type(device).__qualname__, getattr(device, "id", str(device)))


class Unkeyed:
    """Carries a value (a device) through ``functools.lru_cache`` without taking part in its
    key: every ``Unkeyed`` compares equal, so a cache keyed on :func:`device_key` next to it
    can build on the device itself."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Unkeyed)

    def __hash__(self):
        return 0


def same_device(a, b):
    """Whether devices ``a`` and ``b`` (an array's ``.device`` or :func:`device_of`'s answer) are one."""
    a, b = getattr(a, "id", a), getattr(b, "id", b)
    if type(a).__module__.startswith("torch") or type(b).__module__.startswith("torch"):
        import torch

        a, b = torch.device(a), torch.device(b)
        if a.type == b.type == "cuda" and (a.index is None or b.index is None):
            current = torch.cuda.current_device()
            a, b = (torch.device("cuda", current) if d.index is None else d for d in (a, b))
    return a == b


def device_scope(backend, device):
    """A context in which ``device`` is the current device of ``backend``: CuPy creates arrays
    on its *current* device whatever ``device=`` says, so a model on GPU 1 runs inside
    ``cupy.cuda.Device(1)``; the other backends place every array explicitly (a null context)."""
    if backend == "cupy" and device is not None:
        import cupy

        return cupy.cuda.Device(getattr(device, "id", device))
    return contextlib.nullcontext()


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


def device_description(name, device=None):
    """A short human description of ``device`` (default: the default device) of backend ``name``."""
    if name == "cupy":
        import cupy

        ident = device_of("cupy", device)
        props = cupy.cuda.runtime.getDeviceProperties(ident)
        return f"CUDA device {ident}: {props['name'].decode()}"
    if name == "torch":
        import torch

        dev = device_of("torch", device)
        if dev.type == "cuda":
            return f"{dev}: {torch.cuda.get_device_name(dev)} (torch {torch.__version__})"
        gpu = f"; CUDA: {torch.cuda.get_device_name()}" if dev.type == "cpu" and torch.cuda.is_available() else ""
        return f"{dev.type.upper() if dev.type == 'cpu' else dev}{gpu} (torch {torch.__version__})"
    if name == "array_api_strict":
        return f"CPU ({device_of(name, device)})"
    return "CPU"


def cuda_status():
    """Why cupy is or is not available here: ``(works, reason)`` from one tiny test kernel."""
    _cuda_answers()
    return _cuda_state


class Generator:
    """Seeded random arrays created on one backend and device (the array API has no random module).

    Where host and device are the same memory (numpy, array_api_strict, torch on the CPU) the
    numbers come from NumPy's PCG64, so one seed gives the same numbers on all three. On a
    device of its own they are drawn there, never on the host: cupy with ``cupy.random``,
    torch (``"cuda"``, and ``"meta"``, the tests' stand-in for a device) with a
    ``torch.Generator`` on that device. Draws are made in the dtype asked for.
    """

    def __init__(self, backend=None, seed=None, device=None):
        self.backend = _check_name(backend or get_backend())
        self.xp = namespace(self.backend)
        self.device = device_of(self.backend, device)
        self._on_device = self.backend == "cupy" or (self.backend == "torch" and self.device.type != "cpu")
        if self.backend == "cupy":
            import cupy

            with device_scope("cupy", self.device):
                # RandomState has every draw used here (normal, uniform, permutation) on the GPU
                self._gen = cupy.random.RandomState(seed)
        elif self._on_device:
            import torch

            self._torch = torch
            self._gen = None  # "meta" has no generator: its draws have no values anyway
            if self.device.type != "meta":
                self._gen = torch.Generator(device=self.device)
                self._gen.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        else:
            self._gen = np.random.default_rng(seed)

    def _dtype(self, dtype):
        dtype = dtype or "float64"
        return getattr(self.xp, dtype) if isinstance(dtype, str) else dtype

    def _host(self, values, dtype):
        return asarray(values, self.backend, dtype, device=self.device)

    def _torch_uniform(self, shape, dtype):
        return self._torch.rand(shape, generator=self._gen, dtype=self._dtype(dtype), device=self.device)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        """Normal draws of ``shape`` on this backend and device."""
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return self._gen.normal(mean, std, size=shape, dtype=self._dtype(dtype))
        if self._on_device:
            out = self._torch.empty(shape, dtype=self._dtype(dtype), device=self.device)
            return out.normal_(mean, std, generator=self._gen)
        return self._host(self._gen.normal(mean, std, size=shape), dtype)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        """Uniform draws in ``[low, high)`` of ``shape`` on this backend and device."""
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return self._gen.uniform(low, high, size=shape, dtype=self._dtype(dtype))
        if self._on_device:
            u = self._torch_uniform(shape, dtype)
            return u if (low, high) == (0.0, 1.0) else u * (high - low) + low
        return self._host(self._gen.uniform(low, high, size=shape), dtype)

    def bernoulli(self, shape, p, dtype=None):
        """A mask of ``shape``: 1 with probability ``p``, else 0, in ``dtype``."""
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return (self._gen.random_sample(size=shape, dtype=self._dtype(dtype)) < p).astype(self._dtype(dtype))
        if self._on_device:
            return (self._torch_uniform(shape, dtype) < p).to(self._dtype(dtype))
        return self._host(self._gen.random(size=shape) < p, dtype or "float64")

    def permutation(self, n):
        """A random permutation of ``range(n)`` as an int64 array on this backend and device."""
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return self._gen.permutation(n)
        if self._on_device:
            return self._torch.randperm(n, generator=self._gen, device=self.device)
        return self._host(self._gen.permutation(n), "int64")


def rng(backend=None, seed=None, device=None):
    """A :class:`Generator` for ``backend`` on ``device`` seeded with ``seed``."""
    return Generator(backend, seed, device)
