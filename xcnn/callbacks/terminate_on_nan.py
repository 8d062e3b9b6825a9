"""The `TerminateOnNaN` callback."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import backend as B
from .._checks import positive_int
from .callback import Callback


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite, as Keras's `TerminateOnNaN`.

    By default it sets `model.stop_training` (the other callbacks' `on_train_end` still run) and
    prints which batch went wrong; with `raise_error=True` it raises a `RuntimeError` instead.
    After a stop, `terminated` is True and `stopped_epoch` / `stopped_batch` / `bad_loss` say
    where and what.

    The batch loss stays on the device (see `xcnn.callbacks`). `check_every=1` (the default,
    Keras's behaviour) reads it after every batch, which costs one device-to-host sync per step on
    a GPU; `check_every=k` folds each batch's "is finite" test into a device flag and reads the
    flag every `k` batches and at each epoch's end, so training stops at most `k - 1` batches
    late. The epoch's mean loss is checked too: a NaN there means some batch was NaN.

    Args:
        raise_error: Raise a `RuntimeError` instead of stopping quietly.
        check_every: Read the loss every this many batches.

    Raises:
        ValueError: If `check_every` is not a positive int.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import TerminateOnNaN
        >>> callback = TerminateOnNaN()
        >>> callback.set_model(model)
        >>> callback.on_train_begin()
        >>> callback.on_epoch_begin(0)
        >>> callback.on_batch_end(3, {"loss": np.array(np.nan)})
        epoch 1, batch 3: invalid loss nan, terminating training
        >>> model.stop_training, callback.terminated, callback.stopped_batch
        (True, True, 3)
    """

    def __init__(self, raise_error: bool = False, check_every: int = 1) -> None:
        self.raise_error = bool(raise_error)
        self.check_every = positive_int(check_every, "check_every")
        self.terminated = False
        self.stopped_epoch = self.stopped_batch = self.bad_loss = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Clear the record of a previous stop.

        Args:
            logs: Unused (`None`), as in Keras 3.
        """
        self.terminated = False
        self.stopped_epoch = self.stopped_batch = self.bad_loss = None
        self._epoch, self._all_finite, self._pending = 0, None, 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Note the epoch and reset the device flag.

        Args:
            epoch: The epoch's index, from 0.
            logs: Unused (`None`), as in Keras 3.
        """
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Check the batch loss (every `check_every` batches) and stop on a NaN or infinity.

        Raises:
            RuntimeError: On a bad loss, with `raise_error=True`.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.
        """
        loss = (logs or {}).get("loss")
        if loss is None or self.terminated:
            return
        if self.check_every == 1 or isinstance(loss, numbers.Real):  # a host number costs no sync
            value = float(loss) if isinstance(loss, numbers.Real) else float(B.to_numpy(loss))
            if not math.isfinite(value):
                self._stop(self._epoch, batch, value)
            return
        xp = B.namespace(self.model.backend)
        finite = xp.isfinite(loss)
        self._all_finite = finite if self._all_finite is None else xp.logical_and(self._all_finite, finite)
        self._pending += 1
        if self._pending >= self.check_every:
            self._read_flag(batch)

    def _read_flag(self, batch):
        flag, self._all_finite, self._pending = self._all_finite, None, 0
        if flag is not None and not bool(B.to_numpy(flag)):
            self._stop(self._epoch, batch, math.nan)  # some batch since the last read: not which one

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Read the flag of the last batches and check the epoch's mean loss.

        Raises:
            RuntimeError: On a bad loss, with `raise_error=True`.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        if not self.terminated:
            self._read_flag(None)
        value = (logs or {}).get("loss")
        if not self.terminated and value is not None and not math.isfinite(value):
            self._stop(epoch, None, value)

    def _stop(self, epoch, batch, value):
        self.terminated = True
        self.stopped_epoch, self.stopped_batch, self.bad_loss = epoch, batch, value
        where = f"epoch {epoch + 1}" + ("" if batch is None else f", batch {batch}")
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at {where}. Loss value: {value}. Terminating training immediately."
            )
        print(f"{where}: invalid loss {value}, terminating training", flush=True)
        self.model.stop_training = True
