"""Median time of one training step (forward + backward + optimizer update), per layer too.

    python benchmarks/train_step.py --model seed --backend numpy --compare torch

Prints the median over ``--steps`` steps after a warm-up, a per-layer breakdown (forward,
backward, the loss and the optimizer) so the next bottleneck is visible, and with
``--compare torch`` the same network in PyTorch (NCHW and channels-last, the faster kept)
in the same process, with the ratio xcnn/torch last. The contenders take turns of
``--turn`` steps, so a drift in the machine's speed falls on all of them alike.
``--torch-without-onednn`` adds the twin with oneDNN off: PyTorch's own im2col + GEMM
convolution, the route a portable convolution takes (its ratio is printed apart).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import xcnn  # noqa: E402
from xcnn import backend as B  # noqa: E402
from xcnn import zoo  # noqa: E402
from xcnn.layers.layer import NO_REWRITE  # noqa: E402

SHAPES = {"seed": (28, 28, 1), "lecture": (28, 28, 1), "lenet": (28, 28, 1), "vgg": (32, 32, 3), "resnet": (32, 32, 3)}


def _sync(backend, device=None):
    if backend == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif backend == "torch" and str(device or "").startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _minor_faults():
    # fresh pages the kernel had to map: on this VM each costs 2-4 us, so they show where
    # a step allocates new memory instead of reusing freed memory
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def machine_probe():
    """``(GFLOP/s, GB/s)`` right now: a float32 GEMM of the article's banded conv shape
    (2200x196 @ 196x132) on NumPy's BLAS, and a 4 MiB copy. This VM has slow periods
    (other load on the host, it seems) when both drop; printing them says which period a run fell in."""
    rng = np.random.default_rng(0)
    a, b = rng.random((2200, 196), dtype=np.float32), rng.random((196, 132), dtype=np.float32)
    src = rng.random(2**20, dtype=np.float32)
    dst = np.empty_like(src)

    def best(fn, repeat=30):
        fn()
        return min(_timed(fn) for _ in range(repeat))

    gemm = best(lambda: a @ b)
    copy_ = best(lambda: np.copyto(dst, src))
    return 2 * 2200 * 196 * 132 / gemm / 1e9, 2 * src.nbytes / copy_ / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def xcnn_stepper(args):
    """The xcnn model and one training step on a fixed batch: ``(model, x, y, step)``."""
    shape = SHAPES[args.model]
    device = getattr(args, "device", None)
    model = zoo.get(args.model, input_shape=shape, backend=args.backend, device=device, dtype=args.dtype, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = B.asarray(rng.uniform(size=(args.batch_size, *shape)), args.backend, args.dtype, device=device)
    y = B.asarray(rng.integers(0, 10, args.batch_size), args.backend, "int64", device=device)

    def step():
        model._train_step(x, y)
        _sync(args.backend, device)

    return model, x, y, step


def interleaved_times(steppers, args, turn_context=None):
    """Per-step times of each ``{name: step}``, run in turns of ``--turn`` steps each until
    every one has ``--steps``, after ``--warmup`` steps each: a drift in the machine's speed
    (other load, frequency, the allocator's state) then falls on all of them alike. Each turn
    starts with a ``--pause`` and ``--settle`` untimed steps: the worker threads of the last
    contender's BLAS or OpenMP pool spin on the two cores for up to ~0.1 s after its last
    step (measured: PyTorch's slowed the next xcnn steps by up to 25 %, and OpenBLAS's
    PyTorch's), which no single-library user pays.
    ``turn_context``: ``{name: factory}`` of a context each of that contender's turns (and its
    warm-up) runs in, e.g. a BLAS thread limit.
    Returns ``{name: (times, mean minor page faults per step, median of each turn)}``."""
    contexts = turn_context or {}
    for name, step in steppers.items():
        with contexts.get(name, contextlib.nullcontext)():
            for _ in range(args.warmup):
                step()
    times = {name: [] for name in steppers}
    turns = {name: [] for name in steppers}
    faults = dict.fromkeys(steppers, 0)
    while any(len(t) < args.steps for t in times.values()):
        for name, step in steppers.items():
            time.sleep(args.pause)
            with contexts.get(name, contextlib.nullcontext)():
                for _ in range(args.settle):
                    step()
                before = _minor_faults()
                turn = []
                for _ in range(min(args.turn, args.steps - len(times[name]))):
                    start = time.perf_counter()
                    step()
                    turn.append(time.perf_counter() - start)
                faults[name] += _minor_faults() - before
            times[name] += turn
            turns[name].append(statistics.median(turn))
    return {name: (times[name], faults[name] / args.steps, turns[name]) for name in steppers}


def breakdown(model, x, y, args):
    """Per-layer forward/backward, loss and optimizer medians (ms) and mean minor page faults,
    timed one piece at a time: ``{piece: (ms, faults)}``."""
    parts, faults = {}, {}

    def timed(key, fn):
        before = _minor_faults()
        start = time.perf_counter()
        out = fn()
        _sync(args.backend, getattr(args, "device", None))
        parts.setdefault(key, []).append(time.perf_counter() - start)
        faults.setdefault(key, []).append(_minor_faults() - before)
        return out

    for _ in range(max(10, args.steps // 3)):
        # the trainer's own walk (models/trainer.py: _forward, _backward), each layer timed: layers
        # with several inputs (Add, Concatenate) and tensors read by several layers (skips) included
        values = {id(model._input): x}
        with model._pass_scope(x):  # the BLAS as the model's passes hold it (xcnn.ops._parallel)
            for layer in model._layers:
                ins = [values[id(t)] for t in layer.inbound]
                rewrite = model._rewrites.get(layer, NO_REWRITE)  # the model's plan (fused conv+pool, ...)
                values[id(layer.output)] = timed(f"{layer.name} forward", lambda: layer.forward(ins, True, rewrite))
        pred = values[id(model._output)]
        target = model.loss.targets(y, pred.shape[-1], pred.dtype)
        _, dout = timed("loss", lambda: model._loss_and_gradient(pred, target))
        grads = {id(model._output): dout}
        wanted = model._tensors_needing_gradients()
        with model._pass_scope(dout):
            for layer in reversed(model._layers):
                layer.grads = {}
                dy = grads.pop(id(layer.output), None)
                if dy is None:
                    continue
                needed = [id(t) in wanted for t in layer.inbound]
                skip = layer is model._output.layer and model._fused
                dxs = timed(
                    f"{layer.name} backward",
                    lambda: layer.backward(
                        dy, need_dx=any(needed), skip_activation=skip, rewrite=model._rewrites.get(layer, NO_REWRITE)
                    ),
                )
                for t, dx, need in zip(layer.inbound, dxs, needed):
                    if need and dx is not None:
                        key = id(t)
                        grads[key] = grads[key] + dx if key in grads else dx
        refs = [(layer, k) for layer in model.layers for k in layer.grads]
        items = [(f"{layer.name}/{k}", layer.params[k], layer.grads[k]) for layer, k in refs]
        new = timed("optimizer", lambda: model.optimizer.apply(items))
        for (layer, k), w in zip(refs, new):
            layer.params[k] = w
    return {k: (statistics.median(v) * 1e3, statistics.mean(faults[k])) for k, v in parts.items()}


def torch_twin(model, input_shape):
    """The PyTorch module of zoo network ``model`` (NCHW input of ``input_shape`` = (H, W, C)),
    layer for layer (its logits: the loss applies the softmax), or None when there is no twin."""
    import torch

    nn = torch.nn
    c = input_shape[2]
    if model == "seed":
        layers = [
            nn.Conv2d(c, 6, 7),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(6 * 11 * 11, 100),
            nn.ReLU(),
            nn.Linear(100, 50),
            nn.ReLU(),
            nn.Linear(50, 10),
        ]
    elif model == "lecture":
        layers = [
            nn.Conv2d(c, 9, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(9 * 14 * 14, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        ]
    elif model == "lenet":
        layers = [
            nn.Conv2d(c, 6, 5, padding=2),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        ]
    elif model == "vgg":
        layers = [
            nn.Conv2d(c, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        ]
    elif model == "resnet":
        return _torch_resnet(c)
    else:
        return None
    return nn.Sequential(*layers)


def _torch_resnet(channels, widths=(16, 32, 64), blocks=2):
    """zoo.resnet's twin: the same stem, basic blocks, projections and head (BN eps as Keras's)."""
    import torch

    nn = torch.nn

    def conv_bn(c_in, c_out, k, stride=1):
        return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(c_out, eps=1e-3)]

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU(), *conv_bn(c_out, c_out, 3))
            project = stride != 1 or c_in != c_out
            self.skip = nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if project else nn.Identity()

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))

    layers = [*conv_bn(channels, widths[0], 3), nn.ReLU()]
    c_in = widths[0]
    for stage, c_out in enumerate(widths):
        for block in range(blocks):
            layers.append(Block(c_in, c_out, 2 if stage > 0 and block == 0 else 1))
            c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 10)]
    return nn.Sequential(*layers)


def torch_steppers(args):
    """The same network in PyTorch, NCHW and channels-last: ``{name: step}`` (empty when
    there is no twin for the model)."""
    import torch

    torch.manual_seed(0)
    h, w, c = SHAPES[args.model]
    twin = torch_twin(args.model, SHAPES[args.model])
    if twin is None:
        return {}
    # the twin runs where xcnn runs: CUDA when xcnn is on cupy or on torch's CUDA, else the CPU
    on_gpu = args.backend == "cupy" or str(getattr(args, "device", None) or "").startswith("cuda")
    device = "cuda" if on_gpu else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    dtype = getattr(torch, args.dtype)
    steppers = {}
    for name, memory_format in (("NCHW", torch.contiguous_format), ("channels-last", torch.channels_last)):
        # a twin of its own per layout: copies of the same initial weights
        net = copy.deepcopy(twin).to(device=device, dtype=dtype, memory_format=memory_format)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
        rng = np.random.default_rng(0)
        x = torch.tensor(rng.uniform(size=(args.batch_size, c, h, w)), dtype=dtype, device=device)
        x = x.contiguous(memory_format=memory_format)
        y = torch.tensor(rng.integers(0, 10, args.batch_size), device=device)

        def step(net=net, opt=opt, x=x, y=y):
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
            sync()

        steppers[f"torch {torch.__version__} {device} {name}"] = step
    return steppers


def _thread_counts(text):
    """``"1,2"`` -> ``[1, 2]``; argparse reports anything else as a bad --blas-threads."""
    try:
        counts = [int(n) for n in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected positive thread counts like 1,2, got {text!r}")
    return counts


def add_run_arguments(parser):
    """The options that say what is timed and how (shared with dtype_ratio.py)."""
    parser.add_argument("--model", default="seed", choices=sorted(SHAPES))
    parser.add_argument("--backend", default="numpy", choices=list(B.BACKENDS))
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--turn", type=int, default=10, help="timed steps each contender runs before the next one's turn"
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.3,
        help="seconds of sleep before each turn, for the last contender's threads to stop spinning",
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=2,
        help="untimed steps at the start of each turn, while the last contender's idle threads stop spinning",
    )
    parser.add_argument(
        "--device", default=None, help="the backend's device: cuda (torch), 0 (cupy's GPU id); default: the backend's"
    )
    parser.add_argument("--compare", choices=["torch"], default=None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument(
        "--blas-threads",
        default=None,
        type=_thread_counts,
        metavar="N[,N...]",
        help="run xcnn once per count of BLAS threads given, e.g. 1,2, as contenders of their own "
        "(needs threadpoolctl; default: the BLAS's own count)",
    )
    parser.add_argument(
        "--torch-without-onednn",
        action="store_true",
        help="with --compare torch, also time the twin with oneDNN off (torch.backends.mkldnn): PyTorch's own "
        "im2col + GEMM convolution, a contender of its own, outside the xcnn/torch ratio",
    )
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    args = parser.parse_args()
    if args.torch_without_onednn and args.compare != "torch":
        parser.error("--torch-without-onednn needs --compare torch")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, xcnn {xcnn.__version__}"
    )
    print(
        f"model {args.model}, batch {args.batch_size}, {args.dtype}, backend {args.backend} "
        f"({B.device_description(args.backend, args.device)}), "
        f"median of {args.steps} steps after {args.warmup} warm-up"
    )
    gflops, gbps = machine_probe()
    print(f"machine now: sgemm {gflops:.0f} GFLOP/s, 4 MiB copy {gbps:.1f} GB/s")
    model, x, y, step = xcnn_stepper(args)
    ours = [f"xcnn {args.backend}"]
    steppers, contexts = {ours[0]: step}, {}
    if args.blas_threads:
        try:
            import threadpoolctl
        except ImportError:
            parser.error("--blas-threads needs threadpoolctl: pip install threadpoolctl")
        controller = threadpoolctl.ThreadpoolController()
        counts = args.blas_threads
        ours = [f"xcnn {args.backend}, {n} BLAS thread{'s' if n > 1 else ''}" for n in counts]
        steppers = dict.fromkeys(ours, step)
        contexts = {
            name: functools.partial(controller.limit, limits=n, user_api="blas") for name, n in zip(ours, counts)
        }
    if args.compare == "torch":
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        twins = torch_steppers(args)
        if not twins:
            print(f"no torch twin for model {args.model}")
        steppers.update(twins)
        if args.torch_without_onednn:
            # oneDNN's direct convolution kernels are what PyTorch's CPU speed rests on; without
            # them it runs its own im2col and GEMM (MKL): the same route as a portable convolution
            for name, step in torch_steppers(args).items():
                steppers[f"{name}, no oneDNN"] = step
                contexts[f"{name}, no oneDNN"] = functools.partial(torch.backends.mkldnn.flags, enabled=False)
    results = interleaved_times(steppers, args, contexts)
    medians = {}
    for name, (times, faults, _) in results.items():
        medians[name] = statistics.median(times)
        print(
            f"{name:<33}: {medians[name] * 1e3:7.2f} ms/step ({args.batch_size / medians[name]:,.0f} images/s, "
            f"{faults:,.0f} page faults/step)"
        )
    if args.breakdown:
        print("xcnn per piece, timed one at a time:")
        parts = breakdown(model, x, y, args)
        total = sum(ms for ms, _ in parts.values())
        for key, (ms, piece_faults) in sorted(parts.items(), key=lambda kv: -kv[1][0]):
            print(f"    {key:<28} {ms:7.2f} ms  {ms / total * 100:5.1f} %  {piece_faults:6,.0f} faults")
    gflops, gbps = machine_probe()
    print(f"machine after: sgemm {gflops:.0f} GFLOP/s, 4 MiB copy {gbps:.1f} GB/s")
    without_onednn = {name: ms for name, ms in medians.items() if name.endswith("no oneDNN")}
    theirs = {name: ms for name, ms in medians.items() if name not in ours and name not in without_onednn}
    if theirs:
        best = min(theirs, key=theirs.get)
        for name in ours:
            # each round's ratio compares turns run seconds apart, so the VM's slow and fast
            # periods (15-60 % apart here) cancel out of it; its spread says how sure the median is
            rounds = sorted(a / b for a, b in zip(results[name][2], results[best][2]))
            label = "" if len(ours) == 1 else f" ({name})"
            print(
                f"per round{label} ({len(rounds)} rounds): ratio min {rounds[0]:.2f}, "
                f"median {statistics.median(rounds):.2f}, max {rounds[-1]:.2f}; "
                f"<= 1.0 in {sum(r <= 1.0 for r in rounds)} of {len(rounds)}"
            )
            if without_onednn:
                fastest_off = min(without_onednn, key=without_onednn.get)
                layout = fastest_off[: -len(", no oneDNN")].rsplit(" ", 1)[-1]
                print(
                    f"ratio xcnn/torch without oneDNN{label}: {medians[name] / without_onednn[fastest_off]:.2f} "
                    f"(against {layout})"
                )
            print(f"ratio xcnn/torch{label}: {medians[name] / theirs[best]:.2f} (against {best.rsplit(' ', 1)[-1]})")


if __name__ == "__main__":
    main()
