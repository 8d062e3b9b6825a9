"""Training, evaluation and prediction: the Keras loop over one step.

Host<->device copies happen only at the edges: the data adapters (:mod:`.data_adapters`)
move ``fit``/``evaluate``/``predict``'s input to the model's backend (arrays once, batch by
batch when too large; generators and sequences as their batches come), the loss and metrics
are summed on the device and read once per epoch (and at each progress-bar refresh), and
``save``/``load`` copy weights to and from the host. Callbacks are called through a
:class:`~xcnn.callbacks.CallbackList` with Keras 3's hooks.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend as B
from .. import losses as losses_module
from .. import metrics as metrics_module
from .._checks import positive_int, real_number, whole_number
from .._typing import Array, Device
from ..callbacks import Callback, CallbackList, History
from ..distribution import active as active_distribution
from ..layers.layer import NO_REWRITE, Layer, Rewrite, SymbolicTensor
from ..metrics.metric import read_together
from ..ops._parallel import BlasHold
from ..ops._workspace import forget_derived

# Data sets up to this many bytes are copied to the device whole; larger ones batch by batch.
# None: $XCNN_DEVICE_DATA_LIMIT, else 2 GiB, read when a fit starts (a bad value is refused
# there, not at import); set a number here to override both.
DEVICE_DATA_LIMIT: int | None = None
_DEFAULT_DEVICE_DATA_LIMIT = 2 * 1024**3


def device_data_limit() -> int:
    """Bytes of data copied to the device whole: `DEVICE_DATA_LIMIT`, `$XCNN_DEVICE_DATA_LIMIT`
    or 2 GiB.

    Returns:
        The limit in bytes.

    Raises:
        ValueError: If `$XCNN_DEVICE_DATA_LIMIT` is not a whole number of bytes >= 0.

    Examples:
        >>> from xcnn.models.trainer import device_data_limit
        >>> device_data_limit() >= 0
        True
    """
    if DEVICE_DATA_LIMIT is not None:
        return DEVICE_DATA_LIMIT
    text = os.environ.get("XCNN_DEVICE_DATA_LIMIT")
    if not text:
        return _DEFAULT_DEVICE_DATA_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = None
    if limit is None or limit < 0:
        raise ValueError(
            f"XCNN_DEVICE_DATA_LIMIT must be a whole number of bytes >= 0 (0 copies every data set "
            f"batch by batch), got {text!r}"
        )
    return limit


_SHORT = {"accuracy": "acc"}  # progress-bar labels


def _on_model_device(method):
    """Run ``method`` with the model's device current (CuPy creates arrays on its current device)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with B.device_scope(self.backend, self.device):
            return method(self, *args, **kwargs)

    return wrapper


class Trainer:
    """The training half of `xcnn.models.Model` (a mixin: it uses the model's graph).

    `fit`, `evaluate`, `predict` and the `*_on_batch` methods, with Keras's arguments and results.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
        >>> x = np.ones((4, 3), "float32")
        >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        >>> model.fit(x, y, epochs=2, verbose=0).history.keys()
        dict_keys(['accuracy', 'loss'])
    """

    if TYPE_CHECKING:  # what the mixin uses of Model, for the type checker
        name: str
        backend: str
        device: Device
        dtype: str
        seed: int
        optimizer: Any
        loss: Any
        metrics: list[Any]
        weighted_metrics: list[Any]
        stop_training: bool
        history: History | None
        _input: Any  # the input SymbolicTensor, once built
        _output: Any  # the output SymbolicTensor, once built
        _layers: list[Layer]
        _rewrites: dict[Layer, Rewrite]
        _sequential: bool
        _pending: list[Layer]  # a Sequential's layers before its input shape is known

        @property
        def built(self) -> bool: ...

        def _require_compiled(self) -> None: ...

        def _use_step_rng(self, rng: B.Generator) -> None: ...

        def _traces_call(self) -> bool: ...

        def _build_by_tracing(self, sample_shape: tuple[int, ...]) -> None: ...

    def _pass_scope(self, batch):
        """Context of one forward or backward pass over `batch` (its first axis counts the
        images): on NumPy, the BLAS held at one thread once a pass has run the convolutions'
        image groups, unless this one holds a lone image (see `xcnn.ops._parallel`)."""
        hold = self.__dict__.get("_blas_hold")
        if hold is None:
            hold = self._blas_hold = BlasHold()
        return hold.pass_on(self.backend, batch.shape[0])

    def _forward(self, x, training):
        with self._pass_scope(x):
            return self._forward_pass(x, training)

    def _forward_pass(self, x, training):
        values = {id(self._input): x}
        plan = self._rewrites
        for layer in self._layers:
            mode = layer.eager_training if training is None else training  # None: model(x) without training=
            values[id(layer.output)] = layer.forward(
                [values[id(t)] for t in layer.inbound], mode, plan.get(layer, NO_REWRITE)
            )
        return values[id(self._output)]

    @contextlib.contextmanager
    def _weights_fixed(self, callbacks):
        """Within: a loop of inference passes in which no weight changes (predict, evaluate),
        so what layers derive from their weights alone (a folded BatchNormalization, a banded
        filter matrix) is computed once for all its batches, not at each: at batch 1 it costs
        as much as the pass (`Rewrite.weights_fixed`). With user ``callbacks`` (a list), which
        may change a weight between batches, each batch derives it from the weights as they are
        then."""
        if callbacks:
            yield
            return
        plan, token = self._rewrites, object()
        # the layers with a kernel (the others derive nothing, and run faster without a rewrite)
        kernels = [layer for layer in self._layers if layer.kernel_output_axis is not None]
        self._rewrites = {
            **plan,
            **{layer: plan.get(layer, NO_REWRITE)._replace(weights_fixed=token) for layer in kernels},
        }
        try:
            yield
        finally:
            self._rewrites = plan
            for layer in kernels:
                forget_derived(layer.workspace(False, NO_REWRITE))

    def _tensors_needing_gradients(self):
        """Ids of the tensors a gradient must reach: those with a trainable weight upstream.

        The input needs none, nor does anything computed from it by weightless layers (e.g.
        RandomTranslation), so the first layer with weights skips its input gradient.
        """
        need = set()
        for layer in self._layers:
            if (layer.params and layer.trainable) or any(id(t) in need for t in layer.inbound):
                need.add(id(layer.output))
        return need

    def _backward(self, dout, skip_output_activation=False):
        with self._pass_scope(dout):
            self._backward_pass(dout, skip_output_activation)

    def _backward_pass(self, dout, skip_output_activation):
        grads = {id(self._output): dout}
        wanted = self._tensors_needing_gradients()
        for layer in reversed(self._layers):
            layer.grads = {}
            dy = grads.pop(id(layer.output), None)
            if dy is None:
                continue
            needed = [id(t) in wanted for t in layer.inbound]
            skip = skip_output_activation and layer is self._output.layer
            dxs = layer.backward(
                dy, need_dx=any(needed), skip_activation=skip, rewrite=self._rewrites.get(layer, NO_REWRITE)
            )
            for t, dx, need in zip(layer.inbound, dxs, needed):
                if need and dx is not None:
                    key = id(t)
                    grads[key] = grads[key] + dx if key in grads else dx

    def _loss_and_gradient(self, pred, target, sample_weight=None):
        """The batch loss (0-d device array) and its gradient w.r.t. the output (or the logits)."""
        if self._fused:
            activation = self._output.layer.activation  # its output (pred) is the loss's probabilities
            return (
                self.loss.value_from_logits(activation._x, target, sample_weight),
                self.loss.gradient_from_logits(activation._x, target, sample_weight, activation._y),
            )
        return self.loss.value(pred, target, sample_weight), self.loss.gradient(pred, target, sample_weight)

    def _loss_value(self, pred, target, sample_weight=None):
        """The batch loss alone (no gradient), from the logits when the loss fuses with the output."""
        if self._fused:
            return self.loss.value_from_logits(self._output.layer.activation._x, target, sample_weight)
        return self.loss.value(pred, target, sample_weight)

    def _regularize(self):
        """Add each regularizer's gradient to its weight's gradient; return the total penalty."""
        penalty = None
        for layer in self._layers:
            if not layer.trainable:  # as Keras: a frozen layer's weights add no penalty
                continue
            for key, reg in layer.regularizers.items():
                w = layer.params[key]
                layer.grads[key] = layer.grads[key] + reg.gradient(w)
                p = reg.penalty(w)
                penalty = p if penalty is None else penalty + p
        return penalty

    def _train_step(self, x, y, sample_weight=None):
        """One optimizer step on a device batch; returns ``(loss, predictions, y)`` on device."""
        dist = active_distribution()  # data-parallel training, or None (one process)
        if dist is not None and x.shape[0] == 0:
            return dist.step_without_samples(self, y)  # [distribution] this rank's part of the batch is empty
        pred = self._forward(x, training=True)
        target = self.loss.targets(y, self._output.item_shape[-1], pred.dtype)
        loss, dout = self._loss_and_gradient(pred, target, sample_weight)
        self._backward(dout, skip_output_activation=self._fused)
        if dist is not None:  # [distribution] the global batch's gradients and loss, before any penalty
            loss = dist.allreduce_gradients(self, loss, x.shape[0])
        return self._apply_gradients(loss), pred, y

    def _apply_gradients(self, loss):
        """Add the regularizers' gradients, take the optimizer step (which applies the weights'
        constraints after the update, as Keras's); returns the loss plus penalties."""
        penalty = self._regularize()
        if penalty is not None:
            loss = loss + penalty
        refs = [(layer, k) for layer in self._layers if layer.trainable for k in layer.grads]
        items = [(f"{layer.name}/{k}", layer.params[k], layer.grads[k]) for layer, k in refs]
        constraints = {
            key: functools.partial(layer.constrain, k)
            for (key, _, _), (layer, k) in zip(items, refs)
            if k in layer.constraints
        }
        # without constraints, apply(items) as before: an optimizer that overrides apply need not take them
        new_weights = (
            self.optimizer.apply(items, constraints=constraints) if constraints else self.optimizer.apply(items)
        )
        for (layer, k), new in zip(refs, new_weights):
            layer.params[k] = new
        return loss

    def _test_step(self, x, y, sample_weight=None):
        """The loss (with the regularization penalties, as Keras) and predictions of a device batch."""
        pred = self._forward(x, training=False)
        target = self.loss.targets(y, self._output.item_shape[-1], pred.dtype)
        loss = self._loss_value(pred, target, sample_weight)
        for layer in self._layers:
            for key, reg in layer.regularizers.items():
                loss = loss + reg.penalty(layer.params[key])
        return loss, pred

    def _compiled_metrics(self, y, pred):
        """The compiled metrics as ``(Metric, weighted)`` pairs, made from the first batch
        (``"accuracy"`` becomes binary, sparse or categorical from its shapes, as in Keras). A
        weighted metric named like an unweighted one is logged as ``weighted_<name>``, as Keras."""
        if self._metric_objects is None:
            plain = [metrics_module.get(m, y, pred) for m in self.metrics]
            weighted = [metrics_module.get(m, y, pred) for m in self.weighted_metrics]
            for i, metric in enumerate(weighted):
                if any(metric.name == other.name for other in plain):
                    if any(metric is other for other in plain):  # one object in both lists: a twin keeps them apart
                        weighted[i] = metric = metrics_module.get(metrics_module.serialize(metric), y, pred)
                    metric.name = f"weighted_{metric.name}"
            self._metric_objects = plain + weighted
            self._weighted_count = len(weighted)
        count = len(self._metric_objects) - self._weighted_count
        return [(m, i >= count) for i, m in enumerate(self._metric_objects)]

    # --- data at the edges ------------------------------------------------------------------------
    def _check_x(self, x, name="x"):
        if x is None:
            raise ValueError(f"{name} must be an array of samples (N, *input_shape), got None")
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            x = np.asarray(x)
        if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers, got an array of dtype {x.dtype}")
        if len(x.shape) == 0:
            raise ValueError(f"{name} must be an array of samples (N, *input_shape), got a scalar")
        if not self.built and self._sequential:
            if not self._pending:
                raise ValueError(f"model {self.name} has no layers: add layers before running it on data")
            self._build_from_shape(tuple(x.shape[1:]))
        elif not self.built and self._traces_call():
            self._build_by_tracing(tuple(x.shape[1:]))
        self._ensure_built()
        expected = self._input.item_shape
        if tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"{name} must have shape (N, {', '.join(map(str, expected))}) for model {self.name}, "
                f"got {tuple(x.shape)}"
            )
        return x

    def _check_y(self, y, n, name="y"):
        """Targets checked once per call: one per sample, finite, and for the sparse loss whole
        numbers in [0, classes). Host targets are checked on the host; device targets on their
        device, with one 0-d read (one sync) per call, never per step."""
        if y is None:
            raise ValueError(f"{name} must be the targets, one per sample, got None")
        if not hasattr(y, "shape") or not hasattr(y, "dtype"):
            y = np.asarray(y)
        if isinstance(y, np.ndarray) and y.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers, got an array of dtype {y.dtype}")
        if len(y.shape) == 0 or y.shape[0] != n:
            got = "a scalar" if len(y.shape) == 0 else f"{y.shape[0]}"
            raise ValueError(f"{name} must have one label per sample: x has {n} samples, {name} has {got}")
        out = self._output.item_shape
        if self.loss.sparse:
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(
                    f"{name}: sparse_categorical_crossentropy needs integer labels (N,), got shape {tuple(y.shape)}"
                )
            _check_class_labels(y, out[-1], name)
            return y
        if y.ndim == 1 and out == (1,):
            y = y[:, None] if isinstance(y, np.ndarray) else B.namespace(self.backend).reshape(y, (-1, 1))
        if tuple(y.shape[1:]) != out:
            hint = ""
            if y.ndim == 1 and isinstance(self.loss, losses_module.CategoricalCrossentropy):
                hint = "; for integer labels use loss='sparse_categorical_crossentropy' or xcnn.utils.to_categorical"
            raise ValueError(f"{name} must have shape (N, {', '.join(map(str, out))}), got {tuple(y.shape)}{hint}")
        _check_finite(y, name)
        return y

    def _device(self, array, dtype):
        """Host (or any-backend) array -> this model's backend in ``dtype`` (a no-op if already there)."""
        if B.backend_of_or_none(array) == self.backend:
            xp = B.namespace(self.backend)
            if B.same_device(array.device, self.device):
                return array if array.dtype == getattr(xp, dtype) else xp.astype(array, getattr(xp, dtype))
        return B.asarray(array, self.backend, dtype, device=self.device)

    def _fits_on_device(self, x):
        return math.prod(x.shape) * np.dtype(self.dtype).itemsize <= device_data_limit()

    def _label_dtype(self):
        return "int64" if self.loss is not None and self.loss.sparse else self.dtype

    # --- Keras API ----------------------------------------------------------------------------
    @_on_model_device
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        seed: int | None = None,
    ) -> History:
        """Train for `epochs` epochs, with Keras's arguments.

        Args:
            x: Samples `(N, *input_shape)`, a host or device array (float or int); or a Python
                generator / any iterable of `(x, y)` or `(x, y, sample_weight)` batches; or a
                `keras.utils.PyDataset`-like sequence (`__len__`, `__getitem__`).
            y: Targets for array `x`: one-hot `(N, K)`, or integer labels `(N,)` for
                `sparse_categorical_crossentropy`; `None` when `x` yields batches.
            batch_size: Samples per batch (default 32; not for batch sources).
            epochs: The index of the last epoch (training runs from `initial_epoch`).
            verbose: `"auto"` or 1 (a progress bar), 2 (one line per epoch), 0 (silent).
            callbacks: `xcnn.callbacks.Callback` objects.
            validation_split: The last fraction of arrays held out for validation (before
                shuffling), as Keras does.
            validation_data: `(x, y)`, `(x, y, sample_weight)` or a source of batches like `x`.
            shuffle: Whether to shuffle array samples each epoch.
            class_weight: `{class: weight}` multiplying each sample's loss.
            sample_weight: `(N,)` weights of each sample's loss.
            initial_epoch: The epoch to start from (to resume).
            steps_per_epoch: Batches per epoch (an epoch then continues where the last one stopped).
            validation_steps: Batches per validation.
            validation_batch_size: The validation batch size (default: `batch_size`).
            validation_freq: Validate every this many epochs.
            seed: Reseeds shuffling and dropout.

        Returns:
            A `xcnn.callbacks.History`: `history.history` maps each log name to its per-epoch values.

        Raises:
            ValueError: If the model is not compiled, an argument is out of range, or the data do not
                fit the model (shapes, label range, non-finite values).
            TypeError: If the data are not numbers, or `callbacks` is not a list of callbacks.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> x = np.ones((4, 3), "float32")
            >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> history = model.fit(x, y, batch_size=2, epochs=3, verbose=0)
            >>> sorted(history.history), len(history.history["loss"])
            (['accuracy', 'loss'], 3)
        """
        from .data_adapters import EpochIterator, get_data_adapter, is_array

        self._require_compiled()
        epochs = whole_number(epochs, "epochs", minimum=0)
        initial_epoch = whole_number(initial_epoch, "initial_epoch", minimum=0)
        if batch_size is not None:
            batch_size = positive_int(batch_size, "batch_size")
        if validation_batch_size is not None:
            validation_batch_size = positive_int(validation_batch_size, "validation_batch_size")
        validation_split = real_number(validation_split, "validation_split", 0.0, 1.0, high_open=True)
        validation_freq = positive_int(validation_freq, "validation_freq")
        callbacks = _callback_list(callbacks)
        verbose = _verbosity(verbose)
        if validation_split and validation_data is None:
            if not is_array(x):
                raise ValueError(
                    "validation_split needs arrays x and y; for a generator or PyDataset pass validation_data"
                )
            x = self._check_x(x)
            split = int(x.shape[0] * (1.0 - validation_split))
            if split < 1 or split == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} leaves no training or validation data")
            y = self._check_y(y, x.shape[0])
            weights = None if sample_weight is None else np.asarray(sample_weight)
            validation_data = (x[split:, ...], y[split:, ...]) + (() if weights is None else (weights[split:],))
            x, y = x[:split, ...], y[:split, ...]
            sample_weight = None if weights is None else weights[:split]
        if seed is not None:
            self._use_step_rng(B.rng(self.backend, whole_number(seed, "seed", minimum=0), self.device))
        dist = active_distribution()  # [distribution] each rank takes its part of every global batch
        train = EpochIterator(
            get_data_adapter(self, x, y, sample_weight, batch_size, shuffle, class_weight, split=dist), steps_per_epoch
        )
        val = None
        if validation_data is not None:
            val = EpochIterator(
                self._validation_adapter(validation_data, validation_batch_size or batch_size, dist), validation_steps
            )
        if dist is not None:  # [distribution] rank 0's weights and shuffle stream; output on rank 0
            dist.begin_fit(self, seed)
            verbose = verbose if dist.is_chief else 0

        callbacks = CallbackList(
            callbacks,
            model=self,
            add_history=True,
            params={"verbose": verbose, "epochs": epochs, "steps": train.num_batches},
        )
        self.stop_training = False
        self._initial_epoch = initial_epoch  # BackupAndRestore may move it in on_train_begin
        callbacks.on_train_begin()
        logs = {}
        for epoch in range(self._initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            start = time.perf_counter()
            logs = self._train_epoch(train, callbacks, verbose, epoch, epochs)
            if dist is not None:
                dist.average_state(self)  # [distribution] one set of BatchNormalization statistics
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._test_loop(val, callbacks)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            logs = _sorted(logs)
            seconds = time.perf_counter() - start
            if verbose:
                print(
                    f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - "
                    + " - ".join(f"{k}: {_shown(v)}" for k, v in logs.items()),
                    flush=True,
                )
            callbacks.on_epoch_end(epoch, logs)
            if self.stop_training or train.exhausted:
                break
        callbacks.on_train_end(logs)
        self.history = callbacks.history
        return callbacks.history

    def _validation_adapter(self, validation_data, batch_size, split=None):
        from .data_adapters import get_data_adapter

        if isinstance(validation_data, (tuple, list)):  # a list too, as Keras unpacks it
            validation_data = tuple(validation_data)
            if len(validation_data) not in (2, 3):
                raise ValueError(
                    "validation_data must be (x, y), (x, y, sample_weight) or a source of batches, "
                    f"got {len(validation_data)} item{'' if len(validation_data) == 1 else 's'}"
                )
            return get_data_adapter(
                self,
                *validation_data,
                batch_size=batch_size,
                names=("validation_data[0]", "validation_data[1]"),
                split=split,
            )
        return get_data_adapter(self, validation_data, split=split)

    def _train_epoch(self, epoch_iterator, callbacks, verbose, epoch, epochs):
        steps = epoch_iterator.num_batches
        refresh = max(1, (steps or 100) // 10)  # each refresh reads the running metrics: one host sync
        bar = None
        if verbose == 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, unit="batch", desc=f"Epoch {epoch + 1}/{epochs}", leave=False, dynamic_ncols=True)
        running = _RunningMetrics(self)
        batch_logs = callbacks.wants_batch_logs("train")
        for step, (xb, yb, wb) in epoch_iterator.epoch():
            callbacks.on_train_batch_begin(step)
            loss, pred, _ = self._train_step(xb, yb, wb)
            running.add(loss, pred, yb, wb)
            callbacks.on_train_batch_end(step, _sorted(running.device_logs()) if batch_logs else None)
            if bar is not None:
                bar.update(1)
                if (step + 1) % refresh == 0:
                    bar.set_postfix({_SHORT.get(k, k): _shown(v) for k, v in running.read().items()}, refresh=False)
            if self.stop_training:
                break
        if bar is not None:
            bar.close()
        if running.empty(active_distribution()):
            raise ValueError(
                f"epoch {epoch + 1} had no training batches: a generator yields its batches once, so "
                "pass steps_per_epoch with an endless generator, or a PyDataset-like sequence"
            )
        return running.read(active_distribution())

    def _test_loop(self, epoch_iterator, callbacks):
        """Loss and metrics over one pass of ``epoch_iterator`` (test hooks called on ``callbacks``)."""
        running = _RunningMetrics(self)
        batch_logs = callbacks.wants_batch_logs("test")
        callbacks.on_test_begin()
        dist = active_distribution()
        for step, (xb, yb, wb) in epoch_iterator.epoch():
            callbacks.on_test_batch_begin(step)
            if dist is not None and xb.shape[0] == 0:  # [distribution] this rank's part of the batch is empty
                loss, pred = self._empty_outputs()
            else:
                loss, pred = self._test_step(xb, yb, wb)
            running.add(loss, pred, yb, wb)
            callbacks.on_test_batch_end(step, _sorted(running.device_logs()) if batch_logs else None)
        if running.empty(dist):
            raise ValueError("there were no batches to evaluate")
        logs = running.read(dist)
        callbacks.on_test_end(logs)
        return logs

    @_on_model_device
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Any = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss (with regularization penalties, as Keras) and metrics on `(x, y)`.

        Args:
            x: Samples, or a source of batches as in `fit`.
            y: Targets for array `x`, as in `fit`.
            batch_size: Samples per batch (default 32).
            verbose: `"auto"` or 1 (a progress bar), 2 (one line), 0 (silent).
            sample_weight: `(N,)` weights of each sample's loss.
            steps: Batches to evaluate (default: all).
            callbacks: `xcnn.callbacks.Callback` objects.
            return_dict: Return a dict instead of a list.

        Returns:
            As Keras: the loss alone when compiled without metrics, else `[loss, metric, ...]` in
            compile order; `{name: value}` with `return_dict`.

        Raises:
            ValueError: If the model is not compiled, there are no batches, or the data do not fit
                the model.
            TypeError: If the data are not numbers.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> x = np.ones((4, 3), "float32")
            >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> sorted(model.evaluate(x, y, verbose=0, return_dict=True))
            ['accuracy', 'loss']
        """
        from .data_adapters import EpochIterator, get_data_adapter

        self._require_compiled()
        if batch_size is not None:
            batch_size = positive_int(batch_size, "batch_size")
        verbose = _verbosity(verbose)
        dist = active_distribution()  # [distribution] each rank its part of every batch; the sums added in read
        if dist is not None and not dist.is_chief:
            verbose = 0
        data = EpochIterator(get_data_adapter(self, x, y, sample_weight, batch_size, split=dist), steps)
        callbacks = CallbackList(
            _callback_list(callbacks), model=self, params={"verbose": verbose, "steps": data.num_batches}
        )
        start = time.perf_counter()
        with self._weights_fixed(callbacks.callbacks):
            logs = self._test_loop(data, callbacks)
        if verbose:
            print(
                _progress_line(data, start) + " - " + " - ".join(f"{k}: {_shown(v)}" for k, v in logs.items()),
                flush=True,
            )
        return _keras_result(logs, return_dict)

    @_on_model_device
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        steps: int | None = None,
        callbacks: Any = None,
        to_numpy: bool = True,
    ) -> Array:
        """Outputs for `x`, e.g. class probabilities `(N, K)`.

        Args:
            x: Samples `(N, *input_shape)`, or a source of batches (their `y` is ignored).
            batch_size: Samples per batch (default 32).
            verbose: `"auto"` or 1 (a progress bar), 2 (one line), 0 (silent).
            steps: Batches to predict (default: all).
            callbacks: `xcnn.callbacks.Callback` objects.
            to_numpy: Return a NumPy array (default) rather than a device array of the model's
                backend.

        Returns:
            The outputs, `(N, *output_shape)`, in the model's dtype.

        Raises:
            ValueError: If there are no batches, or the data do not fit the model.
            TypeError: If the data are not numbers.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> x = np.ones((4, 3), "float32")
            >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> model.predict(x, verbose=0).shape
            (4, 2)
        """
        from .data_adapters import EpochIterator, get_data_adapter, is_array

        if batch_size is not None:
            batch_size = positive_int(batch_size, "batch_size")
        verbose = _verbosity(verbose)
        xp = B.namespace(self.backend)
        if is_array(x) and len(x.shape) > 0 and x.shape[0] == 0:  # no samples, no outputs (but the right shape)
            self._check_x(x)
            out = self._empty_outputs()[1]  # on the model's device
            return B.to_numpy(out) if to_numpy else out
        dist = active_distribution()  # [distribution] each rank its part of every batch, gathered in order
        if dist is not None and not dist.is_chief:
            verbose = 0
        data = EpochIterator(get_data_adapter(self, x, batch_size=batch_size, with_y=False, split=dist), steps)
        callbacks = CallbackList(
            _callback_list(callbacks), model=self, params={"verbose": verbose, "steps": data.num_batches}
        )
        batch_logs = callbacks.wants_batch_logs("predict")
        start = time.perf_counter()
        callbacks.on_predict_begin()
        outs = []
        with self._weights_fixed(callbacks.callbacks):
            for step, (xb, _, _) in data.epoch():
                callbacks.on_predict_batch_begin(step)
                empty = dist is not None and xb.shape[0] == 0
                outs.append(self._empty_outputs()[1] if empty else self._forward(xb, training=False))
                callbacks.on_predict_batch_end(step, {"outputs": outs[-1]} if batch_logs else None)
        callbacks.on_predict_end()
        if not outs:
            raise ValueError("there were no batches to predict")
        if verbose:
            print(_progress_line(data, start), flush=True)
        if dist is not None:
            return dist.gather_predictions(self, outs, to_numpy)
        out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=0)
        return B.to_numpy(out) if to_numpy else out

    @_on_model_device
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """One optimizer step on one batch, as Keras.

        Args:
            x: One batch of samples `(B, *input_shape)`.
            y: Its targets.
            sample_weight: `(B,)` weights of each sample's loss.
            class_weight: `{class: weight}` multiplying each sample's loss.
            return_dict: Return a dict instead of a list.

        Returns:
            The batch loss (a float) when compiled without metrics, else `[loss, metric, ...]`; a
            dict with `return_dict`.

        Raises:
            ValueError: If the model is not compiled, or the batch does not fit the model.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> x = np.ones((4, 3), "float32")
            >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> sorted(model.train_on_batch(x, y, return_dict=True))
            ['accuracy', 'loss']
        """
        from .data_adapters import get_data_adapter

        self._require_compiled()
        adapter = get_data_adapter(self, x, y, sample_weight, batch_size=_whole(x), class_weight=class_weight)
        ((xb, yb, wb),) = adapter.batches()
        loss, pred, _ = self._train_step(xb, yb, wb)
        running = _RunningMetrics(self)
        running.add(loss, pred, yb, wb)
        return _keras_result(running.read(), return_dict)

    @_on_model_device
    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics of one batch (no update), returned as `train_on_batch` does.

        Args:
            x: One batch of samples `(B, *input_shape)`.
            y: Its targets.
            sample_weight: `(B,)` weights of each sample's loss.
            return_dict: Return a dict instead of a list.

        Returns:
            The loss, `[loss, metric, ...]`, or a dict with `return_dict`.

        Raises:
            ValueError: If the model is not compiled, or the batch does not fit the model.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> x = np.ones((4, 3), "float32")
            >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> len(model.test_on_batch(x, y))
            2
        """
        from .data_adapters import get_data_adapter

        self._require_compiled()
        ((xb, yb, wb),) = get_data_adapter(self, x, y, sample_weight, batch_size=_whole(x)).batches()
        loss, pred = self._test_step(xb, yb, wb)
        running = _RunningMetrics(self)
        running.add(loss, pred, yb, wb)
        return _keras_result(running.read(), return_dict)

    @_on_model_device
    def predict_on_batch(self, x: Any) -> np.ndarray:
        """The outputs for one batch as a NumPy array.

        Args:
            x: One batch of samples `(B, *input_shape)`.

        Returns:
            `(B, *output_shape)` in the model's dtype.

        Raises:
            ValueError: If the batch does not fit the model.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> x = np.ones((4, 3), "float32")
            >>> y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
            >>> model.predict_on_batch(x[:2]).shape
            (2, 2)
        """
        from .data_adapters import get_data_adapter

        ((xb, _, _),) = get_data_adapter(self, x, batch_size=_whole(x), with_y=False).batches()
        return B.to_numpy(self._forward(xb, training=False))

    def _empty_outputs(self):
        """A zero loss and ``(0, *output_shape)`` predictions: what a rank without samples in a
        batch contributes under data parallelism (no forward pass over zero rows)."""

        def zeros(shape):
            return B.asarray(np.zeros(shape, self.dtype), self.backend, self.dtype, device=self.device)

        return zeros(()), zeros((0, *self._output.item_shape))

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        """Run the model on one batch, as Keras's `model(x)`.

        An unbuilt `Sequential` is built from the batch's shape first. Called on a symbolic
        tensor instead (the functional API), an unbuilt `Sequential` wires its layers into the
        caller's graph, as if they were written out there (Keras's `x = augment(inputs)` idiom):
        it then has no layers of its own, and the outer model's `layers` and `summary` list
        them one by one (a `Sequential` built only by such a call on arrays, and not compiled,
        still can: its layers keep their weights). A built model cannot be nested in another
        as a layer.

        Args:
            x: One batch `(B, *input_shape)`, NumPy or the model's backend; or a symbolic tensor.
            training: Run in training mode (dropout drops, augmentation augments, batch
                normalization uses the batch's statistics); default: each layer as Keras's
                call does, inference but the random augmentation layers augmenting.

        Returns:
            `(B, *output_shape)` as an array of the model's backend on its device
            (`predict` returns NumPy); for a symbolic tensor, the last wired layer's output.

        Raises:
            ValueError: If the batch does not fit the model, or the model has no layers.
            TypeError: If the model is built and called on a symbolic tensor.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input, RandomFlip, Flatten
            >>> from xcnn.models import Model, Sequential
            >>> Sequential([Dense(3)], seed=0)(np.ones((2, 5), "float32")).shape
            (2, 3)
            >>> augment = Sequential([RandomFlip("horizontal")])
            >>> inputs = Input((4, 4, 1))
            >>> model = Model(inputs, Dense(2)(Flatten()(augment(inputs))))
            >>> [type(layer).__name__ for layer in model.layers][1:3]
            ['RandomFlip', 'Flatten']
        """
        if isinstance(x, (SymbolicTensor, list, tuple)) and any(
            isinstance(t, SymbolicTensor) for t in (x if isinstance(x, (list, tuple)) else [x])
        ):
            return self._wire_into_graph(x)
        from .data_adapters import get_data_adapter

        if not self.built and self._sequential:
            self._built_by_call = True  # may still be wired into a graph (see _wire_into_graph)
        batches = list(get_data_adapter(self, x, batch_size=_whole(x), with_y=False).batches())
        if not batches:  # no samples: no outputs, in the output's shape (as predict gives them)
            return self._empty_outputs()[1]
        ((xb, _, _),) = batches
        return self._forward_on_device(xb, training)

    @_on_model_device
    def _forward_on_device(self, x, training):
        return self._forward(x, None if training is None else bool(training))

    def _wire_into_graph(self, tensor):
        if self.built and getattr(self, "_built_by_call", False) and self.optimizer is None:
            # built only by an eager call (augmentation looked at before the model is made):
            # its layers, weights and all, go to the caller's graph as an unbuilt model's would
            for layer in self._layers:
                layer.inbound = layer.output = None
            self._pending, self._layers, self._input, self._output = list(self._layers), [], None, None
        if not (self._sequential and not self.built and self._pending and isinstance(tensor, SymbolicTensor)):
            raise TypeError(
                f"model {self.name} cannot be used as a layer of another model: xcnn nests no built models "
                "(an unbuilt Sequential without Input, called on a tensor, wires its layers in). Build the "
                "outer model from layers; to turn a trained model's outputs into probabilities, apply "
                "softmax to model.predict(x) or end the model with a Softmax layer"
            )
        for layer in self._pending:
            tensor = layer(tensor)
        self._pending = []
        return tensor


def _whole(x):
    """The batch size that keeps an array batch whole."""
    return max(1, len(x)) if hasattr(x, "__len__") else None


def _verbosity(verbose):
    """Keras's ``verbose``: "auto" is 1 (a progress bar), 2 one line per epoch, 0 silent."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, (bool, int)) and verbose in (0, 1, 2):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")


def _shown(value):
    """A log value as the progress lines print it: 4 decimals (an array metric, e.g. a per-class
    F1Score, element by element)."""
    if isinstance(value, np.ndarray) and value.ndim:
        return np.array2string(value, precision=4, separator=" ")
    return f"{value:.4f}"


def _progress_line(epoch_iterator, start):
    steps = epoch_iterator._seen or epoch_iterator.num_batches or 0
    seconds = time.perf_counter() - start
    return f"{steps}/{steps} - {seconds:.0f}s {1000 * seconds / max(steps, 1):.0f}ms/step"


def _sorted(logs):
    """``logs`` with its keys in alphabetical order, as Keras 3 hands logs to callbacks, History
    and ``return_dict`` (``accuracy, loss, val_accuracy, val_loss``)."""
    return dict(sorted(logs.items()))


def _keras_result(logs, return_dict):
    """What Keras's evaluate/*_on_batch return: the logs dict (keys sorted, as Keras's), the loss
    alone, or a list (the loss first, then the metrics in their compile order)."""
    if return_dict:
        return _sorted(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _host(scalar):
    return float(B.to_numpy(scalar))


def _callback_list(callbacks):
    """``callbacks`` as a list of Callback instances (None: no callbacks)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        raise TypeError(
            f"callbacks must be a list of Callback instances, got a single {type(callbacks).__name__}; pass [callback]"
        )
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback instances, got {type(callbacks).__name__}")
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be xcnn.callbacks.Callback instances, got {cb!r}")
    return list(callbacks)


