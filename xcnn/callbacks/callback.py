"""The base :class:`Callback`: every hook a no-op."""

from __future__ import annotations


class Callback:
    """Base class; override any of the hooks. ``self.model`` is set before training starts."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass
