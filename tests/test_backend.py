"""The backend registry: names, lazy imports, host<->device edges, seeded random numbers."""

import subprocess
import sys

import numpy as np
import pytest

import xcnn
from xcnn import backend as B


def test_registry_and_namespaces(backend):
    assert backend in B.available() and backend in B.BACKENDS
    xp = B.namespace(backend)
    a = B.asarray(np.arange(6.0).reshape(2, 3), backend, "float32")
    assert B.backend_of(a) == backend and B.array_namespace(a) is xp and B.name_of(xp) == backend
    assert str(a.dtype).endswith("float32")
    back = B.to_numpy(a)
    assert isinstance(back, np.ndarray) and back.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert B.device_description(backend)


def test_bad_names_and_mixed_arrays():
    with pytest.raises(ValueError, match="backend must be one of"):
        B.namespace("jax")
    with pytest.raises(TypeError, match="expected an array"):
        B.backend_of([1, 2])
    with pytest.raises(TypeError, match="one backend"):
        B.array_namespace()


def test_default_backend_from_env_and_setter(monkeypatch):
    monkeypatch.setattr(B, "_default", None)
    monkeypatch.setenv("XCNN_BACKEND", "array_api_strict")
    assert B.get_backend() == "array_api_strict"
    xcnn.set_backend("numpy")
    assert B.get_backend() == "numpy"
    with pytest.raises(ValueError):
        xcnn.set_backend("tensorflow")


def test_importing_xcnn_imports_neither_torch_nor_cupy():
    code = "import sys, xcnn, xcnn.cli; print('torch' in sys.modules, 'cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_cupy_only_where_cuda_answers():
    if B.is_available("cupy"):
        assert "cupy" in B.available()
    else:
        assert "cupy" not in B.available()


def test_seeded_random_numbers_live_on_the_backend(backend):
    g1, g2 = B.rng(backend, 42), B.rng(backend, 42)
    a, b = g1.normal((3, 4), dtype="float64"), g2.normal((3, 4), dtype="float64")
    assert B.backend_of(a) == backend
    np.testing.assert_array_equal(B.to_numpy(a), B.to_numpy(b))
    u = B.to_numpy(g1.uniform((1000,), -1.0, 2.0))
    assert u.min() >= -1.0 and u.max() < 2.0
    mask = B.to_numpy(g1.bernoulli((10000,), 0.3, dtype="float32"))
    assert set(np.unique(mask)) <= {0.0, 1.0} and abs(mask.mean() - 0.3) < 0.03
    perm = B.to_numpy(g1.permutation(50))
    assert sorted(perm.tolist()) == list(range(50))


def test_cpu_backends_draw_the_same_numbers():
    draws = [B.to_numpy(B.rng(name, 7).normal((5,), dtype="float64")) for name in B.available() if name != "cupy"]
    for d in draws[1:]:
        np.testing.assert_array_equal(d, draws[0])


def test_asarray_takes_numpy_scalars_on_every_numpy_version(backend):
    # a NumPy scalar (np.float64, what a reduction returns) had no .device before NumPy 2.1
    value = B.asarray(np.float64(1.5), backend, "float32")
    assert value.shape == () and float(B.to_numpy(value)) == 1.5
