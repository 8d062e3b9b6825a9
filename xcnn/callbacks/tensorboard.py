"""The `TensorBoard` callback: training curves for TensorBoard, without TensorFlow."""

from __future__ import annotations

import os
from typing import Any

from .. import backend as B
from .. import distribution
from .callback import Callback


class TensorBoard(Callback):
    """Writes TensorBoard event files under `log_dir`, as Keras's callback lays them out.

    `log_dir/train` gets `epoch_loss`, `epoch_accuracy`, `epoch_learning_rate`,
    `log_dir/validation` the same metrics of the validation data; `tensorboard --logdir log_dir`
    shows them. Writes through tensorboardX, imported when training starts
    (`pip install "xcnn[tensorboard]"`; it imports torch when torch is installed).

    Args:
        log_dir: The folder of the event files.
        histogram_freq: Every that many epochs (0: never, the default), a histogram of each
            weight (`<layer>/<weight>`), which copies every weight to the host.
        update_freq: `"epoch"` (default) writes once per epoch from the epoch's logs, which the
            training loop has already read: no extra device sync, and no batch hook at all. An
            int N also writes `batch_loss` (the loss in the batch logs) every N batches, at the
            count of batches trained so far; each such write copies it to the host, one device
            sync (on a GPU it waits for the step to finish) every N batches.

    Raises:
        ValueError: If `update_freq` or `histogram_freq` is out of range.
        ImportError: If (when training starts) tensorboardX is not installed.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> import os
        >>> from xcnn.callbacks import TensorBoard
        >>> callback = TensorBoard(log_dir="logs")
        >>> # training writes through tensorboardX, an optional dependency: not run by the doctests
        >>> history = model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[callback])  # doctest: +SKIP
        >>> sorted(os.listdir("logs"))  # doctest: +SKIP
        ['train']
    """

    _writers: dict[str, Any] | None  # split -> its tensorboardX SummaryWriter (None: another rank writes)

    def __init__(
        self, log_dir: str | os.PathLike[str] = "logs", histogram_freq: int = 0, update_freq: str | int = "epoch"
    ) -> None:
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(f"update_freq must be 'epoch' or a positive number of batches, got {update_freq!r}")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"histogram_freq must be a whole number of epochs >= 0, got {histogram_freq!r}")
        self.log_dir, self.histogram_freq, self.update_freq = os.fspath(log_dir), histogram_freq, update_freq
        self._writers = {}
        self._batches = 0
        if update_freq != "epoch":
            # a hook of this instance only: training loops may skip building batch logs for
            # callbacks without one
            self.on_batch_end = self._log_batch_loss  # type: ignore[method-assign]

    def _writer(self, split):
        if split not in self._writers:
            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                raise ImportError(
                    'the TensorBoard callback needs tensorboardX: pip install "xcnn[tensorboard]"'
                ) from None
            self._writers[split] = SummaryWriter(os.path.join(self.log_dir, split))
        return self._writers[split]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Open the event writers (importing tensorboardX).

        Raises:
            ImportError: If tensorboardX is not installed.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> import os
            >>> from xcnn.callbacks import TensorBoard
            >>> callback = TensorBoard(log_dir="logs")
            >>> history = model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[callback])  # doctest: +SKIP
            >>> sorted(os.listdir("logs"))  # doctest: +SKIP
            ['train']
        """
        if distribution.rank() != 0:  # under data parallelism rank 0 alone writes the logs
            self._writers = None
            return
        self._writers = self._writers or {}
        self._writer("train")  # fails now, not after an epoch, if tensorboardX is missing

    def _log_batch_loss(self, batch, logs=None):
        if self._writers is None:
            return
        self._batches += 1
        if self._batches % self.update_freq or not logs or "loss" not in logs:
            return
        loss = float(B.to_numpy(logs["loss"]))  # the one device sync, every update_freq batches
        self._writer("train").add_scalar("batch_loss", loss, self._batches)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Write the epoch's logs (and the weight histograms every `histogram_freq` epochs).

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> import os
            >>> from xcnn.callbacks import TensorBoard
            >>> callback = TensorBoard(log_dir="logs")
            >>> history = model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[callback])  # doctest: +SKIP
            >>> sorted(os.listdir("logs"))  # doctest: +SKIP
            ['train']
        """
        if self._writers is None:
            return
        for key, value in (logs or {}).items():
            if key == "time":
                continue
            split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(split).add_scalar(f"epoch_{name}", float(value), epoch)
        rate = getattr(getattr(self.model, "optimizer", None), "current_learning_rate", None)
        if callable(rate):
            rate = rate()
        if rate is not None:
            self._writer("train").add_scalar("epoch_learning_rate", float(rate), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for layer in self.model.layers:
                for name, weight in [*layer.params.items(), *layer.state.items()]:
                    self._writer("train").add_histogram(f"{layer.name}/{name}", B.to_numpy(weight), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Close the event writers.

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> import os
            >>> from xcnn.callbacks import TensorBoard
            >>> callback = TensorBoard(log_dir="logs")
            >>> history = model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[callback])  # doctest: +SKIP
            >>> sorted(os.listdir("logs"))  # doctest: +SKIP
            ['train']
        """
        for writer in (self._writers or {}).values():
            writer.close()
        self._writers = {}
