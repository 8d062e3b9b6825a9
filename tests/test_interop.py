"""Interop without Keras: the converter registry, save/load by file name, weights files in both
formats, ONNX export checked in onnxruntime, `xcnn export`, and every refusal's sentence.

Round trips against Keras itself are in tests/keras_oracle/test_keras_interop.py, and here for
the layers of :func:`_merging_and_more` (skipped where Keras is not installed).
"""

import os

import numpy as np
import pytest

import xcnn
from xcnn import activations, zoo
from xcnn.interop import converters
from xcnn.layers import (
    ELU,
    LAYER_CLASSES,
    Activation,
    Add,
    Average,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Conv2DTranspose,
    Cropping2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Identity,
    Input,
    Layer,
    LayerNormalization,
    LeakyReLU,
    Maximum,
    MaxPooling2D,
    Minimum,
    Multiply,
    Permute,
    PReLU,
    RandomFlip,
    RandomRotation,
    RandomZoom,
    RandomContrast,
    Resizing,
    CenterCrop,
    RandomCrop,
    RandomBrightness,
    Normalization,
    RandomTranslation,
    ReLU,
    Rescaling,
    Reshape,
    SeparableConv2D,
    Softmax,
    SpatialDropout2D,
    Subtract,
    SyncBatchNormalization,
    UpSampling2D,
    ZeroPadding2D,
)
from xcnn.models import Model, Sequential, load_model


def _with_moving_statistics(model, seed=0):
    """Give every BatchNormalization non-trivial moving statistics and beta (else it is nearly
    the identity), every PReLU non-zero slopes (its default alpha is zero), and every
    LayerNormalization a gamma and beta away from ones and zeros (else a wrong weight layout
    would not show)."""
    rng = np.random.default_rng(seed)

    def random(shape, low, high):
        return xcnn.backend.asarray(rng.uniform(low, high, shape), model.backend, model.dtype)

    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            c = layer.state["moving_mean"].shape[0]
            layer.state["moving_mean"] = random(c, -1, 1)
            layer.state["moving_variance"] = random(c, 0.5, 2)
            if "beta" in layer.params:
                layer.params["beta"] = random(c, -1, 1)
        if isinstance(layer, PReLU):
            layer.params["alpha"] = random(tuple(layer.params["alpha"].shape), 0.1, 0.6)
        if isinstance(layer, LayerNormalization):
            for name, (low, high) in (("gamma", (0.5, 2)), ("beta", (-1, 1))):
                if name in layer.params:
                    layer.params[name] = random(tuple(layer.params[name].shape), low, high)
    return model


def keras_mappable_model(seed=0):
    """A functional model of every layer kind Keras files hold: branches, merges, BN on images and vectors."""
    inp = Input((8, 8, 3))
    t = RandomTranslation(0.25, 0.25)(inp)
    a = Conv2D(6, 3, padding="same", activation="relu")(t)
    b = BatchNormalization()(a)
    c = Add()([a, b])
    d = Conv2D(6, (1, 3), strides=(1, 1), padding="same", activation="elu")(c)
    e = Concatenate()([c, d])
    f = MaxPooling2D(3, strides=2, padding="same")(e)
    g = AveragePooling2D(2, strides=1, padding="same")(f)
    h = Activation("tanh")(g)
    i = Dropout(0.5)(h)
    j = Flatten()(i)
    k = Dense(8, activation="relu")(j)
    m = BatchNormalization()(k)
    out = Dense(3, activation="softmax")(Dropout(0.25)(m))
    return _with_moving_statistics(Model(inp, out, seed=seed))


