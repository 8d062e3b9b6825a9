"""The `CallbackList` that `fit`/`evaluate`/`predict` call: the user's callbacks in
order, then the `History` (last, so that it records keys the others add to the logs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .callback import Callback
from .history import History

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


class CallbackList:
    """The callbacks `fit`/`evaluate`/`predict` call: the user's in order, then the `History`.

    Calls each hook on every callback in order; the `History` comes last, so that it records keys
    the others add to the logs.

    Args:
        callbacks: `Callback` objects.
        model: The model, given to each callback's `set_model`.
        add_history: Append a `History` (unless one is among `callbacks`); it is `self.history`.
        params: Given to each callback's `set_params`.

    Raises:
        TypeError: If an element of `callbacks` is not a `Callback`.

    Examples:
        >>> from xcnn.callbacks import CallbackList, LambdaCallback
        >>> calls = CallbackList([LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs))], add_history=True)
        >>> calls.on_epoch_end(0, {"loss": 0.5})
        0 {'loss': 0.5}
        >>> calls.history.history
        {'loss': [0.5]}
    """

    def __init__(
        self,
        callbacks: Sequence[Callback] | None = None,
        model: Any = None,
        add_history: bool = False,
        params: dict[str, Any] | None = None,
    ) -> None:
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be xcnn.callbacks.Callback instances, got {cb!r}")
        self.history = None
        if add_history:
            self.history = next((cb for cb in callbacks if isinstance(cb, History)), None)
            if self.history is None:
                self.history = History()
                callbacks.append(self.history)
        self.callbacks = callbacks
        for cb in callbacks:
            cb.set_model(model)
            cb.set_params(dict(params or {}))

    def wants_batch_logs(self, mode: str) -> bool:
        """Whether any callback overrides a batch hook of `mode`.

        The loop skips building batch logs nobody reads.

        Args:
            mode: `"train"`, `"test"` or `"predict"`.

        Returns:
            True when some callback has such a hook.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_train_batch_end=lambda batch, logs: None)])
            >>> calls.wants_batch_logs("train"), calls.wants_batch_logs("predict")
            (True, False)
        """
        return any(
            hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook)
            for cb in self.callbacks
            for hook in _BATCH_HOOKS[mode]
        )

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Call `on_train_begin` of every callback, in order.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_train_begin=print)])
            >>> calls.on_train_begin()
            None
        """
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Call `on_train_end` of every callback, in order.

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_train_end=print)])
            >>> calls.on_train_end({"loss": 0.5})
            {'loss': 0.5}
        """
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_epoch_begin` of every callback, in order.

        Args:
            epoch: The epoch's index, from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_epoch_begin=print)])
            >>> calls.on_epoch_begin(0)
            0 None
        """
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_epoch_end` of every callback, in order.

        Args:
            epoch: The epoch's index, from 0.
            logs: The epoch's logs: host floats (`loss`, metrics, `val_*`, ...).

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_epoch_end=print)])
            >>> calls.on_epoch_end(0, {"loss": 0.5})
            0 {'loss': 0.5}
        """
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_train_batch_begin` of every callback, in order.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_train_batch_begin=print)])
            >>> calls.on_train_batch_begin(0)
            0 None
        """
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_train_batch_end` of every callback, in order.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_train_batch_end=print)])
            >>> calls.on_train_batch_end(0, {"loss": 0.5})
            0 {'loss': 0.5}
        """
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Call `on_test_begin` of every callback, in order.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_test_begin=print)])
            >>> calls.on_test_begin()
            None
        """
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """Call `on_test_end` of every callback, in order.

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_test_end=print)])
            >>> calls.on_test_end({"loss": 0.5})
            {'loss': 0.5}
        """
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_test_batch_begin` of every callback, in order.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_test_batch_begin=print)])
            >>> calls.on_test_batch_begin(0)
            0 None
        """
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_test_batch_end` of every callback, in order.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_test_batch_end=print)])
            >>> calls.on_test_batch_end(0, {"loss": 0.5})
            0 {'loss': 0.5}
        """
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Call `on_predict_begin` of every callback, in order.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_predict_begin=print)])
            >>> calls.on_predict_begin()
            None
        """
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        """Call `on_predict_end` of every callback, in order.

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_predict_end=print)])
            >>> calls.on_predict_end({"loss": 0.5})
            {'loss': 0.5}
        """
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_predict_batch_begin` of every callback, in order.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_predict_batch_begin=print)])
            >>> calls.on_predict_batch_begin(0)
            0 None
        """
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call `on_predict_batch_end` of every callback, in order.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> from xcnn.callbacks import CallbackList, LambdaCallback
            >>> calls = CallbackList([LambdaCallback(on_predict_batch_end=print)])
            >>> calls.on_predict_batch_end(0, {"loss": 0.5})
            0 {'loss': 0.5}
        """
        self._call("on_predict_batch_end", batch, logs)
