"""Run by tests/test_distributed.py under ``mpiexec -n K python -m mpi4py tests/distributed_worker.py
SCENARIO OUT.json``: each rank trains data-parallel, then rank 0 trains the same model in one
process and writes what the test asserts on (errors, per-rank values) to OUT.json."""

import json
import os
import sys

import numpy as np

from xcnn import distribution as D
from xcnn import regularizers
from xcnn.callbacks import BackupAndRestore, Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from xcnn.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    MaxPooling2D,
    SyncBatchNormalization,
)
from xcnn.models import Sequential


def small_net(dtype, seed, dropout=0.0):
    """A conv net small enough to train many steps in a second, with an L2 penalty on one kernel."""
    layers = [
        Input((8, 8, 1)),
        Conv2D(3, 3, activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(6, activation="relu", kernel_regularizer=regularizers.l2(1e-2)),
    ]
    if dropout:
        layers.append(Dropout(dropout))
    return Sequential(layers + [Dense(4, activation="softmax")], dtype=dtype, seed=seed)


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8, 8, 1)), rng.integers(0, 4, n)


def max_error(a, b):
    return max(float(np.abs(np.asarray(u, np.float64) - np.asarray(v, np.float64)).max()) for u, v in zip(a, b))


def same_everywhere(comm, arrays):
    """Whether every rank holds bitwise the same arrays as rank 0."""
    everyone = comm.allgather_object([np.asarray(a) for a in arrays])
    return all(all(np.array_equal(u, v) for u, v in zip(everyone[0], other)) for other in everyone)


def single_process(build, train):
    """``train(build())`` with no distribution (rank 0 only), then the distribution back."""
    saved = D.distribution()
    D.set_distribution(None)
    try:
        model = build()
        return model, train(model)
    finally:
        D.set_distribution(saved)


def scenario_equivalence(comm, out):
    """float64 over many steps, float32 over an epoch, metrics, evaluate, predict, early stopping."""
    return scenario_float32_and_stopping(comm, scenario_float64(comm, out))


def scenario_float64(comm, out):
    """float64 training, metrics, evaluate and predict against one process."""
    x, y = data(29)  # 29 = 4 global batches of 7 and a last one of 1: some ranks get none
    vx, vy = data(11, seed=1)
    result = {}
    # float64, no seed: each rank draws its own initial weights; rank 0's must win
    model = small_net("float64", seed=None)
    model.compile(
        {"name": "adam", "learning_rate": 0.01, "weight_decay": 0.05}, "sparse_categorical_crossentropy", ["accuracy"]
    )
    history = model.fit(x, y, batch_size=7, epochs=3, validation_data=(vx, vy), verbose=0)
    result["float64_ranks_identical"] = same_everywhere(comm, model.get_weights())
    logs_everywhere = comm.allgather_object({k: v for k, v in history.history.items() if k != "time"})
    result["logs_identical"] = all(logs == logs_everywhere[0] for logs in logs_everywhere)
    evaluated = model.evaluate(vx, vy, batch_size=4)
    predicted = model.predict(vx, batch_size=4)
    result["predict_identical"] = same_everywhere(comm, [predicted])
    steps = model.optimizer.iterations
    seed0 = model.seed  # rank 0's (the model's seed is never broadcast, only what it drew)
    if comm.rank == 0:

        def build():
            ref = small_net("float64", seed=seed0)
            ref.compile(
                {"name": "adam", "learning_rate": 0.01, "weight_decay": 0.05},
                "sparse_categorical_crossentropy",
                ["accuracy"],
            )
            return ref

        ref, ref_history = single_process(
            build, lambda m: m.fit(x, y, batch_size=7, epochs=3, validation_data=(vx, vy), verbose=0)
        )
        result["steps"] = steps
        result["float64_weight_error"] = max_error(model.get_weights(), ref.get_weights())
        result["float64_log_error"] = max(
            abs(a - b)
            for k in ref_history.history
            if k != "time"
            for a, b in zip(history.history[k], ref_history.history[k])
        )
        ref_eval = single_process(lambda: ref, lambda m: m.evaluate(vx, vy, batch_size=4))[1]
        result["evaluate_error"] = max(abs(a - b) for a, b in zip(evaluated, ref_eval))
        ref_pred = single_process(lambda: ref, lambda m: m.predict(vx, batch_size=4))[1]
        result["predict_shape"] = list(predicted.shape)
        result["predict_error"] = float(np.abs(predicted - ref_pred).max())
    return result


