"""Peak resident memory of training: xcnn's `fit` and the PyTorch twin, each in a fresh process.

    python benchmarks/memory.py --model vgg --batch-size 128 --images 2560 [--backend torch]

Each contender is a new Python process that builds its network, makes `--images` random
images of the network's input shape (float32) and integer labels, trains one epoch over them
at `--batch-size` with Adam (xcnn: `model.fit(..., verbose=0)`; PyTorch: the same loop by hand,
channels-last, as `benchmarks/train_step.py` times it) and reports its peak resident set
(`ru_maxrss`). An epoch repeats one step's working set, so a few dozen steps show the peak of
any epoch length; the data set itself counts the same for both (its size is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _data(args, shape):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random((args.images, *shape), dtype=np.float32), rng.integers(0, 10, args.images)


def run_xcnn(args):
    sys.path.insert(0, os.path.join(HERE, ".."))
    from train_step import SHAPES

    from xcnn import zoo

    x, y = _data(args, SHAPES[args.model])
    model = zoo.get(args.model, input_shape=SHAPES[args.model], backend=args.backend, dtype="float32", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    before = _peak_mib()
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
    return before, _peak_mib()


def run_torch(args):
    import torch
    from train_step import SHAPES, torch_twin

    h, w, c = SHAPES[args.model]
    x, y = _data(args, SHAPES[args.model])
    net = torch_twin(args.model, SHAPES[args.model]).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    images = torch.from_numpy(x).permute(0, 3, 1, 2)  # NCHW view of the NHWC data: channels-last
    labels = torch.from_numpy(y)
    before = _peak_mib()
    for start in range(0, args.images, args.batch_size):
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(
            net(images[start : start + args.batch_size]), labels[start : start + args.batch_size]
        )
        loss.backward()
        optimizer.step()
    return before, _peak_mib()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="vgg", choices=["seed", "lecture", "lenet", "vgg", "resnet"])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--images", type=int, default=2560)
    parser.add_argument("--backend", default="numpy", help="xcnn's backend (default numpy)")
    parser.add_argument("--contender", choices=["xcnn", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    if args.contender:  # the child: one contender, a JSON line on stdout
        before, peak = (run_xcnn if args.contender == "xcnn" else run_torch)(args)
        print(json.dumps({"before_training_mib": before, "peak_mib": peak}))
        return
    data_mib = args.images * 4 * (32 * 32 * 3 if args.model in ("vgg", "resnet") else 28 * 28) / 2**20
    print(
        f"peak resident memory, one epoch of {args.images} random images ({data_mib:.0f} MiB of float32) "
        f"at batch {args.batch_size}, model {args.model}, xcnn on {args.backend}, each contender in a fresh process"
    )
    for contender in ("xcnn", "torch"):
        command = [
            sys.executable,
            __file__,
            "--model",
            args.model,
            "--batch-size",
            str(args.batch_size),
            "--images",
            str(args.images),
            "--backend",
            args.backend,
            "--contender",
            contender,
        ]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            print(f"{contender:<6}: failed: {last}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{contender:<6}: peak {result['peak_mib']:.0f} MiB (after building the model and data: "
            f"{result['before_training_mib']:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
