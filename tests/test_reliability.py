"""Issue #15: every bad input ends in a clear error naming it, or works; nothing is silently
wrong and no run is lost. One test per numbered failure of the issue (CLI ones in
test_cli_errors.py), then property-based tests feeding malformed arguments to the public API."""

import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
from safetensors.numpy import save as save_safetensors

from xcnn import load_model, ops, optimizers
from xcnn.callbacks import Callback, History, TerminateOnNaN
from xcnn.layers import Conv2D, Dense, Dropout, Input, MaxPooling2D
from xcnn.models import Model, Sequential, atomic_write
from xcnn.models.saving import _digest, _read_safetensors, remove_stale_temporaries

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

CLASSES = 4
FEATURES = 3


def tiny(backend="numpy", dtype="float32", loss="sparse_categorical_crossentropy"):
    model = Sequential([Input((FEATURES,)), Dense(CLASSES, activation="softmax")], backend=backend, dtype=dtype, seed=0)
    model.compile(optimizers.SGD(0.1), loss, ["accuracy"])
    return model


def data(n=8):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, FEATURES)), np.arange(n) % CLASSES


def rewrite_config(src, dst, edit):
    """Copy a saved model with its config text changed by ``edit`` and a recomputed digest
    (the digest is unkeyed: anyone can do this, which is why it only claims to catch damage)."""
    config, tensors = _read_safetensors(src.read_bytes(), src)
    text = edit(json.dumps(config, sort_keys=True))
    dst.write_bytes(save_safetensors(tensors, metadata={"xcnn_config": text, "xcnn_sha256": _digest(text, tensors)}))


# --- 1. labels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, shown",
    [
        (np.full(8, CLASSES), "4 at index 0"),
        (np.full(8, -1), "-1 at index 0"),
        (np.r_[np.zeros(7), np.nan], "nan at index 7"),
        (np.r_[np.zeros(7), 1.5], "1.5 at index 7"),
    ],
)
def test_1_labels_outside_the_classes_are_refused_everywhere(backend, bad, shown):
    x, y = data()
    model = tiny(backend)
    before = model.get_weights()
    calls = {
        "fit": lambda: model.fit(x, bad, verbose=0),
        "evaluate": lambda: model.evaluate(x, bad),
        "validation_data": lambda: model.fit(x, y, validation_data=(x, bad), verbose=0),
        "train_on_batch": lambda: model.train_on_batch(x, bad),
    }
    for where, call in calls.items():
        with pytest.raises(ValueError, match=r"class labels in \[0, 4\)") as info:
            call()
        assert shown in str(info.value), where
        assert ("validation_data[1]" if where == "validation_data" else "y must") in str(info.value)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)  # nothing was trained on the bad labels


def test_1_labels_on_the_device_and_whole_floats_are_accepted(backend):
    from xcnn import backend as B

    x, y = data()
    model = tiny(backend)
    # whole-number float labels are labels (Keras takes them); device labels are checked too
    model.fit(x, y.astype(np.float64), verbose=0)
    model.fit(B.asarray(x, backend, "float32"), B.asarray(y, backend, "int64"), verbose=0)
    with pytest.raises(ValueError, match=r"got 4 at index 0"):
        model.evaluate(B.asarray(x, backend, "float32"), B.asarray(np.full(8, 4), backend, "int64"))


@pytest.mark.parametrize(
    "bad, shown",
    [
        (np.r_[np.zeros(5, int), CLASSES, 0, 0], "4 at index 5"),
        (np.r_[np.zeros(7, int), -1], "-1 at index 7"),
        (np.r_[np.zeros(7), np.nan], "nan at index 7"),
        (np.r_[np.zeros(6), 1.5, 0], "1.5 at index 6"),
    ],
)
def test_1_device_labels_are_checked_on_the_device(backend, bad, shown):
    """Device labels are checked by a reduction on the device (one flag read back); bad ones
    are then named as host labels are, integer or float."""
    from xcnn import backend as B

    x, _ = data()
    model = tiny(backend)
    labels = B.asarray(bad, backend, "int64" if bad.dtype.kind == "i" else "float32")
    with pytest.raises(ValueError, match=r"class labels in \[0, 4\)") as info:
        model.fit(B.asarray(x, backend, "float32"), labels, verbose=0)
    assert shown in str(info.value)
    target = np.eye(CLASSES)[np.arange(8) % CLASSES]
    target[2, 3] = np.inf
    with pytest.raises(ValueError, match=r"y must be finite, got inf at index \(2, 3\)"):
        tiny(backend, loss="categorical_crossentropy").fit(x, B.asarray(target, backend, "float32"), verbose=0)


