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