def scenario_float32_and_stopping(comm, result):
    """float32 through fit, and early stopping, against one process."""
    x, y = data(29)
    vx, vy = data(11, seed=1)
    # float32 through fit for one epoch of 60 samples in batches of 9 (6 of 9 and one of 6)
    x32, y32 = data(60, seed=2)
    model = small_net("float32", seed=5)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x32, y32, batch_size=9, epochs=1, validation_split=0.1, verbose=0, seed=3)
    result["float32_ranks_identical"] = same_everywhere(comm, model.get_weights())
    if comm.rank == 0:

        def build32():
            ref = small_net("float32", seed=5)
            ref.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
            return ref

        ref, ref_history = single_process(
            build32, lambda m: m.fit(x32, y32, batch_size=9, epochs=1, validation_split=0.1, verbose=0, seed=3)
        )
        result["float32_weight_error"] = max_error(model.get_weights(), ref.get_weights())
        result["float32_logs"] = {
            k: [history.history[k][0], ref_history.history[k][0]] for k in ref_history.history if k != "time"
        }

    # early stopping on the global val_loss: SGD with a rate that makes it climb
    def stopping_fit(m):
        stopper = EarlyStopping(monitor="val_loss", patience=1)
        m.fit(x, y, batch_size=7, epochs=12, validation_data=(vx, vy), verbose=0, seed=4, callbacks=[stopper])
        return stopper.stopped_epoch

    def build_sgd():
        m = small_net("float64", seed=6)
        m.compile({"name": "sgd", "learning_rate": 0.5}, "sparse_categorical_crossentropy")
        return m

    stopped = comm.allgather_object(stopping_fit(build_sgd()))
    result["stopped_epochs"] = stopped
    if comm.rank == 0:
        result["stopped_epoch_single"] = single_process(build_sgd, stopping_fit)[1]
    return result