def test_1_one_hot_targets_must_be_finite_and_as_wide_as_the_output():
    x, y = data()
    model = tiny(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y must have shape \(N, 4\), got \(8, 5\)"):
        model.fit(x, np.eye(5)[y], verbose=0)
    target = np.eye(CLASSES)[y]
    target[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"y must be finite, got inf at index \(3, 1\)"):
        model.fit(x, target, verbose=0)


def test_1_the_loss_is_positive_for_valid_labels():
    # the silent failure: labels out of range gave loss -0.0; valid labels must give a real loss
    x, y = data()
    loss, _ = tiny().evaluate(x, y)
    assert loss > 0.1


# --- 2. divergence --------------------------------------------------------------------------


@pytest.mark.parametrize("check_every", [1, 3])
def test_2_terminate_on_nan_stops_training(backend, check_every):
    x, y = data(40)
    x = x * 1e20  # with this rate the float32 weights overflow at the first step, the loss is NaN at the second
    model = tiny(backend)
    model.compile(optimizers.SGD(1e30), "sparse_categorical_crossentropy", ["accuracy"])

    class Count(Callback):
        batches = 0

        def on_batch_end(self, batch, logs=None):
            Count.batches += 1

    guard = TerminateOnNaN(check_every=check_every)
    with np.errstate(all="ignore"):
        history = model.fit(x, y, batch_size=4, epochs=5, callbacks=[guard, Count()], verbose=0)
    assert guard.terminated and guard.stopped_epoch == 0
    assert Count.batches < 10  # stopped within the first epoch of 10 batches
    assert len(history.history["loss"]) == 1 and not np.isfinite(history.history["loss"][0])


def test_2_terminate_on_nan_raise_error_and_finite_runs_untouched():
    x, y = data(40)
    model = tiny()
    guard = TerminateOnNaN()
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[guard], verbose=0)
    assert not guard.terminated and len(model.history.history["loss"]) == 2
    model.compile(optimizers.SGD(1e30), "sparse_categorical_crossentropy")
    with np.errstate(all="ignore"), pytest.raises(RuntimeError, match="NaN or Inf loss"):
        model.fit(x * 1e20, y, batch_size=4, epochs=2, callbacks=[TerminateOnNaN(raise_error=True)], verbose=0)
    with pytest.raises(ValueError, match="check_every must be a positive whole number"):
        TerminateOnNaN(check_every=0)


# --- 4. a small file cannot force a huge allocation ---------------------------------------


def test_4_load_checks_shapes_before_allocating(tmp_path):
    model = Sequential([Input((100,)), Dense(10), Dense(10, activation="softmax")], backend="numpy", seed=0)
    model.save(tmp_path / "small.safetensors")
    # one Dense asks for 100 x 100,000 weights (80 MB as the float64 draw of the old loader)
    rewrite_config(
        tmp_path / "small.safetensors",
        tmp_path / "big.safetensors",
        lambda text: text.replace('"units": 10, "use_bias"', '"units": 100000, "use_bias"', 1),
    )
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=r"weight params/dense\w*/kernel has shape \(100, 10\), "
            r"the model needs \(100, 100000\)",
        ):
            load_model(tmp_path / "big.safetensors")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024**2, peak


