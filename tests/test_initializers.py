"""Keras 3's initializers in xcnn.initializers: statistics, bounds, orthogonality, shapes, the
lowercase aliases and seeds (xcnn's own draws: not Keras's values for a seed)."""

import numpy as np
import pytest

from xcnn import initializers
from xcnn.layers import Conv2D, Dense, Input
from xcnn.models import Sequential


def _draw(init, shape, seed=0):
    return init(shape, np.random.default_rng(seed))


def test_truncated_normal_bounds_and_statistics():
    values = _draw(initializers.TruncatedNormal(0.5, 0.1), (400, 300))
    assert values.shape == (400, 300)
    assert values.min() >= 0.3 and values.max() <= 0.7
    assert values.mean() == pytest.approx(0.5, abs=1e-3)
    assert values.std() == pytest.approx(0.1 * 0.8796, rel=0.02)  # the cut's std, uncorrected as Keras
    assert isinstance(initializers.get("truncated_normal"), initializers.TruncatedNormal)
    assert isinstance(initializers.get("TruncatedNormal"), initializers.TruncatedNormal)


@pytest.mark.parametrize(
    "distribution, bound", [("truncated_normal", 2 / 0.8796), ("untruncated_normal", None), ("uniform", 3**0.5)]
)
def test_variance_scaling_distributions(distribution, bound):
    init = initializers.VarianceScaling(2.0, "fan_in", distribution)
    values = _draw(init, (200, 300))
    std = np.sqrt(2.0 / 200)
    assert values.std() == pytest.approx(std, rel=0.03)
    assert abs(values.mean()) < 0.02 * std
    if bound is not None:
        assert np.abs(values).max() <= bound * std * (1 + 1e-12)
    else:
        assert np.abs(values).max() > 2 / 0.8796 * std  # not cut


@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (5, 5), (4, 3, 3, 2), (8, 3, 3, 1), (2, 3, 4)])
def test_orthogonal_is_orthogonal_in_keras_s_matrix(shape):
    w = _draw(initializers.Orthogonal(gain=1.5), shape)
    assert w.shape == shape
    # Keras's matrix: inputs by outputs; a conv kernel (F, KH, KW, C) has its outputs first
    m = w.reshape(shape[0], -1).T if len(shape) == 4 else w.reshape(-1, shape[-1])
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, 1.5**2 * np.eye(min(rows, cols)), atol=1e-12)
    assert initializers.orthogonal is initializers.Orthogonal


def test_identity_and_constant():
    np.testing.assert_array_equal(_draw(initializers.Identity(), (3, 3)), np.eye(3))
    np.testing.assert_array_equal(_draw(initializers.Identity(0.5), (3, 2)), 0.5 * np.eye(3, 2))
    np.testing.assert_array_equal(_draw(initializers.constant(0.25), (2,)), [0.25, 0.25])
    assert _draw(initializers.get("constant"), (2,)).tolist() == [0.0, 0.0]


def test_bad_arguments_are_one_clear_value_error():
    with pytest.raises(ValueError, match="Identity needs a 2-D weight"):
        _draw(initializers.Identity(), (3, 3, 3))
    with pytest.raises(ValueError, match="Orthogonal needs a weight of at least two axes"):
        _draw(initializers.Orthogonal(), (3,))
    with pytest.raises(ValueError, match="stddev must be a positive number"):
        initializers.TruncatedNormal(stddev=0)
    with pytest.raises(ValueError, match="distribution must be"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale must be a positive number"):
        initializers.VarianceScaling(scale=0)


def test_lowercase_names_are_the_classes():
    for alias, cls in [
        ("glorot_uniform", "GlorotUniform"),
        ("glorot_normal", "GlorotNormal"),
        ("he_normal", "HeNormal"),
        ("he_uniform", "HeUniform"),
        ("lecun_normal", "LecunNormal"),
        ("lecun_uniform", "LecunUniform"),
        ("zeros", "Zeros"),
        ("ones", "Ones"),
        ("constant", "Constant"),
        ("random_normal", "RandomNormal"),
        ("random_uniform", "RandomUniform"),
        ("truncated_normal", "TruncatedNormal"),
        ("variance_scaling", "VarianceScaling"),
        ("identity", "Identity"),
        ("orthogonal", "Orthogonal"),
    ]:
        assert getattr(initializers, alias) is getattr(initializers, cls), alias
    assert repr(initializers.he_normal()) == "he_normal"


def test_a_seed_gives_the_same_draws_at_every_call_and_in_every_model():
    for make in (
        lambda: initializers.HeNormal(seed=3),
        lambda: initializers.RandomNormal(seed=3),
        lambda: initializers.RandomUniform(seed=3),
        lambda: initializers.TruncatedNormal(seed=3),
        lambda: initializers.Orthogonal(seed=3),
        lambda: initializers.VarianceScaling(seed=3),
    ):
        init = make()
        np.testing.assert_array_equal(_draw(init, (4, 3), seed=0), _draw(init, (4, 3), seed=1))
    kernels = [
        Sequential([Input((4,)), Dense(3, kernel_initializer=initializers.Orthogonal(seed=5))], seed=s).get_weights()[0]
        for s in (0, 1)
    ]
    np.testing.assert_array_equal(*kernels)
    unseeded = [
        Sequential([Input((4,)), Dense(3, kernel_initializer="orthogonal")], seed=s).get_weights()[0] for s in (0, 1)
    ]
    assert not np.array_equal(*unseeded)


def test_layers_take_the_new_initializers_by_name():
    model = Sequential(
        [Input((6, 6, 2)), Conv2D(4, 3, kernel_initializer="orthogonal", bias_initializer="truncated_normal")], seed=0
    )
    kernel = model.layers[0].get_weights()[0].reshape(-1, 4)  # Keras's (KH * KW * C, F)
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(4), atol=1e-6)
    assert np.abs(model.layers[0].get_weights()[1]).max() <= 0.1
