"""One full MNIST epoch with evaluation: seconds and peak resident memory.

    XCNN_DATA_DIR=../shared/datasets python benchmarks/epoch.py [--model seed] [--backend numpy]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from xcnn import datasets, zoo  # noqa: E402
from xcnn.callbacks import Callback  # noqa: E402


class PoolReport(Callback):
    """On cupy: the memory pool's bytes in use after each epoch (should not grow)."""

    def on_epoch_end(self, epoch, logs=None):
        import cupy

        pool = cupy.get_default_memory_pool()
        print(f"  epoch {epoch + 1}: cupy pool used {pool.used_bytes() / 2**20:.1f} MiB, "
              f"held {pool.total_bytes() / 2**20:.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="seed", choices=["seed", "lecture", "lenet"])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    (x, y), (xt, yt) = datasets.mnist.load_data()
    x, xt = datasets.prepare_images(x, args.dtype), datasets.prepare_images(xt, args.dtype)
    model = zoo.get(args.model, backend=args.backend, dtype=args.dtype, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, validation_data=(xt, yt), verbose=0,
                        callbacks=[PoolReport()] if args.backend == "cupy" else None)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"model {args.model}, backend {args.backend}, {args.dtype}, batch {args.batch_size}: "
          f"{seconds / args.epochs:.1f} s per epoch (train 60,000 + evaluate 10,000), "
          f"val_accuracy {history.history['val_accuracy'][-1] * 100:.2f} %, peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
