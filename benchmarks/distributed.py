"""Data-parallel cost on this machine: time in the collective per step, and step time.

    python benchmarks/distributed.py --threads 2                          # 1 rank x 2 BLAS threads
    mpiexec -n 2 python -m mpi4py benchmarks/distributed.py --threads 1   # 2 ranks x 1 thread each

For each zoo net at global batch ``--batch`` (split over the ranks) it prints the gradient
bytes per step, the median step time (forward, backward, allreduce, optimizer) measured on
rank 0 between barriers, inside the step the median wait for the slowest rank (a barrier put
just before the gradient allreduce, so that the wait is not counted as communication) and the
median time of ``allreduce_gradients`` (packing, the allreduce, unpacking; "share" is its part
of the step) and of the allreduce call alone within it ("in step"; "call share" its part of the
step), and the median time of a bare ``Allreduce`` of the same buffer after a barrier
(the wire alone). docs/distributed.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from xcnn import backend as B  # noqa: E402
from xcnn import distribution as D  # noqa: E402
from xcnn import zoo  # noqa: E402

SHAPES = {"seed": (28, 28, 1), "lecture": (28, 28, 1), "lenet": (28, 28, 1), "vgg": (32, 32, 3)}


def limit_threads(threads):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None  # set OMP_NUM_THREADS instead
    return threadpool_limits(threads)


def median_ms(values):
    return None if not values else 1e3 * statistics.median(values)


def ms_text(value):
    return "-" if value is None else f"{value:.3f}"


def measure(net, args, dist):
    model = zoo.get(net, input_shape=SHAPES[net], classes=10, backend=args.backend, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, *SHAPES[net]), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    if dist is not None:
        lo, hi = dist.split(0, args.batch)
        x, y = x[lo:hi], y[lo:hi]
        dist.begin_fit(model, 0)
    xb, yb = model._device(x, model.dtype), model._device(y, "int64")
    params = sum(int(np.prod(w.shape)) for layer in model.layers for w in layer.params.values())
    in_collective, waiting, in_call = [], [], []
    if dist is not None:
        reduce = dist.allreduce_gradients
        collective = dist.collective_for(model.backend)
        sum_ = collective.allreduce_sum_

        def timed_sum(buffer):
            start = time.perf_counter()
            out = sum_(buffer)
            in_call.append(time.perf_counter() - start)
            return out

        collective.allreduce_sum_ = timed_sum

        def timed(*a):
            start = time.perf_counter()
            dist.barrier()  # the wait for the slowest rank, counted apart from the collective
            ready = time.perf_counter()
            out = reduce(*a)
            waiting.append(ready - start)
            in_collective.append(time.perf_counter() - ready)
            return out

        dist.allreduce_gradients = timed
    steps = args.steps if net != "vgg" else max(1, args.steps // 4)
    for _ in range(args.warmup):
        model._train_step(xb, yb)
    in_collective.clear()
    waiting.clear()
    in_call.clear()
    step_times = []
    for _ in range(steps):
        if dist is not None:
            dist.barrier()
        start = time.perf_counter()
        model._train_step(xb, yb)
        if dist is not None:
            dist.barrier()
        step_times.append(time.perf_counter() - start)
    wire = []
    if dist is not None:
        dist.allreduce_gradients = reduce
        collective.allreduce_sum_ = sum_
        buffer = np.zeros(params + 2, dtype=np.float32)
        comm = dist.communicator
        for _ in range(args.wire_repeats):
            comm.barrier()
            start = time.perf_counter()
            comm.allreduce_sum_(buffer)
            wire.append(time.perf_counter() - start)
    return {
        "net": net,
        "params": params,
        "gradient_bytes": 4 * (params + 2),
        "step_ms": median_ms(step_times),
        "allreduce_gradients_ms": median_ms(in_collective),
        "wait_ms": median_ms(waiting),
        "allreduce_in_step_ms": median_ms(in_call),
        "bare_allreduce_ms": median_ms(wire),
        "steps": steps,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", default="seed,lecture,lenet,vgg")
    parser.add_argument("--batch", type=int, default=100, help="global batch (default 100)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--wire-repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads per rank")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--json", default=None, help="also write the rows to this file (rank 0)")
    args = parser.parse_args()
    if args.threads:
        limit_threads(args.threads)
    D.set_distribution(D.DataParallel() if _under_mpi() else None)
    dist = D.active()
    ranks = D.size()
    rows = [measure(net, args, dist) for net in args.nets.split(",")]
    if D.rank() != 0:
        return
    print(
        f"{ranks} rank(s) x {args.threads or 'default'} BLAS thread(s), global batch {args.batch}, "
        f"backend {args.backend} ({B.device_description(args.backend)}), load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'net':<8} {'params':>9} {'grad KB':>8} {'step ms':>8} {'wait ms':>8} {'allreduce_gradients ms':>23} "
        f"{'in step ms':>11} {'bare Allreduce ms':>18} {'share':>6} {'call share':>10}"
    )
    for r in rows:
        share = (
            "" if r["allreduce_gradients_ms"] is None else f"{100 * r['allreduce_gradients_ms'] / r['step_ms']:.1f}%"
        )
        call_share = (
            "" if r["allreduce_in_step_ms"] is None else f"{100 * r['allreduce_in_step_ms'] / r['step_ms']:.1f}%"
        )
        print(
            f"{r['net']:<8} {r['params']:>9,} {r['gradient_bytes'] / 1024:>8.1f} {r['step_ms']:>8.2f} "
            f"{ms_text(r['wait_ms']):>8} {ms_text(r['allreduce_gradients_ms']):>23} "
            f"{ms_text(r['allreduce_in_step_ms']):>11} {ms_text(r['bare_allreduce_ms']):>18} {share:>6} {call_share:>10}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ranks": ranks, "threads": args.threads, "batch": args.batch, "rows": rows}, f, indent=1)


def _under_mpi():
    """Whether this process was started by an MPI launcher (then mpi4py is needed)."""
    return any(k in os.environ for k in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_PROCID"))


if __name__ == "__main__":
    main()
