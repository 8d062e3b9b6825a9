"""The xcnn command line, run in-process on a small slice of MNIST."""

import os
import subprocess
import sys

import numpy as np
import pytest

from xcnn import cli, load_model
from xcnn.models import Model

needs_mnist = pytest.mark.skipif(
    not os.path.exists(os.path.join(os.environ.get("XCNN_DATA_DIR", "/nonexistent"), "mnist.npz")),
    reason="set XCNN_DATA_DIR to a folder with mnist.npz",
)


@needs_mnist
def test_train_evaluate_predict_resume(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert cli.main(["train", "--limit", "300", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Epoch 1/1" in text and "Test accuracy:" in text and "Total params: 78,560" in text
    for name in ("model.safetensors", "checkpoint.safetensors", "history.png", "misclassified.png", "history.json"):
        assert (out / name).exists(), name

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
    assert cli.main(["evaluate", str(tmp_path / "missing.safetensors")]) == 1
    assert "No such file" in capsys.readouterr().err
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    assert cli.main(["evaluate", str(tmp_path / "junk.safetensors")]) == 1
    assert "not a readable xcnn model file" in capsys.readouterr().err


def test_python_dash_m_help():
    result = subprocess.run([sys.executable, "-m", "xcnn", "train", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--resume" in result.stdout and "--limit" in result.stdout
