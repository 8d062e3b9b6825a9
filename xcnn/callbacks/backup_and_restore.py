"""The `BackupAndRestore` callback."""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from .. import distribution
from .callback import Callback


class BackupAndRestore(Callback):
    """Backs up the model and the epoch counter, and resumes from the backup after an interruption.

    The model (weights and optimizer state, `xcnn.models.Model.save`) and the epoch counter go
    to `backup_dir` at each epoch end (or every `save_freq` batches); when `fit` starts again
    after an interruption, it restores them and resumes at the next epoch, as Keras. The backup
    is deleted when training ends normally (`delete_checkpoint=True`).

    Args:
        backup_dir: The folder of the backup.
        save_freq: `"epoch"`, or a number of batches between backups.
        delete_checkpoint: Delete the backup when training ends normally.

    Raises:
        ValueError: If `backup_dir` is empty or `save_freq` is neither `"epoch"` nor a positive int.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> import os
        >>> from xcnn.callbacks import BackupAndRestore
        >>> callback = BackupAndRestore("backup")
        >>> history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[callback])
        >>> history.epoch, os.path.exists("backup")
        ([0, 1], False)
    """

    save_freq: Any  # "epoch" or a number of batches

    def __init__(
        self, backup_dir: str | os.PathLike[str], save_freq: str | int = "epoch", delete_checkpoint: bool = True
    ) -> None:
        if not backup_dir:
            raise ValueError("backup_dir must be a folder path, got an empty value")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive int (batches), got {save_freq!r}")
        self.backup_dir, self.save_freq, self.delete_checkpoint = os.fspath(backup_dir), save_freq, delete_checkpoint
        self._model_path = os.path.join(self.backup_dir, "latest.safetensors")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._batches_since_saving = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Restore the model and the epoch counter from an existing backup.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Raises:
            ValueError: If the backup is of another model, or its epoch counter is damaged.
        """
        if not os.path.exists(self._model_path):
            return
        from ..models.saving import load_model

        saved = load_model(self._model_path, backend=self.model.backend)
        try:
            self.model.set_weights(saved.get_weights())
        except ValueError as exc:
            raise ValueError(
                f"BackupAndRestore: the backup {self._model_path} is of another model ({exc}); "
                "remove it or give backup_dir a folder of its own"
            ) from None
        if saved.optimizer is not None and self.model.optimizer is not None:
            self.model.optimizer.iterations = saved.optimizer.iterations
            self.model.optimizer.state = saved.optimizer.state
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as f:
                try:
                    epoch = json.load(f)["epoch"]
                except (ValueError, KeyError, TypeError):
                    epoch = None
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError(
                    f"BackupAndRestore: {self._metadata_path} is damaged (it must be JSON with a whole "
                    'number "epoch" >= 0); remove the backup folder to start afresh'
                )
            self.model._initial_epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Note the epoch being trained (the counter a backup stores).

        Args:
            epoch: The epoch's index, from 0.
            logs: Unused (`None`), as in Keras 3.
        """
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Back up the model and the epoch counter (with `save_freq="epoch"`).

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Back up every `save_freq` batches (when it is an int).

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.
        """
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

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Delete the backup (with `delete_checkpoint=True`): training ended normally.

        Args:
            logs: The final logs (host floats), or `None`.
        """
        if self.delete_checkpoint and distribution.rank() == 0 and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
