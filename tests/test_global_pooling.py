"""Global average and max pooling: ops on every backend and dtype against the loop references,
numerical gradients, and the GlobalAveragePooling2D / GlobalMaxPooling2D layers."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close, on
from xcnn import backend as B
from xcnn import layers, models, ops

KINDS = {
    "avg": (ops.global_avg_pool2d, ops.global_avg_pool2d_backward),
    "max": (ops.global_max_pool2d, ops.global_max_pool2d_backward),
}
SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 5, 2, 1), (33, 2, 2, 2)]


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("shape", SHAPES)
def test_global_pooling_matches_reference(backend, dtype, shape, kind):
    forward, backward = KINDS[kind]
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal(shape), rng.standard_normal((shape[0], shape[3]))
    xb, dyb = on(backend, x, dy, dtype=dtype)
    y = forward(xb)
    assert B.backend_of(y) == backend and str(y.dtype).endswith(dtype)
    assert_close(y, ref.global_pool2d(x, kind), dtype)
    dx = backward(dyb, xb)
    assert str(dx.dtype).endswith(dtype)
    assert_close(dx, ref.global_pool2d_backward(dy, x, kind), dtype)


def test_global_max_pool_ties_go_to_first_maximum(backend, dtype):
    x = np.zeros((1, 2, 3, 2))
    x[0, :, :, 0] = [[1, 4, 4], [4, 0, 2]]  # three pixels hold the max: the first in row-major order wins
    dy = np.array([[2.0, 3.0]])  # channel 1 is constant: all of it to pixel (0, 0)
    dx = B.to_numpy(ops.global_max_pool2d_backward(*on(backend, dy, x, dtype=dtype)))
    assert dx[0, :, :, 0].tolist() == [[0, 2, 0], [0, 0, 0]]
    assert dx[0, :, :, 1].tolist() == [[3, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_global_pooling_numerical_gradients(backend, kind):
    forward, backward = KINDS[kind]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 3, 2))  # continuous values: no ties, max is differentiable
    r = rng.standard_normal((2, 2))
    numeric = ref.numerical_gradient(lambda v: float(np.sum(B.to_numpy(forward(on(backend, v))) * r)), x.copy())
    np.testing.assert_allclose(B.to_numpy(backward(on(backend, r), on(backend, x))), numeric, rtol=1e-6, atol=1e-7)


def test_global_pooling_errors_name_the_argument():
    x = np.zeros((2, 3, 3, 4))
    for forward, backward in KINDS.values():
        with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C\)"):
            forward(np.zeros((3, 3, 4)))
        with pytest.raises(TypeError, match=r"x must have a real floating dtype"):
            forward(np.zeros((2, 3, 3, 4), dtype=np.int64))
        with pytest.raises(ValueError, match=r"dy must have the global-pooled shape \(N, C\) = \(2, 4\)"):
            backward(np.zeros((2, 3)), x)
    with pytest.raises(ValueError, match=r"data_format must be 'channels_last'"):
        layers.GlobalAveragePooling2D(data_format="channels_first")
    with pytest.raises(TypeError, match=r"keepdims must be True or False"):
        layers.GlobalMaxPooling2D(keepdims=1)


@pytest.mark.parametrize("cls, kind", [(layers.GlobalAveragePooling2D, "avg"), (layers.GlobalMaxPooling2D, "max")])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_layers_in_a_model(backend, cls, kind, keepdims, tmp_path):
    inputs = layers.Input((3, 4, 2))
    pooled = cls(keepdims=keepdims)
    model = models.Model(inputs, pooled(inputs), backend=backend, dtype="float64")
    assert pooled.output.shape == ((None, 1, 1, 2) if keepdims else (None, 2))
    assert pooled.get_config()["keepdims"] is keepdims
    x = np.random.default_rng(2).standard_normal((5, 3, 4, 2))
    expected = ref.global_pool2d(x, kind)
    assert_close(model.predict(x), expected.reshape(5, 1, 1, 2) if keepdims else expected)
    # the layer's backward passes the gradient of the op
    pooled.forward([on(backend, x)], training=True)
    dy = np.ones((5, 1, 1, 2) if keepdims else (5, 2))
    (dx,) = pooled.backward(on(backend, dy))
    assert_close(dx, ref.global_pool2d_backward(np.ones((5, 2)), x, kind))
    # saved by name and read back
    path = tmp_path / "model.safetensors"
    model.save(str(path))
    again = models.load_model(str(path), backend=backend)
    assert isinstance(again.layers[-1], cls) and again.layers[-1].keepdims is keepdims


def test_global_pooling_auto_names_match_keras():
    assert layers.GlobalAveragePooling2D().name.startswith("global_average_pooling2d")
    assert layers.GlobalMaxPooling2D().name.startswith("global_max_pooling2d")
