"""Keras 3 files in and out, against Keras itself (torch backend): Keras-saved models load in
xcnn and predict the same, xcnn-saved `.keras` files load in Keras and predict the same, and
`.weights.h5` files go both ways."""

import os
from types import SimpleNamespace

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

import xcnn
from xcnn import zoo
from xcnn.interop import converters
from xcnn.layers import (
    ELU,
    Activation,
    Add,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Conv2DTranspose,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    Input,
    LeakyReLU,
    MaxPooling2D,
    PReLU,
    RandomFlip,
    RandomRotation,
    ReLU,
    Rescaling,
    Reshape,
    SeparableConv2D,
    Softmax,
    UpSampling2D,
    ZeroPadding2D,
)
from xcnn.models import Model

L = keras.layers
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _x(shape, n=5, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, *shape)).astype("float32")


def _randomize_batch_norm(model, seed=0):
    """Non-trivial gamma, beta and moving statistics (else BatchNormalization is nearly the
    identity), whichever of gamma and beta the layer has."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.moving_mean.shape[0]
            values = {
                "gamma": rng.uniform(0.5, 2, c),
                "beta": rng.standard_normal(c),
                "moving_mean": rng.standard_normal(c),
                "moving_variance": rng.uniform(0.5, 2, c),
            }
            layer.set_weights([values[w.path.split("/")[-1]] for w in layer.weights])
    return model


def keras_lecture_sequential():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(9, (3, 3), padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )


def keras_lecture_functional():
    inp = keras.Input((28, 28, 1))
    x = L.Conv2D(9, (3, 3), padding="same", activation="relu")(inp)
    x = L.Flatten()(L.MaxPooling2D(2)(x))
    return keras.Model(inp, L.Dense(10, activation="softmax")(L.Dense(64, activation="relu")(x)))


def keras_batch_norm():
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            L.Conv2D(8, 3, strides=2, padding="same", use_bias=False),
            L.BatchNormalization(),
            L.Activation("relu"),
            L.AveragePooling2D(2, padding="same"),
            L.Flatten(),
            L.Dense(16),
            L.BatchNormalization(momentum=0.9, epsilon=1e-5),
            L.Activation("elu"),
            L.Dense(4, activation="sigmoid"),
        ]
    )


def keras_add_concatenate():
    inp = keras.Input((10, 10, 3))
    a = L.Conv2D(6, 3, padding="same", activation="relu")(inp)
    b = L.Conv2D(6, 1, activation="tanh")(inp)  # a parallel branch: the layer order matters for weight names
    c = L.Add()([a, b])
    d = L.Conv2D(4, 3, padding="same", activation="relu6")(c)
    e = L.Concatenate()([c, d, b])
    f = L.MaxPooling2D(3, strides=2, padding="same")(e)
    return keras.Model(inp, L.Dense(5, activation="softmax")(L.Flatten()(f)))


def keras_dropout():
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            L.RandomTranslation(0.2, 0.2, fill_mode="constant", interpolation="nearest"),
            L.Conv2D(4, 3, activation="leaky_relu"),
            L.Dropout(0.5),
            L.Flatten(),
            L.Dense(8, activation="softplus"),
            L.Dropout(0.3),
            L.Dense(3, activation="softsign"),
        ]
    )


def keras_new_layers():
    """The layers of issue #14 with arguments away from their defaults, and a frozen layer."""
    inp = keras.Input((9, 8, 3))
    x = L.RandomRotation((-0.1, 0.2), fill_mode="nearest", seed=4)(
        L.RandomFlip("horizontal", seed=3)(L.Rescaling(0.5, offset=0.1)(inp))
    )
    x = L.Conv2D(6, 3, padding="same", dilation_rate=2, groups=3)(x)
    x = L.ZeroPadding2D(((1, 0), (0, 2)))(x)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)
    x = L.SeparableConv2D(4, 3, depth_multiplier=2, dilation_rate=(1, 2), activation="tanh")(x)
    x = L.UpSampling2D((1, 2))(L.BatchNormalization(center=False)(x))
    x = L.Conv2DTranspose(5, 3, strides=2, padding="same")(x)
    x = L.Conv2DTranspose(3, (1, 2), strides=(1, 3), trainable=False)(x)  # a stride beyond the kernel; frozen
    x = L.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.05)(x)
    slopes = keras.initializers.RandomUniform(0.1, 0.6, seed=1)
    x = L.PReLU(alpha_initializer=slopes, shared_axes=[1, 2])(L.LeakyReLU(0.2)(L.ELU(0.7)(x)))
    x = L.Softmax(axis=1)(L.PReLU(alpha_initializer=slopes)(x))
    x = L.Dropout(0.3, noise_shape=(None, 1, 1, 3), seed=5)(x)
    x = L.Reshape((48, -1))(L.Conv2D(2, 3, strides=3)(x))
    x = L.Softmax()(L.ReLU()(L.Dense(4)(x)))
    x = L.Flatten()(L.BatchNormalization(scale=False)(x))
    return keras.Model(inp, L.Dense(3, activation="softmax")(x))