def test_4_every_stored_tensor_must_belong_to_the_config(tmp_path):
    model = tiny()
    model.fit(*data(), verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    config, tensors = _read_safetensors(path.read_bytes(), path)
    text = json.dumps(config, sort_keys=True)
    kernel = next(k for k in tensors if k.endswith("/kernel") and k.startswith("params/"))

    def write(changed):
        (tmp_path / "x").write_bytes(
            save_safetensors(changed, metadata={"xcnn_config": text, "xcnn_sha256": _digest(text, changed)})
        )
        return tmp_path / "x"

    cases = [
        ({**tensors, "params/ghost/kernel": np.zeros(3, np.float32)}, "belongs to no layer"),
        ({**tensors, kernel: tensors[kernel].astype(np.float64)}, "is float64, the model is float32"),
        ({k: v for k, v in tensors.items() if k != kernel}, "is missing"),
        ({**tensors, "optimizer/ghost/kernel/m": np.zeros(3, np.float32)}, "belongs to no weight"),
        ({**tensors, f"optimizer/{kernel[len('params/') :]}/m": np.zeros((1, 1), np.float32)}, "its weight is float32"),
    ]
    for changed, match in cases:
        with pytest.raises(ValueError, match=match):
            load_model(write(changed))


def test_4_config_nesting_and_unknown_keys_are_clear_errors(tmp_path):
    model = tiny()
    model.save(tmp_path / "m.safetensors")
    deep = "[" * 100_000 + "]" * 100_000
    rewrite_config(
        tmp_path / "m.safetensors", tmp_path / "deep", lambda t: t.replace('"extra": {}', f'"extra": {deep}')
    )
    with pytest.raises(ValueError, match="deep"):
        load_model(tmp_path / "deep")
    nested = "[" * 40 + "]" * 40
    rewrite_config(
        tmp_path / "m.safetensors", tmp_path / "nested", lambda t: t.replace('"extra": {}', f'"extra": {nested}')
    )
    with pytest.raises(ValueError, match="nested more than 32 levels deep"):
        load_model(tmp_path / "nested")
    rewrite_config(
        tmp_path / "m.safetensors", tmp_path / "opt", lambda t: t.replace('"name": "sgd"', '"name": "sgd", "bogus": 1')
    )
    with pytest.raises(ValueError, match=r"opt: optimizer config for 'sgd' has unknown keys \['bogus'\]"):
        load_model(tmp_path / "opt")
    rewrite_config(
        tmp_path / "m.safetensors", tmp_path / "layer", lambda t: t.replace('"units": 4', '"units": 4, "bogus": 1')
    )
    with pytest.raises(ValueError, match="the model config is malformed"):
        load_model(tmp_path / "layer")


# --- 5. the checksum claims only what it does ----------------------------------------------


def test_5_the_unkeyed_checksum_detects_damage_and_says_no_more(tmp_path):
    model = tiny()
    path = tmp_path / "m.safetensors"
    model.save(path)
    damaged = bytearray(path.read_bytes())
    damaged[-3] ^= 0x01
    (tmp_path / "damaged").write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="damaged") as info:
        load_model(tmp_path / "damaged")
    assert "tamper" not in str(info.value)
    # a forger recomputes the digest and the file loads: the docs must not promise otherwise
    rewrite_config(path, tmp_path / "forged", lambda t: t.replace('"seed": 0', '"seed": 1'))
    assert load_model(tmp_path / "forged").seed == 1
    from xcnn.models import saving

    assert "not tampering" in saving.__doc__ and "tampering" not in load_model.__doc__


# --- 10. API gaps ---------------------------------------------------------------------------


def test_10_api_gaps_are_clear_errors_or_work():
    x, y = data()
    model = tiny()
    with pytest.raises(ValueError, match=r"x has no samples"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match=r"x has no samples"):
        model.evaluate(x[:0], y[:0])
    assert model.predict(x[:0]).shape == (0, CLASSES)
    for call in (
        lambda: model.predict(x, batch_size=0),
        lambda: model.evaluate(x, y, batch_size=0),
        lambda: model.fit(x, y, batch_size=-1, verbose=0),
    ):
        with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
            call()
    with pytest.raises(ValueError, match=r"y is required when x is an array"):
        model.fit(x, None, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data must be \(x, y\), \(x, y, sample_weight\) .*got 1 item$"):
        model.fit(x, y, validation_data=(x,), verbose=0)
    with pytest.raises(TypeError, match="got a single History; pass \\[callback\\]"):
        model.fit(x, y, callbacks=History(), verbose=0)
    # NumPy integers are whole numbers
    model.fit(x, y, batch_size=np.int64(4), epochs=np.int32(1), verbose=0)
    model.predict(x, batch_size=np.int64(3))
    assert Dense(np.int64(5)).units == 5 and Conv2D(np.int32(2), np.int64(3)).kernel_size == (3, 3)
    with pytest.raises(ValueError, match=r"beta_1 must be in \[0, 1\), got 1.0"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match=r"beta_2 must be in \[0, 1\)"):
        optimizers.Adam(beta_2=-0.1)
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\)"):
        optimizers.RMSprop(rho=1.0)
    with pytest.raises(ValueError, match="epsilon must be a positive number"):
        optimizers.Adam(epsilon=0.0)


