"""A/B of whole training steps: the working tree's xcnn against another commit's, in one process.

    python benchmarks/ab.py --base HEAD --model seed
    python benchmarks/ab.py --base HEAD --model lenet --batch-size 1 --predict 64   # inference

Why: on this VM a piece timed on its own can mislead (a copy written right after OpenBLAS's
second thread read the same buffer runs at half the speed it shows in a loop of its own), and
the machine's speed drifts by 15 % between runs. So a change is judged by whole steps of both
versions, taking turns in the same process: ``git archive <base> xcnn`` is unpacked as a
package named ``xcnn_base`` (xcnn imports itself relatively), each version builds the same
model, and they alternate ``--turn`` timed steps (after 2 untimed ones) for ``--rounds``.
Prints the median step of each and the ratio working tree / base (< 1: the change is faster).
With ``--predict N`` a "step" is ``model.predict`` over N images in batches of ``--batch-size``
instead (inference mode, no training).
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHAPES = {"seed": (28, 28, 1), "lecture": (28, 28, 1), "lenet": (28, 28, 1), "vgg": (32, 32, 3), "resnet": (32, 32, 3)}


def unpack_base(ref, folder):
    """``xcnn`` at git ``ref`` as the package ``xcnn_base`` under ``folder``."""
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", "--format=tar", ref, "xcnn"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            member.name = "xcnn_base" + member.name[len("xcnn") :]
            tar.extract(member, folder, filter="data")


def stepper(package, args):
    zoo = importlib.import_module(f"{package}.zoo")
    backend = importlib.import_module(f"{package}.backend")
    model = zoo.get(args.model, input_shape=SHAPES[args.model], backend=args.backend, dtype=args.dtype, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    if args.predict:
        images = rng.uniform(size=(args.predict, *SHAPES[args.model])).astype(args.dtype)
        return lambda: model.predict(images, batch_size=args.batch_size, verbose=0)
    x = backend.asarray(rng.uniform(size=(args.batch_size, *SHAPES[args.model])), args.backend, args.dtype)
    y = backend.asarray(rng.integers(0, 10, args.batch_size), args.backend, "int64")
    # commits before the models package named the device-batch step train_on_batch
    step = getattr(model, "_train_step", None) or model.train_on_batch
    return lambda: step(x, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git commit to compare the working tree with (default HEAD)")
    parser.add_argument("--model", default="seed", choices=sorted(SHAPES))
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--turn", type=int, default=6)
    parser.add_argument(
        "--predict", type=int, default=0, metavar="N", help="time model.predict over N images instead of training steps"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        unpack_base(args.base, folder)
        sys.path.insert(0, folder)
        sys.path.insert(0, ROOT)
        steps = {"working tree": stepper("xcnn", args), f"base {args.base}": stepper("xcnn_base", args)}
        times = {name: [] for name in steps}
        for step in steps.values():
            for _ in range(5):
                step()
        for _ in range(args.rounds):
            for name, step in steps.items():
                for _ in range(2):  # settle: the other version's buffers and threads
                    step()
                for _ in range(args.turn):
                    start = time.perf_counter()
                    step()
                    times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    for name, ms in medians.items():
        unit = f"ms/predict of {args.predict}" if args.predict else "ms/step"
        print(f"{name:<24}: {ms:7.2f} {unit} (median of {len(times[name])})")
    ours, base = medians.values()
    print(f"ratio working tree / base: {ours / base:.3f}")


if __name__ == "__main__":
    main()
