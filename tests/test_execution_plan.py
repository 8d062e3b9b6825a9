"""The model's execution plan (ReLU deferred into the pool, conv+pool fused): where it must
not apply, the values and gradients are those of the graph as written."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from xcnn import backend as B
from xcnn.layers import Conv2D, Input, MaxPooling2D
from xcnn.models import Model


def _np_activation(name, z, alpha=None):
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "prelu":
        return np.where(z > 0, z, alpha * z)
    raise AssertionError(name)


@pytest.mark.parametrize("activation", ["softmax", "prelu", "sigmoid"])
def test_no_fusion_under_an_activation_that_must_run_before_the_pool(backend, dtype, activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 8, 2))
    inp = Input((8, 8, 2))
    conv = Conv2D(3, 3, activation=activation)
    model = Model(inp, MaxPooling2D(2)(conv(inp)), backend=backend, dtype=dtype, seed=1)
    weights = model.get_weights()
    if activation == "prelu":
        weights[2] = np.array([-1.5, 0.5, -0.7])  # a negative slope: prelu is not monotonic
        model.set_weights(weights)
    kernel, bias = weights[0], weights[1]  # Keras layout (KH, KW, C, F)
    alpha = weights[2] if activation == "prelu" else None
    assert conv not in model._rewrites  # the plan leaves this conv alone

    def reference(k):
        z = ref.conv2d(x, np.transpose(k, (3, 0, 1, 2)), bias)
        return ref.max_pool2d(_np_activation(activation, z, alpha), 2)

    expected = reference(kernel)
    assert_close(model.predict(x), expected, dtype)
    dy = rng.standard_normal(expected.shape)
    model._forward(B.asarray(x, backend, dtype), training=True)
    model._backward(B.asarray(dy, backend, dtype))
    numeric = ref.numerical_gradient(lambda k: float(np.sum(reference(k) * dy)), kernel.astype(np.float64))
    got = np.transpose(B.to_numpy(conv.grads["kernel"]), (1, 2, 3, 0))
    np.testing.assert_allclose(got, numeric, rtol=1e-4 if dtype == "float32" else 1e-6, atol=1e-4)
