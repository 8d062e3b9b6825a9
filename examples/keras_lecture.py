"""The Keras lecture's MNIST model, written with Sequential and with Input/Model, trained,
summarised and plotted: learning curves, misclassified digits, the model diagram, the filters.

    XCNN_DATA_DIR=../shared/datasets python examples/keras_lecture.py [--limit 2000 --epochs 2]
"""

import argparse
import os

# The lecture's code, with only the imports changed from keras to xcnn:
from xcnn.datasets import mnist
from xcnn.layers import Activation, Conv2D, Dense, Flatten, Input, MaxPooling2D
from xcnn.models import Model, Sequential
from xcnn.plot import plot_filters, plot_history, plot_misclassified, plot_model
from xcnn.utils import to_categorical

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--limit", type=int, default=None, help="first N train and test images only")
parser.add_argument("--out", default="lecture-output", help="folder for the pictures")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

(x_train, y_train), (x_test, y_test) = mnist.load_data()
if args.limit:
    x_train, y_train, x_test, y_test = (
        x_train[: args.limit],
        y_train[: args.limit],
        x_test[: args.limit],
        y_test[: args.limit],
    )
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
y_train, y_test = to_categorical(y_train, 10), to_categorical(y_test, 10)

# 1) Sequential
model = Sequential()
model.add(Conv2D(9, (3, 3), padding="same", input_shape=(28, 28, 1)))
model.add(Activation("relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(64))
model.add(Activation("relu"))
model.add(Dense(10))
model.add(Activation("softmax"))
model.summary()
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, validation_split=0.1, verbose=1)
score = model.evaluate(x_test, y_test, verbose=0)
print(f"Sequential  - test loss: {score[0]:.4f}, test accuracy: {score[1]:.4f}")

# 2) The same network with the functional API
inputs = Input(shape=(28, 28, 1))
h = Conv2D(9, (3, 3), padding="same", activation="relu")(inputs)
h = MaxPooling2D(pool_size=(2, 2))(h)
h = Flatten()(h)
h = Dense(64, activation="relu")(h)
outputs = Dense(10, activation="softmax")(h)
functional = Model(inputs=inputs, outputs=outputs)
functional.summary()
functional.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
functional.fit(x_train, y_train, batch_size=128, epochs=args.epochs, validation_split=0.1, verbose=2)
print(f"Functional  - test accuracy: {functional.evaluate(x_test, y_test)[1]:.4f}")

plot_history(history, to_file=os.path.join(args.out, "history.png"))
plot_misclassified(model, x_test, y_test, to_file=os.path.join(args.out, "misclassified.png"))
plot_model(functional, to_file=os.path.join(args.out, "model.png"))
plot_filters(model.layers[0], to_file=os.path.join(args.out, "filters.png"))
print(f"pictures written to {args.out}/")
