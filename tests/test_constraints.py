"""xcnn.constraints: values on every backend against float64 NumPy references, the arguments'
checks, the layers' plumbing (Keras's layout for conv kernels) and the optimizer applying each
constraint after the update, in one process and under data parallelism."""

import numpy as np
import pytest
from conftest import assert_close

from xcnn import backend as B
from xcnn import constraints, distribution, optimizers
from xcnn.layers import BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Flatten, Input, SeparableConv2D
from xcnn.models import Sequential, load_model

EPS = 1e-7


def _norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=tuple(np.atleast_1d(axis)), keepdims=True))


def _max_norm(w, m, axis):
    n = _norms(w, axis)
    return w * (np.clip(n, 0, m) / (EPS + n))


def _min_max_norm(w, lo, hi, rate, axis):
    n = _norms(w, axis)
    return w * ((rate * np.clip(n, lo, hi) + (1 - rate) * n) / (EPS + n))


CASES = [
    ("max_norm_dense", constraints.MaxNorm(1.5), (5, 4), lambda w: _max_norm(w, 1.5, 0)),
    ("max_norm_conv", constraints.MaxNorm(0.8, axis=[0, 1, 2]), (3, 3, 2, 4), lambda w: _max_norm(w, 0.8, [0, 1, 2])),
    ("max_norm_axis1", constraints.max_norm(2, axis=1), (5, 4), lambda w: _max_norm(w, 2, 1)),
    (
        "min_max_norm",
        constraints.MinMaxNorm(1.0, 1.5, rate=0.7),
        (5, 4),
        lambda w: _min_max_norm(w, 1.0, 1.5, 0.7, 0),
    ),
    (
        "min_max_norm_conv",
        constraints.min_max_norm(0.5, 2.0, axis=[0, 1, 2]),
        (2, 2, 3, 4),
        lambda w: _min_max_norm(w, 0.5, 2.0, 1.0, [0, 1, 2]),
    ),
    ("non_neg", constraints.NonNeg(), (5, 4), lambda w: np.maximum(w, 0)),
    ("unit_norm", constraints.unit_norm(), (5, 4), lambda w: w / (EPS + _norms(w, 0))),
    ("unit_norm_conv", constraints.UnitNorm(axis=[0, 1, 2]), (3, 3, 2, 4), lambda w: w / (EPS + _norms(w, [0, 1, 2]))),
]


@pytest.mark.parametrize("name, constraint, shape, reference", CASES, ids=[c[0] for c in CASES])
def test_values_match_a_float64_reference_on_every_backend(backend, dtype, name, constraint, shape, reference):
    # columns of norms both below and above the bounds
    w = np.random.default_rng(0).normal(size=shape) * np.linspace(0.1, 1.5, shape[-1])
    x = B.asarray(w, backend, dtype)
    got = constraint(x)
    assert B.backend_of(got) == backend and str(got.dtype).endswith(dtype) and tuple(got.shape) == shape
    assert got.device == x.device
    assert_close(got, reference(w), dtype)


def test_max_norm_bounds_and_keeps_small_columns():
    w = np.array([[3.0, 0.3], [4.0, 0.4]])
    out = constraints.MaxNorm(1.0)(w)
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], w[:, 1], rtol=1e-6)


def test_get_takes_names_configs_instances_callables_and_none():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("MaxNorm"), constraints.MaxNorm)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert isinstance(constraints.get("MinMaxNorm"), constraints.MinMaxNorm)
    c = constraints.MaxNorm(3)
    assert constraints.get(c) is c and constraints.get(None) is None
    f = np.abs
    assert constraints.get(f) is f
    restored = constraints.get(constraints.serialize(constraints.MinMaxNorm(0.1, 2.0, 0.5, axis=[0, 1])))
    assert restored.get_config() == {"min_value": 0.1, "max_value": 2.0, "rate": 0.5, "axis": [0, 1]}
    assert constraints.deserialize({"class_name": "UnitNorm", "config": {"axis": 1}}).axis == 1
    assert constraints.max_norm is constraints.MaxNorm and constraints.non_neg is constraints.NonNeg


