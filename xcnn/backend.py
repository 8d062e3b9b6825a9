"""Array backends: one small registry, lazy imports, host<->device edges, seeded RNGs.

A *backend* is a name for an array library that speaks the Python array API:

| name | namespace | device |
|------|-----------|--------|
| `numpy` | `array_api_compat.numpy` | CPU |
| `array_api_strict` | `array_api_strict` (catches non-portable code in tests) | CPU |
| `torch` | `array_api_compat.torch` | CPU or CUDA (`device="cuda:0"`) |
| `cupy` | `array_api_compat.cupy` | CUDA GPU (`device=0`) |

Every place that makes arrays takes `device=`, in the backend's own terms: a torch device
(`"cpu"`, `"cuda:0"`, `"meta"`), a CuPy device id, an `array_api_strict.Device`
(`"CPU_DEVICE"`, `"device1"`...); NumPy has only `"cpu"`. `None` is the backend's
default device. `device_of` canonicalises, `device_scope` makes one current.

Importing `xcnn` never imports torch or cupy; they are imported the first time
their backend is asked for.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
from collections.abc import Hashable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from xcnn._typing import Array, Device, DType, Namespace, Shape

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


_cuda_state: Any = None  # None: not probed yet; else (works, reason)


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


def is_available(name: str) -> bool:
    """Whether backend `name` can be used on this machine.

    For `"cupy"` this means a CUDA device answers and a tiny test kernel runs; for the others,
    that the library is installed.

    Args:
        name: A backend name, one of `BACKENDS`.

    Returns:
        True when the backend can be used.

    Raises:
        ValueError: If `name` is not one of `BACKENDS`.

    Examples:
        >>> from xcnn import backend
        >>> backend.is_available("numpy")
        True
    """
    _check_name(name)
    if name == "cupy":
        return _cuda_answers()
    return importlib.util.find_spec(_MODULES[name][1]) is not None


def available() -> list[str]:
    """The backend names usable here, in `BACKENDS` order.

    Returns:
        The names for which `is_available` is true; `"numpy"` is always among them.

    Examples:
        >>> from xcnn import backend
        >>> "numpy" in backend.available()
        True
    """
    return [name for name in BACKENDS if is_available(name)]


_namespaces: dict[str, object] = {}  # name -> namespace, once imported: every op asks, several times a step


def namespace(name: str | None = None) -> Namespace:
    """The array-API namespace of a backend, imported on first use.

    Args:
        name: A backend name; `None` means the default backend (`get_backend()`).

    Returns:
        The namespace module (`array_api_compat.numpy`, `array_api_strict`, ...).

    Raises:
        ValueError: If `name` is not a backend, or the backend is not available here.

    Examples:
        >>> from xcnn import backend
        >>> xp = backend.namespace("numpy")
        >>> xp.__name__
        'array_api_compat.numpy'
    """
    name = name or get_backend()
    found = _namespaces.get(name)
    if found is not None:
        return found
    _check_name(name)
    if not is_available(name):
        raise ValueError(f"backend {name!r} is not available here; available: {available()}")
    found = _namespaces[name] = importlib.import_module(_MODULES[name][0])
    return found


def set_backend(name: str) -> None:
    """Set the default backend for new models (also read from `$XCNN_BACKEND`).

    Args:
        name: A backend name, one of `BACKENDS`.

    Raises:
        ValueError: If `name` is not one of `BACKENDS`.

    Examples:
        >>> from xcnn import backend
        >>> backend.set_backend("numpy")
        >>> backend.get_backend()
        'numpy'
    """
    global _default
    _default = _check_name(name)


def get_backend() -> str:
    """The default backend: `set_backend`'s choice, else `$XCNN_BACKEND`, else `"numpy"`.

    Returns:
        The backend name.

    Raises:
        ValueError: If `$XCNN_BACKEND` names no backend, or one that is not available here.

    Examples:
        >>> from xcnn import backend
        >>> backend.get_backend() in backend.BACKENDS
        True
    """
    global _default
    if _default is None:
        name = os.environ.get("XCNN_BACKEND") or "numpy"
        if name not in _MODULES:
            raise ValueError(f"XCNN_BACKEND must be one of {', '.join(BACKENDS)} (or unset for numpy), got {name!r}")
        if not is_available(name):
            why = f" ({cuda_status()[1]})" if name == "cupy" else " (not installed)"
            raise ValueError(
                f"XCNN_BACKEND={name} names a backend that is not available here{why}; "
                f"set it to one of {', '.join(available())}, or unset it"
            )
        _default = name
    return _default


_backend_of_type: dict[type, str] = {}  # array type -> backend name


def backend_of(x: Array) -> str:
    """The backend name of an array.

    Args:
        x: An array of any backend.

    Returns:
        `"numpy"`, `"array_api_strict"`, `"torch"` or `"cupy"`.

    Raises:
        TypeError: If `x` is not an array of one of the backends (a list, a scalar).

    Examples:
        >>> import numpy as np
        >>> from xcnn import backend
        >>> backend.backend_of(np.zeros(3))
        'numpy'
    """
    kind = type(x)
    name = _backend_of_type.get(kind)
    if name is None:
        name = kind.__module__.split(".")[0]
        if name not in ("numpy", "cupy", "torch", "array_api_strict"):
            raise TypeError(f"expected an array of one of the backends {BACKENDS}, got {kind.__name__}")
        _backend_of_type[kind] = name
    return name


def array_namespace(*arrays: Array | None) -> Namespace:
    """The namespace shared by `arrays`.

    `None` entries are ignored, so optional arguments can be passed straight through.

    Args:
        *arrays: Arrays of one backend, or `None`.

    Returns:
        The array-API namespace of their backend.

    Raises:
        TypeError: If the arrays come from several backends, if there is no array, or if one
            is not an array.

    Examples:
        >>> import numpy as np
        >>> from xcnn import backend
        >>> backend.array_namespace(np.zeros(2), None).__name__
        'array_api_compat.numpy'
    """
    names = {backend_of(a) for a in arrays if a is not None}
    if len(names) != 1:
        raise TypeError(
            f"arrays must all come from one backend, got {sorted(names) or 'no arrays'}; "
            "move them with xcnn.backend.asarray(...) first"
        )
    return namespace(names.pop())


def name_of(xp: Namespace) -> str:
    """The backend name of a namespace.

    Args:
        xp: An array-API namespace returned by `namespace`.

    Returns:
        The backend name.

    Raises:
        ValueError: If `xp` is not the namespace of an xcnn backend.

    Examples:
        >>> from xcnn import backend
        >>> backend.name_of(backend.namespace("numpy"))
        'numpy'
    """
    for name, (module, _) in _MODULES.items():
        if xp.__name__ == module:
            return name
    raise ValueError(f"{xp.__name__} is not an xcnn backend namespace")


def off_host(x: Array) -> bool:
    """Whether `x` lives on an accelerator: CuPy's, or torch's off the CPU.

    torch's "cuda", and "meta", the tests' stand-in for a GPU. Ops that size their work for
    the device (one chunk instead of cache-sized ones, the algorithm with fewer kernel
    launches) ask this.

    Args:
        x: An array of any backend.

    Returns:
        True for a CuPy array or a torch tensor not on the CPU.

    Examples:
        >>> import numpy as np
        >>> from xcnn import backend
        >>> backend.off_host(np.zeros(3))
        False
    """
    name = backend_of(x)
    return name == "cupy" or (name == "torch" and x.device.type != "cpu")


def take_indices(xp: Namespace, x: Array, indices: Array, axis: int, out: Array | None = None) -> Array:
    """`xp.take(x, indices, axis=axis)` for `indices` that are never negative (precomputed ones).

    On torch this is `torch.index_select` itself: array-api-compat's `take` first maps
    negative indices with a comparison and a `where`, two more kernels per call on a GPU. With
    `out`, the result is written there: by NumPy's, CuPy's and torch's own `out=` (NumPy's in
    "clip" mode, which writes straight into `out` where its default mode buffers), else copied.

    Args:
        xp: The arrays' namespace.
        x: The array to take from.
        indices: A 1-D integer array of indices `>= 0` along `axis`.
        axis: The axis to take along.
        out: An array of the result's shape and dtype to write it into, or `None`.

    Returns:
        `x` with `axis` replaced by `indices`' length (`out` itself when given).

    Examples:
        >>> import numpy as np
        >>> from xcnn import backend
        >>> xp = backend.namespace("numpy")
        >>> backend.take_indices(xp, np.arange(6).reshape(2, 3), np.asarray([2, 0]), axis=1).tolist()
        [[2, 0], [5, 3]]
    """
    name = name_of(xp)
    if name == "torch":
        import torch

        return torch.index_select(x, axis, indices) if out is None else torch.index_select(x, axis, indices, out=out)
    if name == "numpy" and out is not None:
        return np.take(x, indices, axis=axis, out=out, mode="clip")
    if name == "cupy" and out is not None:  # CuPy's own out= (it has no mode): no second copy on the GPU
        return x.take(indices, axis=axis, out=out)
    taken = xp.take(x, indices, axis=axis)
    if out is None:
        return taken
    out[...] = taken
    return out


def asarray(
    host_array: Any, backend: str | None = None, dtype: DType | None = None, device: Device | None = None
) -> Array:
    """Copy a host array onto a backend and device; the host-to-device edge.

    An array that is already on `backend` and `device` is converted on the device, never
    through the host.

    Args:
        host_array: A NumPy array, an array of any backend, or anything `np.asarray` accepts,
            of any shape.
        backend: The target backend name (default: `get_backend()`).
        dtype: A dtype of the target namespace or its name (`"float32"`); `None` keeps the
            input's dtype.
        device: The target device in the backend's own terms (default: the backend's default
            device).

    Returns:
        An array of `backend` on `device`, of the same shape as `host_array`.

    Raises:
        ValueError: If `backend` is unknown or unavailable, or `device` is not one of its devices.

    Examples:
        >>> from xcnn import backend
        >>> x = backend.asarray([[1, 2], [3, 4]], "numpy", "float32")
        >>> x.shape, str(x.dtype)
        ((2, 2), 'float32')
    """
    backend = backend or get_backend()
    xp = namespace(backend)
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    device = device_of(backend, device)
    if isinstance(host_array, np.generic):  # a NumPy scalar: before NumPy 2.1 it has no .device
        host_array = np.asarray(host_array)
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


_default_devices: dict[str, Device] = {}  # backend name -> the device that device=None means (set_default_device)


def set_default_device(backend: str, device: Device | None) -> Device | None:
    """Make `device` what `device=None` means for `backend` from now on.

    The tests use it to run every case on a non-default device (`array_api_strict`'s
    `"device1"`, torch's `"cuda"`).

    Args:
        backend: A backend name.
        device: A device of that backend; `None` restores the backend's own default.

    Returns:
        The previous setting (`None` if there was none).

    Raises:
        ValueError: If `backend` is unknown or `device` is not one of its devices.

    Examples:
        >>> from xcnn import backend
        >>> backend.set_default_device("numpy", "cpu")
        >>> backend.set_default_device("numpy", None)
        'cpu'
    """
    backend = _check_name(backend)
    previous = _default_devices.pop(backend, None)
    if device is not None:
        _default_devices[backend] = device_of(backend, device)
    return previous


def device_of(backend: str | None, device: Device | None = None) -> Device:
    """`device` in the backend's own terms.

    numpy: `"cpu"`; torch: a `torch.device` (from `"cuda:0"`, `"cpu"`, `"meta"`...); cupy: an
    int device id; array_api_strict: an `array_api_strict.Device` (from a name such as
    `"device1"`).

    Args:
        backend: A backend name (`None`: the default backend).
        device: A device or its name; `None` means the backend's default device.

    Returns:
        The canonical device object.

    Raises:
        ValueError: If `backend` is unknown, or `device` is not a device of it (the message
            names the device and what the backend accepts).
        TypeError: If an array_api_strict device is neither a `Device` nor a name.

    Examples:
        >>> from xcnn import backend
        >>> backend.device_of("numpy")
        'cpu'
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
            found = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"device for backend 'torch' must be a torch device such as 'cpu' or 'cuda:0', got {device!r}"
            ) from None
        if found.type == "cuda":  # refused here, not as a long CUDA error at the first array
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if not count or (found.index is not None and found.index >= count):
                raise ValueError(
                    f"device {device!r} for backend 'torch' is not available here "
                    f"({f'{count} CUDA devices' if count else 'no CUDA device'}); available: {', '.join(devices('torch'))}"
                )
        return found
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
        if ident >= cupy.cuda.runtime.getDeviceCount():
            raise ValueError(
                f"device {device!r} for backend 'cupy' is not available here; available: {', '.join(devices('cupy'))}"
            )
        return ident
    import array_api_strict

    if device is None:
        return array_api_strict.Device()
    if isinstance(device, str):
        device = array_api_strict.Device(device)  # ValueError for an unknown name
    if not isinstance(device, array_api_strict.Device):
        raise TypeError(
            f"device for backend 'array_api_strict' must be an array_api_strict.Device or its name, got {device!r}"
        )
    return device


