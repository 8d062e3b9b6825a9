"""Callbacks against Keras 3's own: the same scripted logs drive a Keras callback and ours
(through a stand-in model), and whole fits compare hook order, History, CSV files and the
learning rates the callbacks set."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from xcnn import callbacks, optimizers
from xcnn.layers import Dense, Input
from xcnn.models import Model


class _StandIn:
    """Just what the callbacks touch: stop_training, get/set_weights, an optimizer's rate."""

    def __init__(self, optimizer):
        self.stop_training = False
        self.optimizer = optimizer
        self.weights_epoch = -1
        self.metrics = []
        self._metric_objects = []

    def get_weights(self):
        return [np.array(self.weights_epoch)]

    def set_weights(self, weights):
        self.weights_epoch = int(weights[0])


def _drive(callback, model, values, monitor="val_loss"):
    """Run ``callback`` over epochs with logs ``{monitor: v}``; return the epochs it saw, the
    stopping epoch, the weights' epoch after training and the learning rates logged."""
    callback.set_model(model)
    callback.on_train_begin()
    seen, rates = [], []
    for epoch, value in enumerate(values):
        model.weights_epoch = epoch
        callback.on_epoch_begin(epoch)
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        seen.append(epoch)
        rates.append(logs.get("learning_rate"))
        if model.stop_training:
            break
    callback.on_train_end()
    return seen, model.weights_epoch, rates


def _keras_model_stand_in():
    keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    keras_model.compile(keras.optimizers.SGD(0.1), "mse")
    return keras_model


SEQUENCES = {
    "falls_then_rises": [1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.95, 0.6, 1.0, 1.1],
    "plateau_within_delta": [1.0, 0.99, 0.985, 0.984, 0.983, 0.982, 0.98, 0.97, 0.96, 0.95],
    "rises_at_once": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2],
    "noisy": [0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5, 0.55, 0.56, 0.57, 0.58],
}
EARLY_STOPPING = {
    "patience0": {},
    "patience1": {"patience": 1},
    "patience2_restore": {"patience": 2, "restore_best_weights": True},
    "min_delta": {"patience": 1, "min_delta": 0.02},
    "baseline": {"patience": 2, "baseline": 0.65},
    "start_from_epoch": {"patience": 1, "start_from_epoch": 3, "restore_best_weights": True},
}


@pytest.mark.parametrize("sequence", list(SEQUENCES))
@pytest.mark.parametrize("kwargs", list(EARLY_STOPPING))
def test_early_stopping_stops_where_keras_stops(sequence, kwargs):
    values = SEQUENCES[sequence]
    keras_model = _keras_model_stand_in()
    keras_stop = keras.callbacks.EarlyStopping(**EARLY_STOPPING[kwargs])
    keras_stop.set_model(keras_model)
    keras_model.stop_training = False
    keras_stop.on_train_begin()
    expected_epochs = []
    for epoch, value in enumerate(values):
        keras_model.set_weights([np.full(w.shape, epoch, dtype=w.dtype) for w in keras_model.get_weights()])
        keras_stop.on_epoch_end(epoch, {"val_loss": value})
        expected_epochs.append(epoch)
        if keras_model.stop_training:
            break
    keras_stop.on_train_end()
    expected_weights_epoch = int(keras_model.get_weights()[0].flat[0])
    seen, weights_epoch, _ = _drive(callbacks.EarlyStopping(**EARLY_STOPPING[kwargs]), _StandIn(None), values)
    assert seen == expected_epochs
    assert weights_epoch == expected_weights_epoch


