"""Weight constraints against Keras 3: the same values as Keras's constraints on the same arrays
(conv kernels converted to Keras's layout), the configs Keras writes, `.keras` round trips both
ways, and a constrained fit with SGD from the same start weights."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import xcnn  # noqa: E402
from xcnn import constraints, optimizers  # noqa: E402
from xcnn import layers as xl  # noqa: E402
from xcnn.models import Sequential, load_model  # noqa: E402

CONFIGS = [
    ("MaxNorm", {"max_value": 1.5, "axis": 0}),
    ("MaxNorm", {"max_value": 0.8, "axis": [0, 1, 2]}),
    ("MaxNorm", {"max_value": 2, "axis": -1}),
    ("MinMaxNorm", {"min_value": 0.9, "max_value": 1.4, "rate": 0.6, "axis": 0}),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "rate": 1.0, "axis": [0, 1]}),
    ("NonNeg", {}),
    ("UnitNorm", {"axis": 0}),
    ("UnitNorm", {"axis": [0, 1, 2]}),
]


def _keras(w):
    return np.asarray(keras.ops.convert_to_numpy(w))


@pytest.mark.parametrize("shape", [(6, 5), (3, 3, 2, 4)])
@pytest.mark.parametrize("class_name, config", CONFIGS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CONFIGS)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_same_values_as_keras_s_constraints(class_name, config, shape, dtype):
    if shape == (6, 5) and isinstance(config.get("axis"), list) and max(config["axis"]) > 1:
        pytest.skip("axes of a 4-d kernel")
    w = (np.random.default_rng(0).normal(size=shape) * np.linspace(0.1, 1.6, shape[-1])).astype(dtype)
    ours = getattr(constraints, class_name)(**config)
    theirs = getattr(keras.constraints, class_name)(**config)
    expected = _keras(theirs(keras.ops.convert_to_tensor(w)))
    got = ours(w)
    assert got.dtype == w.dtype  # Keras's NonNeg gives float32 for float64 (maximum with an int 0); assign casts
    # float64: Keras's torch clip takes the bounds as float32 (0.8 -> 0.800000012), 1.5e-8 relative
    tol = {"float32": 2e-6, "float64": 5e-8}[dtype]
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)


@pytest.mark.parametrize(
    "make, keras_name, key, keras_index",
    [
        (lambda c: xl.Dense(4, kernel_constraint=c), "Dense", "kernel", 0),
        (lambda c: xl.Conv2D(4, 3, kernel_constraint=c), "Conv2D", "kernel", 0),
        (lambda c: xl.Conv2D(4, 3, groups=2, kernel_constraint=c), "Conv2D", "kernel", 0),
        (lambda c: xl.Conv2DTranspose(4, 3, kernel_constraint=c), "Conv2DTranspose", "kernel", 0),
        (lambda c: xl.DepthwiseConv2D(3, depth_multiplier=2, depthwise_constraint=c), "DepthwiseConv2D", "kernel", 0),
        (lambda c: xl.SeparableConv2D(3, 3, depthwise_constraint=c), "SeparableConv2D", "depthwise_kernel", 0),
        (lambda c: xl.SeparableConv2D(3, 3, pointwise_constraint=c), "SeparableConv2D", "pointwise_kernel", 1),
    ],
)
@pytest.mark.parametrize(
    "config", [{"max_value": 0.3, "axis": [0, 1, 2]}, {"max_value": 0.3, "axis": 0}, {"max_value": 0.3, "axis": 3}]
)
def test_a_layer_s_constraint_acts_on_keras_s_layout(make, keras_name, key, keras_index, config):
    if keras_name == "Dense" and config["axis"] != 0:
        pytest.skip("a Dense kernel has two axes")
    layer = make(constraints.MaxNorm(**config))
    shape = (5,) if keras_name == "Dense" else (6, 6, 4)
    Sequential([xl.Input(shape), layer], seed=0)
    keras_weight = layer.get_weights()[keras_index]  # Keras's layout
    expected = _keras(keras.constraints.MaxNorm(**config)(keras.ops.convert_to_tensor(keras_weight)))
    constrained = layer.constrain(key, layer.params[key])  # xcnn's layout, in and out
    layer.params[key] = constrained
    np.testing.assert_allclose(layer.get_weights()[keras_index], expected, rtol=2e-6, atol=1e-7)


def _keras_net(constraint_kind="builtin"):
    kernel = keras.constraints.MaxNorm(0.4, axis=[0, 1, 2])
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(4, 3, activation="relu", kernel_constraint=kernel, bias_constraint="non_neg"),
            keras.layers.BatchNormalization(
                gamma_constraint=keras.constraints.MinMaxNorm(0.5, 1.0, rate=0.5), beta_constraint="non_neg"
            ),
            keras.layers.SeparableConv2D(
                3,
                3,
                depthwise_constraint=keras.constraints.UnitNorm(axis=[0, 1]),
                pointwise_constraint=keras.constraints.MaxNorm(0.3, axis=2),
            ),
            keras.layers.DepthwiseConv2D(1, depthwise_constraint=keras.constraints.NonNeg()),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="relu", kernel_constraint=keras.constraints.MaxNorm(0.5)),
            keras.layers.Dense(3, activation="softmax", kernel_constraint="unit_norm"),
        ]
    )


def _constraint_configs(layer_configs):
    return [{k: v for k, v in config.items() if k.endswith("_constraint")} for config in layer_configs]


def test_a_keras_file_s_constraints_load_in_xcnn_and_fit_as_keras(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6, 6, 2)).astype("float32"), rng.integers(0, 3, 32)
    keras_model = _keras_net()
    keras_model.compile(keras.optimizers.SGD(0.5, momentum=0.9), "sparse_categorical_crossentropy")
    keras_model.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras", backend="numpy", compile=False)
    assert _constraint_configs([layer.get_config() for layer in model.layers]) == _constraint_configs(
        [layer.get_config() for layer in keras_model.layers]
    )
    model.compile(optimizers.SGD(0.5, momentum=0.9), "sparse_categorical_crossentropy")
    keras_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for w, w_keras in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(w, w_keras, rtol=1e-4, atol=2e-6)
    assert np.linalg.norm(model.layers[-2].get_weights()[0], axis=0).max() <= 0.5 * (1 + 1e-6)


def test_an_xcnn_model_s_constraints_load_in_keras(tmp_path):
    model = Sequential(
        [
            xl.Input((6, 6, 2)),
            xl.Conv2D(4, 3, kernel_constraint=constraints.MaxNorm(3, axis=[0, 1, 2]), bias_constraint="non_neg"),
            xl.BatchNormalization(gamma_constraint=constraints.UnitNorm()),
            xl.SeparableConv2D(3, 3, pointwise_constraint=constraints.MinMaxNorm(0.1, 2.0, 0.5)),
            xl.Flatten(),
            xl.Dense(3, kernel_constraint=xcnn.constraints.max_norm(3)),
        ],
        seed=0,
    )
    model.save(tmp_path / "x.keras")
    keras_model = keras.models.load_model(tmp_path / "x.keras")
    ours = _constraint_configs([layer.get_config() for layer in model.layers])
    assert ours == _constraint_configs([layer.get_config() for layer in keras_model.layers])
    assert ours[0]["kernel_constraint"]["config"] == {"max_value": 3, "axis": [0, 1, 2]}
    assert isinstance(keras_model.layers[-1].kernel.constraint, keras.constraints.MaxNorm)
    # and back again
    keras_model.save(tmp_path / "back.keras")
    again = load_model(tmp_path / "back.keras")
    assert _constraint_configs([layer.get_config() for layer in again.layers]) == ours


def test_an_unknown_constraint_class_in_a_keras_file_is_refused(tmp_path):
    @keras.saving.register_keras_serializable(package="xcnn_test")
    class Halve(keras.constraints.Constraint):
        def __call__(self, w):
            return w * 0.5

    keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_constraint=Halve())])
    keras_model.save(tmp_path / "custom.keras")
    with pytest.raises(ValueError, match=r"constraint 'Halve' is not one of Keras's \['MaxNorm'") as info:
        load_model(tmp_path / "custom.keras")
    assert str(info.value).count("\n") == 0


def test_the_namespace_has_keras_s_constraint_names():
    public = [n for n in dir(keras.constraints) if not n.startswith("_")]
    for name in public:
        assert hasattr(xcnn.constraints, name), name
    assert xcnn.constraints.max_norm is xcnn.constraints.MaxNorm