def test_10_a_graph_shared_by_two_dtypes_is_refused():
    inputs = Input((FEATURES,))
    outputs = Dense(CLASSES)(inputs)
    first = Model(inputs, outputs, backend="numpy", dtype="float32", seed=0)
    with pytest.raises(ValueError, match="already holds float32 weights for another model; a float64 model needs"):
        Model(inputs, outputs, backend="numpy", dtype="float64", seed=0)
    # the same dtype shares the weights, as in Keras
    second = Model(inputs, outputs, backend="numpy", dtype="float32", seed=1)
    assert second.layers[0] is first.layers[0]


# --- 11 and 12. saved files: permissions and temporary files -------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_11_saved_files_get_the_umasks_permissions(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        tiny().save(tmp_path / "m.safetensors")
        atomic_write(tmp_path / "h.json", b"{}")
    finally:
        os.umask(old)
    for name in ("m.safetensors", "h.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_12_temporary_files_are_cleaned_up(tmp_path, monkeypatch):
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"old")
    old_time = time.time() - 3600
    stale = tmp_path / f".tmp-xcnn-{_dead_pid()}-abcd1234m.safetensors"  # a killed writer's
    live = tmp_path / f".tmp-xcnn-{os.getpid()}-efgh5678m.safetensors"  # a writer still running
    fresh = tmp_path / f".tmp-xcnn-{_dead_pid()}-ijkl9012m.safetensors"  # too new to judge
    other = tmp_path / ".tmp-someone-else"  # not ours
    for path in (stale, live, fresh, other):
        path.write_bytes(b"partial")
    for path in (stale, live, other):
        os.utime(path, (old_time, old_time))

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"  # the old file is kept
    assert not stale.exists()  # removed by the save
    assert live.exists() and fresh.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (target, live, fresh, other))
    # a day on, any writer is presumed gone (it may have been on another machine)
    removed = remove_stale_temporaries(tmp_path, now=time.time() + 2 * 24 * 3600)
    assert sorted(removed) == sorted([live.name, fresh.name]) and other.exists()


