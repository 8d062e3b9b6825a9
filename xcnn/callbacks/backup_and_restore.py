"""The :class:`BackupAndRestore` callback."""

from __future__ import annotations

import json
import os
import shutil

from .. import distribution
from .callback import Callback


class BackupAndRestore(Callback):
    """Backs up the model (weights and optimizer state, :meth:`~xcnn.models.Model.save`) and
    the epoch counter to ``backup_dir`` at each epoch end (or every ``save_freq`` batches); when
    ``fit`` starts again after an interruption, restores them and resumes at the next epoch, as
    Keras. The backup is deleted when training ends normally (``delete_checkpoint=True``).
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        if not backup_dir:
            raise ValueError("backup_dir must be a folder path, got an empty value")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive int (batches), got {save_freq!r}")
        self.backup_dir, self.save_freq, self.delete_checkpoint = os.fspath(backup_dir), save_freq, delete_checkpoint
        self._model_path = os.path.join(self.backup_dir, "latest.safetensors")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._batches_since_saving = 0

    def on_train_begin(self, logs=None):
        if not os.path.exists(self._model_path):
            return
        from ..models.saving import load_model

        saved = load_model(self._model_path, backend=self.model.backend)
        self.model.set_weights(saved.get_weights())
        if saved.optimizer is not None and self.model.optimizer is not None:
            self.model.optimizer.iterations = saved.optimizer.iterations
            self.model.optimizer.state = saved.optimizer.state
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as f:
                self.model._initial_epoch = json.load(f)["epoch"]

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_saving += 1
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save(self._model_path)  # atomic: an interruption leaves the previous backup whole
        if distribution.rank() != 0:  # under data parallelism rank 0 writes (save does too)
            return
        tmp = self._metadata_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"epoch": self._current_epoch}, f)
        os.replace(tmp, self._metadata_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and distribution.rank() == 0 and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
