"""fit/evaluate/predict and the *_on_batch methods against Keras 3: weighted losses,
steps_per_epoch, generators and PyDataset-like sequences, return values and verbosity."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from xcnn import callbacks, optimizers
from xcnn.layers import Dense, Input
from xcnn.models import Model

K = 3


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, K, n)


def _pair(loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    """The same two-layer model in Keras and in xcnn (float64), with Keras's initial weights."""
    keras_model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(K, activation="softmax")]
    )
    keras_model.compile(keras.optimizers.SGD(0.3), loss, metrics=list(metrics))
    inp = Input((4,))
    model = Model(inp, Dense(K, activation="softmax")(Dense(6, activation="tanh")(inp)), dtype="float64", seed=0)
    model.compile(optimizers.SGD(0.3), loss, metrics=list(metrics))
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    return keras_model, model


def _assert_same_training(keras_history, history, keras_model, model):
    assert set(history.history) == set(keras_history.history)
    for key in keras_history.history:
        np.testing.assert_allclose(history.history[key], keras_history.history[key], rtol=2e-5, atol=1e-6, err_msg=key)
    for w, w_keras in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(w, w_keras, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("weights", ["class_weight", "sample_weight", "sample_weight_validation_split"])
def test_weighted_fit_matches_keras(weights):
    x, y = _data()
    kwargs = (
        {"class_weight": {0: 0.5, 2: 3.0}}
        if weights == "class_weight"
        else {"sample_weight": np.linspace(0.1, 2.0, len(x))}
    )
    if weights == "sample_weight_validation_split":
        kwargs["validation_split"] = 0.25
    keras_model, model = _pair()
    keras_history = keras_model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, **kwargs)
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, **kwargs)
    _assert_same_training(keras_history, history, keras_model, model)


def test_class_weight_with_one_hot_targets_matches_keras():
    x, labels = _data()
    y = np.eye(K)[labels]
    keras_model, model = _pair("categorical_crossentropy")
    keras_history = keras_model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, class_weight={1: 4.0})
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, class_weight={1: 4.0})
    _assert_same_training(keras_history, history, keras_model, model)


def _batches_per_epoch(module, model, x, y, **kwargs):
    counts = []
    base = keras.callbacks.Callback if module is keras else callbacks.Callback

    class Count(base):
        def on_epoch_begin(self, epoch, logs=None):
            counts.append(0)

        def on_train_batch_end(self, batch, logs=None):
            counts[-1] += 1

    with pytest.warns(UserWarning) if kwargs.pop("warns", False) else _nothing():
        model.fit(x, y, verbose=0, callbacks=[Count()], **kwargs)
    return counts


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"epochs": 2},
        {"batch_size": 8, "epochs": 4, "steps_per_epoch": 2},
        {"batch_size": 8, "epochs": 4, "steps_per_epoch": 3, "warns": True},
    ],
    ids=["default_batch_size_32", "steps_per_epoch_continues", "runs_out_early"],
)
def test_steps_per_epoch_and_default_batch_size_follow_keras(kwargs):
    x, y = _data(n=70 if "steps_per_epoch" not in kwargs else 40)
    keras_model, model = _pair()
    expected = _batches_per_epoch(keras, keras_model, x, y, **dict(kwargs))
    assert _batches_per_epoch(None, model, x, y, **dict(kwargs)) == expected


class Batches:
    """A PyDataset-like sequence (no Keras base class): ``__len__`` and ``__getitem__``."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, i):
        sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[sl], self.y[sl]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _endless(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


@pytest.mark.parametrize("source", ["generator", "list", "sequence", "keras_pydataset"])
def test_fitting_from_batches_equals_fitting_from_arrays(source):
    x, y = _data()
    _, reference = _pair()
    _, model = _pair()
    model.set_weights(reference.get_weights())
    expected = reference.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, validation_data=(x, y))
    kwargs = {}
    if source == "generator":
        data, kwargs = _endless(x, y, 10), {"steps_per_epoch": 4}
    elif source == "list":
        data = [(x[i : i + 10], y[i : i + 10]) for i in range(0, 40, 10)]
    elif source == "sequence":
        data = Batches(x, y, 10)
    else:

        class KerasBatches(Batches, keras.utils.PyDataset):
            def __init__(self, *args):
                keras.utils.PyDataset.__init__(self)
                Batches.__init__(self, *args)

        data = KerasBatches(x, y, 10)
    history = model.fit(data, epochs=3, shuffle=False, verbose=0, validation_data=Batches(x, y, 16), **kwargs)
    for key in expected.history:
        np.testing.assert_allclose(history.history[key], expected.history[key], rtol=1e-12, err_msg=key)
    if source == "sequence":
        assert data.epochs_ended == 3
    assert model.evaluate(Batches(x, y, 7), verbose=0) == pytest.approx(reference.evaluate(x, y, verbose=0), rel=1e-12)
    np.testing.assert_allclose(
        model.predict(iter([x[:25], x[25:]]), verbose=0), reference.predict(x, verbose=0), rtol=1e-12
    )
    assert model.predict(Batches(x, y, 16), verbose=0).shape == (40, K)


def test_a_generator_that_runs_out_ends_training_with_a_warning_as_keras():
    x, y = _data()
    keras_model, model = _pair()
    limited = [(x[i : i + 10], y[i : i + 10]) for i in range(0, 40, 10)]
    with pytest.warns(UserWarning):
        keras_history = keras_model.fit((b for b in limited), epochs=3, steps_per_epoch=3, verbose=0)
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit((b for b in limited), epochs=3, steps_per_epoch=3, verbose=0)
    assert history.epoch == keras_history.epoch[: len(history.epoch)]
    assert len(history.epoch) <= 2


def test_on_batch_methods_return_what_keras_returns():
    x, y = _data(n=12)
    for metrics in ((), ("accuracy", "sparse_categorical_accuracy")):
        keras_model, model = _pair(metrics=metrics)
        for method, kwargs in (
            ("train_on_batch", {}),
            ("test_on_batch", {}),
            ("train_on_batch", {"return_dict": True}),
            ("test_on_batch", {"return_dict": True}),
            ("train_on_batch", {"sample_weight": np.linspace(0, 1, 12)}),
            ("train_on_batch", {"class_weight": {0: 2.0}}),
        ):
            expected = getattr(keras_model, method)(x, y, **kwargs)
            got = getattr(model, method)(x, y, **kwargs)
            assert type(got) is type(expected) or (isinstance(got, float) and isinstance(expected, float))
            if isinstance(expected, dict):
                assert got.keys() == expected.keys()
                got, expected = [got[k] for k in expected], list(expected.values())
            np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
        out = model.predict_on_batch(x)
        assert isinstance(out, np.ndarray) and out.shape == keras_model.predict_on_batch(x).shape
        np.testing.assert_allclose(out, keras_model.predict_on_batch(x), rtol=1e-4, atol=1e-5)
        expected = keras_model.evaluate(x, y, verbose=0)
        assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=2e-5)


def test_evaluate_and_predict_print_a_progress_line_by_default(capsys):
    x, y = _data()
    _, model = _pair()
    model.evaluate(x, y)
    out = capsys.readouterr().out
    assert "2/2" in out and "loss:" in out and "accuracy:" in out
    model.predict(x, batch_size=10)
    assert "4/4" in capsys.readouterr().out
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_bad_data_arguments_are_clear_errors():
    x, y = _data()
    _, model = _pair()
    with pytest.raises(ValueError, match="y must not be given when x is a PyDataset-like sequence"):
        model.fit(Batches(x, y, 10), y, verbose=0)
    with pytest.raises(ValueError, match="batch_size must not be given when x is a generator"):
        model.fit(_endless(x, y, 10), batch_size=10, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="class_weight and sample_weight cannot both be given"):
        model.fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(40), verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(40,\)"):
        model.fit(x, y, sample_weight=np.ones(39), verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive int"):
        model.fit(x, y, steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="each batch must be"):
        model.fit([(x,)] * 2, verbose=0)
    with pytest.raises(ValueError, match="no training batches"):
        model.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match="verbose must be"):
        model.evaluate(x, y, verbose=3)


def test_evaluate_includes_regularization_penalties_as_keras():
    from xcnn import regularizers

    x, y = _data()
    keras_model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(K, activation="softmax", kernel_regularizer=keras.regularizers.L2(0.1))]
    )
    keras_model.compile(keras.optimizers.SGD(0.3), "sparse_categorical_crossentropy")
    inp = Input((4,))
    model = Model(inp, Dense(K, activation="softmax", kernel_regularizer=regularizers.l2(0.1))(inp), dtype="float64")
    model.compile(optimizers.SGD(0.3), "sparse_categorical_crossentropy")
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    assert model.evaluate(x, y, verbose=0) == pytest.approx(keras_model.evaluate(x, y, verbose=0), rel=1e-5)
    expected = keras_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    got = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(got.history[key], expected.history[key], rtol=2e-5)


def test_weighted_metrics_use_the_sample_weights_as_keras():
    x, y = _data()
    keras_model, model = _pair()
    keras_model.compile(
        keras.optimizers.SGD(0.3),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy", "sparse_categorical_accuracy"],
    )
    model.compile(
        optimizers.SGD(0.3),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy", "sparse_categorical_accuracy"],
    )
    kwargs = {
        "batch_size": 8,
        "epochs": 2,
        "shuffle": False,
        "verbose": 0,
        "validation_data": (x, y, np.linspace(0, 1, 40)),
        "class_weight": {0: 0.2, 1: 3.0},
    }
    _assert_same_training(keras_model.fit(x, y, **kwargs), model.fit(x, y, **kwargs), keras_model, model)