def devices(backend: str) -> list[str]:
    """The names of the devices of `backend` that hold data on this machine, as `device=` (and
    `xcnn --device`) takes them.

    torch's `"meta"` (shapes without data) is not among them, although `device_of` accepts it.

    Args:
        backend: A backend name.

    Returns:
        For example `["cpu"]`, `["cpu", "cuda:0"]` (torch), `["0", "1"]` (cupy's device ids).

    Raises:
        ValueError: If `backend` is unknown or not available here.

    Examples:
        >>> from xcnn import backend
        >>> backend.devices("numpy")
        ['cpu']
    """
    backend = _check_name(backend)
    if not is_available(backend):
        raise ValueError(f"backend {backend!r} is not available here; available: {available()}")
    if backend == "numpy":
        return ["cpu"]
    if backend == "torch":
        import torch

        cuda = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
        mps = getattr(torch.backends, "mps", None)
        return ["cpu", *cuda, *(["mps"] if mps is not None and mps.is_available() else [])]
    if backend == "cupy":
        import cupy

        return [str(i) for i in range(cupy.cuda.runtime.getDeviceCount())]
    import array_api_strict

    found = array_api_strict.__array_namespace_info__().devices()
    return [repr(d).split("'")[1] if "'" in repr(d) else str(d) for d in found]


def device_key(device: Device) -> Hashable:
    """A hashable stand-in for `device`, equal for equal devices.

    `cupy.cuda.Device` is not hashable; torch, array_api_strict and NumPy devices are, and are
    returned unchanged.

    Args:
        device: A device of any backend.

    Returns:
        `device` itself if it is hashable, else a tuple naming its type and id.

    Examples:
        >>> from xcnn import backend
        >>> backend.device_key("cpu")
        'cpu'
    """
    try:
        hash(device)
        return device
    except TypeError:
        return (type(device).__module__, type(device).__qualname__, getattr(device, "id", str(device)))


class Unkeyed:
    """Carries a value (a device) through `functools.lru_cache` without taking part in its key.

    Every `Unkeyed` compares equal, so a cache keyed on `device_key` next to it can build on
    the device itself.

    Args:
        value: The value to carry.

    Examples:
        >>> from xcnn.backend import Unkeyed
        >>> Unkeyed("cpu") == Unkeyed("cuda:0"), Unkeyed("cpu").value
        (True, 'cpu')
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Unkeyed)

    def __hash__(self):
        return 0


def same_device(a: Device, b: Device) -> bool:
    """Whether devices `a` and `b` are one.

    Args:
        a: An array's `.device` or `device_of`'s answer.
        b: Another, of the same backend.

    Returns:
        True when they name the same device (torch's `"cuda"` equals `"cuda:N"` for the current N).

    Examples:
        >>> from xcnn import backend
        >>> backend.same_device("cpu", "cpu")
        True
    """
    a, b = getattr(a, "id", a), getattr(b, "id", b)
    if type(a).__module__.startswith("torch") or type(b).__module__.startswith("torch"):
        import torch

        a, b = torch.device(a), torch.device(b)
        if a.type == b.type == "cuda" and (a.index is None or b.index is None):
            current = torch.cuda.current_device()
            a, b = (torch.device("cuda", current) if d.index is None else d for d in (a, b))
    return a == b


def device_scope(backend: str, device: Device | None) -> AbstractContextManager[Any]:
    """A context in which `device` is the current device of `backend`.

    CuPy creates arrays on its *current* device whatever `device=` says, so a model on GPU 1
    runs inside `cupy.cuda.Device(1)`; the other backends place every array explicitly (a null
    context).

    Args:
        backend: A backend name.
        device: A device of that backend, or `None`.

    Returns:
        A context manager.

    Examples:
        >>> from xcnn import backend
        >>> with backend.device_scope("numpy", "cpu"):
        ...     x = backend.asarray([1.0], "numpy")
    """
    if backend == "cupy" and device is not None:
        import cupy

        return cupy.cuda.Device(getattr(device, "id", device))
    return contextlib.nullcontext()


def backend_of_or_none(x: Any) -> str | None:
    """The backend name of `x`, or `None` for a non-array (a list, a scalar).

    Args:
        x: Anything.

    Returns:
        The backend name or `None`.

    Examples:
        >>> import numpy as np
        >>> from xcnn import backend
        >>> backend.backend_of_or_none(np.ones(1)), backend.backend_of_or_none([1])
        ('numpy', None)
    """
    try:
        return backend_of(x)
    except TypeError:
        return None


def to_numpy(x: Array) -> np.ndarray:
    """Copy an array of any backend to a NumPy array on the host; the device-to-host edge.

    Args:
        x: An array of any backend, any shape and dtype.

    Returns:
        A NumPy array of the same shape and dtype.

    Raises:
        TypeError: If `x` is not an array of one of the backends.

    Examples:
        >>> from xcnn import backend
        >>> backend.to_numpy(backend.asarray([1, 2], "numpy")).tolist()
        [1, 2]
    """
    name = backend_of(x)
    if name == "numpy":
        return np.asarray(x)
    if name == "cupy":
        return x.get()
    if name == "torch":
        return x.detach().cpu().numpy()
    return np.from_dlpack(x)


def device_description(name: str, device: Device | None = None) -> str:
    """A short human description of a device of backend `name`.

    Args:
        name: A backend name.
        device: A device of it (default: the default device).

    Returns:
        For example `"CPU"`, or `"CUDA device 0: <GPU name>"` for cupy.

    Examples:
        >>> from xcnn import backend
        >>> backend.device_description("numpy")
        'CPU'
    """
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


def cuda_status() -> tuple[bool, str]:
    """Why cupy is or is not available here, from one tiny test kernel (run once).

    Returns:
        `(works, reason)`: whether the kernel ran, and why or why not.

    Examples:
        >>> from xcnn import backend
        >>> works, reason = backend.cuda_status()
        >>> isinstance(works, bool) and isinstance(reason, str)
        True
    """
    _cuda_answers()
    return _cuda_state


class Generator:
    """Seeded random arrays created on one backend and device (the array API has no random module).

    Where host and device are the same memory (numpy, array_api_strict, torch on the CPU) the
    numbers come from NumPy's PCG64, so one seed gives the same numbers on all three. On a
    device of its own they are drawn there, never on the host: cupy with `cupy.random`,
    torch (`"cuda"`, and `"meta"`, the tests' stand-in for a device) with a
    `torch.Generator` on that device. Draws are made in the dtype asked for.

    Args:
        backend: A backend name (default: `get_backend()`).
        seed: The seed; `None` draws fresh entropy.
        device: The device the draws are made on (default: the backend's default device).

    Raises:
        ValueError: If `backend` is unknown or unavailable, or `device` is not one of its devices.

    Examples:
        >>> from xcnn.backend import Generator
        >>> gen = Generator("numpy", seed=0)
        >>> gen.normal((2, 3), dtype="float32").shape
        (2, 3)
    """

    def __init__(self, backend: str | None = None, seed: int | None = None, device: Device | None = None) -> None:
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

    def normal(self, shape: Shape, mean: float = 0.0, std: float = 1.0, dtype: DType | None = None) -> Array:
        """Normal draws of `shape` on this backend and device.

        Args:
            shape: The shape of the result.
            mean: The mean.
            std: The standard deviation.
            dtype: A float dtype or its name (default: float64).

        Returns:
            An array of `shape` and `dtype`.

        Examples:
            >>> from xcnn.backend import Generator
            >>> x = Generator("numpy", seed=0).normal((1000,), mean=2.0, std=0.1)
            >>> bool(abs(float(x.mean()) - 2.0) < 0.05)
            True
        """
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return self._gen.normal(mean, std, size=shape, dtype=self._dtype(dtype))
        if self._on_device:
            out = self._torch.empty(shape, dtype=self._dtype(dtype), device=self.device)
            return out.normal_(mean, std, generator=self._gen)
        return self._host(self._gen.normal(mean, std, size=shape), dtype)

    def uniform(self, shape: Shape, low: float = 0.0, high: float = 1.0, dtype: DType | None = None) -> Array:
        """Uniform draws in `[low, high)` of `shape` on this backend and device.

        Args:
            shape: The shape of the result.
            low: The lower bound (included).
            high: The upper bound (excluded).
            dtype: A float dtype or its name (default: float64).

        Returns:
            An array of `shape` and `dtype`.

        Examples:
            >>> from xcnn.backend import Generator
            >>> x = Generator("numpy", seed=0).uniform((100,), low=-1.0, high=1.0)
            >>> bool(x.min() >= -1.0 and x.max() < 1.0)
            True
        """
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return self._gen.uniform(low, high, size=shape, dtype=self._dtype(dtype))
        if self._on_device:
            u = self._torch_uniform(shape, dtype)
            return u if (low, high) == (0.0, 1.0) else u * (high - low) + low
        return self._host(self._gen.uniform(low, high, size=shape), dtype)

    def bernoulli(self, shape: Shape, p: float, dtype: DType | None = None) -> Array:
        """A mask of `shape`: 1 with probability `p`, else 0, in `dtype`.

        Args:
            shape: The shape of the mask.
            p: The probability of a 1, in `[0, 1]`.
            dtype: The dtype of the mask or its name (default: float64).

        Returns:
            An array of zeros and ones.

        Examples:
            >>> from xcnn.backend import Generator
            >>> Generator("numpy", seed=0).bernoulli((4,), p=1.0).tolist()
            [1.0, 1.0, 1.0, 1.0]
        """
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return (self._gen.random_sample(size=shape, dtype=self._dtype(dtype)) < p).astype(self._dtype(dtype))
        if self._on_device:
            return (self._torch_uniform(shape, dtype) < p).to(self._dtype(dtype))
        return self._host(self._gen.random(size=shape) < p, dtype or "float64")

    def permutation(self, n: int) -> Array:
        """A random permutation of `range(n)` as an int64 array on this backend and device.

        Args:
            n: The length.

        Returns:
            An int64 array of shape `(n,)`.

        Examples:
            >>> from xcnn.backend import Generator
            >>> sorted(Generator("numpy", seed=0).permutation(4).tolist())
            [0, 1, 2, 3]
        """
        if self.backend == "cupy":
            with device_scope("cupy", self.device):
                return self._gen.permutation(n)
        if self._on_device:
            return self._torch.randperm(n, generator=self._gen, device=self.device)
        return self._host(self._gen.permutation(n), "int64")


def rng(backend: str | None = None, seed: int | None = None, device: Device | None = None) -> Generator:
    """A `Generator` for `backend` on `device` seeded with `seed`.

    Args:
        backend: A backend name (default: `get_backend()`).
        seed: The seed; `None` draws fresh entropy.
        device: The device (default: the backend's default device).

    Returns:
        A new `Generator`.

    Raises:
        ValueError: If `backend` is unknown or unavailable, or `device` is not one of its devices.

    Examples:
        >>> from xcnn import backend
        >>> a = backend.rng("numpy", seed=1).uniform((3,))
        >>> b = backend.rng("numpy", seed=1).uniform((3,))
        >>> a.tolist() == b.tolist()
        True
    """
    return Generator(backend, seed, device)


# Keras's `keras.backend` names a script asks for (`image_data_format()`, `clear_session()`,
# `set_floatx("float64")`), from `xcnn.config`
from .config import (  # noqa: E402, F401
    clear_session,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)


def __getattr__(name: str) -> Any:
    """`keras.backend.backend()`: `xcnn.config.backend`, reached here without becoming a global
    of this module, whose functions take parameters named `backend`."""
    if name == "backend":
        from .config import backend

        return backend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