def scenario_layers(comm, out):
    """BatchNormalization statistics, per-rank dropout, rank-0-only saving."""
    result = {}
    # BatchNormalization right after the input: each rank's batch statistics are those of its data
    n = 4 * comm.size
    x, y = data(n, seed=7)
    model = Sequential(
        [Input((8, 8, 1)), BatchNormalization(momentum=0.5), Flatten(), Dense(4, activation="softmax")],
        dtype="float64",
        seed=8,
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=n, epochs=1, shuffle=False, verbose=0)
    bn = model.layers[0]
    mean, var = np.asarray(bn.state["moving_mean"]), np.asarray(bn.state["moving_variance"])
    result["bn_identical"] = same_everywhere(comm, [mean, var])
    if comm.rank == 0:
        shards = np.split(x, comm.size)  # equal shards: 4 samples per rank
        expected_var = 0.5 * 1.0 + 0.5 * np.mean([s.var() for s in shards])
        result["bn_mean_error"] = float(np.abs(mean - 0.5 * x.mean()).max())
        result["bn_var_error"] = float(np.abs(var - expected_var).max())
        # one process sees the variance of the whole batch, larger by the spread of the shards' means
        result["bn_single_var_error"] = float(np.abs(var - (0.5 + 0.5 * x.var())).max())

    # SyncBatchNormalization: global statistics, so K ranks train as one process, empty shards too
    # (SGD: Adam would turn the rounding noise of the conv bias, whose true gradient is 0 before a
    # normalization, into steps of size lr)
    x, y = data(29, seed=12)

    def build_sync():
        m = Sequential(
            [
                Input((8, 8, 1)),
                Conv2D(3, 3),
                SyncBatchNormalization(momentum=0.8),
                Activation("relu"),
                MaxPooling2D(2),
                Flatten(),
                Dense(4, activation="softmax"),
            ],
            dtype="float64",
            seed=13,
        )
        m.compile({"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}, "sparse_categorical_crossentropy")
        return m

    def sync_fit(m):
        m.fit(x, y, batch_size=7, epochs=2, verbose=0, seed=14)
        return m.get_weights()

    weights = sync_fit(build_sync())
    result["sync_bn_ranks_identical"] = same_everywhere(comm, weights)
    if comm.rank == 0:
        result["sync_bn_error"] = max_error(weights, single_process(build_sync, sync_fit)[1])

    # dropout draws differ per rank, and the weights stay identical
    x, y = data(24, seed=9)
    model = small_net("float32", seed=10, dropout=0.5)
    model.compile("adam", "sparse_categorical_crossentropy")

    class FirstMask(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 0:
                self.mask = np.asarray(self.model.layers[-2]._mask).ravel()[:8].tolist()

    probe = FirstMask()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=11, callbacks=[probe])
    masks = comm.allgather_object(probe.mask)
    result["dropout_masks_differ"] = len({tuple(m) for m in masks}) == comm.size
    result["dropout_ranks_identical"] = same_everywhere(comm, model.get_weights())

    # saving: every rank calls save, rank 0 alone writes
    from xcnn.models import saving

    writes = []
    real_write = saving.atomic_write
    saving.atomic_write = lambda path, data: (writes.append(path), real_write(path, data))
    folder = comm.bcast_object(out + ".models" if comm.rank == 0 else None)
    if comm.rank == 0:
        os.makedirs(folder)
    comm.barrier()
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[
            ModelCheckpoint(os.path.join(folder, "epoch{epoch}.safetensors"), save_best_only=False),
            csv_log := CSVLogger(os.path.join(folder, "log.csv")),
            BackupAndRestore(os.path.join(folder, "backup")),
        ],
    )  # deleted when fit ends
    model.save(os.path.join(folder, "final.safetensors"))
    saving.atomic_write = real_write
    result["writes_per_rank"] = comm.allgather_object(len(writes))
    result["csv_opened_per_rank"] = comm.allgather_object(csv_log.csv_file is not None)
    result["files"] = sorted(os.listdir(folder)) if comm.rank == 0 else None
    if comm.rank == 0:
        with open(os.path.join(folder, "log.csv")) as f:
            result["csv_lines"] = len(f.read().splitlines())
    return result


class Batches:
    """A PyDataset-like sequence of (x, y, sample_weight) batches."""

    def __init__(self, x, y, w, size):
        self.parts = [(x[i : i + size], y[i : i + size], w[i : i + size]) for i in range(0, len(x), size)]

    def __len__(self):
        return len(self.parts)

    def __getitem__(self, i):
        return self.parts[i]


def scenario_adapters(comm, out):
    """Sample weights with weighted and extra metrics, a frozen layer, a shuffled PyDataset-like
    sequence, a list of batches, evaluate and predict on batches: each against one process."""
    x, y = data(29, seed=15)
    w = np.random.default_rng(16).uniform(0.2, 2.0, 29)
    vx, vy = data(10, seed=17)
    result = {}

    def build():
        m = small_net("float64", seed=18)
        m.layers[0].trainable = False  # a frozen conv: out of the optimizer and the gradient buffer
        m.compile(
            {"name": "adam", "learning_rate": 0.01},
            "sparse_categorical_crossentropy",
            ["accuracy", "sparse_top_k_categorical_accuracy"],
            weighted_metrics=["accuracy"],
        )
        return m

    def fits(m):
        logs = {}
        for name, source in (("arrays", None), ("sequence", Batches(x, y, w, 7)), ("list", list(Batches(x, y, w, 5)))):
            if source is None:
                h = m.fit(x, y, sample_weight=w, batch_size=7, epochs=2, validation_data=(vx, vy), verbose=0, seed=19)
            else:
                h = m.fit(source, epochs=2, shuffle=True, verbose=0)
            logs[name] = {k: v for k, v in h.history.items() if k != "time"}
        logs["evaluate"] = m.evaluate(iter(Batches(vx, vy, np.ones(10), 3)), return_dict=True)
        logs["predict"] = m.predict(iter([b[0] for b in Batches(vx, vy, vy, 3)])).tolist()
        return logs

    model = build()
    logs = fits(model)
    result["adapters_ranks_identical"] = same_everywhere(comm, model.get_weights())
    everyone = comm.allgather_object(logs)
    result["adapters_logs_identical"] = all(other == everyone[0] for other in everyone)
    if comm.rank == 0:
        ref, ref_logs = single_process(build, fits)
        result["adapters_weight_error"] = max_error(model.get_weights(), ref.get_weights())
        result["frozen_unchanged"] = bool(
            np.array_equal(model.layers[0].get_weights()[0], build().layers[0].get_weights()[0])
        )
        result["adapters_log_error"] = max(
            abs(a - b)
            for name in ("arrays", "sequence", "list")
            for k in ref_logs[name]
            for a, b in zip(logs[name][k], ref_logs[name][k])
        )
        result["adapters_log_keys"] = sorted(logs["arrays"])
        result["adapters_evaluate_error"] = max(
            abs(logs["evaluate"][k] - ref_logs["evaluate"][k]) for k in ref_logs["evaluate"]
        )
        result["adapters_predict_error"] = float(
            np.abs(np.asarray(logs["predict"]) - np.asarray(ref_logs["predict"])).max()
        )
        result["adapters_predict_shape"] = list(np.asarray(logs["predict"]).shape)
    return result


def _run_cli(comm, out, fail_on_rank_1):
    """``xcnn.cli.main`` for a short --distributed run on synthetic MNIST-shaped data; with
    ``fail_on_rank_1``, rank 1 raises a ValueError when the first epoch starts, while rank 0 goes
    on into the first allreduce. The CLI turns errors into exit codes (no exception reaches
    ``python -m mpi4py``), so ``main`` itself must end the job; if it returns instead, the other
    rank waits forever and the test fails on its timeout."""
    from xcnn import cli, datasets

    def synthetic(name):
        rng = np.random.default_rng(20)
        return (
            (rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), rng.integers(0, 10, 40)),
            (rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.integers(0, 10, 20)),
        )

    datasets.load_data = synthetic
    if fail_on_rank_1 and comm.rank == 1:

        def broken(self, epoch, logs=None):
            raise ValueError("rank 1 fails on purpose")

        cli._EpochSeed.on_epoch_begin = broken
    return {
        "code": cli.main(
            ["train", "--distributed", "--epochs", "1", "--batch-size", "10", "--no-progress", "--out", out]
        )
    }


def scenario_cli_raise(comm, out):
    return _run_cli(comm, out, fail_on_rank_1=True)


def scenario_cli_bad_out(comm, out):
    return _run_cli(comm, out, fail_on_rank_1=False)


def scenario_raise(comm, out):
    """Rank 1 raises in its third step while the others wait in the allreduce."""
    x, y = data(64)
    model = small_net("float32", seed=1)
    model.compile("adam", "sparse_categorical_crossentropy")

    class Boom(Callback):
        def on_batch_end(self, batch, logs=None):
            if comm.rank == 1 and batch == 2:
                raise RuntimeError("rank 1 fails on purpose")

    model.fit(x, y, batch_size=4, epochs=50, verbose=0, callbacks=[Boom()])
    return {"finished": True}


if __name__ == "__main__":
    scenario, path = sys.argv[1], sys.argv[2]
    D.set_distribution(D.DataParallel())
    comm = D.distribution().communicator
    found = globals()[f"scenario_{scenario}"](comm, path)
    if comm.rank == 0:
        with open(path, "w") as f:
            json.dump({"size": comm.size, **found}, f)