def test_12_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    script = (
        f"import os, sys; sys.path.insert(0, {os.getcwd()!r})\n"
        "import xcnn.models.saving as s\n"
        "real = os.fsync\n"
        "def die(fd): os.kill(os.getpid(), 9)\n"
        "os.fsync = die\n"
        f"s.atomic_write({str(tmp_path / 'm.bin')!r}, b'x' * 1000)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    (left,) = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-xcnn-")]
    os.utime(left, (time.time() - 120, time.time() - 120))
    atomic_write(tmp_path / "m.bin", b"y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]


# --- 13. minimum versions -------------------------------------------------------------------


def test_13_declared_minimum_versions_are_the_tested_ones():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml")) as f:
        assert '"numpy>=2.0"' in f.read()  # ndarray.device, which the ops use, arrived in NumPy 2.0
    with open(os.path.join(root, "ci", "test.sh")) as f:
        assert "bash ci/min_versions.sh" in f.read() and os.path.exists(os.path.join(root, "ci", "min_versions.sh"))


def test_14_model_arguments_are_checked_where_they_are_given(tmp_path):
    """Found by a probe on 2026-12-02: each was silently wrong, or failed later with a message
    naming something else."""
    from xcnn.callbacks import BackupAndRestore, CSVLogger, LearningRateScheduler, ModelCheckpoint

    with pytest.raises(TypeError, match=r"shape must be a tuple of ints .* got \(2\.5,\)"):
        Input((2.5,))  # was (None, 2)
    for layers_ in (
        [Input((3,)), Dense(3, name="d"), Dense(3, name="d")],
        [Input((3,)), Dense(3, name="input_layer_x"), Dense(3, name="input_layer_x")],
    ):
        with pytest.raises(ValueError, match="layer names must be unique .* names more than one layer"):
            Sequential(layers_)  # was saved, one layer's weights over the other's, and refused on load
    inputs = Input((3,))
    with pytest.raises(ValueError, match="'twin' names more than one layer"):
        Model(inputs, Dense(2, name="twin")(Dense(2, name="twin")(inputs)))
    for seed, error in ((-1, ValueError), (1.5, TypeError), ("a", TypeError)):
        with pytest.raises(error, match="seed must be"):
            Sequential([Input((3,)), Dense(2)], seed=seed)
    model = tiny()
    x, y = data()
    with pytest.raises(ValueError, match="seed must be >= 0"):
        model.fit(x, y, seed=-1, verbose=0)
    with pytest.raises(TypeError, match=r"metrics must be a list or tuple, as in metrics=\['accuracy'\]"):
        model.compile("sgd", "sparse_categorical_crossentropy", metrics="accuracy")  # was "unknown metric 'a'"
    with pytest.raises(TypeError, match="extra must be a dict"):
        model.save(tmp_path / "m.safetensors", extra=[1, 2])  # was saved, and read back as {}
    with pytest.raises(TypeError, match="extra must hold JSON values only"):
        model.save(tmp_path / "m.safetensors", extra={"n": np.int64(3)})
    assert not (tmp_path / "m.safetensors").exists()
    with pytest.raises(ValueError, match="class_weight names class 7, but the model has 4 classes"):
        model.fit(x, y, class_weight={7: 1.0}, verbose=0)  # was ignored
    for weight in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="class_weight values must be finite numbers >= 0"):
            model.fit(x, y, class_weight={0: weight}, verbose=0)
        with pytest.raises(ValueError, match="sample_weight must hold finite numbers >= 0"):
            model.fit(x, y, sample_weight=np.full(len(x), weight), verbose=0)  # was a negative or NaN loss
    with pytest.raises(ValueError, match=r"names \{bogus\}, which is neither 'epoch' nor a value in this epoch's logs"):
        model.fit(x, y, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "ck_{epoch}_{bogus}.safetensors"))])
    with pytest.raises(ValueError, match="separator must be one character"):
        CSVLogger(str(tmp_path / "log.csv"), separator="")
    backup = tmp_path / "backup"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(str(backup), delete_checkpoint=False)])
    (backup / "training_metadata.json").write_text("{not json")
    with pytest.raises(ValueError, match="training_metadata.json is damaged"):
        tiny().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(str(backup))])
    other = Sequential([Input((FEATURES,)), Dense(2, activation="softmax")], seed=0)
    other.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="BackupAndRestore: the backup .* is of another model"):
        other.fit(x, y % 2, epochs=2, verbose=0, callbacks=[BackupAndRestore(str(backup))])
    with pytest.raises(ValueError, match="finite learning rate >= 0"):
        model.fit(x, y, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: -1.0)])


# --- property-based: malformed arguments give clear errors naming them ----------------------

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=3),
    st.floats(allow_nan=True),
    st.integers(-5, 0),
    st.lists(st.integers(-2, 2), max_size=3),
    st.dictionaries(st.text(max_size=1), st.integers(), max_size=1),
)


def assert_names(exc_info_value, *names):
    text = str(exc_info_value)
    assert any(name in text for name in names), f"{type(exc_info_value).__name__}: {text!r} names none of {names}"


@FAST
@given(value=junk)
def test_property_bad_batch_sizes_are_named(value):
    assume(value is not None)  # batch_size=None is Keras's default (32)
    x, y = data()
    model = tiny()
    for call in (
        lambda: model.fit(x, y, batch_size=value, verbose=0),
        lambda: model.evaluate(x, y, batch_size=value),
        lambda: model.predict(x, batch_size=value),
    ):
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        assert_names(info.value, "batch_size")


@FAST
@given(
    x=hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.int8, np.bool_, np.uint8]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
    )
)
def test_property_bad_shapes_and_ranks_are_named(x):
    model = tiny()
    good = x.ndim == 2 and x.shape[1] == FEATURES
    try:
        out = model.predict(x)
    except (ValueError, TypeError) as exc:
        assert not good or x.shape[0] == 0, exc
        assert_names(exc, "x ")
    else:
        assert good and out.shape == (x.shape[0], CLASSES)


@FAST
@given(draw=st.data())
def test_property_labels_outside_the_classes_are_named(draw):
    whole = draw.draw(st.booleans())
    dtype = draw.draw(st.sampled_from([np.int64, np.int8] if whole else [np.float32, np.float64]))
    elements = (
        st.integers(-3, 7)
        if whole
        else st.one_of(st.floats(-3, 7, width=32), st.sampled_from([np.nan, np.inf, -np.inf]))
    )
    labels = draw.draw(hnp.arrays(dtype=dtype, shape=8, elements=elements))
    x, _ = data()
    model = tiny()
    valid = bool(
        np.all(np.isfinite(labels))
        and np.all(labels == np.floor(labels))
        and labels.min() >= 0
        and labels.max() < CLASSES
    )
    try:
        model.evaluate(x, labels)
    except ValueError as exc:
        assert not valid
        assert_names(exc, "y must")
    else:
        assert valid