def test_serialize_is_keras_s_format():
    assert constraints.serialize(constraints.MaxNorm(3)) == {
        "module": "keras.constraints",
        "class_name": "MaxNorm",
        "config": {"max_value": 3, "axis": 0},
        "registered_name": None,
    }
    assert constraints.serialize(None) is None
    assert constraints.NonNeg().get_config() == {}
    assert repr(constraints.MaxNorm(3)) == "MaxNorm(max_value=3, axis=0)"


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: constraints.MaxNorm(0), "max_value must be > 0"),
        (lambda: constraints.MaxNorm(-1.0), "max_value must be > 0"),
        (lambda: constraints.MaxNorm("3"), "max_value must be a number"),
        (lambda: constraints.MaxNorm(2, axis=1.5), "axis must be an int or a non-empty list"),
        (lambda: constraints.UnitNorm(axis=[]), "axis must be an int or a non-empty list"),
        (lambda: constraints.UnitNorm(axis=[0, 0]), "distinct ints"),
        (lambda: constraints.MinMaxNorm(-0.1, 1.0), r"min_value must be >= 0"),
        (lambda: constraints.MinMaxNorm(2.0, 1.0), "max_value must be >= min_value"),
        (lambda: constraints.MinMaxNorm(rate=1.5), r"rate must be in \[0, 1\]"),
        (lambda: constraints.get("max_nrom"), "unknown constraint 'max_nrom'"),
        (lambda: constraints.get({"class_name": "Clip", "config": {}}), "unknown constraint class 'Clip'"),
        (lambda: constraints.get({"class_name": "MaxNorm", "config": {"foo": 1}}), "takes no arguments"),
        (lambda: constraints.get(3), "a constraint must be a name"),
        (lambda: constraints.serialize(np.abs), "cannot be serialized"),
        (lambda: Dense(2, kernel_constraint="nope"), "unknown constraint 'nope'"),
    ],
)
def test_bad_arguments_are_one_clear_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_layers_hand_their_constraints_the_weight_in_keras_s_layout():
    seen = []

    def spy(w):
        seen.append(tuple(w.shape))
        return w

    layers = [
        Conv2D(4, 3, kernel_constraint=spy, bias_constraint=spy),
        DepthwiseConv2D(3, depth_multiplier=2, depthwise_constraint=spy),
        SeparableConv2D(5, 3, depthwise_constraint=spy, pointwise_constraint=spy),
        Flatten(),
        Dense(2, kernel_constraint=spy),
    ]
    model = Sequential([Input((9, 9, 3)), *layers], seed=0)
    for layer in model.layers:
        for key in layer.constraints:
            before = B.to_numpy(layer.params[key])
            after = layer.constrain(key, layer.params[key])
            np.testing.assert_array_equal(B.to_numpy(after), before)  # out and back: the same array
    # Keras's shapes: (KH, KW, C, F), (KH, KW, C, M), (KH, KW, C, M), (1, 1, C * M, F), (in, out)
    assert seen == [(3, 3, 3, 4), (4,), (3, 3, 4, 2), (3, 3, 8, 1), (1, 1, 8, 5), (45, 2)]


def test_a_conv_constraint_s_axis_is_keras_s():
    layer = Conv2D(4, 3, kernel_constraint=constraints.MaxNorm(0.5, axis=[0, 1, 2]))
    model = Sequential([Input((6, 6, 2)), layer], seed=0, dtype="float64")
    keras_kernel = layer.get_weights()[0] * 10  # (KH, KW, C, F): each filter's norm well above 0.5
    layer.set_weights([keras_kernel, np.zeros(4)])
    out = B.to_numpy(layer.constrain("kernel", layer.params["kernel"]))  # xcnn's (F, KH, KW, C)
    np.testing.assert_allclose(np.linalg.norm(out.reshape(4, -1), axis=1), 0.5, rtol=1e-6)
    np.testing.assert_allclose(out.transpose(1, 2, 3, 0), _max_norm(keras_kernel, 0.5, [0, 1, 2]), rtol=1e-12)
    assert model.layers[0] is layer


