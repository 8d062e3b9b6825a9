"""``import xcnn as keras``: the names a Keras CNN script reaches for exist, where Keras has them."""

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import xcnn  # noqa: E402

# (module path, names) a CNN tutorial uses; metrics and optimizers.schedules are another helper's
NAMES = {
    "": [
        "Input",
        "Sequential",
        "Model",
        "layers",
        "models",
        "datasets",
        "utils",
        "callbacks",
        "optimizers",
        "losses",
        "activations",
        "initializers",
        "regularizers",
        "saving",
        "constraints",
        "version",
    ],
    "models": ["Sequential", "Model", "load_model", "save_model", "clone_model", "model_from_json"],
    "saving": ["load_model", "save_model"],
    "datasets": ["mnist", "fashion_mnist", "cifar10"],
    "utils": [
        "to_categorical",
        "plot_model",
        "set_random_seed",
        "PyDataset",
        "Sequence",
        "load_img",
        "img_to_array",
        "array_to_img",
        "save_img",
    ],
    "callbacks": ["Callback", "EarlyStopping", "History", "ModelCheckpoint"],
    "initializers": [
        "GlorotUniform",
        "GlorotNormal",
        "HeNormal",
        "HeUniform",
        "LecunNormal",
        "LecunUniform",
        "Zeros",
        "Ones",
        "Constant",
        "RandomNormal",
        "RandomUniform",
        "VarianceScaling",
        "TruncatedNormal",
        "Orthogonal",
        "Identity",
        "glorot_uniform",
        "glorot_normal",
        "he_normal",
        "he_uniform",
        "lecun_normal",
        "lecun_uniform",
        "zeros",
        "ones",
        "constant",
        "random_normal",
        "random_uniform",
        "truncated_normal",
        "variance_scaling",
        "identity",
        "orthogonal",
    ],
    "regularizers": ["L1", "L2", "L1L2", "l1", "l2", "l1_l2"],
    "constraints": [
        "Constraint",
        "MaxNorm",
        "MinMaxNorm",
        "NonNeg",
        "UnitNorm",
        "max_norm",
        "min_max_norm",
        "non_neg",
        "unit_norm",
        "get",
        "serialize",
        "deserialize",
    ],
    "layers": [
        "Input",
        "InputLayer",
        "Conv2D",
        "MaxPooling2D",
        "AveragePooling2D",
        "Flatten",
        "Dense",
        "Activation",
        "Dropout",
        "BatchNormalization",
        "Add",
        "Concatenate",
        "RandomTranslation",
        "Multiply",
        "Subtract",
        "Average",
        "Maximum",
        "Minimum",
        "add",
        "concatenate",
        "Identity",
        "Cropping2D",
        "Permute",
        "SpatialDropout2D",
        "GaussianNoise",
        "LayerNormalization",
        "Convolution2D",
        "Convolution2DTranspose",
        "SeparableConvolution2D",
        "MaxPool2D",
        "AvgPool2D",
        "GlobalAvgPool2D",
        "GlobalMaxPool2D",
        "CenterCrop",
        "RandomCrop",
        "RandomBrightness",
        "Normalization",
    ],
    "backend": [
        "backend",
        "image_data_format",
        "set_image_data_format",
        "clear_session",
        "floatx",
        "set_floatx",
        "epsilon",
        "set_epsilon",
    ],
    "config": [
        "backend",
        "enable_unsafe_deserialization",
        "image_data_format",
        "set_image_data_format",
        "floatx",
        "set_floatx",
        "epsilon",
        "set_epsilon",
    ],
}


def _resolve(root, path):
    for part in filter(None, path.split(".")):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("path", list(NAMES))
def test_the_names_keras_scripts_use_exist_in_both(path):
    for name in NAMES[path]:
        assert hasattr(_resolve(keras, path), name), f"keras.{path}.{name} (the test's list is wrong)"
        assert hasattr(_resolve(xcnn, path), name), f"xcnn.{path}.{name} is missing"