@FAST
@given(value=st.one_of(junk, st.tuples(st.integers(-1, 3), st.integers(-1, 3)), st.integers(-3, 0)))
def test_property_layer_arguments_are_named(value):
    makers = {
        "units": lambda v: Dense(v),
        "filters": lambda v: Conv2D(v, 3),
        "kernel_size": lambda v: Conv2D(2, v),
        "strides": lambda v: Conv2D(2, 3, strides=v),
        "pool_size": lambda v: MaxPooling2D(v),
        "padding": lambda v: Conv2D(2, 3, padding=v),
        "rate": lambda v: Dropout(v),
    }
    for name, make in makers.items():
        try:
            make(value)
        except (ValueError, TypeError) as exc:
            assert_names(exc, name)


@FAST
@given(
    padding=st.one_of(
        junk,
        st.integers(-2, 3),
        st.tuples(st.integers(-2, 3), st.integers(-2, 3)),
        st.tuples(st.tuples(st.integers(-1, 2), st.integers(-1, 2)), st.tuples(st.integers(-1, 2), st.integers(-1, 2))),
        st.sampled_from(["valid", "same", "SAME", "full", ""]),
    ),
    stride=st.one_of(st.integers(-1, 3), st.tuples(st.integers(0, 2), st.integers(1, 2)), st.floats(0, 2)),
)
def test_property_op_window_arguments_are_named(padding, stride):
    x = np.zeros((1, 5, 5, 2))
    w = np.zeros((3, 3, 3, 2))
    try:
        ops.conv2d(x, w, None, stride=stride, padding=padding)
        ops.max_pool2d(x, pool_size=2, stride=stride, padding=padding)
    except (ValueError, TypeError) as exc:
        assert_names(exc, "padding", "stride")


_VALID_FILE = {}


def _valid_model_bytes():
    if "bytes" not in _VALID_FILE:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "m.safetensors")
            model = tiny()
            model.fit(*data(), verbose=0)
            model.save(path)
            with open(path, "rb") as f:
                _VALID_FILE["bytes"] = f.read()
    return _VALID_FILE["bytes"]


@FAST
@given(
    edit=st.one_of(
        st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
        st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
        st.tuples(st.just("junk"), st.integers(0, 300), st.integers(0, 2**31)),
    )
)
def test_property_damaged_model_files_are_named(tmp_path_factory, edit):
    kind, where, value = edit
    data_ = bytearray(_valid_model_bytes())
    if kind == "flip":
        data_[where % len(data_)] ^= value
    elif kind == "cut":
        data_ = data_[: where % len(data_)]
    else:
        data_ = bytearray(np.random.default_rng(value).integers(0, 256, where, dtype=np.uint8).tobytes())
    path = tmp_path_factory.mktemp("damaged") / "model.safetensors"
    path.write_bytes(bytes(data_))
    with pytest.raises((ValueError, OSError)) as info:
        load_model(path)
    assert_names(info.value, str(path))


@FAST
@given(
    x=hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.int32, np.bool_]),
        shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5),
    ),
    w=hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.int64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=4),
    ),
)
def test_property_op_arrays_of_any_shape_dtype_and_rank_are_named(x, w):
    try:
        out = ops.conv2d(x, w, None, padding="same")
    except (ValueError, TypeError) as exc:
        assert_names(exc, "x ", "w ", "x has", "kernel_size")
    else:
        assert out.shape == (x.shape[0], x.shape[1], x.shape[2], w.shape[0])


@FAST
@given(payload=st.binary(max_size=400), zip_header=st.booleans())
def test_property_damaged_data_set_files_are_named(tmp_path_factory, payload, zip_header):
    from xcnn import datasets

    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    path.write_bytes((b"PK\x03\x04" if zip_header else b"") + payload)
    with pytest.raises((ValueError, OSError)) as info:
        datasets.load_data("mnist", path=str(path))
    assert_names(info.value, str(path))
