"""Data-parallel training (xcnn.distribution): K ranks give the results of one process.

Multi-rank cases launch ``mpiexec -n K python -m mpi4py tests/distributed_worker.py`` under a
timeout (at most 3 ranks, one BLAS thread each) and assert on what rank 0 reports; they skip
when mpi4py or mpiexec is absent. The rest run in this process with no MPI at all.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from xcnn import distribution as D
from xcnn.distribution import data_parallel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "distributed_worker.py")


def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def launch(ranks, *args, timeout=120, env=None):
    """Run ``args`` (a script and its arguments, or ``-m module ...``) on ``ranks`` MPI ranks."""
    pytest.importorskip("mpi4py", reason="multi-rank tests need mpi4py (pip install 'xcnn[mpi]')")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("multi-rank tests need mpiexec (pip install mpich)")
    env = {
        **os.environ,
        "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **(env or {}),
    }
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def run_scenario(tmp_path_factory, ranks, scenario, backend="numpy", env=None):
    out = str(tmp_path_factory.mktemp(f"{scenario}{ranks}") / "result.json")
    done = launch(ranks, WORKER, scenario, out, env={"XCNN_BACKEND": backend, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out) as f:
        return json.load(f)


@pytest.fixture(scope="module", params=[2, 3], ids=["2ranks", "3ranks"])
def equivalence(request, tmp_path_factory):
    return run_scenario(tmp_path_factory, request.param, "equivalence")


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    return run_scenario(tmp_path_factory, 3, "layers")


# --- K ranks against one process ------------------------------------------------------------
def test_float64_training_equals_one_process(equivalence):
    # 3 epochs of batches 7,7,7,7,1 (with 3 ranks: shards 3,2,2 and 1,0,0), no seed, an L2
    # penalty and weight decay (each applied once), Adam
    assert equivalence["steps"] == 15
    assert equivalence["float64_weight_error"] < 1e-12
    assert equivalence["float64_ranks_identical"]


def test_float32_fit_equals_one_process_after_an_epoch(equivalence):
    assert equivalence["float32_weight_error"] < 1e-5
    assert equivalence["float32_ranks_identical"]


def test_metrics_are_global_and_equal_on_every_rank(equivalence):
    assert equivalence["logs_identical"]
    assert equivalence["float64_log_error"] < 1e-12
    for key, (distributed, single) in equivalence["float32_logs"].items():
        assert abs(distributed - single) <= 1e-6 * max(1.0, abs(single)), key


@pytest.mark.parametrize("backend", ["torch", "array_api_strict"])
def test_other_cpu_backends_train_as_one_process(backend, tmp_path_factory):
    # torch tensors are reduced in their own memory; array_api_strict arrays through a host copy
    pytest.importorskip(backend)
    found = run_scenario(tmp_path_factory, 2, "float64", backend)
    assert found["float64_weight_error"] < 1e-12 and found["float64_ranks_identical"]
    assert found["evaluate_error"] < 1e-12 and found["predict_error"] < 1e-12


def test_batches_copied_from_the_host_train_as_one_process(tmp_path_factory):
    # data too large for the device: shuffled on the host (the host stream is rank 0's too)
    found = run_scenario(tmp_path_factory, 3, "float64", env={"XCNN_DEVICE_DATA_LIMIT": "0"})
    assert found["float64_weight_error"] < 1e-12 and found["float64_ranks_identical"]
    assert found["predict_error"] < 1e-12


def test_evaluate_and_predict_are_sharded_without_duplicates(equivalence):
    assert equivalence["evaluate_error"] < 1e-12
    assert equivalence["predict_shape"] == [11, 4]  # every sample once, in order
    assert equivalence["predict_error"] < 1e-12
    assert equivalence["predict_identical"]


def test_early_stopping_stops_every_rank_in_the_same_epoch(equivalence):
    stopped = equivalence["stopped_epochs"]
    assert len(set(stopped)) == 1 and stopped[0] == equivalence["stopped_epoch_single"]
    assert stopped[0] < 11  # it did stop early


def test_batch_normalization_statistics_are_averaged(layers):
    assert layers["bn_identical"]
    assert layers["bn_mean_error"] < 1e-12  # equal shards: the mean of means is the global mean
    assert layers["bn_var_error"] < 1e-12  # the mean of the ranks' batch variances
    assert layers["bn_single_var_error"] > 1e-4  # which is not one process's (no SyncBatchNormalization)


def test_sync_batch_normalization_trains_as_one_process(layers):
    # conv -> SyncBatchNormalization -> relu -> pool, batches of 7 on 3 ranks (shards 3,2,2 and 1,0,0)
    assert layers["sync_bn_error"] < 1e-12  # weights and moving statistics
    assert layers["sync_bn_ranks_identical"]


def test_dropout_differs_per_rank_and_weights_stay_identical(layers):
    assert layers["dropout_masks_differ"]
    assert layers["dropout_ranks_identical"]


def test_only_rank_zero_writes(layers):
    # two checkpoints, two backups, the final model; one CSV header and one row per epoch
    assert layers["writes_per_rank"] == [5, 0, 0]
    assert layers["files"] == ["epoch1.safetensors", "epoch2.safetensors", "final.safetensors", "log.csv"]
    assert layers["csv_lines"] == 3 and layers["csv_opened_per_rank"] == [True, False, False]


def test_a_rank_that_raises_ends_the_job_within_seconds(tmp_path):
    started = time.perf_counter()
    done = launch(2, WORKER, "raise", str(tmp_path / "never.json"), timeout=60)
    elapsed = time.perf_counter() - started
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr
    assert elapsed < 30, f"the job took {elapsed:.1f} s to end"
    assert not (tmp_path / "never.json").exists()


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    return run_scenario(tmp_path_factory, 3, "adapters")


def test_sample_weights_metrics_frozen_layers_and_batch_sources_train_as_one_process(adapters):
    # 3 ranks; batches of 7 and 5 (shards 3, 2, 2 and 2, 2, 1), weighted and top-k metrics
    assert adapters["adapters_ranks_identical"] and adapters["adapters_logs_identical"]
    assert adapters["adapters_weight_error"] < 1e-12
    assert adapters["frozen_unchanged"]
    assert adapters["adapters_log_error"] < 1e-12
    assert {"weighted_accuracy", "sparse_top_k_categorical_accuracy", "val_weighted_accuracy"} <= set(
        adapters["adapters_log_keys"]
    )
    assert adapters["adapters_evaluate_error"] < 1e-12
    assert adapters["adapters_predict_shape"] == [10, 4] and adapters["adapters_predict_error"] < 1e-12


def _ends_within_seconds(ranks, *args):
    started = time.perf_counter()
    done = launch(ranks, *args, timeout=90)
    elapsed = time.perf_counter() - started
    assert done.returncode != 0, done.stdout + done.stderr
    assert elapsed < 45, f"the job took {elapsed:.1f} s to end"
    return done


def test_cli_rank_that_fails_ends_the_job(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    done = _ends_within_seconds(2, WORKER, "cli_raise", str(out))
    assert "rank 1 fails on purpose" in done.stderr


def test_cli_bad_out_ends_the_job(tmp_path):
    blocker = tmp_path / "a-file"  # rank 0 alone checks --out: the others are already loading the data
    blocker.write_text("not a folder")
    done = _ends_within_seconds(2, WORKER, "cli_bad_out", str(blocker))
    assert "is a file, not a folder" in done.stderr
    assert blocker.read_text() == "not a folder"


# --- one process ----------------------------------------------------------------------------
class _OneRank(D.Communicator):
    """A communicator of size 1 (what DataParallel() is without mpiexec)."""


def test_size_one_is_bit_identical_to_no_distribution():
    from distributed_worker import data, small_net

    x, y = data(29)

    def train(distribution):
        D.set_distribution(distribution)
        try:
            model = small_net("float32", seed=3, dropout=0.25)
            model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
            history = model.fit(x, y, batch_size=7, epochs=2, validation_split=0.2, verbose=0)
            return model.get_weights(), model.predict(x[:5]), history.history
        finally:
            D.set_distribution(None)

    plain, one_rank = train(None), train(D.DataParallel(_OneRank()))
    assert D.active() is None
    for a, b in zip(plain[0] + [plain[1]], one_rank[0] + [one_rank[1]]):
        assert np.array_equal(a, b)
    assert {k: v for k, v in plain[2].items() if k != "time"} == {k: v for k, v in one_rank[2].items() if k != "time"}


def test_mpi_world_of_one_without_mpiexec_is_bit_identical(tmp_path):
    # DataParallel() in a plain `python script.py`: MPI's world has one rank
    pytest.importorskip("mpi4py", reason="needs mpi4py (pip install 'xcnn[mpi]')")
    out = tmp_path / "one.json"
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1", "XCNN_BACKEND": "numpy"}
    done = subprocess.run(
        [sys.executable, WORKER, "float64", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(out.read_text())
    assert found["size"] == 1
    assert found["float64_weight_error"] == 0.0 and found["float64_log_error"] == 0.0
    assert found["evaluate_error"] == 0.0 and found["predict_error"] == 0.0


def test_even_split_covers_each_sample_once_with_sizes_within_one():
    for n in range(12):
        for parts in (1, 2, 3, 5):
            ranges = [data_parallel.even_split(n, parts, i) for i in range(parts)]
            assert ranges[0][0] == 0 and ranges[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
            sizes = [hi - lo for lo, hi in ranges]
            assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_api_without_a_distribution():
    D.set_distribution(None)
    assert D.distribution() is None and D.active() is None
    assert D.rank() == 0 and D.size() == 1 and D.list_devices() == ["cpu:0"]
    assert D.list_devices("gpu") == ["gpu:0"]
    with pytest.raises(ValueError, match="device_type"):
        D.list_devices("tpu")
    with pytest.raises(TypeError, match="DataParallel"):
        D.set_distribution("mpi")
    with pytest.raises(TypeError, match="communicator"):
        D.DataParallel(communicator=42)


class _FakeNCCL:
    def __init__(self, mpi):
        self.mpi = mpi


def test_nccl_is_chosen_for_cupy_buffers_only(monkeypatch):
    mpi = object.__new__(D.MPICommunicator)  # no MPI needed: the choice only looks at the type
    mpi.rank, mpi.size = 0, 2
    monkeypatch.setattr(data_parallel, "nccl_available", lambda: True)
    monkeypatch.setattr(data_parallel, "NCCLCommunicator", _FakeNCCL)
    dist = D.DataParallel(mpi)
    for backend in ("numpy", "torch", "array_api_strict"):
        assert dist.collective_for(backend) is mpi
    nccl = dist.collective_for("cupy")
    assert isinstance(nccl, _FakeNCCL) and nccl.mpi is mpi and dist.collective_for("cupy") is nccl
    monkeypatch.setattr(data_parallel, "nccl_available", lambda: False)
    assert D.DataParallel(mpi).collective_for("cupy") is mpi  # CuPy without NCCL: MPI over host copies


@pytest.mark.skipif(D.nccl_available(), reason="checks the message shown when NCCL is missing")
def test_nccl_communicator_says_what_to_install():
    with pytest.raises(ImportError, match="nvidia-nccl|xcnn\\[cuda12"):
        D.NCCLCommunicator()


# --- the command line ---------------------------------------------------------------------
needs_mnist = pytest.mark.skipif(
    not os.path.exists(os.path.join(os.environ.get("XCNN_DATA_DIR", "/nonexistent"), "mnist.npz")),
    reason="set XCNN_DATA_DIR to a folder with mnist.npz",
)


@needs_mnist
def test_example_on_two_ranks(tmp_path):
    done = launch(
        2,
        os.path.join(ROOT, "examples", "data_parallel_mnist.py"),
        "--limit",
        "200",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "model.safetensors"),
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("test accuracy:") == 1 and "2 rank(s) on ['cpu:0', 'cpu:1']" in done.stdout
    assert (tmp_path / "model.safetensors").exists()


@needs_mnist
def test_cli_on_two_ranks_prints_once_and_resumes_exactly(tmp_path):
    from xcnn import load_model

    def train(out, epochs, *extra):
        args = [
            "-m",
            "xcnn",
            "train",
            "--distributed",
            "--limit",
            "240",
            "--batch-size",
            "50",
            "--epochs",
            str(epochs),
            "--lr-schedule",
            "constant",
            "--no-progress",
            "--out",
            str(tmp_path / out),
            *extra,
        ]
        done = launch(2, *args, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    whole = train("whole", 2)  # with the default augmentation: one random stream per rank
    assert whole.count("Epoch 1/2") == 1 and whole.count("Total params") == 1 and "2 ranks" in whole
    train("resumed", 1)
    resumed = train("resumed", 2, "--resume")
    assert "Resuming" in resumed and resumed.count("Epoch 2/2") == 1
    a, b = load_model(tmp_path / "whole" / "model.safetensors"), load_model(tmp_path / "resumed" / "model.safetensors")
    for u, v in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(u, v)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert a.saved_extra["history"][key] == b.saved_extra["history"][key], key


def test_sync_batch_normalization_alone_is_batch_normalization(tmp_path):
    from xcnn import load_model
    from xcnn.layers import (
        BatchNormalization,
        Dense,
        Flatten,
        Input,
        SyncBatchNormalization,
    )
    from xcnn.models import Sequential

    x = np.random.default_rng(0).normal(size=(12, 4, 4, 2))
    y = np.arange(12) % 3

    def train(norm):
        model = Sequential(
            [Input((4, 4, 2)), norm(momentum=0.7), Flatten(), Dense(3, activation="softmax")], dtype="float64", seed=1
        )
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=5, epochs=2, verbose=0)
        return model

    plain, synced = train(BatchNormalization), train(SyncBatchNormalization)
    for a, b in zip(plain.get_weights(), synced.get_weights()):
        assert np.array_equal(a, b)
    synced.save(tmp_path / "sync.safetensors")
    loaded = load_model(tmp_path / "sync.safetensors")
    assert type(loaded.layers[0]).__name__ == "SyncBatchNormalization"
    np.testing.assert_array_equal(loaded.predict(x), synced.predict(x))


def test_benchmark_and_cost_model_scripts_run(tmp_path):
    """docs/distributed.md's figures come from these two scripts: they still run (timings unchecked)."""
    done = launch(
        2,
        os.path.join(ROOT, "benchmarks", "distributed.py"),
        "--nets",
        "seed",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--wire-repeats",
        "2",
        "--threads",
        "1",
        "--json",
        str(tmp_path / "b.json"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    row = json.loads((tmp_path / "b.json").read_text())["rows"][0]
    assert row["params"] == 78_560 and row["gradient_bytes"] == 4 * 78_562 and row["bare_allreduce_ms"] > 0
    model = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "scaling_model.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert model.returncode == 0, model.stderr
    assert "8 GPUs, one node" in model.stdout and "Check against this machine" in model.stdout


def test_sync_batch_normalization_is_keras_batch_normalization():
    from xcnn.interop import converters
    from xcnn.layers import BatchNormalization, SyncBatchNormalization

    to_keras = converters.CONVERTERS["SyncBatchNormalization"]
    assert to_keras.keras_name == "BatchNormalization"  # written for Keras on any backend
    assert converters.KERAS_CLASSES["BatchNormalization"].xcnn_class is BatchNormalization
    read = converters.KERAS_CLASSES["BatchNormalization"]
    config = {"name": "bn", "momentum": 0.9, "epsilon": 1e-3, "axis": -1}
    assert type(read.from_keras({**config, "synchronized": True}, (4, 4, 2))) is SyncBatchNormalization
    assert type(read.from_keras({**config, "synchronized": False}, (4, 4, 2))) is BatchNormalization
