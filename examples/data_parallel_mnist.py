"""The article's network on MNIST, trained data-parallel on K processes (docs/distributed.md).

Each rank holds the whole model and takes its part of every global batch of 100; the ranks
sum their gradients with one MPI allreduce per step, so the run equals one process training
with batch 100. Rank 0 prints and saves; every rank calls the same code.

    OMP_NUM_THREADS=1 mpiexec -n 2 python -m mpi4py examples/data_parallel_mnist.py --limit 2000 --epochs 2
    python examples/data_parallel_mnist.py    # without mpiexec: one process, the same code path as fit alone
"""

import argparse
import time

from xcnn import datasets, distribution, zoo
from xcnn.callbacks import EarlyStopping

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--limit", type=int, default=None, help="first N train and test images only")
parser.add_argument("--out", default="data_parallel_mnist.safetensors")
args = parser.parse_args()

distribution.set_distribution(distribution.DataParallel())  # the MPI world (one rank without mpiexec)
say = print if distribution.rank() == 0 else (lambda *a, **k: None)

(x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()  # every rank loads it all
if args.limit:
    x_train, y_train, x_test, y_test = (
        x_train[: args.limit],
        y_train[: args.limit],
        x_test[: args.limit],
        y_test[: args.limit],
    )
x_train, x_test = datasets.prepare_images(x_train), datasets.prepare_images(x_test)

model = zoo.article(augment=2)  # no seed: rank 0's initial weights are broadcast when fit starts
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
say(f"{distribution.size()} rank(s) on {distribution.list_devices()}")
start = time.perf_counter()
history = model.fit(
    x_train,
    y_train,
    batch_size=100,
    epochs=args.epochs,
    validation_data=(x_test, y_test),
    verbose=2,
    callbacks=[EarlyStopping(monitor="val_loss", patience=2)],
)  # same decision everywhere
loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000)  # sharded, summed over the ranks
model.save(args.out)  # every rank calls it; rank 0 writes
say(
    f"test accuracy: {accuracy * 100:.2f} % (loss {loss:.4f}) after {time.perf_counter() - start:.1f} s, "
    f"{len(history.epoch)} epochs; saved {args.out}"
)
