"""A cost model of data-parallel step time against the number of ranks (docs/distributed.md).

    python benchmarks/scaling_model.py

Step time on K ranks at global batch B:  T(K, B) = c B / K + o + T_allreduce(K, S)
  c  compute per sample (forward + backward), o  per-step work every rank does in full
     (optimizer update of every weight, Python and launch overhead),
  S  gradient bytes per step (float32 weights + loss + count),
  T_allreduce = min(ring, recursive doubling):
     ring: 2 (K-1) alpha + 2 (K-1)/K S / BW;  recursive doubling: log2(K) (alpha + S / BW).
Efficiency E = T(1, B) / (K T(K, B)); E >= 0.8 needs
  B >= ((0.8 K - 1) o + 0.8 K T_allreduce) / (0.2 c).

CPU c and o are fits of step time against batch (25..200) on this machine, one BLAS thread
(benchmarks/distributed.py, see docs/distributed.md); GPU c and o are ASSUMPTIONS until a GPU
run measures them (c from FLOPs at an assumed rate, o from an assumed kernel count).
"""

from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from xcnn import zoo  # noqa: E402
from xcnn.layers import Conv2D, Dense  # noqa: E402

SHAPES = {"seed": (28, 28, 1), "lecture": (28, 28, 1), "lenet": (28, 28, 1), "vgg": (32, 32, 3)}
# measured here on a quiet machine, 1 rank x 1 thread (XCNN_THREADS=1), ms per sample and ms per
# step: least-squares fits of the median step at batches 25, 50, 100 and 200 (benchmarks/
# distributed.py --threads 1 --batch B; residuals up to 20 %: small batches are not linear);
# LeNet's fitted o (-0.13 ms) is taken as 0
CPU_FIT = {"seed": (0.0342, 1.08), "lecture": (0.0508, 0.74), "lenet": (0.1267, 0.0), "vgg": (3.746, 15.2)}
GPU_RATE = 10e12  # FLOP/s assumed for xcnn's float32 ops on an H100/H200-class GPU at these sizes
GPU_OVERHEAD_MS = 2.0  # assumed per-step launch-bound time (~200 kernels at ~10 us, no CUDA graphs)

# (label, alpha in us, bandwidth in GB/s as the allreduce's bus bandwidth per rank)
NETWORKS = {
    "8 GPUs, one node, NCCL over NVLink": (20.0, 400.0),
    "64 GPUs, 8 nodes, NCCL over InfiniBand (400 Gb/s per GPU)": (60.0, 45.0),
    "8 CPU ranks, one node, MPI shared memory": (1.0, 5.0),
    "64 CPU ranks, 4 nodes, MPI over InfiniBand (200 Gb/s)": (3.0, 20.0),
    "64 CPU ranks, 4 nodes, MPI over 10 GbE (TCP)": (30.0, 1.1),
}


def training_flops_per_sample(model):
    """Multiply-adds x 2 of the conv and dense layers, x 3 for forward + both backward GEMMs."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            f, kh, kw, c = layer.params["kernel"].shape
            oh, ow = layer.output.shape[1:3] if layer.output.shape[-1] == f else (None, None)
            total += 2 * oh * ow * f * kh * kw * c
        elif isinstance(layer, Dense):
            total += 2 * math.prod(layer.params["kernel"].shape)
    return 3 * total


def allreduce_ms(k, nbytes, alpha_us, gbps):
    if k == 1:
        return 0.0
    ring = 2 * (k - 1) * alpha_us * 1e-3 + 2 * (k - 1) / k * nbytes / (gbps * 1e9) * 1e3
    doubling = math.ceil(math.log2(k)) * (alpha_us * 1e-3 + nbytes / (gbps * 1e9) * 1e3)
    return min(ring, doubling)


def step_ms(k, batch, c, o, t_allreduce):
    return c * batch / k + o + t_allreduce


def efficiency(k, batch, c, o, t_allreduce):
    """T(1, B) / (K T(K, B))."""
    return step_ms(1, batch, c, o, 0.0) / (k * step_ms(k, batch, c, o, t_allreduce))


def min_batch(k, c, o, t_allreduce, efficiency=0.8):
    """The smallest global batch with T(1, B) / (K T(K, B)) >= efficiency."""
    return ((efficiency * k - 1) * o + efficiency * k * t_allreduce) / ((1 - efficiency) * c)


def main():
    nets = {}
    for net, shape in SHAPES.items():
        model = zoo.get(net, input_shape=shape, classes=10, seed=0)
        params = sum(math.prod(w.shape) for layer in model.layers for w in layer.params.values())
        nets[net] = {"bytes": 4 * (params + 2), "flops": training_flops_per_sample(model)}
    print(f"{'net':<8} {'grad KB':>8} {'MFLOP/sample':>13} {'CPU c ms':>9} {'CPU o ms':>9} {'GPU c us':>9}")
    for net, v in nets.items():
        print(
            f"{net:<8} {v['bytes'] / 1024:>8.1f} {v['flops'] / 1e6:>13.2f} {CPU_FIT[net][0]:>9.3f} "
            f"{CPU_FIT[net][1]:>9.1f} {1e6 * v['flops'] / GPU_RATE:>9.3f}"
        )
    for label, (alpha, gbps) in NETWORKS.items():
        k = 8 if label.startswith("8 ") else 64
        gpu = "GPU" in label
        print(f"\n{label}: K = {k}")
        print(f"  {'net':<8} {'allreduce ms':>12} {'B for E>=0.8':>13} {'E at B=100':>11} {'E at B=1024':>12}")
        for net, v in nets.items():
            c, o = (v["flops"] / GPU_RATE * 1e3, GPU_OVERHEAD_MS) if gpu else CPU_FIT[net]
            t = allreduce_ms(k, v["bytes"], alpha, gbps)
            print(
                f"  {net:<8} {t:>12.3f} {min_batch(k, c, o, t):>13,.0f} {efficiency(k, 100, c, o, t):>11.2f} "
                f"{efficiency(k, 1024, c, o, t):>12.2f}"
            )
    print("\nCheck against this machine (2 ranks x 1 thread, batch 100; allreduce_gradients measured 0.23-0.39 ms):")
    for net in ("seed", "lecture", "lenet", "vgg"):
        c, o = CPU_FIT[net]
        one, two = step_ms(1, 100, c, o, 0), step_ms(2, 100, c, o, 0.3)  # packing, allreduce, unpacking
        print(f"  {net}: predicted T(1,100) = {one:.1f} ms, T(2,100) = {two:.1f} ms, speed-up {one / two:.2f}")


if __name__ == "__main__":
    main()
