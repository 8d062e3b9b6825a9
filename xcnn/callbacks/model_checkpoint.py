"""The `ModelCheckpoint` callback."""

from __future__ import annotations

import os
from typing import Any

from .monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model (`model.save`) or only its weights (`model.save_weights`) during training.

    After every epoch (`save_freq="epoch"`) or every `save_freq` batches; `{epoch}` (from 1),
    `{batch}` and log keys may be formatted into `filepath`. With `save_best_only` only when
    `monitor` improves on the best so far (`initial_value_threshold`: the best to beat at first),
    as in Keras.

    Args:
        filepath: The file to write (its ending chooses the format, as `model.save`).
        monitor: The log key `save_best_only` watches.
        verbose: 1 prints a line at each save.
        save_best_only: Save only when `monitor` improves.
        save_weights_only: Save the weights alone (`model.save_weights`).
        mode: `"min"`, `"max"` or `"auto"`.
        save_freq: `"epoch"`, or a number of batches between saves.
        initial_value_threshold: The best value to beat at first.

    Raises:
        ValueError: If `save_freq` is neither `"epoch"` nor a positive int, or `mode` is unknown.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> import os
        >>> from xcnn.callbacks import ModelCheckpoint
        >>> callback = ModelCheckpoint("model-{epoch}.safetensors", monitor="loss")
        >>> history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[callback])
        >>> sorted(name for name in os.listdir() if name.startswith("model-"))
        ['model-1.safetensors', 'model-2.safetensors']
    """

    save_freq: Any  # "epoch" or a number of batches

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive int (batches), got {save_freq!r}")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self._batches_since_saving = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Note the epoch being trained (formatted into `filepath`).

        Args:
            epoch: The epoch's index, from 0.
            logs: Unused (`None`), as in Keras 3.
        """
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Save every `save_freq` batches (when it is an int).

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.
        """
        if self.save_freq == "epoch":
            return
        self._batches_since_saving += 1
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save(self._current_epoch, batch, _host_logs(logs))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Save (with `save_freq="epoch"`; with `save_best_only` only on an improvement).

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        if self.monitor_op is None and self.save_best_only:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        fields = {"epoch": epoch + 1, **({} if batch is None else {"batch": batch + 1}), **logs}
        try:
            filepath = self.filepath.format(**fields)
        except KeyError as exc:
            raise ValueError(
                f"ModelCheckpoint's filepath {self.filepath!r} names {{{exc.args[0]}}}, which is neither "
                f"'epoch' nor a value in this epoch's logs ({', '.join(sorted(fields))})"
            ) from None
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
                    print(
                        f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to {current}, saving to {filepath}"
                    )
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
