"""The :class:`LearningRateScheduler` callback (and the learning-rate access it shares)."""

from __future__ import annotations

import numbers

from .callback import Callback


def current_learning_rate(optimizer):
    """The optimizer's learning rate as a float (a schedule's value at the current step)."""
    return float(optimizer.current_learning_rate)


def set_learning_rate(optimizer, value, by):
    from ..optimizers import LearningRateSchedule

    if isinstance(optimizer.learning_rate, LearningRateSchedule):
        raise TypeError(f"{by} cannot set the learning rate of an optimizer driven by a schedule "
                        f"({type(optimizer.learning_rate).__name__}); give the optimizer a number instead")
    optimizer.learning_rate = float(value)


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``), ``epoch`` from 0, as Keras; records it as ``logs["learning_rate"]``."""

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"schedule must be a function schedule(epoch, lr) -> float, got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = current_learning_rate(self.model.optimizer)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:  # the older one-argument form, as Keras also accepts
            new = self.schedule(epoch)
        if isinstance(new, bool) or not isinstance(new, numbers.Real):
            raise ValueError(f"the schedule must return a float learning rate, got {new!r} for epoch {epoch}")
        set_learning_rate(self.model.optimizer, new, type(self).__name__)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
