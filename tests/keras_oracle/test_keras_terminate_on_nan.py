"""TerminateOnNaN against Keras 3: the same stop (first epoch, history of one non-finite loss,
``stop_training`` set) and the same ``raise_error=True`` RuntimeError."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from xcnn import callbacks, layers, models, optimizers  # noqa: E402


def diverging_data():
    """A NaN in the third batch of 4 (Keras clips probabilities, so a large rate alone does not
    make its cross-entropy NaN): both libraries see a NaN batch loss at batch 2."""
    x = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    x[9, 1] = np.nan
    return x, np.arange(40) % 4


def run_keras(raise_error):
    x, y = diverging_data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    cb = keras.callbacks.TerminateOnNaN(raise_error=raise_error)
    return model, model.fit(x, y, batch_size=4, epochs=5, shuffle=False, callbacks=[cb], verbose=0)


def run_xcnn(raise_error):
    x, y = diverging_data()
    model = models.Sequential([layers.Input((3,)), layers.Dense(4, activation="softmax")], backend="numpy", seed=0)
    model.compile(optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    cb = callbacks.TerminateOnNaN(raise_error=raise_error)
    with np.errstate(all="ignore"):
        return model, model.fit(x, y, batch_size=4, epochs=5, shuffle=False, callbacks=[cb], verbose=0)


def test_terminate_on_nan_stops_like_keras():
    kmodel, khistory = run_keras(False)
    xmodel, xhistory = run_xcnn(False)
    assert len(khistory.history["loss"]) == len(xhistory.history["loss"]) == 1
    assert not np.isfinite(khistory.history["loss"][0]) and not np.isfinite(xhistory.history["loss"][0])
    assert kmodel.stop_training and xmodel.stop_training


def test_terminate_on_nan_raise_error_like_keras():
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
        run_keras(True)
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
        run_xcnn(True)
