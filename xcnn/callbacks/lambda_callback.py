"""The `LambdaCallback` callback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .callback import Callback

_HOOKS = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_begin",
    "on_train_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class LambdaCallback(Callback):
    """A callback from functions, e.g. `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Each keyword names a Keras hook and gives the function to call there (same arguments).

    Args:
        **hooks: Functions by hook name (`on_epoch_end=...`, `on_train_batch_begin=...`, ...).

    Raises:
        ValueError: If a keyword is not a hook's name.
        TypeError: If a value is not a function.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import LambdaCallback
        >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: print("epoch", epoch))
        >>> history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[callback])
        epoch 0
        epoch 1
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        unknown = sorted(set(hooks) - set(_HOOKS))
        if unknown:
            raise ValueError(f"LambdaCallback got unknown hooks {unknown}; expected some of {_HOOKS}")
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"{name} must be a function, got {fn!r}")
                setattr(self, name, fn)
