"""The :class:`ModelCheckpoint` callback."""

from __future__ import annotations

import math

from .callback import Callback
from .monitor import _improved, _monitored


class ModelCheckpoint(Callback):
    """Saves the model to ``filepath`` (``{epoch}`` and log keys may be formatted in) after
    each epoch, or only when ``monitor`` improves with ``save_best_only``."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, save_best_only
        self._better = _improved(mode, monitor)
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor)
            if math.isnan(value) or (self.best is not None and not self._better(value, self.best)):
                return
            self.best = value
        self.model.save(self.filepath.format(epoch=epoch + 1, **logs))