def test_keras_other_layer_names_are_the_same_classes_as_in_keras():
    for alias, name in [
        ("Convolution2D", "Conv2D"),
        ("Convolution2DTranspose", "Conv2DTranspose"),
        ("SeparableConvolution2D", "SeparableConv2D"),
        ("MaxPool2D", "MaxPooling2D"),
        ("AvgPool2D", "AveragePooling2D"),
        ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
        ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
    ]:
        assert getattr(keras.layers, alias) is getattr(keras.layers, name), alias  # the test's list is right
        assert getattr(xcnn.layers, alias) is getattr(xcnn.layers, name), alias


def test_import_xcnn_stays_light():
    code = "import sys, xcnn; heavy = [m for m in ('torch', 'matplotlib', 'keras') if m in sys.modules]; print(heavy)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert out.stdout.strip() == "[]"


def test_keras_style_script_lines_work():
    import xcnn as keras_like

    inputs = keras_like.Input((8, 8, 1))
    outputs = keras_like.layers.Dense(3, activation="softmax")(keras_like.layers.Flatten()(inputs))
    model = keras_like.Model(inputs, outputs)
    assert model.output_shape == (None, 3)
    onehot = keras_like.utils.to_categorical([0, 2], 3)
    np.testing.assert_array_equal(onehot, keras.utils.to_categorical([0, 2], 3))
    assert isinstance(keras_like.initializers.get("HeNormal"), type(keras_like.initializers.HeNormal()))
    assert keras_like.regularizers.L1L2(l2=0.5).get_config() == {"l1": 0.0, "l2": 0.5}


def test_keras_settings_report_what_keras_reports_by_default():
    for name in ("image_data_format", "floatx", "epsilon"):
        assert getattr(xcnn.backend, name)() == getattr(keras.backend, name)()
        assert getattr(xcnn.config, name)() == getattr(keras.config, name)()
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        xcnn.config.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="epsilon must be 1e-07"):
        xcnn.backend.set_epsilon(1e-3)
    xcnn.backend.clear_session()
    assert xcnn.layers.Dense(2).name == "dense"


def test_set_floatx_sets_the_dtype_of_later_models_as_in_keras(monkeypatch):
    monkeypatch.setattr(xcnn.config, "_floatx", "float32")  # put back afterwards
    built_before = xcnn.Sequential([xcnn.Input((3,)), xcnn.layers.Dense(2)])
    keras.backend.set_floatx("float64")
    xcnn.backend.set_floatx("float64")
    try:
        assert xcnn.backend.floatx() == keras.backend.floatx() == "float64"
        model = xcnn.Sequential([xcnn.Input((3,)), xcnn.layers.Dense(2)])
        x = np.ones((4, 3))
        assert model.dtype == "float64" and model.get_weights()[0].dtype == np.float64
        assert model.predict(x, verbose=0).dtype == np.float64
        assert built_before.dtype == "float32"  # models already built keep theirs
        assert xcnn.Sequential([xcnn.Input((3,)), xcnn.layers.Dense(2)], dtype="float32").dtype == "float32"
    finally:
        keras.backend.set_floatx("float32")
    with pytest.raises(ValueError, match="floatx must be 'float32' or 'float64'.*'float16'"):
        xcnn.config.set_floatx("float16")


def test_set_random_seed_makes_models_reproducible(monkeypatch):
    monkeypatch.setattr(xcnn.utils, "_model_seeds", None)  # put back afterwards: other tests draw fresh seeds

    def weights():
        xcnn.utils.set_random_seed(42)
        a = np.random.rand()
        model = xcnn.Sequential([xcnn.layers.Dense(4, input_shape=(3,))])
        return a, model.seed, model.get_weights()[0]

    (a1, s1, w1), (a2, s2, w2) = weights(), weights()
    assert a1 == a2 and s1 == s2
    np.testing.assert_array_equal(w1, w2)
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        xcnn.utils.set_random_seed(-1)


def test_datasets_load_like_keras():
    folder = os.environ.get("XCNN_DATA_DIR")
    if not folder or not os.path.exists(os.path.join(folder, "mnist.npz")):
        pytest.skip("XCNN_DATA_DIR does not hold mnist.npz")
    (x_train, y_train), (x_test, y_test) = xcnn.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_test.shape == (10000,)
