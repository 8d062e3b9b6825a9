"""Forward + backward time of the core ops on each backend, beside torch.nn.functional.

    python benchmarks/ops.py [--backends numpy,torch] [--repeat 20]

Cases: the article's MNIST conv layer (100x28x28x1, 6 filters 7x7), a 3x3 64->64 conv on
32x32 (batch 32), 2x2 max pooling of the article's conv output, and flatten. Prints the median
milliseconds per backend, torch.nn.functional's (when torch is installed), and xcnn/torch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from xcnn import backend as B  # noqa: E402
from xcnn import ops  # noqa: E402

CASES = {
    "conv article 100x28x28x1 -> 6@7x7": ("conv", (100, 28, 28, 1), (6, 7, 7, 1), 0),
    "conv 32x32x32x64 -> 64@3x3 same": ("conv", (32, 32, 32, 64), (64, 3, 3, 64), "same"),
    "max pool 2x2 of 100x22x22x6": ("pool", (100, 22, 22, 6), 2, 0),
    "flatten 100x11x11x6": ("flatten", (100, 11, 11, 6), None, None),
}


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def xcnn_case(kind, x_shape, arg, padding, backend, repeat):
    rng = np.random.default_rng(0)
    x = B.asarray(rng.standard_normal(x_shape), backend, "float32")
    if kind == "conv":
        w = B.asarray(rng.standard_normal(arg), backend, "float32")

        def run():
            y, cols = ops.conv2d_forward(x, w, padding=padding)
            ops.conv2d_backward(y, x, w, padding=padding, cols=cols)
    elif kind == "pool":
        def run():
            y = ops.max_pool2d(x, arg)
            ops.max_pool2d_backward(y, x, arg, y=y)
    else:
        def run():
            ops.flatten_backward(ops.flatten(x), x.shape)
    return median_ms(run, repeat)


def torch_case(kind, x_shape, arg, padding, repeat):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    n, h, w_, c = x_shape
    x = torch.tensor(rng.standard_normal((n, c, h, w_)), dtype=torch.float32, requires_grad=True)
    if kind == "conv":
        f, kh, kw, _ = arg
        w = torch.tensor(rng.standard_normal((f, c, kh, kw)), dtype=torch.float32, requires_grad=True)

        def run():
            y = F.conv2d(x, w, padding=padding)
            y.backward(y.detach())
    elif kind == "pool":
        def run():
            y = F.max_pool2d(x, arg)
            y.backward(y.detach())
    else:
        def run():
            y = torch.flatten(x, 1)
            y.backward(y.detach())
    return median_ms(run, repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(b for b in B.available() if b != "array_api_strict"))
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    backends = args.backends.split(",")
    has_torch = B.is_available("torch")
    header = f"{'case (forward + backward)':<36}" + "".join(f"{b:>12}" for b in backends)
    header += f"{'torch.nn.F':>12}{'xcnn/torch':>12}" if has_torch else ""
    print(header + "   (ms, median)")
    for name, (kind, x_shape, arg, padding) in CASES.items():
        row = [xcnn_case(kind, x_shape, arg, padding, b, args.repeat) for b in backends]
        line = f"{name:<36}" + "".join(f"{ms:12.2f}" for ms in row)
        if has_torch:
            ref = torch_case(kind, x_shape, arg, padding, args.repeat)
            line += f"{ref:12.2f}{row[0] / ref:12.2f}"
        print(line)


if __name__ == "__main__":
    main()
