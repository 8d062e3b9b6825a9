"""Train on the CPU, then the same script on a CUDA GPU by changing one word (CuPy, or PyTorch
with device="cuda"), then load the GPU-trained model on a CPU-only machine.

    XCNN_DATA_DIR=../shared/datasets python examples/cpu_to_gpu.py [--limit 2000 --epochs 1]
"""

import argparse
import os
import tempfile
import time

import numpy as np

import xcnn
from xcnn import datasets, zoo

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--limit", type=int, default=None)
args = parser.parse_args()

(x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
if args.limit:
    x_train, y_train, x_test, y_test = (
        x_train[: args.limit],
        y_train[: args.limit],
        x_test[: args.limit],
        y_test[: args.limit],
    )
x_train, x_test = datasets.prepare_images(x_train), datasets.prepare_images(x_test)


def cuda_torch():
    """Whether torch is installed and sees a CUDA GPU."""
    if not xcnn.backend.is_available("torch"):
        return False
    import torch

    return torch.cuda.is_available()


results = {}

for backend, device in (("numpy", None), ("cupy", None), ("torch", "cuda")):  # <- the one word (and a device)
    if (backend == "cupy" and not xcnn.backend.is_available("cupy")) or (device == "cuda" and not cuda_torch()):
        print(f"{backend}: no CUDA GPU usable on this machine; skipping it")
        continue
    model = zoo.article(backend=backend, device=device, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=100, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, batch_size=1000)[1]
    print(f"{backend}: {seconds:.1f} s for {args.epochs} epochs, test accuracy {accuracy * 100:.2f} %")
    results[backend] = model

trained = results.get("cupy", results.get("torch", results["numpy"]))
path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
trained.save(path)
on_cpu = xcnn.load_model(path, backend="numpy")  # what a CPU-only machine does
same = np.allclose(on_cpu.predict(x_test[:100]), trained.predict(x_test[:100]), atol=1e-5)
print(f"model trained on {trained.backend} loaded on numpy: predictions agree: {same}")
