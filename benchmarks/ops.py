"""Forward + backward time of the core ops on each backend, beside torch.nn.functional.

    python benchmarks/ops.py [--tables core,conv] [--backends numpy,torch] [--repeat 20] [--batch-size 128]
        [--conv-backend numpy|torch]

Table "core": the article's MNIST conv layer (100x28x28x1, 6 filters 7x7), a 3x3 64->64 conv
on 32x32 (batch 32), 2x2 max pooling of the article's conv output, and flatten: the median
milliseconds of forward + backward per backend, torch.nn.functional's (when torch is
installed), and xcnn/torch.

Table "conv": the convolutions of CIFAR-shaped networks at ``--batch-size`` (128): 3x3 stride 1
'same' with C = F in {16, 32, 64, 128} at 32x32, 16x16 and 8x8, 3x3 stride 2, 1x1 (stride 1
and 2) and 5x5 'valid'; forward alone and forward + backward with the input gradient, for
xcnn (each layer's algorithm as ``ops.conv_algorithm`` picks it, named in the table) and
``torch.nn.functional.conv2d`` on channels-last tensors, taking turns per repeat (each timed
run after a ``--pause``, for the other library's idle threads to stop spinning). xcnn runs with
the BLAS held at one thread, as a model's passes run it (``xcnn.ops._parallel.BlasHold``).
The last columns say where xcnn's forward + backward time goes: "GEMM" is the time inside
the op's matrix products (timed around each call, the busiest thread's sum when image groups
run side by side) with the rate they reached on each core, "rest" everything else (copies, accumulations,
bias, Python); "GEMM/torch" is the ratio xcnn would have with no "rest" at all, the limit of
a GEMM-based convolution at this BLAS's rate.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from xcnn import backend as B  # noqa: E402
from xcnn import ops  # noqa: E402
from xcnn.ops import _parallel, conv, conv_gather  # noqa: E402

CASES = {
    "conv article 100x28x28x1 -> 6@7x7": ("conv", (100, 28, 28, 1), (6, 7, 7, 1), 0),
    "conv 32x32x32x64 -> 64@3x3 same": ("conv", (32, 32, 32, 64), (64, 3, 3, 64), "same"),
    "max pool 2x2 of 100x22x22x6": ("pool", (100, 22, 22, 6), 2, 0),
    "flatten 100x11x11x6": ("flatten", (100, 11, 11, 6), None, None),
}


# (label, x shape NHWC without the batch, w shape (F, KH, KW, C), stride, padding)
CONV_TABLE = [
    *[
        (f"3x3 s1 same {c}->{c} @{hw}x{hw}", (hw, hw, c), (c, 3, 3, c), 1, "same")
        for hw in (32, 16, 8)
        for c in (16, 32, 64, 128)
    ],
    ("3x3 s2 same 32->64 @32x32", (32, 32, 32), (64, 3, 3, 32), 2, "same"),
    ("3x3 s2 same 64->128 @16x16", (16, 16, 64), (128, 3, 3, 64), 2, "same"),
    ("1x1 s1 64->64 @16x16", (16, 16, 64), (64, 1, 1, 64), 1, "valid"),
    ("1x1 s2 32->64 @32x32", (32, 32, 32), (64, 1, 1, 32), 2, "valid"),
    ("5x5 valid 6->16 @14x14", (14, 14, 6), (16, 5, 5, 6), 1, "valid"),
    ("5x5 valid 32->32 @32x32", (32, 32, 32), (32, 5, 5, 32), 1, "valid"),
]


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


class GemmClock:
    """Times every matrix product ``xcnn.ops.conv`` and ``conv_gather`` make while it is installed: per thread,
    the seconds inside them and their floating-point operations."""

    def __init__(self):
        self.seconds, self.flops = {}, 0

    def _timed(self, product):
        def run(xp, a, b, *rest, **kw):
            start = time.perf_counter()
            out = product(xp, a, b, *rest, **kw)
            me = threading.get_ident()
            self.seconds[me] = self.seconds.get(me, 0.0) + time.perf_counter() - start
            self.flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
            return out

        return run

    @contextlib.contextmanager
    def installed(self):
        saved = conv.matmul, conv.matmul_into, conv_gather.matmul_into
        conv.matmul, conv.matmul_into = self._timed(saved[0]), self._timed(saved[1])
        conv_gather.matmul_into = self._timed(saved[2])
        try:
            yield self
        finally:
            conv.matmul, conv.matmul_into, conv_gather.matmul_into = saved

    def busiest_ms(self):
        return max(self.seconds.values(), default=0.0) * 1e3


def conv_contenders(x_shape, w_shape, stride, padding, batch, backend="numpy"):
    """``{name: run}`` for one row of the conv table: xcnn (on ``backend``, with a workspace as
    a layer keeps one) and torch channels-last, forward alone and forward + backward with dx."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *x_shape), dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32) * 0.1
    workspace = {}
    y0 = ops.conv2d(x, w, stride=stride, padding=padding)
    dy = rng.standard_normal(y0.shape, dtype=np.float32)
    xb, wb, dyb = (B.asarray(a, backend, "float32") for a in (x, w, dy))

    hold = _parallel.BlasHold()
    hold.wanted = True  # the BLAS at one thread, as in a model's passes (on NumPy)

    def xcnn_fwd():
        with hold.pass_on(backend, xb.shape[0]):
            ops.conv2d_forward(xb, wb, stride=stride, padding=padding, workspace=workspace)

    def xcnn_fb():
        with hold.pass_on(backend, xb.shape[0]):
            _, cols = ops.conv2d_forward(xb, wb, stride=stride, padding=padding, workspace=workspace)
            ops.conv2d_backward(dyb, xb, wb, stride=stride, padding=padding, cols=cols, workspace=workspace)

    runs = {"xcnn fwd": xcnn_fwd, "xcnn f+b": xcnn_fb}
    if B.is_available("torch"):
        import torch
        import torch.nn.functional as F

        channels_last = torch.channels_last
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=channels_last).requires_grad_()
        wt = torch.from_numpy(w).permute(0, 3, 1, 2).contiguous(memory_format=channels_last).requires_grad_()
        dyt = torch.from_numpy(dy).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
        pad = padding if isinstance(padding, str) and stride == 1 else _torch_padding(x_shape, w_shape, stride, padding)

        def torch_fwd():
            with torch.no_grad():
                F.conv2d(xt, wt, stride=stride, padding=pad)

        def torch_fb():
            F.conv2d(xt, wt, stride=stride, padding=pad).backward(dyt)

        runs.update({"torch fwd": torch_fwd, "torch f+b": torch_fb})
    return runs