def _new_layers(x):
    """The layers of issue #14 on images ``x``: activation layers, reshaping, depthwise, separable,
    transposed, dilated and grouped convolutions, BatchNormalization without beta or gamma,
    augmentation, Dropout with noise_shape and seed, and a frozen Conv2D named "frozen", each
    with arguments away from their defaults where Keras files can hold them. Returns a vector."""
    x = RandomRotation((-0.1, 0.2), fill_mode="nearest", seed=4)(
        RandomFlip("horizontal", seed=3)(Rescaling(0.5, 0.1)(x))
    )
    x = RandomZoom((-0.2, 0.3), 0.1, fill_mode="constant", interpolation="nearest", fill_value=0.5)(x)
    x = RandomContrast((0.2, 0.5), value_range=(0, 1), seed=6)(x)
    x = Resizing(x.shape[1] + 3, x.shape[2] - 1)(x)
    x = Resizing(x.shape[1] - 3, x.shape[2] + 1, interpolation="nearest")(x)
    h, w = x.shape[1:3]
    x = RandomBrightness((-0.1, 0.3), value_range=(-1, 2), seed=7)(CenterCrop(h + 1, w - 2)(x))  # grown: resized
    x = RandomCrop(h - 3, w - 4, seed=8)(CenterCrop(h - 1, w - 2)(x))  # at inference: its window resized
    x = Resizing(h, w)(x)
    normalization = Normalization(axis=(1, 3))
    normalization.adapt(np.random.default_rng(9).normal(0.5, 2.0, (8, *x.item_shape)))  # weights from adapt
    x = Normalization(mean=[0.1, -0.2, 0.3], variance=[2.0, 0.5, 1.0], invert=True)(normalization(x))
    x = Conv2D(6, 3, padding="same", dilation_rate=2, groups=3)(x)
    x = ZeroPadding2D(((1, 0), (0, 2)))(x)  # on NCHW in ONNX (every_kind_model pads NHWC too)
    x = DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)  # 12 channels
    x = SeparableConv2D(4, 3, depth_multiplier=2, dilation_rate=(1, 2), activation="tanh")(x)
    x = BatchNormalization(center=False)(x)
    x = UpSampling2D((1, 2))(x)
    x = Conv2DTranspose(5, 3, strides=2, padding="same")(x)
    x = Conv2DTranspose(3, (1, 2), strides=(1, 3))(x)  # a stride beyond the kernel: ONNX's output_padding
    x = ReLU(max_value=0.8, negative_slope=0.1, threshold=0.05)(x)
    x = PReLU(shared_axes=[1, 2])(LeakyReLU(0.2)(ELU(0.7)(x)))
    x = Softmax(axis=1)(PReLU()(x))  # over the rows of images
    x = Dropout(0.3, noise_shape=(None, 1, 1, 3), seed=5)(x)
    frozen = Conv2D(2, 3, strides=3, name="frozen")
    frozen.trainable = False
    x = Reshape((48, -1))(frozen(x))  # from images: the values in NHWC order
    x = Softmax()(ReLU()(Dense(4)(x)))
    return Flatten()(BatchNormalization(scale=False)(x))


def new_layers_model(seed=0):
    """:func:`_new_layers` alone: every layer of it maps to Keras."""
    inp = Input((9, 8, 3))
    return _with_moving_statistics(Model(inp, Dense(3, activation="softmax")(_new_layers(inp)), seed=seed))


def _merging_and_more(x):
    """The element-wise merges (broadcast: an image times its channel gate, a vector with images,
    three inputs), Identity, Cropping2D, Permute (of images and of a matrix), SpatialDropout2D,
    GaussianNoise and LayerNormalization (over the channels, all axes, two trailing axes, two
    axes that are not next to each other with Keras's (C, H) weight layout, a vector) on images
    ``x``; in ONNX most of them meet NCHW images, after the convolution. Keras (3.15, torch)
    computes every one of them as xcnn does. Returns a vector."""
    x = GaussianNoise(0.1, seed=6)(Conv2D(4, 3, padding="same")(x))
    squeezed = GlobalAveragePooling2D()(x)
    gate = Reshape((1, 1, 4))(Dense(4, activation="sigmoid")(squeezed))
    gated = Multiply()([x, gate])  # squeeze-and-excitation
    v = Dense(4, activation="tanh")(squeezed)  # (4,): gains its axes right after the batch axis
    diff = Subtract()([Multiply()([gated, v, x]), v])
    mean = Average()([x, gated, v])
    y = Concatenate()([Maximum()([diff, mean, gate]), Minimum()([x, v])])  # 8 channels
    y = Cropping2D(((1, 2), (0, 1)))(SpatialDropout2D(0.3, seed=7)(Identity()(y)))  # (H - 3, W - 1, 8)
    y = LayerNormalization(axis=[1, 2, 3], epsilon=1e-4)(y)
    y = LayerNormalization(axis=[-1, 1])(y)  # H and C: ONNX's reductions; weights (C, H) reshaped
    y = LayerNormalization(axis=[2, 3], center=False)(Permute((2, 1, 3))(y))  # W and C
    y = Cropping2D((1, 0))(Permute((3, 1, 2))(y))
    y = Permute((2, 1))(Reshape((-1, 5))(y))
    return LayerNormalization(scale=False)(Dense(6)(Flatten()(y)))