KERAS_MODELS = [
    keras_lecture_sequential,
    keras_lecture_functional,
    keras_batch_norm,
    keras_add_concatenate,
    keras_dropout,
    keras_new_layers,
]


@pytest.mark.parametrize("build", KERAS_MODELS, ids=lambda f: f.__name__)
def test_keras_saved_model_loads_in_xcnn_and_predicts_the_same(tmp_path, build):
    kmodel = _randomize_batch_norm(build())
    kmodel.save(tmp_path / "m.keras")
    model = xcnn.load_model(tmp_path / "m.keras")
    assert isinstance(model, xcnn.Sequential) == isinstance(kmodel, keras.Sequential)
    x = _x(kmodel.input_shape[1:])
    np.testing.assert_allclose(model.predict(x), kmodel.predict(x, verbose=0), **TOL)
    _assert_same_frozen_layers(model, kmodel)


def _assert_same_frozen_layers(model, kmodel):
    frozen = {layer.name for layer in kmodel.layers if not layer.trainable}
    assert {layer.name for layer in model.layers if not layer.trainable} == frozen


def xcnn_branching():
    inp = Input((10, 10, 3))
    a = Conv2D(6, 3, padding="same", activation="relu")(inp)
    b = Conv2D(6, 1, activation="tanh")(inp)
    c = BatchNormalization()(Add()([a, b]))
    d = Activation("relun")(Conv2D(4, 3, padding="same", activation="leaky_relu")(c))  # relun is Keras's relu6
    e = Concatenate()([c, d, b])
    f = Flatten()(MaxPooling2D(2)(e))
    model = Model(inp, Dense(5, activation="softmax")(Dropout(0.5)(f)), seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(_x((10, 10, 3), 8), np.arange(8) % 5, epochs=1, verbose=0)  # moves the BN statistics
    return model


def xcnn_new_layers():
    """:func:`keras_new_layers` built in xcnn, trained a step (BN statistics, PReLU slopes move)."""
    inp = Input((9, 8, 3))
    x = RandomRotation((-0.1, 0.2), fill_mode="nearest", seed=4)(
        RandomFlip("horizontal", seed=3)(Rescaling(0.5, offset=0.1)(inp))
    )
    x = ZeroPadding2D(((1, 0), (0, 2)))(Conv2D(6, 3, padding="same", dilation_rate=2, groups=3)(x))
    x = DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)
    x = SeparableConv2D(4, 3, depth_multiplier=2, dilation_rate=(1, 2), activation="tanh")(x)
    x = UpSampling2D((1, 2))(BatchNormalization(center=False)(x))
    frozen = Conv2DTranspose(3, (1, 2), strides=(1, 3), name="frozen")
    frozen.trainable = False
    x = frozen(Conv2DTranspose(5, 3, strides=2, padding="same")(x))
    x = ReLU(max_value=0.8, negative_slope=0.1, threshold=0.05)(x)
    x = PReLU(alpha_initializer="random_uniform", shared_axes=[1, 2])(LeakyReLU(0.2)(ELU(0.7)(x)))
    x = Softmax(axis=1)(PReLU(alpha_initializer="random_uniform")(x))
    x = Dropout(0.3, noise_shape=(None, 1, 1, 3), seed=5)(x)
    x = Reshape((48, -1))(Conv2D(2, 3, strides=3)(x))
    x = Flatten()(BatchNormalization(scale=False)(Softmax()(ReLU()(Dense(4)(x)))))
    model = Model(inp, Dense(3, activation="softmax")(x), seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(_x((9, 8, 3), 8), np.arange(8) % 3, epochs=1, verbose=0)
    return model


@pytest.mark.parametrize(
    "build", [zoo.lecture, zoo.lenet, zoo.article, xcnn_branching, xcnn_new_layers], ids=lambda f: f.__name__
)
def test_xcnn_saved_keras_file_loads_in_keras_and_predicts_the_same(tmp_path, build):
    model = build(seed=0, augment=2) if build in (zoo.lecture, zoo.lenet, zoo.article) else build()
    model.save(tmp_path / "m.keras")
    kmodel = keras.saving.load_model(tmp_path / "m.keras")
    x = _x(model.input_shape[1:])
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x), **TOL)
    _assert_same_frozen_layers(model, kmodel)
    # and back: Keras's own save of it loads in xcnn
    kmodel.save(tmp_path / "k.keras")
    again = xcnn.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(again.predict(x), model.predict(x), **TOL)
    _assert_same_frozen_layers(again, kmodel)


