"""One full MNIST epoch with evaluation: seconds, peak resident memory, and on a GPU the
device memory after each epoch.

    XCNN_DATA_DIR=../shared/datasets python benchmarks/epoch.py [--model seed] [--backend numpy] [--device cuda]
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
    """On a GPU, after each epoch: the device memory in use and at its peak (should not grow).

    cupy: the memory pool's used bytes and the bytes it holds (it keeps freed blocks, so what
    it holds is the peak of what was in use); torch on CUDA: ``memory_allocated`` and
    ``max_memory_allocated``.
    """

    def __init__(self, backend):
        super().__init__()
        self.backend = backend

    def on_epoch_end(self, epoch, logs=None):
        if self.backend == "cupy":
            import cupy

            pool = cupy.get_default_memory_pool()
            used, peak, label = pool.used_bytes(), pool.total_bytes(), "cupy pool used {} MiB, held (peak) {} MiB"
        else:
            import torch

            used, peak = torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated()
            label = "torch CUDA allocated {} MiB, peak {} MiB"
        print(f"  epoch {epoch + 1}: " + label.format(f"{used / 2**20:.1f}", f"{peak / 2**20:.1f}"), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="seed", choices=["seed", "lecture", "lenet"])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--device", default=None, help="the backend's device: cuda (torch), 0 (cupy)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    (x, y), (xt, yt) = datasets.mnist.load_data()
    x, xt = datasets.prepare_images(x, args.dtype), datasets.prepare_images(xt, args.dtype)
    model = zoo.get(args.model, backend=args.backend, device=args.device, dtype=args.dtype, seed=0)
    on_gpu = args.backend == "cupy" or str(args.device or "").startswith("cuda")
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    start = time.perf_counter()
    history = model.fit(
        x,
        y,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=(xt, yt),
        verbose=0,
        callbacks=[PoolReport(args.backend)] if on_gpu else None,
    )
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(
        f"model {args.model}, backend {args.backend}, {args.dtype}, batch {args.batch_size}: "
        f"{seconds / args.epochs:.1f} s per epoch (train 60,000 + evaluate 10,000), "
        f"val_accuracy {history.history['val_accuracy'][-1] * 100:.2f} %, peak RSS {peak_mib:.0f} MiB"
    )


if __name__ == "__main__":
    main()
