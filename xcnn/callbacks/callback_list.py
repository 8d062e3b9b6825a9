"""The :class:`CallbackList` that ``fit``/``evaluate``/``predict`` call: the user's callbacks in
order, then the :class:`History` (last, so that it records keys the others add to the logs)."""

from __future__ import annotations

from .callback import Callback
from .history import History

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


class CallbackList:
    """Calls each hook on every callback in order. ``wants_batch_logs(mode)`` says whether any
    callback overrides a batch hook of ``mode`` ("train", "test", "predict"), so that the loop
    skips building batch logs nobody reads."""

    def __init__(self, callbacks=None, model=None, add_history=False, params=None):
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

    def wants_batch_logs(self, mode):
        return any(hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook)
                   for cb in self.callbacks for hook in _BATCH_HOOKS[mode])

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)
