"""The Keras lecture's MNIST CNN, written the Sequential way and the functional way, with
only the imports changed from keras to xcnn.

    XCNN_DATA_DIR=../shared/datasets python examples/keras/lecture_mnist.py

EXAMPLE_SAMPLES / EXAMPLE_EPOCHS (environment) shrink the run for CI.
"""

import os

import numpy as np

import xcnn as keras  # was: import keras
from xcnn import layers  # was: from keras import layers

samples = int(os.environ.get("EXAMPLE_SAMPLES", "0")) or None  # CI: a subset
epochs = int(os.environ.get("EXAMPLE_EPOCHS", "0")) or 5

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train, y_train, x_test, y_test = x_train[:samples], y_train[:samples], x_test[:samples], y_test[:samples]
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

# 1) Sequential
model = keras.Sequential()
model.add(keras.Input(shape=(28, 28, 1)))
model.add(layers.Conv2D(9, (3, 3), padding="same"))
model.add(layers.Activation("relu"))
model.add(layers.MaxPooling2D(pool_size=(2, 2)))
model.add(layers.Flatten())
model.add(layers.Dense(64))
model.add(layers.Activation("relu"))
model.add(layers.Dense(10))
model.add(layers.Activation("softmax"))
model.summary()

model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1, verbose=2)
score = model.evaluate(x_test, y_test, verbose=0)
print("Sequential test loss:", score[0])
print("Sequential test accuracy:", score[1])
print("history keys:", sorted(history.history))

# 2) Functional, the same network
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(9, (3, 3), padding="same", activation="relu")(inputs)
x = layers.MaxPooling2D(pool_size=(2, 2))(x)
x = layers.Flatten()(x)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10, activation="softmax")(x)
functional = keras.Model(inputs=inputs, outputs=outputs)
functional.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="categorical_crossentropy", metrics=["accuracy"]
)
functional.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1, verbose=2)
print("Functional test accuracy:", functional.evaluate(x_test, y_test, verbose=0)[1])

predictions = functional.predict(x_test[:10], verbose=0)
print("predicted classes:", np.argmax(predictions, axis=1))
print("true classes:     ", np.argmax(y_test[:10], axis=1))
