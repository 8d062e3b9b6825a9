"""Pictures are written as real PNG files with the expected content."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from xcnn import plot  # noqa: E402
from xcnn.layers import Add, Conv2D, Dense, Flatten, Input, MaxPooling2D  # noqa: E402
from xcnn.models import Model, Sequential  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _model():
    return Sequential(
        [
            Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
            MaxPooling2D(2),
            Flatten(),
            Dense(3, activation="softmax"),
        ],
        seed=0,
    )


def test_history_misclassified_filters(tmp_path):
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.7], "val_accuracy": [0.4, 0.7]}
    fig = plot.plot_history(history, to_file=tmp_path / "h.png")
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    model = _model()
    x = np.random.default_rng(0).uniform(size=(12, 8, 8, 1)).astype("float32")
    y = np.arange(12) % 3
    fig = plot.plot_misclassified(model, x, y, to_file=tmp_path / "m.png")
    wrong = int((model.predict(x).argmax(1) != y).sum())
    assert f"{wrong} of 12 misclassified" in fig._suptitle.get_text()
    plot.plot_filters(model.layers[0], to_file=tmp_path / "f.png")
    for name in ("h.png", "m.png", "f.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="no 'loss'"):
        plot.plot_history({})
    with pytest.raises(TypeError, match="Conv2D"):
        plot.plot_filters(model.layers[2])


def test_plot_model_draws_a_branching_model(tmp_path):
    inp = Input((4,))
    out = Dense(2)(Add()([Dense(3)(inp), Dense(3)(inp)]))
    path = plot.plot_model(Model(inp, out, seed=0), to_file=str(tmp_path / "model.png"))
    assert (tmp_path / "model.png").read_bytes().startswith(PNG) and path.endswith("model.png")
