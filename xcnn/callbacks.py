"""Training callbacks with Keras's names and hooks.

Hooks get ``logs``: at epoch end a dict of host floats (``loss``, ``accuracy``, ``val_loss``,
``val_accuracy``). ``on_batch_end`` gets ``{"batch": i, "size": n, "loss": <0-d device
array>}``: the loss stays on the device so that a step never waits for the host; call
``float(xcnn.backend.to_numpy(logs["loss"]))`` if you need the number (it costs a sync).
"""

from __future__ import annotations

import math


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


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` etc., and ``history.epoch``."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _improved(mode, monitor):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return (lambda new, best: new < best) if mode == "min" else (lambda new, best: new > best)


def _monitored(logs, monitor):
    if monitor not in logs:
        raise ValueError(f"monitor {monitor!r} is not in the epoch logs {sorted(logs)}")
    return logs[monitor]


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