def _on_host(array):
    """``array`` as NumPy: itself on the host, else one copy from the device (one sync)."""
    return array if isinstance(array, np.ndarray) else B.to_numpy(array)


def _on_device(array):
    """Whether ``array`` is a backend array other than NumPy's (its values may be on a device)."""
    return not isinstance(array, np.ndarray) and B.backend_of_or_none(array) is not None


def _any_on_device(bad):
    """Whether a device mask ``bad`` has a True anywhere: reduced on the device, so one 0-d
    read (one sync) instead of copying the labels to the host."""
    xp = B.array_namespace(bad)
    return bool(B.to_numpy(xp.any(bad)))


def _check_finite(y, name):
    """Targets must be finite. Device targets: one 0-d read per call (the check at the edge);
    only when one is not finite are they copied to the host, to name it."""
    if _on_device(y):
        xp = B.array_namespace(y)
        if not xp.isdtype(y.dtype, "real floating") or not _any_on_device(~xp.isfinite(y)):
            return
    values = _on_host(y)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise ValueError(
            f"{name} must be finite, got {values[index].item()} at index {index if len(index) > 1 else index[0]}"
        )


def _check_class_labels(y, classes, name):
    """Sparse labels must be whole numbers in ``[0, classes)``: any other value would be left
    out of the one-hot target and silently train on nothing. Device labels: checked on the
    device with one 0-d read per call (the check at the edge); only bad labels are copied to
    the host, to name the first."""
    if _on_device(y):
        xp = B.array_namespace(y)
        bad = (y < 0) | (y >= classes)
        if xp.isdtype(y.dtype, "real floating"):
            bad = bad | ~xp.isfinite(y) | (y != xp.floor(y))
        if not _any_on_device(bad):
            return
    labels = _on_host(y)
    if labels.size == 0:
        return
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.floor(labels))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{name} must hold whole-number class labels in [0, {classes}), got {labels[i].item()} at index {i}"
            )
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name} must hold class labels in [0, {classes}) for the model's {classes} outputs, "
            f"got {labels[i].item()} at index {i}"
        )


