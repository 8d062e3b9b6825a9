"""Issue #15 through the `xcnn` command: each failure mode ends in one clear line and an exit
code (1 failed, 2 bad usage, 130 interrupted), never a traceback; runs are never lost."""

import json
import math
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

from xcnn import cli, load_model
from xcnn.layers import Dense, Flatten, Input
from xcnn.models import Model, Sequential, saving

needs_mnist = pytest.mark.skipif(
    not os.path.exists(os.path.join(os.environ.get("XCNN_DATA_DIR", "/nonexistent"), "mnist.npz")),
    reason="set XCNN_DATA_DIR to a folder with mnist.npz",
)
QUICK = ["--limit", "100", "--epochs", "1", "--no-progress"]


def xcnn(capsys, *argv):
    """Run the command in-process: (exit code, stdout, stderr), with no traceback anywhere."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def last_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    return lines[-1]


def small_model_file(path):
    model = Sequential([Input((28, 28, 1)), Flatten(), Dense(10, activation="softmax")], backend="numpy", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.save(path)
    return path


def rewrite_config(src, dst, edit):
    config, tensors = saving._read_safetensors(src.read_bytes(), src)
    text = edit(json.dumps(config, sort_keys=True))
    dst.write_bytes(
        save_safetensors(tensors, metadata={"xcnn_config": text, "xcnn_sha256": saving._digest(text, tensors)})
    )
    return dst


# --- 1. the class count comes from the data set, not from a prefix of the labels -------------


@needs_mnist
def test_1_the_cli_takes_the_class_count_from_the_data_set(tmp_path, capsys):
    code, _, _ = xcnn(
        capsys,
        "train",
        "--limit",
        "4",
        "--batch-size",
        "2",
        "--epochs",
        "1",
        "--no-progress",
        "--out",
        tmp_path / "run",
    )
    assert code == 0
    assert load_model(tmp_path / "run" / "model.safetensors").output_shape == (None, 10)


# --- 2. divergence -----------------------------------------------------------------------------


@needs_mnist
def test_2_a_diverging_run_stops_with_exit_1_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert xcnn(capsys, "train", *QUICK, "--out", out)[0] == 0
    history = (out / "history.json").read_text()
    json.loads(history, parse_constant=lambda token: pytest.fail(f"history.json holds {token}"))
    good = (out / "checkpoint.safetensors").read_bytes()

    def poisoned(path, **kwargs):  # the resumed model's weights are infinite: its loss is NaN
        model = saving.load_model(path, **kwargs)
        model.set_weights([np.full_like(w, np.inf) for w in model.get_weights()])
        return model

    monkeypatch.setattr(cli, "load_model", poisoned)
    code, _, err = xcnn(capsys, "train", "--resume", "--epochs", "3", "--out", out, "--no-progress")
    assert code == 1
    assert "training diverged in epoch 2" in err and "keeps epoch 1" in err and "smaller --lr" in err
    assert (out / "checkpoint.safetensors").read_bytes() == good  # never overwritten by the NaN model
    assert (out / "history.json").read_text() == history


@needs_mnist
def test_2_a_huge_learning_rate_never_saves_a_non_finite_model(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = xcnn(
        capsys, "train", "--limit", "100", "--epochs", "3", "--lr", "1e30", "--no-progress", "--out", out
    )
    assert code == 1 and "training diverged" in last_line(err)
    assert not (out / "model.safetensors").exists() and not (out / "history.json").exists()
    if (out / "checkpoint.safetensors").exists():
        kept = load_model(out / "checkpoint.safetensors")
        assert all(np.isfinite(w).all() for w in kept.get_weights())
        assert all(math.isfinite(v) for v in kept.saved_extra["history"]["loss"])


def test_2_histories_are_strict_json():
    assert cli._strict({"loss": [1.5, float("nan"), float("inf")], "n": [2]}) == {"loss": [1.5, None, None], "n": [2]}


# --- 3. resume --------------------------------------------------------------------------------


@needs_mnist
def test_3_resume_restores_the_runs_options_and_refuses_contradictions(tmp_path, capsys):
    out = tmp_path / "run"
    options = [
        "--model",
        "lecture",
        "--limit",
        "120",
        "--batch-size",
        "40",
        "--augment",
        "0",
        "--lr-schedule",
        "constant",
        "--lr",
        "0.002",
        "--seed",
        "3",
        "--optimizer",
        "sgd",
    ]
    assert xcnn(capsys, "train", *options, "--epochs", "1", "--no-progress", "--out", out)[0] == 0
    saved = load_model(out / "checkpoint.safetensors").saved_extra["options"]
    assert saved == {
        "model": "lecture",
        "dataset": "mnist",
        "limit": 120,
        "epochs": 1,
        "batch_size": 40,
        "optimizer": "sgd",
        "lr": 0.002,
        "lr_schedule": "constant",
        "weight_decay": 0.0,
        "augment": 0,
        "dtype": "float32",
        "seed": 3,
        "backend": "numpy",
    }
    for flag, value in (
        ("--model", "seed"),
        ("--lr", "0.5"),
        ("--limit", "50"),
        ("--batch-size", "10"),
        ("--optimizer", "adam"),
        ("--dtype", "float64"),
    ):
        code, _, err = xcnn(capsys, "train", "--resume", "--epochs", "2", flag, value, "--out", out)
        assert code == 2 and f"{flag} {value} contradicts the checkpoint's {flag}" in last_line(err)
    code, _, err = xcnn(capsys, "train", "--resume", "--out", out)
    assert code == 2 and "has 1 of the run's 1 epochs done" in last_line(err)
    # no flags but --epochs: the same job, continued
    code, text, _ = xcnn(capsys, "train", "--resume", "--epochs", "2", "--no-progress", "--out", out)
    assert code == 0 and "Training lecture on mnist: 120 train / 120 test images" in text and "batch 40" in text
    assert "Epoch 2/2" in text and "Epoch 1/2" not in text
    model = load_model(out / "model.safetensors")
    assert model.optimizer.name == "sgd" and model.optimizer.get_config()["learning_rate"] == 0.002
    assert model.optimizer.iterations == 6 and model.saved_extra["options"]["epochs"] == 2


@needs_mnist
def test_3_ctrl_c_hint_only_with_a_checkpoint_and_its_command_continues_the_run(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Model, "fit", interrupted)
        code, _, err = xcnn(capsys, "train", *QUICK, "--out", out)
    assert code == 130 and "nothing was saved" in err and "--resume" not in err
    assert not (out / "checkpoint.safetensors").exists()

    real_end = cli._EpochCheckpoint.on_epoch_end

    def stop_after_saving(self, epoch, logs=None):
        real_end(self, epoch, logs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(cli._EpochCheckpoint, "on_epoch_end", stop_after_saving)
        code, _, err = xcnn(
            capsys,
            "train",
            "--limit",
            "100",
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--no-progress",
            "--overwrite",
            "--out",
            out,
        )
    assert code == 130 and "Epoch 1 of 2 is saved" in err
    command = shlex.split(err.split("continue with: ")[1].strip())
    assert command[:2] == ["xcnn", "train"]
    code, text, _ = xcnn(capsys, *command[1:], "--no-progress")
    assert code == 0 and "Epoch 2/2" in text and "100 train" in text and "batch 50" in text
    assert len(load_model(out / "model.safetensors").saved_extra["history"]["loss"]) == 2


# --- 6. an existing run is not overwritten silently --------------------------------------------


@needs_mnist
def test_6_an_out_holding_a_run_needs_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert xcnn(capsys, "train", *QUICK, "--out", out)[0] == 0
    before = (out / "model.safetensors").read_bytes()
    code, _, err = xcnn(capsys, "train", *QUICK, "--out", out)
    assert code == 2 and "already holds a run" in last_line(err) and "--overwrite" in last_line(err)
    assert (out / "model.safetensors").read_bytes() == before
    code, _, err = xcnn(capsys, "train", *QUICK, "--out", out, "--resume", "--overwrite")
    assert code == 2 and "give one of them" in last_line(err)
    old = os.umask(0o022)
    try:
        assert xcnn(capsys, "train", *QUICK, "--seed", "1", "--out", out, "--overwrite")[0] == 0
    finally:
        os.umask(old)
    assert load_model(out / "model.safetensors").saved_extra["options"]["seed"] == 1
    # 11: every file of the run has the umask's permissions
    for name in ("model.safetensors", "checkpoint.safetensors", "history.json", "history.png", "misclassified.png"):
        assert (out / name).stat().st_mode & 0o777 == 0o644, name
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp")]


# --- 7 and 9. numbers on the command line ------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--limit", "0"], "argument --limit: must be a positive whole number, got 0"),
        (["--limit", "-5"], "argument --limit: must be a positive whole number, got -5"),
        (["--batch-size", "0"], "argument --batch-size: must be a positive whole number, got 0"),
        (["--batch-size", "-1"], "argument --batch-size: must be a positive whole number, got -1"),
        (["--epochs", "0"], "argument --epochs: must be a positive whole number, got 0"),
        (["--epochs", "2.5"], "argument --epochs: must be a whole number, got '2.5'"),
        (["--lr", "0"], "argument --lr: must be a finite number > 0, got 0"),
        (["--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
        (["--weight-decay", "-1"], "argument --weight-decay: must be a finite number >= 0, got -1"),
        (["--augment", "-1"], "argument --augment: must be a whole number >= 0, got -1"),
        (["--seed", "-1"], "argument --seed: must be a whole number >= 0, got -1"),
    ],
)
def test_7_9_bad_numbers_are_usage_errors(tmp_path, capsys, argv, message):
    code, _, err = xcnn(capsys, "train", *argv, "--out", tmp_path / "run")
    assert code == 2 and last_line(err) == f"xcnn train: error: {message}"
    assert "decay_steps" not in err and not (tmp_path / "run").exists()


@needs_mnist
def test_9_an_augmentation_as_large_as_the_images_is_a_usage_error(tmp_path, capsys):
    code, _, err = xcnn(capsys, "train", *QUICK, "--augment", "28", "--out", tmp_path / "run")
    assert code == 2 and last_line(err) == "xcnn train: --augment 28 must be smaller than the images (28x28)"


# --- 8. no traceback, for every failure mode ---------------------------------------------------


def test_8_files_that_are_not_what_they_should_be(tmp_path, capsys):
    model_file = small_model_file(tmp_path / "m.safetensors")
    dense_file = tmp_path / "dense.safetensors"
    Sequential([Input((3,)), Dense(2)], backend="numpy", seed=0).save(dense_file)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "text.png").write_text("not a picture")
    np.save(tmp_path / "objects.npy", np.array(["a", "b"]))
    np.save(tmp_path / "nan.npy", np.full((28, 28), np.nan))
    cases = [
        (["train", "--out", tmp_path / "afile"], 2, "is a file, not a folder"),
        (["train", "--out", tmp_path / "afile" / "sub"], 1, "afile/sub"),
        (["evaluate", tmp_path], 1, "is a folder, not a model file"),
        (["evaluate", tmp_path / "missing.safetensors"], 1, "missing.safetensors: No such file or directory"),
        (["predict", tmp_path, tmp_path / "text.png"], 1, "is a folder, not a model file"),
        (["predict", model_file, tmp_path], 1, "is a folder; give one image file"),
        (["predict", model_file, tmp_path / "text.png"], 1, "text.png is not an image PIL can read"),
        (["predict", model_file, tmp_path / "objects.npy"], 1, "objects.npy holds a <U1 array of shape (2,)"),
        (["predict", model_file, tmp_path / "nan.npy"], 1, "nan.npy holds NaN or infinite values"),
        (["predict", model_file, tmp_path / "afile"], 1, "afile is not an image PIL can read"),
        (["predict", dense_file, tmp_path / "text.png"], 1, "the model's input (3,) is not a grey or colour picture"),
    ]
    for argv, expected_code, message in cases:
        code, _, err = xcnn(capsys, *argv)
        assert code == expected_code and message in last_line(err), (argv, err)
        assert len(err.strip().splitlines()) == 1, err


def test_8_a_decompression_bomb_is_refused(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    model_file = small_model_file(tmp_path / "m.safetensors")
    Image.new("L", (1000, 1000)).save(tmp_path / "big.png")
    small_limit = 1000 * 1000 // 3  # so the test stays small: 1 megapixel exceeds twice the limit
    for limit, words in ((small_limit, "too large an image"), (700_000, "too large an image")):
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit  # 700,000: past the limit but under twice it, where PIL only warns
        try:
            code, _, err = xcnn(capsys, "predict", model_file, tmp_path / "big.png")
        finally:
            Image.MAX_IMAGE_PIXELS = old
        assert code == 1 and words in last_line(err)


def test_8_hostile_model_files(tmp_path, capsys):
    model_file = small_model_file(tmp_path / "m.safetensors")
    deep = rewrite_config(
        model_file,
        tmp_path / "deep.safetensors",
        lambda t: t.replace('"extra": {}', '"extra": ' + "[" * 50_000 + "]" * 50_000),
    )
    unknown = rewrite_config(
        model_file, tmp_path / "opt.safetensors", lambda t: t.replace('"name": "adam"', '"name": "adam", "bogus": 1')
    )
    giant = rewrite_config(
        model_file, tmp_path / "giant.safetensors", lambda t: t.replace('"units": 10', '"units": 10000000')
    )
    for path, message in (
        (deep, "nested too deeply"),
        (unknown, "unknown keys ['bogus']"),
        (giant, "the model needs (784, 10000000)"),
    ):
        code, _, err = xcnn(capsys, "predict", path, tmp_path / "x.npy")
        assert code == 1 and str(path) in last_line(err) and message in last_line(err)


@needs_mnist
def test_8_a_damaged_data_set_file_is_named(tmp_path, capsys, monkeypatch):
    source = os.path.join(os.environ["XCNN_DATA_DIR"], "mnist.npz")
    with open(source, "rb") as f:
        head = f.read(100_000)
    (tmp_path / "mnist.npz").write_bytes(head)
    monkeypatch.setenv("XCNN_DATA_DIR", str(tmp_path))
    code, _, err = xcnn(capsys, "train", *QUICK, "--out", tmp_path / "run")
    assert code == 1 and f"{tmp_path / 'mnist.npz'} is not a readable data set file" in last_line(err)


@needs_mnist
def test_8_a_full_disk_or_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch):
    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    with monkeypatch.context() as patch:
        patch.setattr(saving, "atomic_write", full)
        code, _, err = xcnn(capsys, "train", *QUICK, "--out", tmp_path / "run")
    assert code == 1 and last_line(err).endswith("checkpoint.safetensors: No space left on device")

    def read_only(*args, dir=None, **kwargs):  # what a read-only folder answers, even to root
        raise PermissionError(13, "Permission denied", str(dir))

    with monkeypatch.context() as patch:
        patch.setattr(cli.tempfile, "TemporaryFile", read_only)
        code, _, err = xcnn(capsys, "train", *QUICK, "--out", tmp_path / "run2")
    assert code == 1 and last_line(err) == f"xcnn train: {tmp_path / 'run2'}: Permission denied"
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "ro").mkdir(mode=0o555)
        code, _, err = xcnn(capsys, "train", *QUICK, "--out", tmp_path / "ro")
        assert code == 1 and "Permission denied" in last_line(err)


def test_8_errors_of_every_kind_are_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    for error, code, words in (
        (MemoryError("Unable to allocate 9 GiB"), 1, "out of memory: Unable to allocate"),
        (ZeroDivisionError("oops"), 1, "internal error (ZeroDivisionError: oops)"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (RecursionError(), 1, "nested too deeply"),
    ):

        def fail(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(cli, "load_model", fail)
        got, _, err = xcnn(capsys, "evaluate", tmp_path / "m.safetensors")
        assert got == code and words in last_line(err)
        with pytest.raises(type(error)):
            cli.main(["--debug", "evaluate", str(tmp_path / "m.safetensors")])
        with pytest.raises(type(error)):
            cli.main(["evaluate", str(tmp_path / "m.safetensors"), "--debug"])


def test_8_the_installed_command_prints_no_traceback(tmp_path):
    run = [sys.executable, "-m", "xcnn", "evaluate", str(tmp_path)]
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"xcnn evaluate: {tmp_path} is a folder, not a model file"
    debug = subprocess.run(run + ["--debug"], capture_output=True, text=True)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "IsADirectoryError" in debug.stderr


def test_a_missing_optional_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    # exporting to .keras needs h5py (the keras-files extra): without it, the command says which
    # extra to install, as an error of the user's installation (exit 1), not an internal error
    Sequential([Input((3,)), Dense(2)]).save(tmp_path / "m.safetensors")
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    code, out, err = xcnn(capsys, "export", tmp_path / "m.safetensors", tmp_path / "m.keras")
    assert code == 1 and out == ""
    assert (
        last_line(err) == 'xcnn export: Keras .keras and .weights.h5 files need h5py: pip install "xcnn[keras-files]"'
    )
    assert "internal error" not in err and not (tmp_path / "m.keras").exists()


# --- the input probe: images, --overwrite, --resume, data sets, environment, devices ----------


def grey_image_model(path, head=None, **kwargs):
    """A (28, 28, 1) model saved at ``path``; ``head`` replaces its softmax Dense."""
    layers = [Input((28, 28, 1)), Flatten(), head or Dense(10, activation="softmax")]
    Sequential(layers, backend="numpy", seed=0, **kwargs).save(path)
    return path


@pytest.mark.parametrize(
    "array, words",
    [
        (np.zeros((1, 28, 28), np.float32), "shape (1, 28, 28); the model takes one image"),  # channels first
        (np.zeros((14, 56), np.float32), "shape (14, 56)"),
        (np.zeros((2, 14, 28), np.float32), "shape (2, 14, 28)"),
        (np.zeros(784, np.float32), "shape (784,)"),
        (np.full((28, 28), -1.0), "values from -1 to -1"),
        (np.full((28, 28), 65535, np.uint16), "uint16 values from 65535 to 65535"),
        (np.full((28, 28), -3, np.int8), "int8 values from -3 to -3"),
        (np.linspace(0, 1.5, 784).reshape(28, 28), "values from 0 to 1.5"),
        (np.full((28, 28), 256.0), "values from 256 to 256"),
    ],
)
def test_predict_npy_is_neither_reshaped_nor_rescaled_by_guesswork(tmp_path, capsys, array, words):
    model_file = small_model_file(tmp_path / "m.safetensors")
    np.save(tmp_path / "x.npy", array)
    code, out, err = xcnn(capsys, "predict", model_file, tmp_path / "x.npy")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    line = last_line(err)
    assert str(tmp_path / "x.npy") in line and words in line, line
    if "shape" in words:
        assert "(28, 28, 1), (1, 28, 28, 1) or (28, 28)" in line
    else:
        assert "floats in [0, 1], or whole numbers 0..255" in line


def test_predict_npy_accepts_the_models_shape_and_8_bit_pixels_alike(tmp_path, capsys):
    model_file = small_model_file(tmp_path / "m.safetensors")
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    forms = {
        "u8.npy": pixels,
        "u8c.npy": pixels[..., None],
        "u8b.npy": pixels[None, ..., None],
        "int64.npy": pixels.astype(np.int64),
        "whole.npy": pixels.astype(np.float32),  # float, whole numbers 0..255: 8-bit pixels too
        "unit.npy": pixels / 255.0,  # floats in [0, 1]: as they are
    }
    printed = set()
    for name, array in forms.items():
        np.save(tmp_path / name, array)
        code, out, _ = xcnn(capsys, "predict", model_file, tmp_path / name)
        assert code == 0, name
        printed.add(out[out.index("predicted") :])
    assert len(printed) == 1  # the same image, however it was given
    # a grey (H, W) picture only for a one-channel model
    rgb = Sequential([Input((28, 28, 3)), Flatten(), Dense(10, activation="softmax")], backend="numpy", seed=0)
    rgb.save(tmp_path / "rgb.safetensors")
    code, _, err = xcnn(capsys, "predict", tmp_path / "rgb.safetensors", tmp_path / "u8.npy")
    assert code == 1 and "shape (28, 28); the model takes one image" in last_line(err)
    assert "(28, 28, 3) or (1, 28, 28, 3)" in last_line(err)
    np.save(tmp_path / "chw.npy", np.zeros((3, 28, 28), np.float32))
    code, _, err = xcnn(capsys, "predict", tmp_path / "rgb.safetensors", tmp_path / "chw.npy")
    assert code == 1 and "chw.npy holds a float32 array of shape (3, 28, 28)" in last_line(err)


def test_predict_refuses_a_model_that_is_not_a_classifier_and_labels_logits_as_scores(tmp_path, capsys):
    from xcnn.layers import Conv2D

    conv = tmp_path / "conv.safetensors"
    Sequential([Input((28, 28, 1)), Conv2D(2, 3)], backend="numpy", seed=0).save(conv)
    np.save(tmp_path / "x.npy", np.zeros((28, 28)))
    code, _, err = xcnn(capsys, "predict", conv, tmp_path / "x.npy")
    line = last_line(err)
    assert code == 1 and str(conv) in line and "output has shape (None, 26, 26, 2)" in line
    assert "one vector of class scores per image" in line and "internal error" not in err
    logits = grey_image_model(tmp_path / "logits.safetensors", head=Dense(10))
    np.save(tmp_path / "ramp.npy", np.linspace(0, 1, 784).reshape(28, 28))
    code, out, _ = xcnn(capsys, "predict", logits, tmp_path / "ramp.npy")
    assert code == 0 and "(score " in out and "probability" not in out
    probs = grey_image_model(tmp_path / "probs.safetensors")
    code, out, _ = xcnn(capsys, "predict", probs, tmp_path / "ramp.npy")
    assert code == 0 and "(probability " in out


def test_an_image_file_that_is_not_a_npy_array_says_so(tmp_path, capsys):
    model_file = small_model_file(tmp_path / "m.safetensors")
    (tmp_path / "text.npy").write_text("not an array")
    np.savez(tmp_path / "archive.npz", x=np.zeros((28, 28)))
    os.replace(tmp_path / "archive.npz", tmp_path / "archive.npy")
    (tmp_path / "empty.npy").write_bytes(b"")
    for name, words in (
        ("text.npy", "text.npy is not a .npy array;"),
        ("archive.npy", "archive.npy is not a .npy array (a .npz archive"),
        ("empty.npy", "empty.npy is not a .npy array;"),
    ):
        code, _, err = xcnn(capsys, "predict", model_file, tmp_path / name)
        assert code == 1 and words in last_line(err) and "pickle" not in err and "internal error" not in err


@needs_mnist
def test_overwrite_deletes_the_old_run_only_when_the_new_one_starts(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert xcnn(capsys, "train", *QUICK, "--out", out)[0] == 0
    names = ("checkpoint.safetensors", "model.safetensors", "history.json", "history.png", "misclassified.png")
    for name in names:  # the pictures too, whether or not matplotlib drew them
        if not (out / name).exists():
            (out / name).write_bytes(b"old picture")
    before = {name: (out / name).read_bytes() for name in names}
    (tmp_path / "bad-data").mkdir()
    images = np.zeros((4, 28, 28), np.uint8)
    np.savez(tmp_path / "bad-data" / "mnist.npz", x_train=images, y_train=[0, 1, 2, 10], x_test=images, y_test=[0] * 4)
    refused = [
        (["--augment", "28"], {}, "--augment 28 must be smaller than the images"),
        ([], {"XCNN_DATA_DIR": str(tmp_path / "bad-data")}, "y_train holds labels from 0 to 10"),
        (["--device", "cuda"], {}, "--device cuda is not a device of backend numpy"),
    ]
    for argv, env, words in refused:
        with monkeypatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            code, _, err = xcnn(capsys, "train", *QUICK, *argv, "--overwrite", "--out", out)
        assert code != 0 and words in err, (argv, err)
        assert {name: (out / name).read_bytes() for name in names} == before, argv  # nothing lost

    # a run that starts deletes all five files of the old one before its first epoch
    seen = {}

    def first_epoch(self, *args, **kwargs):
        seen.update({name: (out / name).exists() for name in names})
        raise KeyboardInterrupt

    monkeypatch.setattr(Model, "fit", first_epoch)
    code, _, _ = xcnn(capsys, "train", *QUICK, "--overwrite", "--out", out)
    assert code == 130 and seen == dict.fromkeys(names, False)


def checkpoint_with(path, extra):
    """A checkpoint file as a run writes it, with ``extra`` (epoch, history, options) as given."""
    model = Sequential([Input((28, 28, 1)), Flatten(), Dense(10, activation="softmax")], backend="numpy", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    path.mkdir()
    model.save(path / "checkpoint.safetensors", extra=extra)
    return path / "checkpoint.safetensors"


GOOD_OPTIONS = {**cli.RUN_DEFAULTS, "limit": 100, "epochs": 1, "backend": "numpy"}
GOOD_HISTORY = {"loss": [2.0], "accuracy": [0.5], "val_loss": [2.1], "val_accuracy": [0.4]}


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"options": {**GOOD_OPTIONS, "limit": -3}}, "limit = -3, which --limit refuses (must be a positive whole"),
        ({"options": {**GOOD_OPTIONS, "batch_size": 0}}, "batch_size = 0, which --batch-size refuses"),
        ({"options": {**GOOD_OPTIONS, "seed": "x"}}, "seed = 'x', which --seed refuses (must be a whole number"),
        ({"options": {**GOOD_OPTIONS, "model": "bogus"}}, "model = 'bogus', which --model refuses (must be one of"),
        ({"options": {**GOOD_OPTIONS, "dtype": "float16"}}, "dtype = 'float16', which --dtype refuses"),
        ({"options": {**GOOD_OPTIONS, "lr": -1.0}}, "lr = -1.0, which --lr refuses (must be a finite number > 0"),
        ({"options": {**GOOD_OPTIONS, "weight_decay": None}}, "weight_decay = None, which --weight-decay refuses"),
        ({"options": {**GOOD_OPTIONS, "backend": "jax"}}, "backend = 'jax', which --backend refuses"),
        ({"options": {**GOOD_OPTIONS, "epochs": True}}, "epochs = True, which --epochs refuses"),
        ({"options": {**GOOD_OPTIONS, "bogus": 1}}, "holds the run option bogus, which xcnn train does not have"),
        ({"options": [1]}, "holds options = [1]; a checkpoint's options must be a dict"),
        ({"epoch": "x"}, "holds epoch = 'x'; a checkpoint's epoch must be a whole number >= 0"),
        ({"epoch": -5}, "holds epoch = -5"),
        ({"epoch": 1.5}, "holds epoch = 1.5"),
        ({"history": [1, 2]}, "holds history = [1, 2]; a checkpoint's history must be a dict of lists of numbers"),
        ({"history": {"loss": "abc"}}, "holds history = {'loss': 'abc'}"),
        ({"history": {"loss": [True]}}, "a checkpoint's history must be a dict of lists of numbers"),
        ({"history": {**GOOD_HISTORY, "loss": [1.0, 2.0, 3.0]}}, "history with accuracy: 1, loss: 3, val_accuracy: 1"),
    ],
)
def test_resume_checks_what_the_checkpoint_holds(tmp_path, capsys, edit, words):
    extra = {"epoch": 1, "history": GOOD_HISTORY, "options": GOOD_OPTIONS, **edit}
    checkpoint = checkpoint_with(tmp_path / "run", extra)
    before = checkpoint.read_bytes()
    code, _, err = xcnn(capsys, "train", "--resume", "--epochs", "3", "--no-progress", "--out", tmp_path / "run")
    line = last_line(err)
    assert code == 1 and f"xcnn train: {checkpoint} holds" in line and words in line, line
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
    assert checkpoint.read_bytes() == before


@needs_mnist
def test_resume_takes_a_checkpoint_that_holds_good_values(tmp_path, capsys):
    checkpoint_with(tmp_path / "run", {"epoch": 1, "history": GOOD_HISTORY, "options": GOOD_OPTIONS})
    code, text, _ = xcnn(capsys, "train", "--resume", "--epochs", "2", "--no-progress", "--out", tmp_path / "run")
    assert code == 0 and "Epoch 2/2" in text and "100 train / 100 test images" in text
    assert len(load_model(tmp_path / "run" / "model.safetensors").saved_extra["history"]["loss"]) == 2


@pytest.mark.parametrize(
    "arrays, words",
    [
        ({"y_train": np.full(4, 3.7)}, "y_train holds labels that are not whole numbers (4 of 4, the first 3.7)"),
        (
            {"y_train": np.array([0, 1, np.nan, 2])},
            "y_train holds labels that are not whole numbers (1 of 4, the first nan)",
        ),
        ({"y_train": np.eye(10)[:4]}, "y_train must be class numbers of shape (N,) or (N, 1), got shape (4, 10)"),
        ({"y_test": np.array(["a", "b"])}, "y_test must be whole-number class labels 0..9, got <U1"),
        ({"y_test": np.array([3, 10])}, "y_test holds labels from 3 to 10; this data set has 10 classes"),
        ({"y_train": np.array([-1, 0, 1, 2])}, "y_train holds labels from -1 to 2"),
        ({"x_train": np.zeros((0, 28, 28), np.uint8), "y_train": np.zeros(0, int)}, "x_train holds no images"),
        ({"x_train": np.zeros((4, 784), np.uint8)}, "x_train must be images of shape (N, H, W) or (N, H, W, C)"),
        ({"x_test": np.zeros((2, 14, 14), np.uint8)}, "x_test holds images of shape (14, 14) but x_train of shape"),
        ({"y_test": np.array([1, 2, 3])}, "y_test has 3 labels but x_test has 2 images"),
    ],
)
def test_a_data_set_file_with_bad_arrays_is_named(tmp_path, capsys, monkeypatch, arrays, words):
    good = {
        "x_train": np.zeros((4, 28, 28), np.uint8),
        "y_train": np.array([0, 1, 2, 3], np.uint8),
        "x_test": np.zeros((2, 28, 28), np.uint8),
        "y_test": np.array([4, 5]),
    }
    np.savez(tmp_path / "mnist.npz", **{**good, **arrays})
    model_file = small_model_file(tmp_path / "m.safetensors")
    monkeypatch.setenv("XCNN_DATA_DIR", str(tmp_path))
    for argv in (["evaluate", model_file], ["train", *QUICK, "--out", tmp_path / "run"]):
        code, _, err = xcnn(capsys, *argv)
        line = last_line(err)
        assert code == 1 and f"{tmp_path / 'mnist.npz'}: " in line and words in line, (argv, line)
        assert "decay_steps" not in err and "validation_data" not in err and "internal error" not in err


def test_bad_environment_variables_are_one_line_naming_them(tmp_path, capsys, monkeypatch):
    from xcnn import backend as B
    from xcnn.models import trainer

    model_file = small_model_file(tmp_path / "m.safetensors")
    np.save(tmp_path / "x.npy", np.zeros((28, 28)))
    env = {**os.environ, "XCNN_DEVICE_DATA_LIMIT": "1e9"}
    for code in ("import xcnn", "import xcnn.cli; xcnn.cli.main(['info'])"):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    cases = [
        ("XCNN_DEVICE_DATA_LIMIT", "1e9", "XCNN_DEVICE_DATA_LIMIT must be a whole number of bytes >= 0"),
        ("XCNN_DEVICE_DATA_LIMIT", "-1", "got '-1'"),
        ("XCNN_BACKEND", "foo", "XCNN_BACKEND must be one of numpy, array_api_strict, torch, cupy"),
    ]
    if not B.is_available("cupy"):
        cases.append(("XCNN_BACKEND", "cupy", "XCNN_BACKEND=cupy names a backend that is not available here"))
    for name, value, words in cases:
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            patch.setattr(trainer, "DEVICE_DATA_LIMIT", None)
            patch.setattr(B, "_default", None)  # read $XCNN_BACKEND again
            code, _, err = xcnn(capsys, "predict", model_file, tmp_path / "x.npy")
        line = last_line(err)
        assert code == 1 and words in line and len(err.strip().splitlines()) == 1, line
        assert value == "cupy" or f"got {value!r}" in line
    with monkeypatch.context() as patch:
        patch.setenv("XCNN_BACKEND", "foo")
        patch.setattr(B, "_default", None)
        code, out, err = xcnn(capsys, "info")
    assert code == 1 and "numpy" in out and last_line(err).startswith("xcnn info: XCNN_BACKEND must be one of")


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_xcnn_threads_must_be_a_whole_number_of_threads(monkeypatch, value):
    import array_api_compat.numpy as xp

    from xcnn.ops import _parallel

    monkeypatch.setenv("XCNN_THREADS", value)
    with pytest.raises(ValueError, match=f"XCNN_THREADS must be a whole number of threads >= 1.*got '{value}'"):
        _parallel.workers(xp)
    monkeypatch.setenv("XCNN_THREADS", "1")
    assert _parallel.workers(xp) == 1


def test_a_device_that_is_not_here_is_one_line_naming_device(tmp_path, capsys):
    from xcnn import backend as B

    model_file = small_model_file(tmp_path / "m.safetensors")
    np.save(tmp_path / "x.npy", np.zeros((28, 28)))
    cases = [
        ([], "cuda", "--device cuda is not a device of backend numpy here; available: cpu"),
        (["--backend", "array_api_strict"], "0", "backend array_api_strict here; available: CPU_DEVICE, device1"),
    ]
    if B.is_available("torch"):
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        cases.append(
            (["--backend", "torch"], f"cuda:{count}", f"--device cuda:{count} is not a device of backend torch")
        )
        cases.append((["--backend", "torch"], "meta", "--device meta is not a device of backend torch here"))
        if not count:
            cases.append((["--backend", "torch"], "cuda", "--device cuda is not a device of backend torch here"))
    for argv, device, words in cases:
        code, _, err = xcnn(capsys, "predict", model_file, tmp_path / "x.npy", *argv, "--device", device)
        line = last_line(err)
        assert code == 2 and line.startswith(f"xcnn predict: --device {device} ") and words in line, line
        assert "available: cpu" in line or "device1" in line
        assert len(err.strip().splitlines()) == 1 and "internal error" not in err
    code, _, _ = xcnn(
        capsys, "predict", model_file, tmp_path / "x.npy", "--backend", "array_api_strict", "--device", "device1"
    )
    assert code == 0


def test_torch_device_of_refuses_a_cuda_device_that_is_not_here():
    from xcnn import backend as B

    if not B.is_available("torch"):
        pytest.skip("torch is not installed")
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ValueError, match=f"device 'cuda:{count}' for backend 'torch' is not available here"):
        B.device_of("torch", f"cuda:{count}")
    assert str(B.device_of("torch", "meta")) == "meta"  # the tests' stand-in device stays usable


def test_out_and_export_paths_are_named(tmp_path, capsys):
    model_file = small_model_file(tmp_path / "m.safetensors")
    (tmp_path / "afile").write_text("x")
    code, _, err = xcnn(capsys, "train", "--out", "")
    assert code == 2 and last_line(err) == "xcnn train: --out must name a folder for the run, got an empty string"
    code, _, err = xcnn(capsys, "train", "--out", tmp_path / "afile" / "sub" / "run")
    assert code == 1 and last_line(err).endswith(f"cannot be made: {tmp_path / 'afile'} is a file, not a folder")
    code, _, err = xcnn(capsys, "export", model_file, tmp_path / "afile" / "x.safetensors")
    assert code == 1 and last_line(err) == (
        f"xcnn export: cannot write {tmp_path / 'afile' / 'x.safetensors'}: {tmp_path / 'afile'} is a file, not a folder"
    )
    code, _, err = xcnn(capsys, "export", model_file, tmp_path)
    assert code == 1 and f"{tmp_path} is a folder; give the file to write" in last_line(err)


def test_evaluate_names_the_model_and_the_data_set_when_their_images_differ(tmp_path, capsys, monkeypatch):
    images, labels = np.zeros((4, 10, 10), np.uint8), np.arange(4)
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=labels, x_test=images, y_test=labels)
    monkeypatch.setenv("XCNN_DATA_DIR", str(tmp_path))
    model_file = small_model_file(tmp_path / "m.safetensors")
    code, _, err = xcnn(capsys, "evaluate", model_file)
    assert code == 1 and last_line(err) == (
        f"xcnn evaluate: {model_file} takes images of shape (28, 28, 1), but the mnist images are (10, 10, 1); "
        "give the --dataset the model was trained on"
    )