@pytest.mark.parametrize("sequence", list(SEQUENCES))
@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 1},
        {"patience": 2, "factor": 0.5, "cooldown": 1},
        {"patience": 1, "min_delta": 0.05, "min_lr": 0.02, "factor": 0.3},
    ],
    ids=["patience1", "cooldown", "min_delta_min_lr"],
)
def test_reduce_lr_on_plateau_sets_the_rates_keras_sets(sequence, kwargs):
    values = SEQUENCES[sequence]
    keras_model = _keras_model_stand_in()
    keras_reduce = keras.callbacks.ReduceLROnPlateau(**kwargs)
    keras_reduce.set_model(keras_model)
    keras_reduce.on_train_begin()
    expected = []
    for epoch, value in enumerate(values):
        logs = {"val_loss": value}
        keras_reduce.on_epoch_end(epoch, logs)
        expected.append(logs["learning_rate"])
    _, _, rates = _drive(callbacks.ReduceLROnPlateau(**kwargs), _StandIn(optimizers.SGD(0.1)), values)
    np.testing.assert_allclose(rates, expected, rtol=1e-6)


def _tiny_data(n=20):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 2, n)


def _xcnn_model(lr=0.1):
    inp = Input((3,))
    model = Model(inp, Dense(2, activation="softmax")(inp), seed=0)
    model.compile(optimizers.SGD(lr), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def _keras_model(lr=0.1):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_hooks_are_called_in_keras_order():
    x, y = _tiny_data()
    results = []
    for module, model in ((keras, _keras_model()), (None, _xcnn_model())):
        calls = []
        hooks = [
            "on_train_begin",
            "on_train_end",
            "on_epoch_begin",
            "on_epoch_end",
            "on_train_batch_begin",
            "on_train_batch_end",
            "on_test_begin",
            "on_test_end",
            "on_test_batch_begin",
            "on_test_batch_end",
            "on_predict_begin",
            "on_predict_end",
            "on_predict_batch_begin",
            "on_predict_batch_end",
        ]
        base = keras.callbacks.Callback if module is keras else callbacks.Callback

        def hook_method(hook, calls=calls):
            def method(self, *args, **kwargs):
                calls.append(f"{hook}:{args[0]}" if "batch" in hook or "epoch" in hook else hook)

            return method

        Recorder = type("Recorder", (base,), {hook: hook_method(hook) for hook in hooks})
        model.fit(
            x,
            y,
            batch_size=8,
            epochs=2,
            validation_data=(x[:10], y[:10]),
            validation_batch_size=6,
            callbacks=[Recorder()],
            verbose=0,
        )
        model.evaluate(x, y, batch_size=16, callbacks=[Recorder()], verbose=0)
        model.predict(x, batch_size=16, callbacks=[Recorder()], verbose=0)
        results.append(calls)
    assert results[1] == results[0]


def test_history_runs_last_and_keeps_what_callbacks_add():
    x, y = _tiny_data()
    keras_history = _keras_model().fit(
        x,
        y,
        batch_size=8,
        epochs=4,
        verbose=0,
        shuffle=False,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5)],
    )
    history = _xcnn_model().fit(
        x,
        y,
        batch_size=8,
        epochs=4,
        verbose=0,
        shuffle=False,
        callbacks=[callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5)],
    )
    assert set(history.history) == set(keras_history.history)
    np.testing.assert_allclose(history.history["learning_rate"], keras_history.history["learning_rate"], rtol=1e-6)
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125, 0.00625])


def test_learning_rate_scheduler_old_one_argument_form_and_bad_values():
    x, y = _tiny_data()
    model = _xcnn_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    for bad in ("fast", -1.0, float("nan")):
        with pytest.raises(ValueError, match="must return a finite learning rate >= 0"):
            model.fit(
                x, y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e, lr, bad=bad: bad)]
            )
    scheduled = _xcnn_model()
    scheduled.compile(
        optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)), "sparse_categorical_crossentropy"
    )
    with pytest.raises(TypeError, match="driven by a schedule"):
        scheduled.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 0.1)])


def test_csv_logger_writes_what_keras_writes(tmp_path):
    x, y = _tiny_data()
    files = []
    for module, model in ((keras, _keras_model()), (callbacks, _xcnn_model())):
        path = tmp_path / f"{module.__name__}.csv"
        logger = (keras.callbacks if module is keras else callbacks).CSVLogger(str(path))
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False, validation_data=(x, y), callbacks=[logger])
        files.append(path.read_text().splitlines())
    assert files[1][0] == files[0][0]  # the header: epoch and the sorted keys
    assert len(files[1]) == len(files[0]) == 4
    for ours, theirs in zip(files[1][1:], files[0][1:]):
        assert ours.split(",")[0] == theirs.split(",")[0]
    appended = tmp_path / f"{callbacks.__name__}.csv"  # the file written above
    model = _xcnn_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(str(appended), append=True)])
    lines = appended.read_text().splitlines()
    assert len(lines) == 6 and lines[0].startswith("epoch,")  # no second header


