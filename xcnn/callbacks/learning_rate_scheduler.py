"""The `LearningRateScheduler` callback (and the learning-rate access it shares)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .callback import Callback

if TYPE_CHECKING:
    from ..optimizers import Optimizer


def current_learning_rate(optimizer: Optimizer) -> float:
    """The optimizer's learning rate as a float (a schedule's value at the current step).

    Args:
        optimizer: An `xcnn.optimizers.Optimizer`.

    Returns:
        The rate.

    Examples:
        >>> from xcnn.optimizers import SGD
        >>> from xcnn.callbacks.learning_rate_scheduler import current_learning_rate
        >>> current_learning_rate(SGD(learning_rate=0.1))
        0.1
    """
    return float(optimizer.current_learning_rate)


def set_learning_rate(optimizer: Optimizer, value: float, by: str) -> None:
    """Set the optimizer's learning rate to a number (for the callbacks that change it).

    Args:
        optimizer: An `xcnn.optimizers.Optimizer`.
        value: The new rate.
        by: Who sets it, for the error message.

    Raises:
        TypeError: If the optimizer's rate is a schedule object.

    Examples:
        >>> from xcnn.optimizers import SGD
        >>> from xcnn.callbacks.learning_rate_scheduler import set_learning_rate
        >>> optimizer = SGD(learning_rate=0.1)
        >>> set_learning_rate(optimizer, 0.05, "an example")
        >>> optimizer.learning_rate
        0.05
    """
    if optimizer.learning_rate_schedule is not None:
        raise TypeError(
            f"{by} cannot set the learning rate of an optimizer driven by a schedule "
            f"({type(optimizer.learning_rate_schedule).__name__}); give the optimizer a number instead"
        )
    optimizer.learning_rate = float(value)


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's start to `schedule(epoch, lr)` (or `schedule(epoch)`).

    `epoch` counts from 0, as in Keras; the rate is recorded as `logs["learning_rate"]`.

    Args:
        schedule: `schedule(epoch, lr) -> float` or `schedule(epoch) -> float`.
        verbose: 1 prints the rate at each epoch's start.

    Raises:
        TypeError: If `schedule` is not a function, or (when training) the optimizer's rate is a
            schedule object.
        ValueError: If (when training) `schedule` returns something other than a number.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import LearningRateScheduler
        >>> callback = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        >>> history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[callback])
        >>> history.history["learning_rate"]
        [0.005, 0.0025]
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise TypeError(f"schedule must be a function schedule(epoch, lr) -> float, got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Set the optimizer's learning rate to the schedule's value for this epoch.

        Raises:
            TypeError: If the optimizer's rate is a schedule object.
            ValueError: If the schedule returns something other than a number.

        Args:
            epoch: The epoch's index, from 0.
            logs: Unused (`None`), as in Keras 3.
        """
        lr = current_learning_rate(self.model.optimizer)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:  # the older one-argument form, as Keras also accepts
            new = self.schedule(epoch)
        if isinstance(new, bool) or not isinstance(new, numbers.Real) or not math.isfinite(new) or new < 0:
            raise ValueError(f"the schedule must return a finite learning rate >= 0, got {new!r} for epoch {epoch}")
        set_learning_rate(self.model.optimizer, new, type(self).__name__)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new)}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the rate in use as `logs["learning_rate"]`.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
