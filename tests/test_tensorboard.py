"""The TensorBoard callback: its event files read back with TensorBoard's own reader."""

import numpy as np
import pytest

from xcnn import optimizers
from xcnn.callbacks import Callback, TensorBoard
from xcnn.layers import Dense, Flatten
from xcnn.models import Sequential
from xcnn.utils import to_categorical


def _fit(log_dir, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4, 4, 1))
    y = to_categorical(rng.integers(0, 3, 40), 3)
    model = Sequential([Flatten(input_shape=(4, 4, 1)), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizers.SGD(0.05), "categorical_crossentropy", ["accuracy"])
    history = model.fit(
        x, y, batch_size=10, epochs=3, validation_split=0.25, verbose=0, callbacks=[TensorBoard(log_dir, **kwargs)]
    )
    return model, history


def _read(folder):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"histograms": 0, "scalars": 0})
    acc.Reload()
    return acc


def test_epoch_scalars_read_back_with_tensorboards_reader(tmp_path):
    pytest.importorskip("tensorboardX")
    _, history = _fit(tmp_path)
    train, validation = _read(tmp_path / "train"), _read(tmp_path / "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(validation.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for acc, prefix in ((train, ""), (validation, "val_")):
        for name in ("loss", "accuracy"):
            events = acc.Scalars(f"epoch_{name}")
            assert [e.step for e in events] == [0, 1, 2]
            np.testing.assert_allclose([e.value for e in events], history.history[prefix + name], rtol=1e-6)
    assert [e.value for e in train.Scalars("epoch_learning_rate")] == pytest.approx([0.05] * 3)
    assert not train.Tags()["histograms"]


def test_per_epoch_logging_copies_nothing_from_the_device(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    import xcnn.callbacks.tensorboard as module

    class NoCopies:
        def to_numpy(self, array):
            raise AssertionError("the TensorBoard callback copied an array to the host")

    monkeypatch.setattr(module, "B", NoCopies())
    callback = TensorBoard(tmp_path)
    assert "on_batch_end" not in vars(callback) and type(callback).on_batch_end is Callback.on_batch_end
    _fit(tmp_path)  # epoch logs are host floats already; the learning rate is a host number
    assert _read(tmp_path / "train").Scalars("epoch_loss")


def test_batch_losses_and_histograms_when_asked(tmp_path):
    pytest.importorskip("tensorboardX")
    model, _ = _fit(tmp_path, update_freq=2, histogram_freq=2)
    train = _read(tmp_path / "train")
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]  # 3 batches an epoch, 9 in all
    dense = model.layers[-1].name
    assert set(train.Tags()["histograms"]) == {f"{dense}/kernel", f"{dense}/bias"}
    assert [e.step for e in train.Histograms(f"{dense}/kernel")] == [0, 2]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"update_freq": "batch"}, "update_freq must be 'epoch' or a positive number of batches, got 'batch'"),
        ({"update_freq": 0}, "update_freq must be 'epoch' or a positive number of batches, got 0"),
        ({"histogram_freq": -1}, "histogram_freq must be a whole number of epochs >= 0, got -1"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(tmp_path, **kwargs)