def merging_and_more_model(seed=0):
    """:func:`_merging_and_more` alone: every layer of it maps to Keras."""
    inp = Input((8, 7, 3))
    return _with_moving_statistics(
        Model(inp, Dense(3, activation="softmax")(_merging_and_more(inp)), seed=seed), seed=seed
    )


def every_kind_model(seed=0):
    """Every layer class and every activation xcnn has, in one functional model (the layers of
    :func:`_new_layers` and :func:`_merging_and_more` on branches of their own)."""
    inp = Input((8, 8, 3))
    t = RandomTranslation(0.25, 0.25)(inp)
    a = Conv2D(6, 3, padding="same", activation="relu")(t)
    b = BatchNormalization()(a)
    c = Add()([a, b])
    d = Conv2D(6, 1, activation="prelu")(c)
    e = Concatenate()([c, d])
    f = Activation("maxout")(e)  # 12 channels -> 6
    g = MaxPooling2D(3, strides=2, padding="same")(f)
    h = AveragePooling2D(2, strides=1, padding="same")(g)
    for name in (
        "sigmoid",
        "leaky_relu",
        "elu",
        "softplus",
        "softsign",
        "relun",
        "rrelu",
        "linear",
        "tanh",
        "relu6",
        "selu",
        "gelu",
        "silu",
        "swish",
        "hard_sigmoid",
        "hard_silu",
        "hard_swish",
        "mish",
        "exponential",
        "log_softmax",
    ):
        h = Activation(name)(h)
    step = Activation("step")(Conv2D(6, 1)(g))
    joined = Concatenate(axis=1)([h, step])  # along the height: the layouts must agree
    probabilities = Activation("softmax")(joined)  # over the channels of images
    wide = Dense(5, activation="sigmoid")(Dropout(0.5)(probabilities))  # a Dense on images
    flat = Flatten()(ZeroPadding2D((1, 0))(UpSampling2D((2, 1))(wide)))  # on NHWC in ONNX
    k = SyncBatchNormalization()(Dense(8, activation="relu")(flat))  # in one process: BatchNormalization
    per_image = LayerNormalization(axis=[1, 2])(g)  # H and W of NCHW images: ONNX's op as they are
    pooled = [GlobalAveragePooling2D()(g), Flatten()(GlobalMaxPooling2D(keepdims=True)(per_image))]
    more = _merging_and_more(c)
    out = Dense(3, activation="softmax")(Concatenate()([Dropout(0.25)(k), _new_layers(inp), more, *pooled]))
    return _with_moving_statistics(Model(inp, out, seed=seed))


def _x(model, n=4, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, *model.input_shape[1:])).astype(model.dtype)


# --- the registry -----------------------------------------------------------------------------


def test_every_layer_class_and_activation_has_a_converter():
    assert set(LAYER_CLASSES) <= set(converters.CONVERTERS), "add an entry to xcnn/interop/converters.py"
    assert set(activations.NAMES) <= set(converters.ACTIVATIONS), "add an entry to ACTIVATIONS"
    every_kind = every_kind_model()
    assert {type(layer).__name__ for layer in every_kind.layers} | {"InputLayer"} == set(LAYER_CLASSES)
    used = {layer.activation.name for layer in every_kind.layers if layer.activation is not None}
    assert set(activations.NAMES) <= used <= set(converters.ACTIVATIONS)  # and the activations of ReLU, Softmax, PReLU


def test_keras_weight_group_names_follow_keras_order():
    from xcnn.interop.keras_format import weight_groups

    model = zoo.lenet(seed=0)
    groups = [group for group, _ in weight_groups(model)]
    assert groups == [
        "layers/conv2d",
        "layers/average_pooling2d",
        "layers/conv2d_1",
        "layers/average_pooling2d_1",
        "layers/flatten",
        "layers/dense",
        "layers/dense_1",
        "layers/dense_2",
    ]


