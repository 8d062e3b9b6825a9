"""The xcnn command line, run in-process on a small slice of MNIST."""

import os
import subprocess
import sys

import numpy as np
import pytest

from xcnn import backend as B
from xcnn import cli, load_model
from xcnn.models import Model

needs_mnist = pytest.mark.skipif(
    not os.path.exists(os.path.join(os.environ.get("XCNN_DATA_DIR", "/nonexistent"), "mnist.npz")),
    reason="set XCNN_DATA_DIR to a folder with mnist.npz",
)


@needs_mnist
def test_train_evaluate_predict_resume(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    plt = sys.modules.get("matplotlib.pyplot")  # imported by the pictures, where matplotlib is installed
    figures_before = plt.get_fignums() if plt else []
    assert cli.main(["train", "--limit", "300", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Epoch 1/1" in text and "Test accuracy:" in text and "Total params: 78,560" in text
    for name in ("model.safetensors", "checkpoint.safetensors", "history.png", "misclassified.png", "history.json"):
        assert (out / name).exists(), name
    plt = sys.modules.get("matplotlib.pyplot")
    assert (plt.get_fignums() if plt else []) == figures_before  # the pictures are written and closed, not kept open

    assert cli.main(["evaluate", str(out / "model.safetensors"), "--limit", "200"]) == 0
    assert "accuracy" in capsys.readouterr().out

    image = np.zeros((28, 28))
    image[4:24, 13:15] = 1.0  # a "1"
    np.save(tmp_path / "one.npy", image)
    assert cli.main(["predict", str(out / "model.safetensors"), str(tmp_path / "one.npy")]) == 0
    assert "predicted class:" in capsys.readouterr().out
    from PIL import Image

    Image.fromarray((255 - image * 255).astype(np.uint8)).resize((56, 56)).save(tmp_path / "one.png")
    assert cli.main(["predict", str(out / "model.safetensors"), str(tmp_path / "one.png")]) == 0

    assert cli.main(["train", "--limit", "300", "--epochs", "2", "--out", str(out), "--resume", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Resuming" in text and "Epoch 2/2" in text and "Epoch 1/2" not in text
    assert load_model(out / "model.safetensors").saved_extra["epoch"] == 2
    assert len(load_model(out / "model.safetensors").saved_extra["history"]["loss"]) == 2

    # the defaults: shifted training images, Adam on a cosine over the whole run (2 epochs of 3 steps),
    # and the resumed run kept the schedule and its step count
    model = load_model(out / "model.safetensors")
    assert type(model.layers[0]).__name__ == "RandomTranslation" and model.layers[0].height_factor == 2 / 28
    schedule = model.optimizer.learning_rate_schedule
    assert schedule.get_config() == {
        "name": "cosine_decay",
        "initial_learning_rate": 0.001,
        "decay_steps": 6,
        "alpha": 0.0,
    }
    assert model.optimizer.iterations == 6 and model.optimizer.current_learning_rate == 0.0


@needs_mnist
def test_train_the_article_schedule_to_the_letter(tmp_path, capsys):
    out = tmp_path / "plain"
    args = [
        "train",
        "--limit",
        "200",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--no-progress",
        "--augment",
        "0",
        "--lr-schedule",
        "constant",
        "--lr",
        "0.002",
        "--weight-decay",
        "0.01",
    ]
    assert cli.main(args) == 0
    model = load_model(out / "model.safetensors")
    assert type(model.layers[0]).__name__ == "Conv2D"
    assert model.optimizer.get_config()["learning_rate"] == 0.002 and model.optimizer.weight_decay == 0.01


@needs_mnist
def test_ctrl_c_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert cli.main(["train", "--limit", "200", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    saved = (out / "checkpoint.safetensors").read_bytes()

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Model, "fit", interrupted)
    assert cli.main(["train", "--limit", "200", "--epochs", "3", "--out", str(out), "--resume", "--no-progress"]) == 130
    assert "--resume" in capsys.readouterr().err
    assert (out / "checkpoint.safetensors").read_bytes() == saved


def test_info_and_errors(capsys, tmp_path):
    assert cli.main(["info"]) == 0
    text = capsys.readouterr().out
    assert "numpy" in text and "available" in text
    if B.is_available("torch"):
        assert "torch's own kernels on the CPU (conv, pooling, batch norm, ReLU, softmax): on" in text
    assert cli.main(["evaluate", str(tmp_path / "missing.safetensors")]) == 1
    assert "No such file" in capsys.readouterr().err
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    assert cli.main(["evaluate", str(tmp_path / "junk.safetensors")]) == 1
    assert "not a readable xcnn model file" in capsys.readouterr().err


def test_python_dash_m_help():
    result = subprocess.run([sys.executable, "-m", "xcnn", "train", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--resume" in result.stdout and "--limit" in result.stdout
