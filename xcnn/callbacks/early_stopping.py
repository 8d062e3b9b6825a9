"""The `EarlyStopping` callback."""

from __future__ import annotations

from typing import Any

from .monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training when `monitor` has not improved (by more than `min_delta`) for `patience` epochs.

    Keras 3's exact rules: the first `start_from_epoch` epochs are not watched; an epoch that
    improves on the best but not on `baseline` does not reset the wait; `restore_best_weights`
    puts back the weights of the best epoch when training ends.

    Args:
        monitor: The log key to watch.
        min_delta: The least change that counts as an improvement.
        patience: Epochs without improvement before stopping.
        verbose: 1 prints a line when it stops.
        mode: `"min"`, `"max"` or `"auto"` (losses and errors go down, accuracy and AUC up).
        baseline: A value the monitored quantity must beat.
        restore_best_weights: Put back the best epoch's weights at the end.
        start_from_epoch: Epochs to wait before watching.

    Raises:
        ValueError: If `mode` is unknown, or (when training starts) `"auto"` cannot tell which way
            `monitor` improves.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import EarlyStopping
        >>> callback = EarlyStopping(monitor="loss", mode="max", patience=1)
        >>> history = model.fit(x, y, batch_size=2, epochs=10, verbose=0, callbacks=[callback])
        >>> history.epoch, callback.stopped_epoch
        ([0, 1], 1)
    """

    best_weights: Any  # the best epoch's get_weights(), with restore_best_weights

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = int(patience), verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, int(start_from_epoch)
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset the wait and the best value.

        Args:
            logs: Unused (`None`), as in Keras 3.
        """
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best = self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Compare the monitored value with the best; stop the model when the patience runs out.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self._monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Restore the best weights (with `restore_best_weights`) and report the stop (with `verbose`).

        Args:
            logs: The final logs (host floats), or `None`.
        """
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