# --- save and load by file name -------------------------------------------------------------------


@pytest.mark.parametrize(
    "build", [keras_mappable_model, new_layers_model, merging_and_more_model], ids=lambda f: f.__name__
)
def test_keras_file_round_trip_without_keras(tmp_path, backend, build):
    pytest.importorskip("h5py")
    model = build().to(backend)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path, backend=backend)
    assert loaded.backend == backend
    x = _x(model)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6, atol=1e-7)
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]
    assert [a.name for a in loaded.layers] == [a.name for a in model.layers]
    assert [a.trainable for a in loaded.layers] == [a.trainable for a in model.layers]
    assert [a.get_config() for a in loaded.layers[1:]] == [a.get_config() for a in model.layers[1:]]


@pytest.mark.parametrize("ending", [".weights.h5", ".weights.safetensors"])
def test_weights_round_trip_in_both_formats(tmp_path, ending):
    if ending.endswith(".h5"):
        pytest.importorskip("h5py")
    model = keras_mappable_model(seed=0)
    other = keras_mappable_model(seed=1)
    for a, b in zip(other.layers, model.layers):  # layer names differ between the two; the .h5 format ignores them
        a.name = b.name
    x = _x(model)
    assert np.abs(other.predict(x) - model.predict(x)).max() > 1e-3
    path = tmp_path / f"m{ending}"
    model.save_weights(path)
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-6, atol=1e-7)


def test_load_weights_reads_a_whole_model_file_and_checks_shapes(tmp_path):
    model = zoo.lecture(seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.save(tmp_path / "m.safetensors")
    other = zoo.lecture(seed=1)
    for a, b in zip(other.layers, model.layers):
        a.name = b.name
    other.load_weights(tmp_path / "m.safetensors")
    x = _x(model)
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-6)
    wrong = zoo.lecture(seed=1, classes=7)
    for a, b in zip(wrong.layers, model.layers):
        a.name = b.name
    with pytest.raises(ValueError, match=r"has shape \(64, 10\), the model needs \(64, 7\)"):
        wrong.load_weights(tmp_path / "m.safetensors")


def test_keras_weights_of_another_architecture_are_refused(tmp_path):
    pytest.importorskip("h5py")
    zoo.lecture(seed=0).save_weights(tmp_path / "m.weights.h5")
    other = zoo.lecture(seed=1, classes=7)
    before = other.get_weights()
    with pytest.raises(
        ValueError,
        match=r"weight 'kernel' of layer '.*' has shape \(64, 10\) in Keras's layout, "
        r"the model needs \(64, 7\)",
    ):
        other.load_weights(tmp_path / "m.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))  # nothing changed
    longer = Sequential(
        [
            Input((28, 28, 1)),
            Conv2D(9, 3, padding="same"),
            MaxPooling2D(2),
            Flatten(),
            Dense(64),
            Dense(10),
            Dense(10, name="extra"),
        ]
    )
    with pytest.raises(ValueError, match=r"has no weights for layer 'extra' \(group layers/dense_2\)"):
        longer.load_weights(tmp_path / "m.weights.h5")
    shorter = Sequential([Input((28, 28, 1)), Conv2D(9, 3, padding="same"), MaxPooling2D(2), Flatten(), Dense(64)])
    with pytest.raises(ValueError, match=r"holds weights for layers the model does not have: \['dense_1'\]"):
        shorter.load_weights(tmp_path / "m.weights.h5")


def test_file_names_that_name_no_format_are_refused(tmp_path):
    model = zoo.lecture(seed=0)
    with pytest.raises(
        ValueError,
        match=r"cannot tell the format from the file name '.*m\.h5': end it with "
        r"\.safetensors .* or \.keras",
    ):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"cannot tell the weights format from the file name '.*m\.npz'"):
        model.save_weights(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"cannot tell the weights format from the file name '.*m\.bin'"):
        model.load_weights(tmp_path / "m.bin")
    with pytest.raises(ValueError, match=r"extra= is stored only in xcnn's \.safetensors format"):
        model.save(tmp_path / "m.keras", extra={"epoch": 1})
    with pytest.raises(ValueError, match="format must be 'onnx'"):
        model.export(tmp_path / "m", format="tf_saved_model")


