"""Training, evaluation and prediction: the Keras loop over one step.

Host<->device copies happen only at the edges: ``fit``/``evaluate``/``predict`` move their
input to the model's backend once (batch by batch when it is too large), metrics are summed
on the device and read once per epoch (and at each progress-bar refresh), and ``save``/``load``
copy weights to and from the host.
"""

from __future__ import annotations

import functools
import math
import os
import time

import numpy as np

from .. import backend as B
from .. import losses as losses_module
from ..callbacks import Callback, History

# Data sets up to this size are copied to the device whole; larger ones batch by batch.
DEVICE_DATA_LIMIT = int(os.environ.get("XCNN_DEVICE_DATA_LIMIT", 2 * 1024**3))
_SHORT = {"accuracy": "acc"}  # progress-bar labels


def _on_model_device(method):
    """Run ``method`` with the model's device current (CuPy creates arrays on its current device)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with B.device_scope(self.backend, self.device):
            return method(self, *args, **kwargs)

    return wrapper


class Trainer:
    """The training half of :class:`~xcnn.models.Model` (a mixin: it uses the model's graph)."""

    def _forward(self, x, training):
        for layer, attributes in self._rewrites.items():
            for name, value in attributes.items():
                setattr(layer, name, value)
        values = {id(self._input): x}
        for layer in self._layers:
            values[id(layer.output)] = layer.forward([values[id(t)] for t in layer.inbound], training)
        return values[id(self._output)]

    def _tensors_needing_gradients(self):
        """Ids of the tensors a gradient must reach: those with a trainable weight upstream.

        The input needs none, nor does anything computed from it by weightless layers (e.g.
        RandomTranslation), so the first layer with weights skips its input gradient.
        """
        need = set()
        for layer in self._layers:
            if layer.params or any(id(t) in need for t in layer.inbound):
                need.add(id(layer.output))
        return need

    def _backward(self, dout, skip_output_activation=False):
        grads = {id(self._output): dout}
        wanted = self._tensors_needing_gradients()
        for layer in reversed(self._layers):
            layer.grads = {}
            dy = grads.pop(id(layer.output), None)
            if dy is None:
                continue
            needed = [id(t) in wanted for t in layer.inbound]
            skip = skip_output_activation and layer is self._output.layer
            dxs = layer.backward(dy, need_dx=any(needed), skip_activation=skip)
            for t, dx, need in zip(layer.inbound, dxs, needed):
                if need and dx is not None:
                    key = id(t)
                    grads[key] = grads[key] + dx if key in grads else dx

    def _loss_and_gradient(self, pred, target):
        """The batch loss (0-d device array) and its gradient w.r.t. the output (or the logits)."""
        if self._fused:
            logits = self._output.layer.activation._x
            return self.loss.from_logits(logits, target), self.loss.gradient_from_logits(logits, target)
        return self.loss(pred, target), self.loss.gradient(pred, target)

    def _regularize(self):
        """Add each regularizer's gradient to its weight's gradient; return the total penalty."""
        penalty = None
        for layer in self._layers:
            for key, reg in layer.regularizers.items():
                w = layer.params[key]
                layer.grads[key] = layer.grads[key] + reg.gradient(w)
                p = reg.penalty(w)
                penalty = p if penalty is None else penalty + p
        return penalty

    def _train_step(self, x, y):
        """One optimizer step on a device batch; returns ``(loss, predictions, targets)`` on device."""
        pred = self._forward(x, training=True)
        target = self.loss.targets(y, self._output.shape[-1], pred.dtype)
        loss, dout = self._loss_and_gradient(pred, target)
        self._backward(dout, skip_output_activation=self._fused)
        penalty = self._regularize()
        if penalty is not None:
            loss = loss + penalty
        refs = [(layer, k) for layer in self._layers for k in layer.grads]
        items = [(f"{layer.name}/{k}", layer.params[k], layer.grads[k]) for layer, k in refs]
        for (layer, k), new in zip(refs, self.optimizer.apply(items)):
            layer.params[k] = new
        return loss, pred, target

    @_on_model_device
    def train_on_batch(self, x, y):
        """One optimizer step on one batch, as Keras: the batch loss (a float), or
        ``[loss, accuracy]`` when compiled with ``metrics=["accuracy"]``."""
        self._require_compiled()
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        loss, pred, target = self._train_step(self._device(x, self.dtype), self._device(y, self._label_dtype()))
        if not self.metrics:
            return _host(loss)
        correct, judged = self._correct(pred, target)
        loss, correct = _host_all(loss, correct)  # one read, not two
        return [loss, correct / judged]

    def _correct(self, pred, target):
        """Number of correct predictions (0-d device array) and how many were judged."""
        xp = B.namespace(self.backend)
        if pred.shape[-1] == 1 or isinstance(self.loss, losses_module.BinaryCrossentropy):
            hits = (pred > 0.5) == (target > 0.5)
            return xp.sum(xp.astype(hits, pred.dtype)), math.prod(pred.shape)
        hits = xp.argmax(pred, axis=-1) == xp.argmax(target, axis=-1)
        return xp.sum(xp.astype(hits, pred.dtype)), pred.shape[0]

    # --- data at the edges ------------------------------------------------------------------------
    def _check_x(self, x):
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            x = np.asarray(x)
        if not self.built and self._sequential:
            self._build_from_shape(tuple(x.shape[1:]))
        self._ensure_built()
        expected = self._input.shape
        if tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"x must have shape (N, {', '.join(map(str, expected))}) for model {self.name}, "
                f"got {tuple(x.shape)}"
            )
        return x

    def _check_y(self, y, n):
        if not hasattr(y, "shape"):
            y = np.asarray(y)
        if y.shape[0] != n:
            raise ValueError(f"y must have one label per sample: x has {n} samples, y has {y.shape[0]}")
        out = self._output.shape
        if self.loss.sparse:
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(f"sparse_categorical_crossentropy needs integer labels (N,), got shape {tuple(y.shape)}")
            return y
        if y.ndim == 1 and out == (1,):
            y = y[:, None] if isinstance(y, np.ndarray) else B.namespace(self.backend).reshape(y, (-1, 1))
        if tuple(y.shape[1:]) != out:
            hint = ""
            if y.ndim == 1 and isinstance(self.loss, losses_module.CategoricalCrossentropy):
                hint = "; for integer labels use loss='sparse_categorical_crossentropy' or xcnn.utils.to_categorical"
            raise ValueError(f"y must have shape (N, {', '.join(map(str, out))}), got {tuple(y.shape)}{hint}")
        return y

    def _device(self, array, dtype):
        """Host (or any-backend) array -> this model's backend in ``dtype`` (a no-op if already there)."""
        if B.backend_of_or_none(array) == self.backend:
            xp = B.namespace(self.backend)
            if B.same_device(array.device, self.device):
                return array if array.dtype == getattr(xp, dtype) else xp.astype(array, getattr(xp, dtype))
        return B.asarray(array, self.backend, dtype, device=self.device)

    def _fits_on_device(self, x):
        return math.prod(x.shape) * np.dtype(self.dtype).itemsize <= DEVICE_DATA_LIMIT

    def _label_dtype(self):
        return "int64" if self.loss is not None and self.loss.sparse else self.dtype

    def _batches(self, x, y, batch_size, shuffle):
        """Yield device batches ``(xb, yb)``: from device-resident copies when the data fits
        (one copy per call), else copied batch by batch from where the data is (the host, or
        a device: then the batch is gathered there, never through NumPy)."""
        n = x.shape[0]
        xp = B.namespace(self.backend)
        resident = self._fits_on_device(x)
        if resident:
            xd = self._device(x, self.dtype)
            yd = None if y is None else self._device(y, self._label_dtype())
            order = self._step_rng.permutation(n) if shuffle else None
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)  # slices past the end are not portable
                if order is None:
                    sl = slice(start, stop)
                    yield xd[sl, ...], None if yd is None else yd[sl, ...]
                else:
                    idx = order[start:stop]
                    yield xp.take(xd, idx, axis=0), None if yd is None else xp.take(yd, idx, axis=0)
            return
        order = self._host_rng.permutation(n) if shuffle else np.arange(n)
        orders = {}  # (backend, device) -> the order on that device, copied there once per call

        def rows(a, start, stop, dtype):
            name = B.backend_of_or_none(a)
            if name in (None, "numpy"):
                return self._device(np.asarray(a)[order[start:stop]], dtype)
            key = (name, B.device_key(a.device))
            if key not in orders:
                orders[key] = B.asarray(order, name, "int64", device=a.device)
            return self._device(B.namespace(name).take(a, orders[key][start:stop], axis=0), dtype)

        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            yield rows(x, start, stop, self.dtype), None if y is None else rows(y, start, stop, self._label_dtype())

    # --- Keras API ----------------------------------------------------------------------------
    @_on_model_device
    def fit(self, x, y, batch_size=32, epochs=1, validation_data=None, validation_split=0.0, shuffle=True,
            callbacks=None, verbose=1, seed=None, initial_epoch=0, validation_batch_size=None):
        """Train for ``epochs`` epochs; returns a :class:`~xcnn.callbacks.History`.

        x: ``(N, *input_shape)`` host or device array; y: one-hot ``(N, K)`` or integer labels
        ``(N,)`` for ``sparse_categorical_crossentropy``. ``validation_split`` holds out the
        last fraction of the data (before shuffling), as Keras does; validation runs in batches
        of ``validation_batch_size`` (default ``batch_size``).
        """
        self._require_compiled()
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is None:
            split = int(x.shape[0] * (1.0 - validation_split))
            if split < 1 or split == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} leaves no training or validation data")
            validation_data = (x[split:, ...], y[split:, ...])
            x, y = x[:split, ...], y[:split, ...]
        if validation_data is not None:
            vx = self._check_x(validation_data[0])
            vy = self._check_y(validation_data[1], vx.shape[0])
            vx, vy = self._device(vx, self.dtype), self._device(vy, self._label_dtype())
        if seed is not None:
            self._use_step_rng(B.rng(self.backend, seed, self.device))
        if self._fits_on_device(x):
            x, y = self._device(x, self.dtype), self._device(y, self._label_dtype())  # once for all epochs

        history = History()
        callbacks = [history, *(callbacks or [])]
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be xcnn.callbacks.Callback instances, got {cb!r}")
            cb.set_model(self)
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin()
        n = x.shape[0]
        for epoch in range(initial_epoch, epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            logs = self._run_epoch(x, y, n, batch_size, shuffle, callbacks, verbose, epoch, epochs)
            if validation_data is not None:
                val_logs = self._evaluate_logs(vx, vy, validation_batch_size or batch_size)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            logs["time"] = time.perf_counter() - start
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(
                    f"{k}: {v:.4f}" if k != "time" else f"{v:.1f}s" for k, v in logs.items()), flush=True)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end()
        self.history = history
        return history

    def _run_epoch(self, x, y, n, batch_size, shuffle, callbacks, verbose, epoch, epochs):
        steps = math.ceil(n / batch_size)
        refresh = max(1, steps // 10)  # each refresh reads the running metrics: one host sync
        bar = None
        if verbose == 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, unit="img", desc=f"Epoch {epoch + 1}/{epochs}", leave=False, dynamic_ncols=True)
        running = _RunningMetrics(self)
        for step, (xb, yb) in enumerate(self._batches(x, y, batch_size, shuffle)):
            loss, pred, target = self._train_step(xb, yb)
            running.add(loss, pred, target)
            for cb in callbacks:
                cb.on_batch_end(step, {"batch": step, "size": xb.shape[0], "loss": loss})
            if bar is not None:
                bar.update(xb.shape[0])
                if (step + 1) % refresh == 0 or step + 1 == steps:
                    bar.set_postfix({_SHORT.get(k, k): f"{v:.4f}" for k, v in running.read().items()}, refresh=False)
            if self.stop_training:
                break
        if bar is not None:
            bar.close()
        return running.read()

    def _evaluate_logs(self, x, y, batch_size):
        running = _RunningMetrics(self)
        for xb, yb in self._batches(x, y, batch_size, shuffle=False):
            pred = self._forward(xb, training=False)
            target = self.loss.targets(yb, self._output.shape[-1], pred.dtype)
            if self._fused:
                loss = self.loss.from_logits(self._output.layer.activation._x, target)
            else:
                loss = self.loss(pred, target)
            running.add(loss, pred, target)
        return running.read()

    @_on_model_device
    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (without regularization penalties) and metrics on ``(x, y)``: ``[loss, accuracy]``
        when compiled with ``metrics=["accuracy"]``, else the loss."""
        self._require_compiled()
        x = self._check_x(x)
        y = self._check_y(y, x.shape[0])
        logs = self._evaluate_logs(x, y, batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        return [logs["loss"], logs["accuracy"]] if self.metrics else logs["loss"]

    @_on_model_device
    def predict(self, x, batch_size=32, verbose=0, to_numpy=True):
        """Outputs for ``x`` (e.g. class probabilities ``(N, K)``): a NumPy array, or a device
        array on the model's backend with ``to_numpy=False``."""
        x = self._check_x(x)
        xp = B.namespace(self.backend)
        outs = [self._forward(xb, training=False) for xb, _ in self._batches(x, None, batch_size, shuffle=False)]
        out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=0)
        return B.to_numpy(out) if to_numpy else out

    @_on_model_device
    def __call__(self, x, training=False):
        """Run the model on a device batch (no checks, no copies)."""
        return self._forward(x, training)


def _host(scalar):
    return float(B.to_numpy(scalar))


def _host_all(*scalars):
    """Several 0-d device arrays of one dtype as floats, read back in one copy (one sync)."""
    xp = B.array_namespace(*scalars)
    return [float(v) for v in B.to_numpy(xp.stack(scalars))]


class _RunningMetrics:
    """Batch-size-weighted loss and correct counts, summed on the device; ``read`` syncs once."""

    def __init__(self, model):
        self.model = model
        self.loss_sum = self.correct = None
        self.seen = self.judged = 0

    def add(self, loss, pred, target):
        size = pred.shape[0]
        self.loss_sum = loss * size if self.loss_sum is None else self.loss_sum + loss * size
        self.seen += size
        if self.model.metrics:
            c, count = self.model._correct(pred, target)
            self.correct = c if self.correct is None else self.correct + c
            self.judged += count

    def read(self):
        """The running means as floats: one device->host read."""
        if not self.model.metrics:
            return {"loss": _host(self.loss_sum) / self.seen}
        loss_sum, correct = _host_all(self.loss_sum, self.correct)
        return {"loss": loss_sum / self.seen, "accuracy": correct / self.judged}
