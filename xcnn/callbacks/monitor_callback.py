"""The `MonitorCallback` base of EarlyStopping, ReduceLROnPlateau and ModelCheckpoint:
which way a monitored value improves and whether a value beats the best, as Keras decides."""

from __future__ import annotations

import operator
import warnings

from .callback import Callback


class MonitorCallback(Callback):
    """The base of EarlyStopping, ReduceLROnPlateau and ModelCheckpoint: whether a monitored value improved.

    Which way a monitored value improves and whether a value beats the best, as Keras decides.

    Args:
        monitor: The log key to watch.
        mode: `"min"`, `"max"` or `"auto"` (losses and error metrics go down, accuracy and AUC go
            up; anything else needs an explicit mode).
        baseline: The value to beat at first.
        min_delta: The least change that counts as an improvement.

    Raises:
        ValueError: If `mode` is unknown.

    Examples:
        >>> from xcnn.callbacks.monitor_callback import MonitorCallback
        >>> callback = MonitorCallback(monitor="loss", mode="min", min_delta=0.1)
        >>> callback.monitor, callback.mode, callback.min_delta
        ('loss', 'min', 0.1)
    """

    def __init__(
        self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None, min_delta: float = 0
    ) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = operator.lt
            for metric in getattr(self.model, "_metric_objects", None) or ():
                if metric.name == name:
                    self.monitor_op = operator.gt if getattr(metric, "_direction", None) == "up" else operator.lt
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} cannot tell whether monitor={self.monitor!r} should go up or down; "
                    "pass mode='max' or mode='min'"
                )
        if self.monitor_op is operator.lt:
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return self.monitor_op(value - self.min_delta, reference)

    def _monitored(self, logs):
        """The monitored value of ``logs``, or None with a warning (as Keras) when absent."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} monitors {self.monitor!r}, which is not in the logs; "
                f"available: {', '.join(logs or {})}",
                stacklevel=3,
            )
        return value