# --- refusals of what Keras files cannot hold, or xcnn cannot read -------------------------------


def _keras_sequential(layer):
    return {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_shape": [None, 8, 8, 3], "dtype": "float32", "name": "in"},
                },
                layer,
            ],
        },
    }


@pytest.mark.parametrize(
    "layer, message",
    [
        (
            {
                "class_name": "Conv2D",
                "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "data_format": "channels_first"},
            },
            (
                r"Keras layer 'c' \(Conv2D\) cannot be converted: data_format='channels_first' is not supported "
                r"\(xcnn's Conv2D computes as data_format='channels_last'\)"
            ),
        ),
        (
            {"class_name": "LSTM", "config": {"name": "l", "units": 3}},
            r"Keras layer 'l' \(LSTM\) cannot be converted: xcnn has no LSTM layer",
        ),
        (
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_constraint": {"class_name": "Halve"}}},
            r"Keras layer 'd' \(Dense\) cannot be converted: constraint 'Halve' is not one of Keras's \['MaxNorm'",
        ),
        (
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "bells": 1}},
            r"Keras layer 'd' \(Dense\) cannot be converted: argument bells=1 has no xcnn equivalent",
        ),
        (
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "celu"}},
            r"Keras layer 'd' \(Dense\) cannot be converted: activation 'celu' is not one of",
        ),
        (
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "dtype": "mixed_float16"}},
            r"layer 'd' cannot be converted: dtype 'mixed_float16' is not float32 or float64",
        ),
        (
            {"class_name": "BatchNormalization", "config": {"name": "b", "axis": 1}},
            r"Keras layer 'b' \(BatchNormalization\) cannot be converted: axis=1 is not supported",
        ),
        (
            {
                "class_name": "RandomTranslation",
                "config": {"name": "r", "height_factor": 0.1, "width_factor": 0.1, "fill_mode": "reflect"},
            },
            r"Keras layer 'r' \(RandomTranslation\) cannot be converted: fill_mode='reflect' is not supported",
        ),
        (
            {"class_name": "LayerNormalization", "config": {"name": "n", "rms_scaling": True}},
            r"Keras layer 'n' \(LayerNormalization\) cannot be converted: rms_scaling=True is not supported "
            r"\(xcnn's LayerNormalization computes as rms_scaling=False\)",
        ),
        (
            {"class_name": "PReLU", "config": {"name": "p", "alpha_constraint": {"class_name": "NonNeg"}}},
            r"Keras layer 'p' \(PReLU\) cannot be converted: alpha_constraint=.* is not supported",
        ),
        (
            {"class_name": "Cropping2D", "config": {"name": "c", "cropping": 1, "data_format": "channels_first"}},
            r"Keras layer 'c' \(Cropping2D\) cannot be converted: data_format must be 'channels_last' or None",
        ),
        (
            {"class_name": "SpatialDropout2D", "config": {"name": "s", "rate": 0.5, "data_format": "channels_first"}},
            r"Keras layer 's' \(SpatialDropout2D\) cannot be converted: data_format must be 'channels_last' or None",
        ),
    ],
)
def test_keras_configs_xcnn_cannot_map_are_refused(layer, message):
    from xcnn.interop.keras_format import model_from_keras_config

    with pytest.raises(ValueError, match=message):
        model_from_keras_config(_keras_sequential(layer))


@pytest.mark.parametrize(
    "activation",
    ["step", "maxout", "prelu", "rrelu", {"name": "relun", "n": 3.0}, {"name": "leaky_relu", "negative_slope": 0.1}],
)
def test_activations_keras_lacks_are_refused_when_writing(tmp_path, activation):
    pytest.importorskip("h5py")
    model = Sequential([Conv2D(4, 3, activation=activation, input_shape=(8, 8, 3))])
    with pytest.raises(
        ValueError,
        match=r"layer 'conv2d.*' \(Conv2D\) cannot be converted: activation .* has no "
        r"Keras equivalent",
    ):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_merging_and_more_round_trip_through_keras(tmp_path):
    """The layers of :func:`_merging_and_more` against Keras 3 itself (skipped without it): an
    xcnn-saved ``.keras`` file predicts the same in Keras, Keras's own save of it loads in xcnn
    and predicts the same, and ``.weights.h5`` files go both ways (LayerNormalization's gamma and
    beta in Keras's layout, also for ``axis=[-1, 1]``)."""
    pytest.importorskip("h5py")
    os.environ.setdefault("KERAS_BACKEND", "torch")  # as tests/keras_oracle does
    keras = pytest.importorskip("keras")
    model = merging_and_more_model()
    x = _x(model, 5)
    model.save(tmp_path / "m.keras")
    kmodel = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x), rtol=1e-5, atol=1e-6)
    kmodel.save(tmp_path / "k.keras")
    again = load_model(tmp_path / "k.keras")
    assert [type(a).__name__ for a in again.layers] == [type(a).__name__ for a in model.layers]
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6, atol=1e-7)

    other = merging_and_more_model(seed=1)
    assert np.abs(other.predict(x) - model.predict(x)).max() > 1e-3
    kmodel.save_weights(tmp_path / "k.weights.h5")
    other.load_weights(tmp_path / "k.weights.h5")  # Keras -> xcnn
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-6, atol=1e-7)
    fresh = keras.saving.load_model(tmp_path / "k.keras")
    fresh.set_weights([np.zeros_like(w) for w in fresh.get_weights()])
    model.save_weights(tmp_path / "x.weights.h5")
    fresh.load_weights(tmp_path / "x.weights.h5")  # xcnn -> Keras
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x), rtol=1e-5, atol=1e-6)


def test_frozen_keras_layers_stay_frozen():
    from xcnn.interop.keras_format import keras_model_config, model_from_keras_config

    config = _keras_sequential(
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "trainable": False}}
    )
    model = model_from_keras_config(config)
    assert model.get_layer("c").trainable is False
    assert keras_model_config(model)["config"]["layers"][1]["config"]["trainable"] is False


def test_keras_graphs_xcnn_cannot_hold_are_refused():
    from xcnn.interop.keras_format import model_from_keras_config

    fixed = _keras_sequential({"class_name": "Flatten", "config": {"name": "f"}})
    fixed["config"]["layers"][0]["config"]["batch_shape"] = [8, 8, 8, 3]
    with pytest.raises(ValueError, match=r"batch_shape=\[8, 8, 8, 3\] fixes the batch size"):
        model_from_keras_config(fixed)

    def tensor(name):
        return {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "keras_history": [name, 0, 0]}}

    layers = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}, "inbound_nodes": []},
        {
            "class_name": "Dense",
            "config": {"name": "a", "units": 2},
            "inbound_nodes": [{"args": [tensor("in")], "kwargs": {}}],
        },
        {
            "class_name": "Dense",
            "config": {"name": "b", "units": 2},
            "inbound_nodes": [{"args": [tensor("in")], "kwargs": {}}],
        },
    ]
    two_outputs = {
        "class_name": "Functional",
        "config": {
            "name": "m",
            "layers": layers,
            "input_layers": [["in", 0, 0]],
            "output_layers": [["a", 0, 0], ["b", 0, 0]],
        },
    }
    with pytest.raises(ValueError, match=r"it has 2 outputs \(xcnn models have one\)"):
        model_from_keras_config(two_outputs)
    layers[2]["inbound_nodes"].append({"args": [tensor("a")], "kwargs": {}})
    with pytest.raises(ValueError, match=r"Keras layer 'b' \(Dense\) cannot be converted: it is called 2 times"):
        model_from_keras_config(two_outputs)


def test_custom_activations_are_refused(tmp_path):
    pytest.importorskip("onnx")

    def cube(x):
        return x * x * x

    model = Sequential([Dense(3, activation=(cube, lambda dy, x, y: 3 * x * x * dy), input_shape=(4,), name="d")])
    with pytest.raises(
        ValueError, match=r"layer 'd' \(Dense\) cannot be converted: activation 'cube' has no converter"
    ):
        model.export(tmp_path / "m.onnx")


class Doubling(Layer):
    def call(self, x, training):
        return x * 2.0


