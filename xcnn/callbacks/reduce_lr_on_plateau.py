"""The `ReduceLROnPlateau` callback."""

from __future__ import annotations

from typing import Any

from .learning_rate_scheduler import current_learning_rate, set_learning_rate
from .monitor_callback import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` (not below `min_lr`) when `monitor` stops improving.

    When `monitor` has not improved by `min_delta` for `patience` epochs; then it waits
    `cooldown` epochs, as Keras 3. Writes the rate in use to `logs["learning_rate"]` at each epoch
    end (so History keeps it).

    Args:
        monitor: The log key to watch.
        factor: The multiplier, in `(0, 1)`.
        patience: Epochs without improvement before a reduction.
        verbose: 1 prints a line at each reduction.
        mode: `"min"`, `"max"` or `"auto"`.
        min_delta: The least change that counts as an improvement.
        cooldown: Epochs to wait after a reduction before watching again.
        min_lr: The lowest rate.

    Raises:
        ValueError: If `factor` is not in `(0, 1)` or `mode` is unknown.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import ReduceLROnPlateau
        >>> callback = ReduceLROnPlateau(monitor="loss", mode="max", factor=0.5, patience=1)
        >>> history = model.fit(x, y, batch_size=2, epochs=3, verbose=0, callbacks=[callback])
        >>> [round(lr, 6) for lr in history.history["learning_rate"]]
        [0.01, 0.01, 0.005]
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1): it multiplies the learning rate, got {factor!r}")
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Reset the wait, the cooldown and the best value.

        Args:
            logs: Unused (`None`), as in Keras 3.
        """
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Reduce the rate when the patience runs out, and record it as `logs["learning_rate"]`.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        current = self._monitored(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = current_learning_rate(self.model.optimizer)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    set_learning_rate(self.model.optimizer, new, type(self).__name__)
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0
