"""keras.models' functions on whole models (clone_model, save_model, model_from_json and
model.to_json), against Keras itself (torch backend)."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

import xcnn
from xcnn.layers import Add, Conv2D, Dense, Dropout, Flatten, Input
from xcnn.models import Model, Sequential, clone_model, model_from_json, save_model

X = np.random.default_rng(0).uniform(size=(5, 6, 6, 2)).astype("float32")


def _branched(**options):
    inputs = Input((6, 6, 2), name="image")
    left = Conv2D(3, 3, padding="same", name="left")(inputs)
    right = Conv2D(3, 1, name="right")(inputs)
    merged = Add(name="merge")([left, right])
    return Model(inputs, Dense(4, activation="softmax", name="out")(Flatten()(merged)), **options)


def _sequential(**options):
    return Sequential(
        [Input((6, 6, 2)), Conv2D(3, 3, name="c"), Flatten(), Dropout(0.5, name="drop"), Dense(4, name="out")],
        **options,
    )


@pytest.mark.parametrize("build", [_branched, _sequential])
def test_clone_model_has_the_layers_keras_clone_has_and_fresh_weights(build):
    model = build(seed=0, dtype="float64")
    kmodel = keras.models.model_from_json(model.to_json())
    clone, kclone = clone_model(model), keras.models.clone_model(kmodel)
    assert [(type(layer).__name__, layer.name) for layer in clone.layers] == [
        (type(layer).__name__, layer.name) for layer in kclone.layers
    ]
    assert type(clone) is type(model) and not clone.compiled and not kclone.compiled
    assert (clone.backend, clone.dtype, clone.name) == (model.backend, model.dtype, model.name)
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])  # drawn afresh
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))


def test_clone_model_calls_clone_function_on_each_layer_as_keras_does():
    def lower_dropout(layer):
        config = layer.get_config()
        if isinstance(layer, (xcnn.layers.Dropout, keras.layers.Dropout)):
            config["rate"] = 0.1
        return type(layer).from_config(config)

    clone = clone_model(_sequential(seed=0), clone_function=lower_dropout)
    kclone = keras.models.clone_model(
        keras.models.model_from_json(_sequential().to_json()), clone_function=lower_dropout
    )
    assert clone.get_layer("drop").rate == kclone.get_layer("drop").rate == 0.1


def test_clone_model_of_a_sequential_not_yet_built_is_not_built_either():
    model = Sequential([Dense(3), Dense(2)])
    clone = clone_model(model)
    assert not clone.built
    clone.build((None, 4))
    assert clone.output_shape == (None, 2)


def test_clone_model_refuses_what_it_cannot_do():
    class Mine(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ValueError, match="Mine is subclassed"):
        clone_model(Mine())
    with pytest.raises(ValueError, match="input_tensors must be None"):
        clone_model(_sequential(), input_tensors=Input((6, 6, 2)))
    with pytest.raises(TypeError, match="clone_function must return a layer, got str for layer 'c'"):
        clone_model(_sequential(), clone_function=lambda layer: "layer")
    with pytest.raises(TypeError, match="model must be an xcnn Sequential or Model, got list"):
        clone_model([Dense(2)])


@pytest.mark.parametrize("build", [_branched, _sequential])
def test_to_json_and_model_from_json_rebuild_the_model_in_either_library(build):
    model = build(seed=0)
    kmodel = keras.models.model_from_json(model.to_json())
    kmodel.set_weights(model.get_weights())
    np.testing.assert_allclose(kmodel.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    again = model_from_json(kmodel.to_json())
    assert type(again) is type(model) and again.optimizer is None
    again.set_weights(kmodel.get_weights())
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_model_from_json_refuses_bad_text_and_custom_objects():
    with pytest.raises(ValueError, match="json_string is not a model's JSON"):
        model_from_json("{not json")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        model_from_json("[1, 2]")
    with pytest.raises(ValueError, match=r"custom_objects \['Mine'\] cannot be used"):
        model_from_json(_sequential().to_json(), custom_objects={"Mine": object})


@pytest.mark.parametrize("name", ["m.keras", "m.safetensors"])
def test_save_model_writes_what_model_save_writes_and_keeps_an_existing_file_when_asked(tmp_path, name):
    model = _sequential(seed=0)
    path = tmp_path / name
    save_model(model, path)
    loaded = keras.saving.load_model(path) if name.endswith(".keras") else xcnn.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    before = path.read_bytes()
    other = _sequential(seed=1)
    with pytest.raises(FileExistsError, match="exists and overwrite=False"):
        save_model(other, path, overwrite=False)
    with pytest.raises(FileExistsError, match="exists and overwrite=False"):
        other.save(path, overwrite=False)
    assert path.read_bytes() == before
    other.save(path, overwrite=True)
    assert path.read_bytes() != before
    with pytest.raises(ValueError, match="zipped=False"):
        save_model(model, path, zipped=False)
    with pytest.raises(ValueError, match=r"not \['format'\]"):
        save_model(model, path, format="h5")


def test_load_model_puts_a_keras_file_on_the_device_asked_for(tmp_path):
    pytest.importorskip("array_api_strict")
    path = tmp_path / "m.keras"
    _sequential(seed=0).save(path)
    model = xcnn.load_model(path, backend="array_api_strict", device="device1")
    assert str(model.device) == str(xcnn.backend.device_of("array_api_strict", "device1"))
    weights = [w for layer in model.layers for w in layer.params.values()]
    assert weights and all(w.device == model.device for w in weights)


def test_load_model_takes_keras_keyword_arguments(tmp_path):
    path = tmp_path / "m.keras"
    _sequential(seed=0).save(path)
    for safe_mode in (True, False):  # nothing in a file is ever executed, so both load the same
        model = xcnn.load_model(path, compile=False, safe_mode=safe_mode, custom_objects={})
        kmodel = keras.saving.load_model(path, compile=False, safe_mode=safe_mode, custom_objects={})
        np.testing.assert_allclose(model.predict(X, verbose=0), kmodel.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"custom_objects \['f1'\] cannot be used"):
        xcnn.load_model(path, custom_objects={"f1": len})


def test_pop_removes_the_last_layer_as_keras_does():
    for lib in (keras, xcnn):
        lib.backend.clear_session()
    built = {
        lib: lib.Sequential([lib.Input((4,)), lib.layers.Dense(3), lib.layers.Dense(2, name="head")])
        for lib in (keras, xcnn)
    }
    for lib, model in built.items():
        model.pop()
        model.add(lib.layers.Dense(5, name="new_head"))
    assert [layer.name for layer in built[xcnn].layers] == [layer.name for layer in built[keras].layers]
    assert built[xcnn].output_shape == tuple(built[keras].output_shape) == (None, 5)
    unbuilt = xcnn.Sequential([xcnn.layers.Dense(3), xcnn.layers.Dense(2)])
    assert unbuilt.pop().units == 2 and len(unbuilt.pop().get_config()) > 0
    with pytest.raises(TypeError, match="has no layers to pop"):
        unbuilt.pop()


def test_model_names_count_up_and_compiled_and_metrics_names_say_what_keras_scripts_read():
    names = {}
    for lib in (keras, xcnn):
        lib.backend.clear_session()
        names[lib] = [lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)]).name for _ in range(3)]
    assert names[xcnn] == names[keras] == ["sequential", "sequential_1", "sequential_2"]
    # (Keras numbers its functional models after the ones its Sequential models build inside)
    inputs = xcnn.Input((3,))
    assert [xcnn.Model(inputs, xcnn.layers.Dense(2)(inputs)).name for _ in range(2)] == ["functional", "functional_1"]
    model = xcnn.Sequential([xcnn.Input((3,)), xcnn.layers.Dense(2, activation="softmax")])
    assert not model.compiled and model.metrics_names == []
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy", "mae"], weighted_metrics=["accuracy"])
    assert model.compiled
    x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
    before = model.metrics_names
    results = model.evaluate(x, y, verbose=0)
    # the names line up with evaluate's list (Keras 3 lists ["loss", "compile_metrics"] instead)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert before == model.metrics_names == ["loss", "accuracy", "mae", "weighted_accuracy"]
    assert results == [logs[name] for name in model.metrics_names]


def test_the_weights_of_a_model_not_built_are_none_yet_as_in_keras():
    for lib in (keras, xcnn):
        model = lib.Sequential([lib.layers.Dense(2)])
        assert len(model.weights) == len(model.trainable_weights) == len(model.non_trainable_weights) == 0


def test_clone_model_of_a_compiled_model_is_compiled_afresh_as_in_keras():
    def half_error(y_true, y_pred):
        return 0.5 * ((y_true - y_pred) ** 2).sum(axis=-1)

    y = np.eye(4, dtype="float32")[[0, 1, 2, 3, 0]]
    model = _sequential(seed=0)
    model.compile(
        xcnn.optimizers.Adam(0.003, clipnorm=1.0), "categorical_crossentropy", ["mae", xcnn.metrics.AUC(), half_error]
    )
    model.fit(X, y, epochs=1, verbose=0)  # the optimizer and the AUC now hold state
    kmodel = keras.models.model_from_json(_sequential().to_json())
    kmodel.compile(keras.optimizers.Adam(0.003, clipnorm=1.0), "categorical_crossentropy", ["mae", keras.metrics.AUC()])
    kclone = keras.models.clone_model(kmodel)
    clone = clone_model(model)
    assert clone.compiled and kclone.compiled
    assert type(clone.optimizer) is type(model.optimizer) and clone.optimizer is not model.optimizer
    assert clone.optimizer.get_config() == model.optimizer.get_config() and clone.optimizer.iterations == 0
    assert clone.optimizer.iterations == kclone.optimizer.iterations
    assert clone.loss.get_config() == model.loss.get_config()
    history = clone.fit(X, y, epochs=1, verbose=0).history
    assert sorted(history) == ["auc", "half_error", "loss", "mae"]
    assert model.metrics[1] is not clone.metrics[1]  # a Metric of its own, its state not shared


def test_logs_list_their_keys_in_keras_s_order():
    x = np.random.default_rng(2).uniform(size=(8, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[[0, 1] * 4]
    seen = {}
    for lib in (keras, xcnn):

        class Keys(lib.callbacks.Callback):
            library = lib

            def on_train_batch_end(self, batch, logs=None):
                seen.setdefault((self.library, "batch"), list(logs))

            def on_epoch_end(self, epoch, logs=None):
                seen[self.library, "epoch"] = list(logs)

        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["mae", "accuracy"])
        history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0, callbacks=[Keys()])
        seen[lib, "history"] = list(history.history)
        seen[lib, "evaluate"] = list(model.evaluate(x, y, verbose=0, return_dict=True))
        seen[lib, "train_on_batch"] = list(model.train_on_batch(x, y, return_dict=True))
    for where in ("batch", "epoch", "history", "evaluate", "train_on_batch"):
        assert seen[xcnn, where] == seen[keras, where], where
    assert seen[xcnn, "epoch"] == ["accuracy", "loss", "mae", "val_accuracy", "val_loss", "val_mae"]


def test_from_config_rebuilds_a_model_with_fresh_weights_from_either_library_s_config():
    kmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    inputs = keras.Input((4,))
    kfunctional = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(3)(inputs)))
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    for cls, source in [(xcnn.Sequential, kmodel), (xcnn.Model, kfunctional)]:
        for config in (source.get_config(), json.loads(source.to_json())):
            model = cls.from_config(config)
            assert [layer.name for layer in model.layers] == [layer.name for layer in source.layers]
            model.set_weights(source.get_weights())
            np.testing.assert_allclose(model.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    ours = _branched(seed=0)
    twin = xcnn.Model.from_config(ours.get_config())
    assert [layer.name for layer in twin.layers] == [layer.name for layer in ours.layers]
    assert not twin.compiled and not np.allclose(twin.get_weights()[0], ours.get_weights()[0])
    with pytest.raises(ValueError, match="describes a functional model, which Sequential.from_config does not build"):
        xcnn.Sequential.from_config(ours.get_config())


def test_losses_are_the_regularization_penalties_as_keras_s():
    def build(lib):
        L = lib.layers
        return lib.Sequential(
            [
                lib.Input((3,)),
                L.Dense(4, kernel_regularizer="l2", bias_regularizer=lib.regularizers.l1(0.1), name="a"),
                L.Dense(2, kernel_regularizer=lib.regularizers.l1_l2(0.01, 0.02), name="b"),
            ]
        )

    kmodel, model = build(keras), build(xcnn)
    rng = np.random.default_rng(6)
    kmodel.set_weights([rng.normal(size=w.shape).astype("float32") for w in kmodel.get_weights()])
    model.set_weights(kmodel.get_weights())
    expected = [float(keras.ops.convert_to_numpy(p)) for p in kmodel.losses]
    assert [float(p) for p in model.losses] == pytest.approx(expected, rel=1e-5)
    assert [float(p) for p in model.get_layer("a").losses] == pytest.approx(expected[:2], rel=1e-5)
    kmodel.get_layer("a").trainable = model.get_layer("a").trainable = False
    assert len(model.losses) == len(kmodel.losses) == 1
    assert xcnn.Sequential([xcnn.layers.Dense(2)]).losses == []