def _torch_padding(x_shape, w_shape, stride, padding):
    """torch's symmetric padding for a strided 'same' (only symmetric cases are in the table)."""
    win = ops.window_geometry(x_shape[:2], w_shape[1:3], stride, padding)
    (top, bottom), (left, right) = win.pads
    if top != bottom or left != right:
        # torch pads both sides alike: pad the extra row/column on the far side first
        return (max(top, bottom), max(left, right))
    return (top, left)


def conv_table(args):
    backend = args.conv_backend
    print(
        f"conv table, batch {args.batch_size}, float32, xcnn on {backend} vs torch.nn.functional channels-last "
        f"(ms, median of {args.repeat}, taking turns):"
    )
    header = (
        f"{'case':<28}{'algorithm':>10}{'xcnn fwd':>10}{'torch fwd':>10}{'ratio':>7}{'xcnn f+b':>10}"
        f"{'torch f+b':>10}{'ratio':>7}{'GEMM':>8}{'GF/s/core':>10}{'rest':>8}{'GEMM/torch':>11}"
    )
    print(header)
    for label, x_shape, w_shape, stride, padding in CONV_TABLE:
        win = ops.window_geometry(x_shape[:2], w_shape[1:3], stride, padding)
        runs = conv_contenders(x_shape, w_shape, stride, padding, args.batch_size, backend)
        native = ops.native_available(B.asarray(np.zeros(1), backend, "float32"))  # torch's own kernel
        algorithm = ops.conv_algorithm((args.batch_size, *x_shape), w_shape, win, native=native)
        times = {name: [] for name in runs}
        for run in runs.values():
            run()
        for _ in range(args.repeat):
            for name, run in runs.items():
                time.sleep(args.pause)
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        ms = {name: statistics.median(t) * 1e3 for name, t in times.items()}
        # the GEMM clock times the matmuls the array-API algorithms make (none in torch's kernel)
        gemm_ms, rate = gemm_share(runs["xcnn f+b"], args) if algorithm != "native" else (0.0, 0.0)
        line = f"{label:<28}{algorithm:>10}{ms['xcnn fwd']:10.2f}"
        if "torch fwd" in ms:
            line += (
                f"{ms['torch fwd']:10.2f}{ms['xcnn fwd'] / ms['torch fwd']:7.2f}{ms['xcnn f+b']:10.2f}"
                f"{ms['torch f+b']:10.2f}{ms['xcnn f+b'] / ms['torch f+b']:7.2f}"
            )
        else:
            line += f"{'-':>10}{'-':>7}{ms['xcnn f+b']:10.2f}{'-':>10}{'-':>7}"
        if algorithm == "native":
            line += f"{'-':>8}{'-':>10}{'-':>8}{'-':>11}"
        else:
            line += f"{gemm_ms:8.2f}{rate:10.0f}{max(ms['xcnn f+b'] - gemm_ms, 0.0):8.2f}"
            line += f"{gemm_ms / ms['torch f+b']:11.2f}" if "torch f+b" in ms else f"{'-':>11}"
        print(line)


def gemm_share(run, args):
    """Median milliseconds the busiest thread spends in GEMMs during ``run``, and their GFLOP/s."""
    shares, rates = [], []
    for _ in range(max(3, args.repeat // 2)):
        time.sleep(args.pause)
        with GemmClock().installed() as clock:
            run()
        shares.append(clock.busiest_ms())
        rates.append(clock.flops / max(sum(clock.seconds.values()), 1e-12) / 1e9 * len(clock.seconds))
    return statistics.median(shares), statistics.median(rates) / max(len(clock.seconds), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", default="core,conv", help="comma-separated: core, conv")
    parser.add_argument("--backends", default=",".join(b for b in B.available() if b != "array_api_strict"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128, help="batch of the conv table")
    parser.add_argument(
        "--conv-backend",
        default="numpy",
        choices=["numpy", "torch"],
        help="xcnn's backend in the conv table (torch: its own kernels, xcnn.ops.native, unless XCNN_NATIVE=0)",
    )
    parser.add_argument(
        "--pause", type=float, default=0.15, help="seconds of sleep before each timed run of the conv table"
    )
    args = parser.parse_args()
    tables = args.tables.split(",")
    unknown = set(tables) - {"core", "conv"}
    if unknown:
        parser.error(f"--tables takes core and/or conv, got {sorted(unknown)}")
    if "core" in tables:
        core_table(args)
    if "conv" in tables:
        conv_table(args)


def core_table(args):
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
