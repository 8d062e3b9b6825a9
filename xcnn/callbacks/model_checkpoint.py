"""The :class:`ModelCheckpoint` callback."""

from __future__ import annotations

import os

from .monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model (``model.save``) or only its weights (``save_weights_only=True``:
    ``model.save_weights``) to ``filepath`` after every epoch (``save_freq="epoch"``) or every
    ``save_freq`` batches; ``{epoch}`` (from 1), ``{batch}`` and log keys may be formatted into
    ``filepath``. With ``save_best_only`` only when ``monitor`` improves on the best so far
    (``initial_value_threshold``: the best to beat at first), as in Keras."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive int (batches), got {save_freq!r}")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self._batches_since_saving = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_saving += 1
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save(self._current_epoch, batch, _host_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None and self.save_best_only:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        filepath = self.filepath.format(epoch=epoch + 1, **({} if batch is None else {"batch": batch + 1}), **logs)
        if self.save_best_only:
            if self.monitor_op is None:
                self._set_monitor_op()
            current = self._monitored(logs)
            if current is not None:
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                    return
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to {current}, saving to {filepath}")
                self.best = current
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)


def _host_logs(logs):
    """Batch logs hold device scalars; the file name may format them, so read them once."""
    from .. import backend as B

    out = {}
    for key, value in (logs or {}).items():
        out[key] = value if isinstance(value, (int, float)) else float(B.to_numpy(value))
    return out