def _xy(n=48, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * 3, rng.integers(0, k, n)


def test_fit_keeps_max_normed_columns_within_the_bound(backend, dtype):
    x, y = _xy()
    model = Sequential(
        [
            Input((6,)),
            Dense(16, activation="relu", kernel_constraint=constraints.MaxNorm(0.5)),
            Dense(3, activation="softmax", kernel_constraint=constraints.max_norm(0.5), bias_constraint="non_neg"),
        ],
        backend=backend,
        dtype=dtype,
        seed=0,
    )
    model.compile(optimizers.SGD(0.5, momentum=0.9), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    for layer in model.layers:
        kernel = layer.get_weights()[0]
        assert np.linalg.norm(kernel, axis=0).max() <= 0.5 * (1 + 1e-5)
    assert model.layers[1].get_weights()[1].min() >= 0.0


def test_the_flat_step_keeps_its_views_and_matches_applying_each_constraint():
    x, y = _xy()

    def net(constrained):
        c = constraints.MaxNorm(0.3) if constrained else None
        model = Sequential([Input((6,)), Dense(8, kernel_constraint=c), Dense(3, activation="softmax")], seed=1)
        model.compile(optimizers.Adam(0.05), "sparse_categorical_crossentropy")
        return model

    model = net(True)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    flat = model.optimizer._flat
    assert flat is not None  # the flat path ran: one buffer for all the weights
    params = [layer.params[k] for layer in model.layers for k in ("kernel", "bias")]
    assert all(p is v for p, v in zip(params, flat.weight_views))  # no repacking at the next step
    assert np.linalg.norm(model.layers[0].get_weights()[0], axis=0).max() <= 0.3 * (1 + 1e-6)

    # one step by hand: the unconstrained update, then the constraint, is what fit's step does
    model, reference = net(True), net(False)
    reference.set_weights(model.get_weights())
    model.train_on_batch(x[:16], y[:16])
    reference.train_on_batch(x[:16], y[:16])
    kernel = reference.layers[0].get_weights()[0]
    np.testing.assert_allclose(model.layers[0].get_weights()[0], _max_norm(kernel, 0.3, 0), rtol=1e-5, atol=1e-7)
    for a, b in zip(model.get_weights()[1:], reference.get_weights()[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_the_per_weight_path_applies_constraints_too():
    optimizer = optimizers.SGD(1.0)
    w32, w64 = np.array([1.0, -1.0], "float32"), np.array([[3.0], [4.0]])
    items = [("a", w32, np.array([2.0, 0.0], "float32")), ("b", w64, np.zeros((2, 1)))]  # mixed dtypes
    a, b = optimizer.apply(items, constraints={"a": constraints.NonNeg(), "b": constraints.UnitNorm()})
    assert optimizer._flat is None
    np.testing.assert_array_equal(a, [0.0, 0.0])
    np.testing.assert_allclose(b, [[0.6], [0.8]], rtol=1e-6)


def test_a_constraint_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="the constraint of 'w' returned shape"):
        optimizers.SGD(0.1).apply([("w", np.ones(3), np.ones(3))], constraints={"w": lambda w: w[:2]})


def test_frozen_layers_and_initial_weights_are_not_constrained():
    x, y = _xy()
    model = Sequential(
        [Input((6,)), Dense(4, kernel_constraint=constraints.NonNeg()), Dense(3, activation="softmax")], seed=0
    )
    first = model.layers[0]
    assert first.get_weights()[0].min() < 0  # not at initialization, as Keras
    first.trainable = False
    before = first.get_weights()[0]
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(first.get_weights()[0], before)


def test_batch_normalization_gamma_and_beta_constraints():
    x, y = _xy()
    model = Sequential(
        [
            Input((6,)),
            Dense(5),
            BatchNormalization(gamma_constraint=constraints.MaxNorm(0.5), beta_constraint="non_neg"),
            Dense(3, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    gamma, beta = model.layers[1].get_weights()[:2]
    assert np.linalg.norm(gamma) <= 0.5 * (1 + 1e-6) and beta.min() >= 0


class _OneRank(distribution.Communicator):
    """A communicator of size 1: the data-parallel step without MPI."""


def test_the_data_parallel_step_applies_the_constraints():
    x, y = _xy()

    def train():
        model = Sequential(
            [Input((6,)), Dense(8, kernel_constraint=constraints.MaxNorm(0.4)), Dense(3, activation="softmax")],
            seed=2,
        )
        model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        return model.get_weights()

    plain = train()
    distribution.set_distribution(distribution.DataParallel(_OneRank()))
    try:
        parallel = train()
    finally:
        distribution.set_distribution(None)
    assert np.linalg.norm(parallel[0], axis=0).max() <= 0.4 * (1 + 1e-6)
    for a, b in zip(plain, parallel):
        np.testing.assert_array_equal(a, b)


def test_get_config_and_saving_keep_the_constraints(tmp_path):
    layer = Dense(3, kernel_constraint=constraints.MaxNorm(3), bias_constraint="non_neg")
    config = layer.get_config()
    assert config["kernel_constraint"]["class_name"] == "MaxNorm"
    assert config["kernel_constraint"]["config"] == {"max_value": 3, "axis": 0}
    again = Dense(**config)
    assert again.kernel_constraint.get_config() == {"max_value": 3, "axis": 0}
    assert isinstance(again.bias_constraint, constraints.NonNeg)
    assert Dense(3).get_config()["kernel_constraint"] is None

    sep = SeparableConv2D(4, 3, depthwise_constraint=constraints.UnitNorm(axis=[0, 1]))
    assert sep.get_config()["depthwise_constraint"]["config"] == {"axis": [0, 1]}
    dw = DepthwiseConv2D(3, depthwise_constraint="max_norm").get_config()
    assert dw["depthwise_constraint"]["class_name"] == "MaxNorm" and "kernel_constraint" not in dw

    model = Sequential([Input((6,)), layer, Dense(2, kernel_constraint=constraints.UnitNorm())], seed=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load_model(path)
    assert loaded.layers[0].constraints["kernel"].get_config() == {"max_value": 3, "axis": 0}
    assert isinstance(loaded.layers[1].constraints["kernel"], constraints.UnitNorm)


def test_a_custom_constraint_trains_but_is_not_saved_by_name():
    class Halve(constraints.Constraint):
        def __call__(self, w):
            return w * 0.5

    x, y = _xy()
    model = Sequential([Input((6,)), Dense(3, activation="softmax", kernel_constraint=Halve())], seed=0)
    model.compile(optimizers.SGD(0.0001), "sparse_categorical_crossentropy")
    before = model.layers[0].get_weights()[0]
    model.train_on_batch(x[:4], y[:4])
    np.testing.assert_allclose(model.layers[0].get_weights()[0], before * 0.5, rtol=1e-2, atol=1e-4)
    with pytest.raises(ValueError, match="constraint 'Halve' cannot be serialized"):
        model.layers[0].get_config()
