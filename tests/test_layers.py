"""Layers on their own: values and gradients against float64 references, on every backend."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from xcnn import backend as B
from xcnn.layers import BatchNormalization, Input
from xcnn.models import Model


def _layer_model(layer, shape, backend="numpy", dtype="float64", seed=0):
    inp = Input(shape)
    return Model(inp, layer(inp), backend=backend, dtype=dtype, seed=seed)


def _input_gradient(layer, x, dy, training, backend, dtype):
    y = layer.forward([B.asarray(x, backend, dtype)], training)
    return B.to_numpy(y), B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
def test_batchnorm_inference_backward_uses_the_moving_statistics(backend, dtype, center, scale):
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((5, 3, 4, 2)) * 3 + 1, rng.standard_normal((5, 3, 4, 2))
    layer = BatchNormalization(center=center, scale=scale, epsilon=0.01)
    model = _layer_model(layer, (3, 4, 2), backend, dtype)
    weights = [rng.uniform(0.5, 2.0, 2) for _ in model.get_weights()]
    model.set_weights(weights)
    mean, var = weights[-2], weights[-1]
    gamma = weights[0] if scale else 1.0
    y, dx = _input_gradient(layer, x, dy, False, backend, dtype)
    assert_close(y, (x - mean) / np.sqrt(var + 0.01) * gamma + (weights[int(scale)] if center else 0.0), dtype)
    # the inference-mode function is affine: dx = dy * gamma / sqrt(moving_variance + eps)
    assert_close(dx, dy * gamma / np.sqrt(var + 0.01), dtype)
    names = (["gamma"] if scale else []) + (["beta"] if center else [])
    assert sorted(layer.grads) == sorted(names)
    if center:
        assert_close(layer.grads["beta"], dy.sum(axis=(0, 1, 2)), dtype)


def test_batchnorm_training_backward_matches_numerical_gradient():
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    layer = BatchNormalization(scale=False)
    _layer_model(layer, (3, 2))
    _, dx = _input_gradient(layer, x, dy, True, "numpy", "float64")

    def loss(values):
        return float(np.sum(B.to_numpy(layer.call(values, True)) * dy))

    np.testing.assert_allclose(dx, ref.numerical_gradient(loss, x.copy()), rtol=1e-6, atol=1e-8)


def test_frozen_batchnorm_runs_in_inference_mode():
    layer = BatchNormalization()
    model = _layer_model(layer, (3,))
    layer.trainable = False
    x = np.random.default_rng(2).standard_normal((6, 3)) + 5.0
    before = model.get_weights()
    y = B.to_numpy(layer.forward([x], True))
    np.testing.assert_allclose(y, x / np.sqrt(1.0 + 1e-3))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the moving statistics did not move


def test_batchnorm_refuses_other_axes():
    with pytest.raises(ValueError, match=r"only axis=-1 \(channels last\) is supported, got axis=1"):
        _layer_model(BatchNormalization(axis=1), (4, 4, 2))
    with pytest.raises(ValueError, match="axis must be -1"):
        BatchNormalization(axis=[1, 2])
    _layer_model(BatchNormalization(axis=3), (4, 4, 2))  # the last axis by its number is fine


def test_conv2d_starts_from_keras_glorot_uniform():
    from xcnn.layers import Conv2D

    conv = Conv2D(64, 5)
    _layer_model(conv, (9, 9, 32))
    kernel = conv.get_weights()[0]  # (KH, KW, C, F)
    limit = np.sqrt(6.0 / (5 * 5 * 32 + 5 * 5 * 64))
    assert kernel.shape == (5, 5, 32, 64) and np.abs(kernel).max() <= limit
    assert kernel.std() == pytest.approx(limit / np.sqrt(3.0), rel=0.03)
