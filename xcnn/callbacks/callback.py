"""The base :class:`Callback`: every Keras 3 hook, each a no-op."""

from __future__ import annotations


class Callback:
    """Base class; override any hook. ``self.model`` and ``self.params`` (``{"epochs", "steps",
    "verbose"}``) are set before training starts, as in Keras.

    Epoch logs are host floats. Batch logs (``on_train_batch_end`` etc.) hold the running
    mean loss so far (and the running means of the mean-type metrics) as 0-d arrays on the
    model's device, as Keras 3 hands over tensors: a step never waits for the host; call
    ``float(xcnn.backend.to_numpy(logs["loss"]))`` when you need the number (it costs a sync).
    ``on_batch_begin``/``on_batch_end`` are the older names, called by the training hooks.
    """

    model = None
    params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # as Keras: the old name is the training hook

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass
