"""The `CSVLogger` callback."""

from __future__ import annotations

import csv
import os
from typing import Any

from .. import distribution
from .callback import Callback


class CSVLogger(Callback):
    """Writes one row per epoch to `filename`: `epoch` (from 0), then the log keys in sorted order.

    As Keras 3: `val_*` columns are added up front when the first epoch has none, and `NA` fills
    what an epoch lacks; `append=True` continues an existing file. Under data parallelism rank 0
    alone writes (the logs are the same on every rank).

    Args:
        filename: The CSV file.
        separator: The field separator.
        append: Continue an existing file instead of overwriting it.

    Raises:
        ValueError: If `separator` is not one character.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import CSVLogger
        >>> callback = CSVLogger("log.csv")
        >>> history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[callback])
        >>> open("log.csv").read().splitlines()[0]
        'epoch,loss,val_loss'
        >>> len(open("log.csv").read().splitlines())
        3
    """

    keys: Any  # the columns after epoch, fixed by the first row
    writer: Any  # a csv.DictWriter while training
    csv_file: Any  # the open file while training

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False) -> None:
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be one character, got {separator!r}")
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = self.writer = self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Open the file (appending with `append=True`).

        Args:
            logs: Unused (`None`), as in Keras 3.
        """
        if distribution.rank() != 0:
            return
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not f.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = self.keys = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write the epoch's row.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).
        """
        if self.csv_file is None:  # not this rank's to write
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys], delimiter=self.sep)
            if self.append_header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.csv_file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Close the file.

        Args:
            logs: The final logs (host floats), or `None`.
        """
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
