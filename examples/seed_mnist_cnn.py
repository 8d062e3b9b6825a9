"""The article's network and schedule on MNIST: conv 6@7x7 -> ReLU -> max-pool 2 -> 100 -> 50 -> 10,
batch 100, Adam, 30 epochs. Prints the test accuracy (the article reports 99.01 %).

    XCNN_DATA_DIR=../shared/datasets python examples/seed_mnist_cnn.py [--limit 2000 --epochs 2]
"""

import argparse
import time

from xcnn import datasets, zoo

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--limit", type=int, default=None, help="first N train and test images only")
parser.add_argument("--backend", default=None, help="numpy (default), torch, cupy, array_api_strict")
args = parser.parse_args()

(x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
if args.limit:
    x_train, y_train, x_test, y_test = x_train[: args.limit], y_train[: args.limit], x_test[: args.limit], y_test[: args.limit]
x_train, x_test = datasets.prepare_images(x_train), datasets.prepare_images(x_test)

model = zoo.article(backend=args.backend, seed=0)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(x_train, y_train, batch_size=100, epochs=args.epochs, validation_data=(x_test, y_test), verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000)
print(f"test accuracy: {accuracy * 100:.2f} % (loss {loss:.4f}) after {time.perf_counter() - start:.1f} s")
