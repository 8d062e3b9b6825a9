"""Calling layers and models as Keras scripts do: symbolic shapes with the batch axis, eager
calls on arrays, a Sequential wired into a functional graph, activation layers as
`activation=`, validation data as a list; each against Keras 3 where Keras has it."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import xcnn  # noqa: E402
from xcnn import layers  # noqa: E402

RNG = np.random.default_rng(0)


def test_symbolic_shapes_have_the_batch_axis_first_as_in_keras():
    ours, theirs = xcnn.Input((28, 28, 1)), keras.Input((28, 28, 1))
    assert ours.shape == tuple(theirs.shape) == (None, 28, 28, 1)
    ours_conv = layers.Conv2D(4, 3)(ours)
    theirs_conv = keras.layers.Conv2D(4, 3)(theirs)
    assert ours_conv.shape == tuple(theirs_conv.shape) == (None, 26, 26, 4)
    # the idiom that reads it: reshape to the shape a layer had, without the batch axis
    flat = layers.Reshape((-1,))(ours_conv)
    back = layers.Reshape(ours_conv.shape[1:])(flat)
    assert back.shape == (None, 26, 26, 4)


def test_a_sequential_called_on_arrays_builds_and_computes_like_keras():
    x = RNG.standard_normal((3, 5)).astype("float32")
    ours = xcnn.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], seed=0)
    theirs = keras.Sequential([keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    out = ours(x)
    theirs(x)
    assert ours.built and out.shape == (3, 2)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    # the same weights predict uses: the call built the model once
    np.testing.assert_allclose(ours.predict(x, verbose=0), ours(x), rtol=1e-6)
    with pytest.raises(ValueError, match="has no layers"):
        xcnn.Sequential()(x)


def test_an_unbuilt_sequential_called_on_a_tensor_wires_its_layers_in():
    block = xcnn.Sequential([layers.Conv2D(4, 3), layers.MaxPooling2D()])
    inputs = xcnn.Input((8, 8, 1))
    model = xcnn.Model(inputs, layers.Dense(2)(layers.Flatten()(block(inputs))), seed=0)
    theirs_block = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.MaxPooling2D()])
    theirs_inputs = keras.Input((8, 8, 1))
    theirs = keras.Model(theirs_inputs, keras.layers.Dense(2)(keras.layers.Flatten()(theirs_block(theirs_inputs))))
    assert model.count_params() == theirs.count_params() == 114
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    model.set_weights(theirs.get_weights())  # the same weights, in the same order
    x = RNG.standard_normal((2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_augmentation_looked_at_first_still_goes_into_the_model():
    # keras.io's "image classification from scratch": show augmented images, then build on them
    augment = xcnn.Sequential([layers.RandomFlip("horizontal", seed=1), layers.RandomRotation(0.1, seed=2)])
    images = RNG.uniform(size=(4, 8, 8, 1)).astype("float32")
    assert augment(images, training=True).shape == images.shape
    np.testing.assert_array_equal(augment(images, training=False), images)
    # without training=, random augmentation layers augment, as Keras's (keras.io plots them so)
    theirs = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    assert not np.allclose(keras.ops.convert_to_numpy(theirs(images)), images)
    assert not np.allclose(augment(images), images)
    assert np.array_equal(xcnn.Sequential([layers.Dropout(0.5)])(images), images)  # Dropout's default: inference
    inputs = xcnn.Input((8, 8, 1))
    outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(augment(inputs)))
    model = xcnn.Model(inputs, outputs)
    assert [type(layer).__name__ for layer in model.layers][1:3] == ["RandomFlip", "RandomRotation"]
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(images, np.array([0, 1, 0, 1]), verbose=0)


def test_a_built_model_is_not_nested_silently():
    model = xcnn.Sequential([xcnn.Input((3,)), layers.Dense(2)])
    with pytest.raises(TypeError, match="nests no models as layers"):
        xcnn.Sequential([model, layers.Softmax()])
    with pytest.raises(TypeError, match="cannot be used as a layer of another model"):
        model(xcnn.Input((3,)))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_layers_called_on_arrays_compute_what_keras_computes(backend):
    x = RNG.uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
    xb = xcnn.backend.asarray(x, backend, "float32")
    scaled = layers.Rescaling(1 / 255, offset=-1)(xb)
    assert xcnn.backend.backend_of(scaled) == backend
    expected = keras.ops.convert_to_numpy(keras.layers.Rescaling(1 / 255, offset=-1)(x))
    np.testing.assert_allclose(xcnn.backend.to_numpy(scaled), expected, rtol=1e-6)
    # uint8 images are taken as float32, as Keras's floatx
    assert layers.Rescaling(1 / 255)(np.full((1, 2), 255, np.uint8)).tolist() == [[1.0, 1.0]]
    # a layer with weights builds them for the arrays, and keeps them
    dense = layers.Dense(3)
    assert dense(np.ones((2, 4), "float32")).shape == (2, 3) and dense.params["kernel"].shape == (4, 3)
    # training= switches dropout on, with Keras's scale 1 / (1 - rate)
    dropped = layers.Dropout(0.5, seed=1)(np.ones((4, 64), "float32"), training=True)
    assert set(np.unique(dropped).tolist()) == {0.0, 2.0}
    assert np.array_equal(layers.Dropout(0.5)(np.ones((2, 3), "float32")), np.ones((2, 3)))
    with pytest.raises(TypeError, match="training= is for calls on arrays"):
        layers.Dense(2)(xcnn.Input((3,)), training=True)
    with pytest.raises(TypeError, match="not a mix of them"):
        layers.Add()([xcnn.Input((3,)), np.ones((1, 3))])


def test_an_activation_layer_as_activation_computes_what_keras_computes(tmp_path):
    x = RNG.standard_normal((2, 6, 6, 1)).astype("float32")
    ours = xcnn.Sequential(
        [
            xcnn.Input((6, 6, 1)),
            layers.Conv2D(3, 3, activation=layers.LeakyReLU(0.1)),
            layers.Flatten(),
            layers.Dense(2, activation=layers.Softmax()),
        ]
    )
    theirs = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(3, 3, activation=keras.layers.LeakyReLU(0.1)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation=keras.layers.Softmax()),
        ]
    )
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "m.safetensors")
    again = xcnn.models.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(TypeError, match="got the layer .* \\(Dense\\): add it after this layer"):
        layers.Dense(2, activation=layers.Dense(3))


def test_validation_data_as_a_list_is_unpacked_as_keras_does():
    x = RNG.standard_normal((8, 3)).astype("float32")
    y = np.arange(8) % 2
    model = xcnn.Sequential([xcnn.Input((3,)), layers.Dense(2, activation="softmax")], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    as_list = model.fit(x, y, validation_data=[x, y], epochs=1, shuffle=False, verbose=0).history
    assert "val_loss" in as_list
    with pytest.raises(ValueError, match="got 1 item$"):
        model.fit(x, y, validation_data=[x], verbose=0)


def test_a_layer_with_weights_on_one_backend_refuses_arrays_of_another():
    pytest.importorskip("torch")
    model = xcnn.Sequential([xcnn.Input((3,)), layers.Dense(2)], backend="torch")
    with pytest.raises(TypeError, match="holds torch weights; call it on torch arrays, got numpy"):
        model.layers[0](np.ones((2, 3), "float32"))


def test_a_feature_extractor_on_a_models_graph_shares_its_weights_as_in_keras():
    x = RNG.standard_normal((2, 6, 6, 1)).astype("float32")
    ours = xcnn.Sequential(
        [xcnn.Input((6, 6, 1)), layers.Conv2D(3, 3, name="features"), layers.Flatten(), layers.Dense(2)]
    )
    theirs = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(3, 3, name="features"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    ours.set_weights(theirs.get_weights())
    extractor = xcnn.Model(ours.input, ours.get_layer("features").output)
    theirs_extractor = keras.Model(theirs.inputs, theirs.get_layer("features").output)
    assert extractor.output_shape == tuple(theirs_extractor.output_shape) == (None, 4, 4, 3)
    assert [t.shape for t in ours.inputs] == [(None, 6, 6, 1)] and ours.outputs[0].shape == (None, 2)
    np.testing.assert_allclose(
        extractor.predict(x, verbose=0), theirs_extractor.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="is not built yet"):
        _ = xcnn.Sequential([layers.Dense(2)]).input


def _subclassed(k):
    class Net(k.Model):
        def __init__(self):
            super().__init__()
            self.conv = k.layers.Conv2D(4, 3, activation="relu")
            self.pool = k.layers.MaxPooling2D()
            self.flat = k.layers.Flatten()
            self.drop = k.layers.Dropout(0.5)
            self.out = k.layers.Dense(3, activation="softmax")

        def call(self, x, training=False):
            return self.out(self.drop(self.flat(self.pool(self.conv(x))), training=training))

    return Net()


def test_a_subclassed_model_is_traced_into_its_graph_and_computes_what_keras_computes(tmp_path):
    x = RNG.standard_normal((4, 8, 8, 1)).astype("float32")
    ours, theirs = _subclassed(xcnn), _subclassed(keras)
    theirs(x)
    assert ours(x).shape == (4, 3)  # traced at the first data
    assert ours.name.startswith("net") and ours.count_params() == theirs.count_params() == 151
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    # the dropout follows the model: on in training mode, off in inference
    assert [type(layer).__name__ for layer in ours.layers][-2] == "Dropout"
    np.testing.assert_array_equal(ours(x), ours(x))
    assert not np.allclose(ours(x, training=True), ours(x))
    ours.compile("sgd", "sparse_categorical_crossentropy")
    ours.fit(x, np.array([0, 1, 2, 0]), verbose=0)
    ours.save(tmp_path / "net.safetensors")
    again = xcnn.models.load_model(tmp_path / "net.safetensors")  # the graph, as a functional model
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)
    built = _subclassed(xcnn)
    built.build((None, 8, 8, 1))
    assert built.output_shape == (None, 3)


def test_a_subclassed_call_that_is_no_graph_of_layers_is_named():
    class Arithmetic(xcnn.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(2), layers.Dense(2)

        def call(self, x):
            return (self.a(x) + self.b(x)) * 2.0  # a + b is an Add layer; a number is not

    with pytest.raises(TypeError, match="model arithmetic: xcnn runs call\\(\\) once on a symbolic Input"):
        Arithmetic().predict(np.ones((2, 3)), verbose=0)

    class Shared(xcnn.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(self.dense(x))

    with pytest.raises(ValueError, match="each applied once .* already used in a model"):
        Shared().predict(np.ones((2, 3)), verbose=0)


def _branched(k):
    layers_ = k.layers
    inputs = k.Input((6, 6, 2))
    one = layers_.Conv2D(3, 1, name="one")(inputs)
    three = layers_.Conv2D(3, 3, padding="same", name="three")(layers_.Conv2D(3, 1, name="reduce3")(inputs))
    five = layers_.Conv2D(3, 3, padding="same", name="five_b")(
        layers_.Conv2D(3, 3, padding="same", name="five_a")(layers_.Conv2D(3, 1, name="reduce5")(inputs))
    )
    joined = layers_.Concatenate(name="joined")([one, three, five, layers_.Conv2D(3, 1, name="late")(one)])
    return k.Model(inputs, layers_.Dense(2, name="out")(layers_.Flatten(name="flat")(joined)))


def test_branched_models_list_layers_and_weights_in_keras_order():
    ours, theirs = _branched(xcnn), _branched(keras)
    assert [layer.name for layer in ours.layers][1:] == [layer.name for layer in theirs.layers][1:]
    # equal-shaped kernels of parallel branches: the flat list must not swap them
    ours.set_weights(theirs.get_weights())
    x = RNG.standard_normal((2, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def test_arithmetic_on_symbolic_tensors_wires_merging_layers_as_keras():
    x = RNG.standard_normal((2, 3)).astype("float32")
    models = []
    for k in (keras, xcnn):
        inputs = k.Input((3,))
        a, b = k.layers.Dense(3)(inputs), k.layers.Dense(3)(inputs)
        models.append(k.Model(inputs, (a + inputs) * b - a))
    theirs, ours = models
    # Keras's arithmetic is ops outside model.layers; xcnn's is merging layers, without weights
    assert {"Add", "Multiply", "Subtract"} <= {type(layer).__name__ for layer in ours.layers}
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="combines only with another layer's output .* layers.Rescaling"):
        _ = xcnn.Input((3,)) * 0.5


def test_a_keras_file_with_a_nested_augmentation_model_loads_written_out(tmp_path):
    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(3, 3, name="conv")(keras.layers.Rescaling(1 / 255)(augment(inputs)))
    theirs = keras.Model(inputs, keras.layers.Dense(2, name="out")(keras.layers.Flatten()(hidden)))
    theirs.save(tmp_path / "augmented.keras")
    ours = xcnn.models.load_model(tmp_path / "augmented.keras")
    kinds = [type(layer).__name__ for layer in ours.layers]
    assert kinds[1:4] == ["RandomFlip", "RandomRotation", "Rescaling"]
    x = RNG.uniform(0, 255, size=(2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    # a nested model with weights has no place in the written-out graph: refused, not misread
    block = keras.Sequential([keras.layers.Dense(3, name="inner")])
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(block(inputs))).save(tmp_path / "block.keras")
    with pytest.raises(ValueError, match="a nested model holds layers with weights \\(inner\\)"):
        xcnn.models.load_model(tmp_path / "block.keras")


def test_a_layers_activation_has_keras_name():
    for name in ("relu", "softmax", "sigmoid"):
        assert (
            layers.Dense(2, activation=name).activation.__name__
            == keras.layers.Dense(2, activation=name).activation.__name__
        )


def test_a_sequential_of_a_models_first_layers_shares_them_as_in_keras():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, 8)

    def transfer(k, by_add):
        k.backend.clear_session()
        base = k.Sequential(
            [k.Input((6, 6, 1)), k.layers.Conv2D(3, 3, name="conv"), k.layers.Flatten(), k.layers.Dense(4)]
        )
        if by_add:
            model = k.Sequential()
            for layer in base.layers[:-1]:
                model.add(layer)
        else:
            model = k.Sequential(base.layers[:-1])
        model.add(k.layers.Dense(3, activation="softmax", name="head"))
        model.predict(x[:1], verbose=0)  # Keras builds the new model here (xcnn has already)
        return base, model

    for by_add in (False, True):
        kbase, kmodel = transfer(keras, by_add)
        base, model = transfer(xcnn, by_add)
        base.set_weights(kbase.get_weights())
        model.get_layer("head").set_weights(kmodel.get_layer("head").get_weights())
        assert [layer.name for layer in model.layers] == [layer.name for layer in kmodel.layers]
        assert model.layers[0] is base.layers[0]  # the same layer objects, so the same weights
        model.layers[0].trainable = kmodel.layers[0].trainable = False
        for m in (model, kmodel):
            m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_allclose(model.predict(x, verbose=0), kmodel.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
        # the base shares what was trained (its Flatten -> Dense stretch is the same weights), in both
        np.testing.assert_allclose(base.predict(x, verbose=0), kbase.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(base.get_weights()[0], kbase.get_weights()[0])  # frozen conv kept
    with pytest.raises(ValueError, match="a Sequential reuses a model's layers only from its input on"):
        xcnn.Sequential(base.layers[1:])
