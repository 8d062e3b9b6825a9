"""The `History` callback that `fit` returns."""

from __future__ import annotations

from typing import Any

from .callback import Callback


class History(Callback):
    """Records the epoch logs: `history.history["loss"]` etc., and `history.epoch`; `fit` returns it.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[])
        >>> history.epoch, sorted(history.history)
        ([0, 1], ['loss'])
        >>> len(history.history["loss"])
        2
    """

    history: dict[str, list[Any]]  # log key -> its value at each epoch
    epoch: list[int]  # the epochs recorded

    def __init__(self) -> None:
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Append the epoch's index to `epoch` and each log value to `history[key]`.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
