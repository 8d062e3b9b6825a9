"""The base `Callback`: every Keras 3 hook, each a no-op."""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class of the callbacks; override any hook, each a no-op here.

    `self.model` and `self.params` (`{"epochs", "steps", "verbose"}`) are set before training
    starts, as in Keras. Epoch logs are host floats. Batch logs (`on_train_batch_end` etc.) hold
    the running mean loss so far (and the running means of the mean-type metrics) as 0-d arrays on
    the model's device, as Keras 3 hands over tensors: a step never waits for the host; call
    `float(xcnn.backend.to_numpy(logs["loss"]))` when you need the number (it costs a sync).
    `on_batch_begin`/`on_batch_end` are the older names, called by the training hooks.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy")
        >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> from xcnn.callbacks import Callback
        >>> class Show(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, sorted(logs))
        >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
        0 ['loss']
        1 ['loss']
    """

    model: Any = None  # the Model the hooks act on, set by set_model
    params: Any = None  # {"epochs", "steps", "verbose"}, set by set_params

    def set_model(self, model: Any) -> None:
        """Attach the model the hooks act on (`fit`, `evaluate` and `predict` call it).

        Args:
            model: The model.

        Examples:
            >>> from xcnn.callbacks import Callback
            >>> callback = Callback()
            >>> callback.set_model("a model")
            >>> callback.model
            'a model'
        """
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Attach the run's parameters (`fit`, `evaluate` and `predict` call it).

        Args:
            params: `{"epochs", "steps", "verbose"}` (`steps`: batches per epoch, `None` when unknown).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_train_begin(self, logs=None):
            ...         print(self.params)
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            {'verbose': 0, 'epochs': 2, 'steps': 2}
        """
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of `fit`.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_train_begin(self, logs=None):
            ...         print("on_train_begin")
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            on_train_begin
        """
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called at the end of `fit`.

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_train_end(self, logs=None):
            ...         print("on_train_end")
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            on_train_end
        """
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of each training epoch.

        Args:
            epoch: The epoch's index, from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_epoch_begin(self, epoch, logs=None):
            ...         print("on_epoch_begin", epoch)
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            on_epoch_begin 0
            on_epoch_begin 1
        """
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the end of each training epoch, after validation.

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
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_epoch_end(self, epoch, logs=None):
            ...         print(epoch, sorted(logs))
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            0 ['loss']
            1 ['loss']
        """
        pass

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before each training batch (the older name of `on_train_batch_begin`).

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_batch_begin(self, batch, logs=None):
            ...         print("on_batch_begin", batch)
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            on_batch_begin 0
            on_batch_begin 1
            on_batch_begin 0
            on_batch_begin 1
        """
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after each training batch (the older name of `on_train_batch_end`).

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_batch_end(self, batch, logs=None):
            ...         print(batch, sorted(logs))
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            0 ['loss']
            1 ['loss']
            0 ['loss']
            1 ['loss']
        """
        pass

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before each training batch.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_train_batch_begin(self, batch, logs=None):
            ...         print("on_train_batch_begin", batch)
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            on_train_batch_begin 0
            on_train_batch_begin 1
            on_train_batch_begin 0
            on_train_batch_begin 1
        """
        self.on_batch_begin(batch, logs=logs)  # as Keras: the old name is the training hook

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after each training batch.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_train_batch_end(self, batch, logs=None):
            ...         print(batch, sorted(logs))
            >>> _ = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Show()])
            0 ['loss']
            1 ['loss']
            0 ['loss']
            1 ['loss']
        """
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of `evaluate` (and of validation in `fit`).

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_test_begin(self, logs=None):
            ...         print("on_test_begin")
            >>> _ = model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[Show()])
            on_test_begin
        """
        pass

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called at the end of `evaluate` (and of validation).

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_test_end(self, logs=None):
            ...         print("on_test_end")
            >>> _ = model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[Show()])
            on_test_end
        """
        pass

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before each evaluation batch.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_test_batch_begin(self, batch, logs=None):
            ...         print("on_test_batch_begin", batch)
            >>> _ = model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[Show()])
            on_test_batch_begin 0
            on_test_batch_begin 1
        """
        pass

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after each evaluation batch.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_test_batch_end(self, batch, logs=None):
            ...         print(batch, sorted(logs))
            >>> _ = model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[Show()])
            0 ['loss']
            1 ['loss']
        """
        pass

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of `predict`.

        Args:
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_predict_begin(self, logs=None):
            ...         print("on_predict_begin")
            >>> _ = model.predict(x, batch_size=2, verbose=0, callbacks=[Show()])
            on_predict_begin
        """
        pass

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called at the end of `predict`.

        Args:
            logs: The final logs (host floats), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_predict_end(self, logs=None):
            ...         print("on_predict_end")
            >>> _ = model.predict(x, batch_size=2, verbose=0, callbacks=[Show()])
            on_predict_end
        """
        pass

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before each prediction batch.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Unused (`None`), as in Keras 3.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_predict_batch_begin(self, batch, logs=None):
            ...         print("on_predict_batch_begin", batch)
            >>> _ = model.predict(x, batch_size=2, verbose=0, callbacks=[Show()])
            on_predict_batch_begin 0
            on_predict_batch_begin 1
        """
        pass

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after each prediction batch.

        Args:
            batch: The batch's index within the epoch (or the evaluation/prediction), from 0.
            logs: Running means so far as 0-d device arrays (`predict`: `{"outputs": ...}`), or `None`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy")
            >>> x, y = np.ones((4, 3), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> from xcnn.callbacks import Callback
            >>> class Show(Callback):
            ...     def on_predict_batch_end(self, batch, logs=None):
            ...         print(batch, sorted(logs))
            >>> _ = model.predict(x, batch_size=2, verbose=0, callbacks=[Show()])
            0 ['outputs']
            1 ['outputs']
        """
        pass
