"""The :class:`History` callback that ``fit`` returns."""

from __future__ import annotations

from .callback import Callback


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` etc., and ``history.epoch``."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