def test_a_layer_without_converter_is_refused(tmp_path):
    pytest.importorskip("onnx")
    model = Sequential([Input((4,)), Doubling(name="twice")])
    with pytest.raises(ValueError, match=r"layer 'twice' \(Doubling\) cannot be converted: it has no converter"):
        model.export(tmp_path / "m.onnx")


# --- ONNX -------------------------------------------------------------------------------------------


def _onnx_outputs(path, x):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("name", sorted({f.__name__ for f in zoo.MODELS.values()}))
def test_onnx_export_of_every_zoo_net_matches_predict(tmp_path, name):
    pytest.importorskip("onnx")
    model = zoo.get(name, seed=0, augment=2)
    model.export(tmp_path / "m.onnx", format="onnx")
    for n in (1, 5):  # the batch axis is dynamic
        x = _x(model, n)
        np.testing.assert_allclose(_onnx_outputs(tmp_path / "m.onnx", x), model.predict(x), rtol=1e-5, atol=1e-5)


def test_onnx_export_of_every_layer_kind_matches_predict(tmp_path):
    onnx = pytest.importorskip("onnx")
    model = every_kind_model()
    model.export(tmp_path / "m.onnx")
    x = _x(model, 6)
    np.testing.assert_allclose(_onnx_outputs(tmp_path / "m.onnx", x), model.predict(x), rtol=1e-5, atol=1e-5)
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert [d.dim_param for d in graph.input[0].type.tensor_type.shape.dim][:1] == ["batch"]
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim][1:] == [8, 8, 3]  # NHWC
    # into NCHW for the convolutions and back for the Dense on images, and the same on the
    # branch of _new_layers (its first convolution follows Rescaling; Reshape wants NHWC), for
    # the Flatten after the global max pool that keeps its (1, 1) image, for the channel gate
    # of _merging_and_more (a Reshape's NHWC (1, 1, 4) meeting NCHW images), and the three
    # Permutes of _merging_and_more, each one Transpose
    assert [n.op_type for n in graph.node].count("Transpose") == 5 + 1 + 3


def test_onnx_export_of_each_layer_output_matches_predict(tmp_path):
    """Each layer's ONNX nodes alone: the model cut after each layer, so that a mistake in one
    layer cannot be hidden by the layers after it (a softmax, a pooling)."""
    pytest.importorskip("onnx")
    model = every_kind_model()
    x = _x(model, 3)
    for layer in model.layers[1:]:
        head = Model(model.layers[0].output, layer.output)
        head.export(tmp_path / f"{layer.name}.onnx")
        expected = head.predict(x)
        assert np.abs(expected).max() > 1e-2, layer.name  # values that can show a mistake
        np.testing.assert_allclose(
            _onnx_outputs(tmp_path / f"{layer.name}.onnx", x), expected, rtol=1e-5, atol=1e-6, err_msg=layer.name
        )


def test_onnx_export_of_a_keras_file_model(tmp_path, backend):
    pytest.importorskip("onnx")
    pytest.importorskip("h5py")
    model = keras_mappable_model()
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", backend=backend)
    loaded.export(tmp_path / "m.onnx")
    x = _x(model)
    np.testing.assert_allclose(_onnx_outputs(tmp_path / "m.onnx", x), model.predict(x), rtol=1e-5, atol=1e-5)


def test_cli_export_converts_to_onnx_and_keras(tmp_path, capsys):
    pytest.importorskip("onnx")
    pytest.importorskip("h5py")
    from xcnn.cli import main

    model = zoo.lenet(seed=0)
    model.save(tmp_path / "m.safetensors")
    assert main(["export", str(tmp_path / "m.safetensors"), str(tmp_path / "m.onnx")]) == 0
    assert main(["export", str(tmp_path / "m.safetensors"), str(tmp_path / "m.keras")]) == 0
    x = _x(model)
    np.testing.assert_allclose(_onnx_outputs(tmp_path / "m.onnx", x), model.predict(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(load_model(tmp_path / "m.keras").predict(x), model.predict(x), rtol=1e-6)
    assert main(["export", str(tmp_path / "m.safetensors"), str(tmp_path / "m.pb")]) == 1
    assert "cannot tell the format from" in capsys.readouterr().err
