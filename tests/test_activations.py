"""Element-wise activations: each forward against a float64 formula written here, each
backward against numerical gradients, on every backend and both float dtypes."""

import math

import numpy as np
import pytest

import reference as ref
from conftest import RTOL, assert_close, on
from xcnn import activations
from xcnn import backend as B
from xcnn import ops
from xcnn.ops import activations as act

_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# float64 formulas, as Keras 3 documents them
FORMULAS = {
    "relu6": lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1.0)),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0))),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "hard_sigmoid": lambda x: np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0,
    "hard_silu": lambda x: x * np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0,
    "hard_swish": lambda x: x * np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0,
    "exponential": np.exp,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1.0),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softmax": _softmax,
}


def _inputs():
    # away from the kinks (|x| = 0, 3, 6) so that central differences are exact enough
    x = np.random.default_rng(0).uniform(-7.0, 7.0, (3, 4, 5))
    kinks = np.array([0.0, 3.0, -3.0, 6.0])
    near = np.abs(np.abs(x)[..., None] - np.abs(kinks)).min(axis=-1) < 0.05
    return np.where(near, x + 0.1, x)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_matches_formula_and_numerical_gradient(backend, dtype, name, kernels):
    x = _inputs()
    f, f_backward = act.ELEMENTWISE[name]
    xb = on(backend, x, dtype=dtype)
    y = f(xb)
    assert_close(y, FORMULAS[name](x), dtype)
    dy = np.random.default_rng(1).standard_normal(x.shape)
    dx = f_backward(on(backend, dy, dtype=dtype), xb, y)
    numeric = ref.numerical_gradient(lambda v: float(np.sum(FORMULAS[name](v) * dy)), x.copy())
    np.testing.assert_allclose(
        B.to_numpy(dx),
        numeric,
        rtol=max(RTOL[dtype], 1e-6) * 10,
        atol=max(RTOL[dtype], 1e-6) * 10 * np.abs(numeric).max(),
    )


@pytest.mark.parametrize("axis", [0, 1, -2])
def test_softmax_runs_along_the_axis_it_is_given(backend, dtype, axis, kernels):
    # a Softmax(axis=...) layer passes one other than the last (to torch's own kernel too)
    x = _inputs()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    assert_close(ops.softmax(on(backend, x, dtype=dtype), axis=axis), e / e.sum(axis=axis, keepdims=True), dtype)


def test_erf_is_accurate_everywhere(backend):
    x = np.concatenate([np.linspace(-8.0, 8.0, 4001), [0.0, 2.5, -2.5, 2.4999999, 30.0, -30.0]])
    assert_close(ops.erf(on(backend, x)), _erf(x), "float64")


def test_approximate_gelu_is_the_tanh_form(backend, dtype):
    x = _inputs()
    expected = 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    xb = on(backend, x, dtype=dtype)
    assert_close(ops.gelu(xb, approximate=True), expected, dtype)
    dy = np.random.default_rng(2).standard_normal(x.shape)
    numeric = ref.numerical_gradient(
        lambda v: float(np.sum(0.5 * v * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (v + 0.044715 * v**3))) * dy)), x.copy()
    )
    dx = ops.gelu_backward(on(backend, dy, dtype=dtype), xb, None, approximate=True)
    np.testing.assert_allclose(B.to_numpy(dx), numeric, rtol=1e-4, atol=1e-4)


def test_activations_by_function_and_by_name_are_the_same():
    for name in ("relu", "gelu", "swish", "hard_sigmoid", "log_softmax", "mish", "selu"):
        fn = getattr(activations, name)
        assert activations.get(fn)._f is activations.get(name)._f is fn
        assert activations.get(name).name in act.ELEMENTWISE
    assert activations.get({"name": "gelu", "approximate": True}).kwargs == {"approximate": True}
