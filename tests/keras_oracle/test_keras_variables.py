"""Weights as Keras's variables (`model.weights`, `trainable_weights`, `layer.kernel`,
`Variable.numpy`/`assign`) and `layer.input`, against Keras itself (torch backend)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import xcnn
from xcnn.layers.variable import Variable


def _pair(lib, **options):
    """The same stack of weighted layers in Keras (lib=keras) or xcnn (lib=xcnn)."""
    L = lib.layers
    layers = [
        lib.Input((8, 8, 2)),
        L.Conv2D(3, 3, padding="same", name="conv"),
        L.DepthwiseConv2D(3, name="depthwise"),
        L.SeparableConv2D(2, 3, name="separable"),
        L.PReLU(name="prelu"),
        L.Conv2DTranspose(2, 3, name="transpose"),
        L.BatchNormalization(name="norm"),
        L.LayerNormalization(name="layer_norm"),
        L.Flatten(name="flat"),
        L.Dense(3, name="out"),
    ]
    return lib.Sequential(layers, **options)


X = np.random.default_rng(0).normal(size=(4, 8, 8, 2)).astype("float32")


@pytest.fixture
def twins():
    kmodel = _pair(keras)
    model = _pair(xcnn, seed=0)
    model.set_weights(kmodel.get_weights())
    return kmodel, model


def _described(variables):
    return [(w.name, tuple(w.shape), bool(w.trainable)) for w in variables]


def test_model_weights_list_what_keras_lists_in_its_order(twins):
    kmodel, model = twins
    for attribute in ("weights", "trainable_weights", "non_trainable_weights", "variables", "trainable_variables"):
        assert _described(getattr(model, attribute)) == _described(getattr(kmodel, attribute)), attribute
    for got, expected in zip(model.weights, kmodel.weights):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
        np.testing.assert_array_equal(np.asarray(got), expected.numpy())
    # a frozen layer's trained weights move to the non-trainable list, as in Keras
    kmodel.get_layer("norm").trainable = model.get_layer("norm").trainable = False
    assert _described(model.trainable_weights) == _described(kmodel.trainable_weights)
    assert _described(model.non_trainable_weights) == _described(kmodel.non_trainable_weights)


def test_layer_weights_by_name_are_keras_variables(twins):
    kmodel, model = twins
    for layer in model.layers:
        klayer = kmodel.get_layer(layer.name)
        assert _described(layer.weights) == _described(klayer.weights), layer.name
        for w in klayer.weights:  # layer.kernel, layer.bias, layer.moving_mean, ...
            np.testing.assert_array_equal(getattr(layer, w.name).numpy(), w.numpy())
    assert model.get_layer("conv").kernel.path == "conv/kernel"
    assert repr(model.get_layer("out").bias) == "<Variable path=out/bias, shape=(3,), dtype=float32>"
    with pytest.raises(AttributeError, match="'Flatten' object has no attribute 'kernel'"):
        getattr(model.layers[-2], "kernel")  # noqa: B009
    with pytest.raises(AttributeError, match="'Conv2D' object has no attribute 'kernal'"):
        getattr(model.get_layer("conv"), "kernal")  # noqa: B009


def test_assign_changes_the_model_as_keras_assign_does(twins):
    kmodel, model = twins
    rng = np.random.default_rng(1)
    for name in ("kernel", "bias"):
        value = rng.normal(size=getattr(kmodel.get_layer("conv"), name).shape).astype("float32")
        getattr(kmodel.get_layer("conv"), name).assign(value)
        getattr(model.get_layer("conv"), name).assign(value)
    delta = rng.normal(size=(3,)).astype("float32")
    kmodel.get_layer("out").bias.assign_add(delta)
    model.get_layer("out").bias.assign_add(delta)
    kmodel.get_layer("norm").moving_mean.assign_sub(np.full(2, 0.5, "float32"))
    model.get_layer("norm").moving_mean.assign_sub(np.full(2, 0.5, "float32"))
    np.testing.assert_allclose(model.predict(X, verbose=0), kmodel.predict(X, verbose=0), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"weight 'kernel' of layer conv must have shape \(3, 3, 2, 3\), got \(3, 3\)"):
        model.get_layer("conv").kernel.assign(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"weight out/bias has shape \(3,\), got a value of shape \(2,\)"):
        model.get_layer("out").bias.assign_add([1.0, 2.0])


def test_layer_input_is_what_it_was_called_on_as_in_keras():
    inputs = xcnn.Input((6, 6, 1))
    a = xcnn.layers.Conv2D(2, 3, padding="same")(inputs)
    b = xcnn.layers.Conv2D(2, 1)(inputs)
    add = xcnn.layers.Add()
    add([a, b])
    assert a.layer.input is inputs and a.layer.input.shape == (None, 6, 6, 1)
    assert add.input[0] is a and add.input[1] is b
    for lib in (keras, xcnn):  # a layer not called yet has none, in either library
        with pytest.raises(AttributeError, match="'Dense' object has no attribute 'input'"):
            getattr(lib.layers.Dense(2), "input")  # noqa: B009


def test_variables_of_every_backend_read_and_assign_on_its_device(backend):
    model = xcnn.Sequential([xcnn.Input((5, 5, 2)), xcnn.layers.Conv2D(3, 3, name="conv")], backend=backend, seed=0)
    kernel = model.get_layer("conv").kernel
    assert isinstance(kernel, Variable) and kernel.shape == (3, 3, 2, 3) and kernel.ndim == 4
    assert xcnn.backend.backend_of(kernel.value) == backend  # a view on the model's backend, not a host copy
    value = np.arange(54, dtype="float32").reshape(3, 3, 2, 3)
    kernel.assign(value)
    np.testing.assert_array_equal(kernel.numpy(), value)
    np.testing.assert_array_equal(model.get_weights()[0], value)
    np.testing.assert_array_equal(xcnn.backend.to_numpy(kernel.value), value)
