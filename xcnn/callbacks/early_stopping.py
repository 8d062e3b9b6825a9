"""The :class:`EarlyStopping` callback."""

from __future__ import annotations

from .callback import Callback
from .monitor import _improved, _monitored


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved for ``patience`` epochs; optionally restores
    the weights of the best epoch."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto", restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(min_delta)
        self._better = _improved(mode, monitor)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.best_weights, self.stopped_epoch = None, 0, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor)
        shifted = value - self.min_delta if self._better(0, 1) else value + self.min_delta
        if self.best is None or self._better(shifted, self.best):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
