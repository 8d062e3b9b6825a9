"""Backend-injected fixtures: every test that takes ``backend`` runs once per available backend.

cupy appears only where a CUDA device answers; elsewhere its cases are reported as skipped.
Select one backend with ``XCNN_TEST_BACKENDS=cupy pytest`` (comma-separated names), and the
device each runs on with ``XCNN_TEST_DEVICES`` (default ``array_api_strict=device1``).
"""

import os
import sys
import zlib

import numpy as np
import pytest

import xcnn.utils
from xcnn import backend as B
from xcnn.ops import native

# The README's command gives a relative XCNN_DATA_DIR; examples run in other folders.
if os.environ.get("XCNN_DATA_DIR"):
    os.environ["XCNN_DATA_DIR"] = os.path.abspath(os.environ["XCNN_DATA_DIR"])


def _wanted():
    names = os.environ.get("XCNN_TEST_BACKENDS")
    return names.split(",") if names else list(B.BACKENDS)


def _test_devices():
    """``$XCNN_TEST_DEVICES`` as ``{backend: device}``: the device each backend's cases run on.

    Default ``array_api_strict=device1``: array_api_strict's cases run on a device other than
    its default one, where an array made without ``device=`` cannot mix with the inputs, so
    every op, layer and model test also proves that nothing lands on the default device. The
    GPU check sets ``torch=cuda``. ``XCNN_TEST_DEVICES=`` (empty) runs every backend on its default.
    """
    text = os.environ.get("XCNN_TEST_DEVICES", "array_api_strict=device1")
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    return {name.strip(): device.strip() for name, device in pairs}


TEST_DEVICES = _test_devices()


def _backend_params():
    params = []
    for name in _wanted():
        marks = [] if B.is_available(name) else [pytest.mark.skip(reason=f"backend {name} not available here")]
        device = TEST_DEVICES.get(name)
        params.append(pytest.param(name, marks=marks, id=name if device is None else f"{name}@{device}"))
    return params


@pytest.fixture(params=_backend_params())
def backend(request):
    """A backend name; its default device is ``TEST_DEVICES[name]`` for the test's duration."""
    name = request.param
    device = TEST_DEVICES.get(name)
    if device is None:
        yield name
        return
    previous = B.set_default_device(name, device)
    try:
        yield name
    finally:
        B.set_default_device(name, previous)


@pytest.fixture(params=["native", "portable"])
def kernels(request, backend, monkeypatch):
    """Which path an op takes where torch's own kernels could stand in (`xcnn.ops.native`).

    On torch on the CPU each case runs twice: with those kernels ("native", the default there)
    and with `XCNN_NATIVE=0`'s array-API path ("portable"). Elsewhere the array-API path is
    the only one, and the "portable" case is skipped as a repeat.
    """
    if request.param == "portable":
        if backend != "torch" or TEST_DEVICES.get("torch", "cpu") != "cpu":
            pytest.skip("only torch on the CPU has native kernels; this backend ran its one path")
        monkeypatch.setattr(native, "ENABLED", False)
    return request.param


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    return request.param


# Relative tolerances per dtype, stated once: float64 ~1e-10, float32 ~1e-5.
RTOL = {"float32": 1e-5, "float64": 1e-10}


def assert_close(actual, expected, dtype="float64", scale=None):
    """Compare a backend array (or NumPy array) with a float64 NumPy reference."""
    actual = B.to_numpy(actual) if not isinstance(actual, np.ndarray) else actual
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    rtol = RTOL[str(dtype)]
    scale = scale if scale is not None else max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=rtol, atol=rtol * scale)


def on(backend, *arrays, dtype="float64"):
    """Move host arrays to ``backend`` in ``dtype``."""
    moved = [B.asarray(a, backend, dtype) for a in arrays]
    return moved[0] if len(moved) == 1 else moved


@pytest.fixture(autouse=True)
def _seeded(request):
    """Each test starts from seeds of its own, from its name, so a failure reproduces.

    Models built without `seed=` would draw fresh weights each run. One such draw, with all
    ReLUs dead, left two classes' logits equal to tied biases, so a Keras-oracle accuracy
    differed by float rounding alone (about 1 % of draws; it failed CI once).
    """
    seed = zlib.crc32(request.node.nodeid.encode())
    keras = sys.modules.get("keras")  # imported by the test module where Keras is installed
    if keras is not None:
        keras.utils.set_random_seed(seed)
    xcnn.utils.set_random_seed(seed)
    yield
    xcnn.utils._model_seeds = None  # outside a test, models draw fresh seeds again