def test_float64_models_stay_float64_both_ways(tmp_path):
    model = zoo.lenet(seed=0, dtype="float64")
    model.save(tmp_path / "m.keras")
    kmodel = keras.saving.load_model(tmp_path / "m.keras")
    assert kmodel.layers[0].dtype == "float64"
    x = _x(model.input_shape[1:]).astype("float64")
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x), **TOL)
    kmodel.save(tmp_path / "k.keras")
    loaded = xcnn.load_model(tmp_path / "k.keras")
    assert loaded.dtype == "float64"
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-12)


@pytest.mark.parametrize("build", [keras_add_concatenate, keras_new_layers], ids=lambda f: f.__name__)
def test_weights_h5_both_ways(tmp_path, build):
    kmodel = _randomize_batch_norm(build())
    xmodel = xcnn.load_model(_saved(kmodel, tmp_path / "m.keras"))  # the same architecture, in xcnn
    x = _x(kmodel.input_shape[1:])
    fresh = _randomize_batch_norm(build(), seed=1)  # other weights, other layer names
    assert np.abs(fresh.predict(x, verbose=0) - kmodel.predict(x, verbose=0)).max() > 1e-3
    xmodel.save_weights(tmp_path / "x.weights.h5")
    fresh.load_weights(tmp_path / "x.weights.h5")  # xcnn -> Keras
    np.testing.assert_allclose(fresh.predict(x, verbose=0), kmodel.predict(x, verbose=0), **TOL)

    other = xcnn.load_model(_saved(_randomize_batch_norm(build(), seed=2), tmp_path / "o.keras"))
    kmodel.save_weights(tmp_path / "k.weights.h5")
    other.load_weights(tmp_path / "k.weights.h5")  # Keras -> xcnn
    np.testing.assert_allclose(other.predict(x), kmodel.predict(x, verbose=0), **TOL)


def _saved(kmodel, path):
    kmodel.save(path)
    return path


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: keras.Sequential([keras.Input((3, 8, 8)), L.Conv2D(2, 3, data_format="channels_first")]),
            r"Keras layer 'conv2d.*' \(Conv2D\) cannot be converted: data_format='channels_first' is not supported",
        ),
        (
            lambda: keras.Sequential([keras.Input((8, 8, 3)), L.GaussianDropout(0.1)]),
            r"Keras layer 'gaussian_dropout.*' \(GaussianDropout\) cannot be converted: xcnn has no GaussianDropout layer",
        ),
        (
            lambda: keras.Sequential([keras.Input((8,)), L.PReLU(alpha_constraint=keras.constraints.NonNeg())]),
            r"Keras layer 'p_re_lu.*' \(PReLU\) cannot be converted: alpha_constraint=.* is not supported",
        ),
        (
            lambda: keras.Sequential([keras.Input((8,)), L.Dense(2, activation="celu")]),
            r"Keras layer 'dense.*' \(Dense\) cannot be converted: activation 'celu' is not one of",
        ),
        (
            lambda: keras.Sequential([keras.Input((8, 8, 3)), L.Conv2DTranspose(2, 3, strides=2, output_padding=1)]),
            r"Keras layer 'conv2d_transpose.*' \(Conv2DTranspose\) cannot be converted: output_padding must be None",
        ),
        (
            lambda: keras.Sequential([keras.Input((8, 8, 3)), L.UpSampling2D(interpolation="bilinear")]),
            r"Keras layer 'up_sampling2d.*' \(UpSampling2D\) cannot be converted: interpolation must be 'nearest'",
        ),
        (
            lambda: keras.Sequential([keras.Input((8, 8, 3)), L.BatchNormalization(axis=1)]),
            r"Keras layer 'batch_normalization.*' \(BatchNormalization\) cannot be converted: axis=1 is not supported",
        ),
    ],
)
def test_keras_files_xcnn_cannot_map_are_refused(tmp_path, build, message):
    path = _saved(build(), tmp_path / "m.keras")
    with pytest.raises(ValueError, match=message):
        xcnn.load_model(path)


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("name", [a.name for a in converters.ACTIVATIONS.values() if a.keras])
def test_onnx_nodes_of_each_keras_activation_match_keras(name, layout):
    """Each activation's ONNX nodes against Keras's function of the same name, on images stored
    either way (softmax and log_softmax run over the channels). This checks the entries of
    activations xcnn's branch may not have yet, too."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from xcnn.interop.onnx_export import OnnxGraph, Tensor

    entry = converters.ACTIVATIONS[name]
    g = OnnxGraph("float32")
    x = Tensor("input", (5, 6, 4), "nhwc")
    activation = SimpleNamespace(name=name, kwargs=dict(entry.keras_kwargs), get_config=lambda: name)
    proto = g.model(name, x, entry.onnx(g, g.layout(x, layout), activation, None))
    data = _x((5, 6, 4), seed=3) * 4.0
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = keras.ops.convert_to_numpy(keras.activations.get(entry.keras)(data))
    np.testing.assert_allclose(session.run(None, {"input": data})[0], expected, rtol=2e-6, atol=2e-6)
