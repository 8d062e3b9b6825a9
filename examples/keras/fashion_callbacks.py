"""A callbacks tutorial on Fashion-MNIST, the Keras 3 way, with only the imports changed:
EarlyStopping, ModelCheckpoint (best model), ReduceLROnPlateau, CSVLogger and a LambdaCallback,
then the best model loaded back and evaluated.

    XCNN_DATA_DIR=../shared/datasets python examples/keras/fashion_callbacks.py

EXAMPLE_SAMPLES / EXAMPLE_EPOCHS (environment) shrink the run for CI.
"""

import os
import tempfile

import xcnn as keras  # was: import keras
from xcnn import layers  # was: from keras import layers

samples = int(os.environ.get("EXAMPLE_SAMPLES", "0")) or None  # CI: a subset
epochs = int(os.environ.get("EXAMPLE_EPOCHS", "0")) or 20

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train, y_train, x_test, y_test = x_train[:samples], y_train[:samples], x_test[:samples], y_test[:samples]
x_train = x_train[..., None].astype("float32") / 255.0
x_test = x_test[..., None].astype("float32") / 255.0
class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

model = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3")],
)

workdir = tempfile.mkdtemp(prefix="fashion-")
checkpoint_path = os.path.join(workdir, "best_model.keras")
callbacks = [
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
    keras.callbacks.ModelCheckpoint(checkpoint_path, monitor="val_accuracy", save_best_only=True),
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5),
    keras.callbacks.CSVLogger(os.path.join(workdir, "training.csv")),
    keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: print(f"  epoch {epoch + 1}: learning rate {logs['learning_rate']:.2e}")
    ),
]
history = model.fit(
    x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.2, callbacks=callbacks, verbose=2
)
print("history keys:", sorted(history.history))

best = keras.models.load_model(checkpoint_path)
loss, accuracy, top3 = best.evaluate(x_test, y_test, verbose=0)
print(f"best model: test accuracy {accuracy:.4f}, top-3 accuracy {top3:.4f}")
with open(os.path.join(workdir, "training.csv")) as f:
    print("training.csv:", f.readline().strip())
