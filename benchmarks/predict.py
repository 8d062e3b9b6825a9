"""Inference speed: images per second of ``model.predict`` for every zoo network, at batch 1
and batch 1000, beside PyTorch (inference mode) and onnxruntime.

    python benchmarks/predict.py [--models seed,lecture,lenet,vgg,resnet] [--repeat 5] [--backend torch]

xcnn runs ``model.predict(x, batch_size=B)`` on the NumPy backend (or ``--backend``'s, on its
default device; on torch's CPU some ops run torch's own kernels, ``xcnn.ops.native``) in
float32; PyTorch runs
the same network (``train_step.torch_twin``, eval mode, ``torch.inference_mode()``, NCHW and
channels-last, the faster kept) over the same images in batches of B. onnxruntime runs the
model as xcnn exports it to ONNX, when both this xcnn has an ONNX export (``Model.export``)
and onnxruntime is installed; otherwise its column says why not. The contenders take turns
per repeat, each pass after a ``--pause`` (the last contender's worker threads spin on the
cores for up to ~0.1 s after it returns, and slowed whoever ran next: see
``train_step.interleaved_times``); each figure is the median over ``--repeat`` passes over
the images. The xcnn/torch column is the ratio of times (<= 1: xcnn is the faster).
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from train_step import SHAPES, torch_twin  # noqa: E402

from xcnn import backend as B  # noqa: E402
from xcnn import zoo  # noqa: E402


def xcnn_runner(name, images, batch, backend="numpy"):
    model = zoo.get(name, input_shape=SHAPES[name], backend=backend, dtype="float32", seed=0)
    return model, lambda: model.predict(images, batch_size=batch, verbose=0)  # no progress bar: not what is timed


def torch_runner(name, images, batch):
    """The fastest layout of the PyTorch twin, or ``(None, reason)``."""
    try:
        import torch
    except ImportError:
        return None, "torch not installed"
    net = torch_twin(name, SHAPES[name]).eval()
    nchw = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    runs = {}
    for layout, memory_format in (("NCHW", torch.contiguous_format), ("channels-last", torch.channels_last)):
        layout_net = copy.deepcopy(net).to(memory_format=memory_format)
        x = nchw.contiguous(memory_format=memory_format)

        def run(layout_net=layout_net, x=x):
            with torch.inference_mode():
                for start in range(0, x.shape[0], batch):
                    layout_net(x[start : start + batch])

        runs[layout] = run
    best = min(runs, key=lambda layout: _best_ms(runs[layout], 2))
    return runs[best], f"torch {torch.__version__} {best}"


def onnx_runner(model, images, batch, folder):
    """onnxruntime on xcnn's own ONNX export, or ``(None, reason)``."""
    if not hasattr(model, "export"):
        return None, "not available: this xcnn has no ONNX export (Model.export)"
    try:
        import onnxruntime
    except ImportError:
        return None, "not available: onnxruntime not installed"
    path = os.path.join(folder, f"{model.name}.onnx")
    try:
        model.export(path, format="onnx")
    except Exception as error:  # an exporter that lacks a layer says so; the others still run
        return None, f"not available: export failed ({type(error).__name__}: {error})"
    options = onnxruntime.SessionOptions()
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run():
        for start in range(0, images.shape[0], batch):
            session.run(None, {input_name: images[start : start + batch]})

    return run, f"onnxruntime {onnxruntime.__version__}"


def _best_ms(fn, repeat):
    fn()
    return min(_timed(fn) for _ in range(repeat)) * 1e3


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="seed,lecture,lenet,vgg,resnet")
    parser.add_argument("--batches", default="1,1000", help="comma-separated batch sizes")
    parser.add_argument(
        "--images-at-batch-1",
        type=int,
        default=100,
        help="images per pass at batch 1 (every other batch size passes over one batch)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.3,
        help="seconds of sleep before each timed pass, for the last contender's threads to stop spinning",
    )
    parser.add_argument("--backend", default="numpy", choices=list(B.BACKENDS), help="xcnn's backend (default numpy)")
    args = parser.parse_args()
    models = args.models.split(",")
    unknown = [m for m in models if m not in SHAPES]
    if unknown:
        parser.error(f"--models: unknown {unknown}; expected names from {sorted(SHAPES)}")
    batches = [int(b) for b in args.batches.split(",")]
    print(
        f"images/s of predict, float32, CPU ({os.cpu_count()} cores), xcnn on {args.backend}, median of "
        f"{args.repeat} passes, contenders taking turns"
    )
    print(f"{'model':<9}{'batch':>6}{'xcnn':>10}{'torch':>10}{'xcnn/torch':>11}{'onnxruntime':>13}   notes")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for name in models:
            for batch in batches:
                count = args.images_at_batch_1 if batch == 1 else batch
                images = rng.uniform(size=(count, *SHAPES[name])).astype(np.float32)
                model, ours = xcnn_runner(name, images, batch, args.backend)
                runs, notes = {"xcnn": ours}, []
                for label, (run, note) in (
                    ("torch", torch_runner(name, images, batch)),
                    ("onnxruntime", onnx_runner(model, images, batch, folder)),
                ):
                    notes.append(note)
                    if run is not None:
                        runs[label] = run
                times = {label: [] for label in runs}
                for run in runs.values():
                    run()
                for _ in range(args.repeat):
                    for label, run in runs.items():
                        time.sleep(args.pause)
                        times[label].append(_timed(run))
                rate = {label: count / statistics.median(t) for label, t in times.items()}
                torch_rate = rate.get("torch")
                cells = [
                    f"{rate['xcnn']:10,.0f}",
                    f"{torch_rate:10,.0f}" if torch_rate else f"{'-':>10}",
                    f"{torch_rate / rate['xcnn']:11.2f}" if torch_rate else f"{'-':>11}",
                    f"{rate['onnxruntime']:13,.0f}" if "onnxruntime" in rate else f"{'-':>13}",
                ]
                print(f"{name:<9}{batch:>6}{''.join(cells)}   {'; '.join(notes)}")


if __name__ == "__main__":
    main()