def test_lambda_callback_calls_the_given_functions():
    x, y = _tiny_data()
    seen = []
    model = _xcnn_model()
    model.fit(
        x,
        y,
        batch_size=10,
        epochs=2,
        verbose=0,
        callbacks=[
            callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch, sorted(logs))),
                on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)),
            )
        ],
    )
    assert seen == [
        ("batch", 0),
        ("batch", 1),
        ("epoch", 0, ["accuracy", "loss"]),
        ("batch", 0),
        ("batch", 1),
        ("epoch", 1, ["accuracy", "loss"]),
    ]
    with pytest.raises(ValueError, match="unknown hooks"):
        callbacks.LambdaCallback(on_epoch_ends=print)


def test_backup_and_restore_resumes_after_an_interruption(tmp_path):
    x, y = _tiny_data()

    class Interrupt(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    straight = _xcnn_model()
    straight.fit(x, y, batch_size=8, epochs=5, verbose=0, shuffle=False)
    backup = tmp_path / "backup"
    model = _xcnn_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            batch_size=8,
            epochs=5,
            verbose=0,
            shuffle=False,
            callbacks=[callbacks.BackupAndRestore(backup), Interrupt()],
        )
    assert (backup / "latest.safetensors").exists()
    fresh = _xcnn_model()
    history = fresh.fit(
        x, y, batch_size=8, epochs=5, verbose=0, shuffle=False, callbacks=[callbacks.BackupAndRestore(backup)]
    )
    assert history.epoch == [3, 4]  # epochs 0..2 were done before the interruption
    for w, w_straight in zip(fresh.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(w, w_straight, rtol=1e-6)
    assert not backup.exists()  # deleted after a normal end


def test_model_checkpoint_save_weights_only_and_batch_frequency(tmp_path, monkeypatch):
    x, y = _tiny_data()
    model = _xcnn_model()
    if not hasattr(model, "save_weights"):  # interop's: stand in until it is merged
        monkeypatch.setattr(type(model), "save_weights", lambda self, path: open(path, "w").close(), raising=False)
    saved = []
    monkeypatch.setattr(type(model), "save", lambda self, path, extra=None: saved.append(os.path.basename(path)))
    model.fit(
        x,
        y,
        batch_size=5,
        epochs=2,
        verbose=0,
        validation_data=(x, y),
        callbacks=[
            callbacks.ModelCheckpoint(str(tmp_path / "w{epoch:02d}.weights.h5"), save_weights_only=True),
            callbacks.ModelCheckpoint(str(tmp_path / "m{epoch}-{batch}.safetensors"), save_freq=3),
        ],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w01.weights.h5", "w02.weights.h5"]
    assert saved == ["m1-3.safetensors", "m2-2.safetensors"]  # every 3rd of 4 + 4 batches
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("m.safetensors", save_freq="batch")


def test_model_checkpoint_save_best_only_follows_keras_auto_mode(tmp_path):
    x, y = _tiny_data()
    model = _xcnn_model(lr=0.5)
    path = tmp_path / "best.safetensors"
    check = callbacks.ModelCheckpoint(str(path), monitor="val_accuracy", save_best_only=True)
    history = model.fit(x, y, batch_size=5, epochs=4, verbose=0, validation_data=(x, y), callbacks=[check])
    assert check.best == max(history.history["val_accuracy"])  # accuracy goes up in mode="auto"
    with pytest.raises(ValueError, match="cannot tell whether monitor='val_thing'"):
        model.fit(
            x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[callbacks.EarlyStopping(monitor="val_thing")]
        )
