"""The :class:`CSVLogger` callback."""

from __future__ import annotations

import csv
import os

from .. import distribution
from .callback import Callback


class CSVLogger(Callback):
    """Writes one row per epoch to ``filename``: ``epoch`` (from 0) then the log keys in sorted
    order, as Keras 3 (``val_*`` columns are added up front when the first epoch has none, and
    ``NA`` fills what an epoch lacks); ``append=True`` continues an existing file. Under data
    parallelism rank 0 alone writes (the logs are the same on every rank)."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = self.writer = self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if distribution.rank() != 0:
            return
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not f.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = self.keys = None

    def on_epoch_end(self, epoch, logs=None):
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

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