class _RunningMetrics:
    """The batch-size-weighted mean loss and the compiled metrics, all summed on the device;
    ``read`` copies them all to the host together (one sync)."""

    def __init__(self, model):
        self.model = model
        self.loss_sum = None
        self.seen = 0
        self.batches = 0
        self.metrics = None

    def add(self, loss, pred, y, sample_weight=None):
        size = pred.shape[0]
        self.batches += 1
        self.loss_sum = loss * size if self.loss_sum is None else self.loss_sum + loss * size
        self.seen += size
        if self.metrics is None:
            self.metrics = self.model._compiled_metrics(y, pred)
            for metric, _ in self.metrics:
                metric.reset_state()
        for metric, weighted in self.metrics:
            metric.update_state(y, pred, sample_weight if weighted else None)

    def empty(self, distribution=None):
        """Whether nothing was added: no samples (under data parallelism no batches, since a rank's
        part of every batch may be empty)."""
        return self.seen == 0 if distribution is None else self.batches == 0

    def device_logs(self):
        """The running means so far as 0-d device arrays (no host sync), for batch hooks."""
        # max(..., 1): under data parallelism a rank may have had no samples yet (its sums are 0,
        # or NaN when the global loss is, so a divergence guard stops every rank alike)
        logs = {"loss": self.loss_sum / max(self.seen, 1)}
        for metric, _ in self.metrics or ():
            if getattr(metric, "total", None) is not None:  # the mean metrics (not AUC)
                logs[metric.name] = metric.total / (
                    max(metric.count, 1) if isinstance(metric.count, int) else metric.count
                )
        return logs

    def read(self, distribution=None):
        """The running means as floats: the loss and every metric's state in one device->host
        copy (one sync), whatever the metrics (weighted counts and AUC's counts included). With
        a ``distribution``: over every rank's samples (see :meth:`_read_global`)."""
        if distribution is not None:
            return self._read_global(distribution)
        metrics = [metric for metric, _ in self.metrics or ()]
        states = [metric.device_state() for metric in metrics]
        host = read_together([self.loss_sum, *[a for state in states if state is not None for a in state]])
        logs = {"loss": float(host[0]) / self.seen}
        start = 1
        for metric, state in zip(metrics, states):
            if state is None:  # a metric that only defines result(): its own read
                logs[metric.name] = metric.result()
                continue
            logs[metric.name] = metric.result_from(host[start : start + len(state)])
            start += len(state)
        return logs

    def _read_global(self, distribution):
        """The means over every rank's samples: each rank's loss sum, sample count and metric
        states (sums and counts: ``Metric.summed_state``) are read in one device->host copy and
        added up over the ranks in float64 (one allreduce); the metrics' states then hold the
        global sums, so ``result()`` is the global figure on every rank."""
        metrics = [metric for metric, _ in self.metrics or ()]
        states = []  # (metric, attribute, value) for every summed state
        for metric in metrics:
            names = getattr(metric, "summed_state", None)
            if names is None:
                raise TypeError(
                    f"metric {metric.name!r} ({type(metric).__name__}) does not list its summed_state, "
                    "so its figure cannot be combined over the ranks of a data-parallel run; set "
                    "summed_state to the names of its state attributes that add up over samples"
                )
            states += [(metric, name, getattr(metric, name)) for name in names]
        # host numbers (an unweighted count) are Python ints; sums on the device are arrays (on
        # NumPy possibly NumPy scalars, which are floats too: hence type(), not isinstance)
        on_device = [self.loss_sum] + [v for _, _, v in states if type(v) not in (int, float)]
        xp = B.array_namespace(*on_device)
        host = iter(
            np.split(
                B.to_numpy(xp.concat([xp.reshape(v, (-1,)) for v in on_device])).astype(np.float64),
                np.cumsum([math.prod(v.shape) for v in on_device])[:-1],
            )
        )
        local = [next(host), np.array([self.seen], dtype=np.float64)]
        local += [np.array([v], dtype=np.float64) if type(v) in (int, float) else next(host) for _, _, v in states]
        total = distribution.sum_metrics(np.concatenate(local))
        parts = iter(np.split(total, np.cumsum([p.size for p in local])[:-1]))
        loss_sum, seen = float(next(parts)[0]), float(next(parts)[0])
        for metric, name, value in states:
            summed = next(parts)
            if type(value) is int:
                setattr(metric, name, int(round(summed[0])))
            elif type(value) is float:
                setattr(metric, name, float(summed[0]))
            else:
                setattr(metric, name, np.reshape(summed, tuple(value.shape)))
        logs = {"loss": loss_sum / seen}
        for metric in metrics:
            logs[metric.name] = metric.result()
        return logs
