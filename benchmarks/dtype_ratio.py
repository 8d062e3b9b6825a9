"""float64 step time over float32, for xcnn and (with --compare torch) for PyTorch, in one process.

    python benchmarks/dtype_ratio.py --model seed --compare torch

Issue 5 asks for float64 <= 1.6x float32. Two runs of train_step.py an hour apart can fall in
different speed periods of this VM, so here both dtypes take turns in the same process (the
turns of train_step.py: --turn steps after a pause and untimed settling steps) and each round
gives a ratio of its own. For PyTorch the faster memory layout of each dtype is used.
"""

from __future__ import annotations

import argparse
import copy
import statistics

from train_step import add_run_arguments, interleaved_times, machine_probe, torch_steppers, xcnn_stepper

DTYPES = ("float32", "float64")


def with_dtype(args, dtype):
    args = copy.copy(args)
    args.dtype = dtype
    return args


def report(label, results, names):
    """Print ``label``'s float64/float32 from the medians and per round; ``names``: dtype -> contender."""
    (times32, _, turns32), (times64, _, turns64) = (results[names[d]] for d in DTYPES)
    rounds = sorted(b / a for a, b in zip(turns32, turns64))
    print(
        f"{label}: float32 {statistics.median(times32) * 1e3:.2f} ms, float64 {statistics.median(times64) * 1e3:.2f} ms"
        f" -> float64/float32 {statistics.median(times64) / statistics.median(times32):.2f}"
        f" (per round: min {rounds[0]:.2f}, median {statistics.median(rounds):.2f}, max {rounds[-1]:.2f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    args = parser.parse_args()
    gflops, gbps = machine_probe()
    print(
        f"model {args.model}, batch {args.batch_size}, backend {args.backend}, median of {args.steps} steps; "
        f"machine now: sgemm {gflops:.0f} GFLOP/s, 4 MiB copy {gbps:.1f} GB/s"
    )
    steppers = {f"xcnn {d}": xcnn_stepper(with_dtype(args, d))[3] for d in DTYPES}
    if args.compare == "torch":
        for d in DTYPES:
            steppers.update({f"{name} {d}": step for name, step in torch_steppers(with_dtype(args, d)).items()})
    results = interleaved_times(steppers, args)
    report("xcnn", results, {d: f"xcnn {d}" for d in DTYPES})
    if args.compare == "torch":
        fastest = {
            d: min(
                (name for name in results if name.startswith("torch") and name.endswith(d)),
                key=lambda name: statistics.median(results[name][0]),
            )
            for d in DTYPES
        }
        layouts = ", ".join(f"{d} {fastest[d].rsplit(' ', 2)[-2]}" for d in DTYPES)
        report(f"torch ({layouts})", results, fastest)


if __name__ == "__main__":
    main()
