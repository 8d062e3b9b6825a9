"""Sequential and functional models on one engine: topological forward, reverse backward.

Host<->device copies happen only at the edges: ``fit``/``evaluate``/``predict`` move their
input to the model's backend once (batch by batch when it is too large), metrics are summed
on the device and read once per epoch (and at each progress-bar refresh), and ``save``/``load``
copy weights to and from the host.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile
import time

import numpy as np

from . import backend as B
from . import losses as losses_module
from . import optimizers as optimizers_module
from .activations import is_named
from .callbacks import Callback, History
from .layers import LAYER_CLASSES, Conv2D, InputLayer, Layer, MaxPooling2D, SymbolicTensor

# Data sets up to this size are copied to the device whole; larger ones batch by batch.
DEVICE_DATA_LIMIT = int(os.environ.get("XCNN_DEVICE_DATA_LIMIT", 2 * 1024**3))
FORMAT_VERSION = 1
_SHORT = {"accuracy": "acc"}  # progress-bar labels


def _topological(output):
    """Layers feeding ``output`` in an order where each comes after all its inputs."""
    order, seen, stack = [], set(), [(output.layer, False)]
    while stack:
        layer, expanded = stack.pop()
        if expanded:
            order.append(layer)
            continue
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        stack.append((layer, True))
        for t in reversed(layer.inbound or []):
            if id(t.layer) not in seen:
                stack.append((t.layer, False))
    return order


def _work_saving_rewrites(layers, output, enabled=True):
    """Graph rewrites that save work and change no result, as ``{layer: {attribute: value}}``.

    The plan names every rewrite attribute of every layer, defaults included, so applying it
    (the model does, before each forward pass) also clears what another model sharing a layer
    set. Each rewrite applies only where a layer's output feeds one MaxPooling2D alone and is
    not the model's output:

    - the pool applies the ReLU of the layer before it (``relu_deferred``, ``relu_before``):
      max(relu(z)) = relu(max(z)), the gradients reach the same cells, on a quarter of the
      elements;
    - a Conv2D with no activation or a ReLU computes the pool too, in one fused op
      (``max_pool_after``, ``pooled_by_conv``), where :meth:`Conv2D.fuses_with` says so.

    ``enabled=False`` gives the plan that rewrites nothing (the tests compare the two).
    """
    plan = {}
    for layer in layers:
        plan[layer] = {"relu_deferred": False}
        if isinstance(layer, Conv2D):
            plan[layer]["max_pool_after"] = None
        if isinstance(layer, MaxPooling2D):
            plan[layer].update(relu_before=False, pooled_by_conv=False)
    consumers = {}
    for layer in layers:
        for t in layer.inbound:
            consumers.setdefault(id(t), []).append(layer)
    for pool in layers if enabled else []:
        source = pool.inbound[0].layer
        if not isinstance(pool, MaxPooling2D) or source not in plan:
            continue
        if source.output is output or consumers.get(id(source.output)) != [pool]:
            continue
        relu = is_named(source.activation, "relu")
        if relu:
            plan[source]["relu_deferred"] = plan[pool]["relu_before"] = True
        if isinstance(source, Conv2D) and (relu or source.activation is None) and source.fuses_with(pool):
            plan[source]["max_pool_after"], plan[pool]["pooled_by_conv"] = pool, True
    return plan


class Model:
    """A network from ``inputs`` (``Input(...)``) to ``outputs`` (a layer's output).

    backend: a name from :mod:`xcnn.backend` (default: the global default);
    dtype: ``"float32"`` (default) or ``"float64"``; seed: seeds the initial weights (the
    same on every backend) and the per-step random numbers (dropout, shuffling).
    """

    def __init__(self, inputs=None, outputs=None, *, backend=None, dtype="float32", seed=None, name=None):
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.name = name or ("sequential" if isinstance(self, Sequential) else "functional")
        self.backend = backend or B.get_backend()
        B.namespace(self.backend)  # fails early with a clear message if unavailable
        self.dtype = dtype
        self.seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**32)
        self._layers = []  # non-input layers in topological order
        self._rewrites = {}  # see _work_saving_rewrites
        self._input = self._output = None
        self.optimizer = self.loss = None
        self.metrics = []
        self.stop_training = False
        self.history = None
        self._step_rng = B.rng(self.backend, self.seed + 1)
        self._init_rng = np.random.default_rng(self.seed)  # initial weights, drawn on the host
        self._host_rng = np.random.default_rng(self.seed + 2)  # shuffles data too large for the device
        if inputs is not None or outputs is not None:
            self._set_graph(inputs, outputs)

    # --- graph ------------------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        inputs = inputs[0] if isinstance(inputs, (list, tuple)) and len(inputs) == 1 else inputs
        outputs = outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs
        if not isinstance(inputs, SymbolicTensor) or not isinstance(inputs.layer, InputLayer):
            raise TypeError("inputs must be the result of xcnn.layers.Input(shape) (one input)")
        if not isinstance(outputs, SymbolicTensor):
            raise TypeError("outputs must be the output of a layer (one output)")
        order = _topological(outputs)
        sources = [layer for layer in order if isinstance(layer, InputLayer)]
        if sources != [inputs.layer]:
            raise ValueError("outputs must be computed from the given inputs alone")
        self._input, self._output = inputs, outputs
        self._layers = [layer for layer in order if not isinstance(layer, InputLayer)]
        for layer in self._layers:
            if not layer.built:
                layer.build(self.backend, self.dtype, self._init_rng)
        self._use_step_rng(self._step_rng)
        self._rewrites = _work_saving_rewrites(self._layers, self._output)

    def _use_step_rng(self, rng):
        """Draw per-step random numbers (dropout, rrelu, shuffles) from ``rng``."""
        self._step_rng = rng
        for layer in self._layers:
            layer.rng = rng

    @property
    def built(self):
        return self._output is not None

    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        return None if self._input is None else (None, *self._input.shape)

    @property
    def output_shape(self):
        return None if self._output is None else (None, *self._output.shape)

    def _ensure_built(self):
        if not self.built:
            raise ValueError(f"model {self.name} has no inputs yet; give the first layer input_shape=...")

    def get_layer(self, name):
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers: {[layer.name for layer in self._layers]}")

    # --- weights ----------------------------------------------------------------------------
    def count_params(self):
        self._ensure_built()
        return sum(layer.count_params() for layer in self._layers)

    def _weight_dicts(self):
        for layer in self._layers:
            yield layer, "params", layer.params
            yield layer, "state", layer.state

    def get_weights(self):
        """All weights as host NumPy arrays, layer by layer (trainable, then moving statistics)."""
        self._ensure_built()
        return [B.to_numpy(a) for _, _, d in self._weight_dicts() for a in d.values()]

    def set_weights(self, weights):
        self._ensure_built()
        slots = [(d, k) for _, _, d in self._weight_dicts() for k in d]
        if len(weights) != len(slots):
            raise ValueError(f"expected {len(slots)} weight arrays, got {len(weights)}")
        for (d, k), w in zip(slots, weights):
            if tuple(np.shape(w)) != tuple(d[k].shape):
                raise ValueError(f"weight {k!r} must have shape {tuple(d[k].shape)}, got {tuple(np.shape(w))}")
            d[k] = B.asarray(w, self.backend, self.dtype)

    def to(self, backend):
        """Move weights, optimizer state and random streams to ``backend``; returns the model."""
        B.namespace(backend)
        self.backend = backend
        for layer, _, d in self._weight_dicts():
            for k in d:
                d[k] = B.asarray(B.to_numpy(d[k]), backend)
            layer.xp = B.namespace(backend)
        for layer in self._layers:
            layer.__dict__.pop("_workspace", None)  # scratch arrays on the old device: let them go
        if self.optimizer is not None:
            for slots in self.optimizer.state.values():
                for k in slots:
                    slots[k] = B.asarray(B.to_numpy(slots[k]), backend)
        self._use_step_rng(B.rng(backend, self.seed + 1))
        return self

    # --- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss="categorical_crossentropy", metrics=None):
        """Choose the optimizer, the loss and the metrics (``["accuracy"]``) by name or object."""
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc", "loss"):
                raise ValueError(f"unknown metric {m!r}; expected 'accuracy' or 'loss'")
        self.metrics = ["accuracy"] if any(m in ("accuracy", "acc") for m in metrics) else []

    def _require_compiled(self):
        if self.optimizer is None or self.loss is None:
            raise ValueError("the model must be compiled first: model.compile(optimizer, loss, metrics)")

    @property
    def _fused(self):
        out = self._output.layer
        return self.loss.fuses_with is not None and is_named(out.activation, self.loss.fuses_with)

    # --- one step -----------------------------------------------------------------------------
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

    def train_on_batch(self, x, y):
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
        if not self.built and isinstance(self, Sequential):
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
            return array if array.dtype == getattr(xp, dtype) else xp.astype(array, getattr(xp, dtype))
        return B.asarray(array, self.backend, dtype)

    def _fits_on_device(self, x):
        return math.prod(x.shape) * np.dtype(self.dtype).itemsize <= DEVICE_DATA_LIMIT

    def _label_dtype(self):
        return "int64" if self.loss is not None and self.loss.sparse else self.dtype

    def _batches(self, x, y, batch_size, shuffle):
        """Yield device batches ``(xb, yb)``: from device-resident copies when the data fits
        (one copy per call), else copied batch by batch from the host."""
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
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            xb = self._device(np.asarray(x)[idx], self.dtype)
            yb = None if y is None else self._device(np.asarray(y)[idx], self._label_dtype())
            yield xb, yb

    # --- Keras API ----------------------------------------------------------------------------
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
            self._use_step_rng(B.rng(self.backend, seed))
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
            loss, pred, target = self.train_on_batch(xb, yb)
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

    def predict(self, x, batch_size=32, verbose=0, to_numpy=True):
        """Outputs for ``x`` (e.g. class probabilities ``(N, K)``): a NumPy array, or a device
        array on the model's backend with ``to_numpy=False``."""
        x = self._check_x(x)
        xp = B.namespace(self.backend)
        outs = [self._forward(xb, training=False) for xb, _ in self._batches(x, None, batch_size, shuffle=False)]
        out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=0)
        return B.to_numpy(out) if to_numpy else out

    def __call__(self, x, training=False):
        """Run the model on a device batch (no checks, no copies)."""
        return self._forward(x, training)

    # --- summary ----------------------------------------------------------------------------
    def summary(self, print_fn=print, line_length=None):
        """Print each layer's name, type, output shape and parameter count, and the totals."""
        self._ensure_built()
        functional = not isinstance(self, Sequential)
        heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
        layers = ([self._input.layer] if functional else []) + self._layers
        table = []
        for layer in layers:
            cells = [f"{layer.name} ({type(layer).__name__})", f"(None, {', '.join(map(str, layer.output.shape))})",
                     f"{layer.count_params():,}"]
            if functional:
                cells.append(", ".join(t.layer.name for t in layer.inbound) or "-")
            table.append(cells)
        # Keras's column widths, widened where a name would not fit
        widths = [max([w] + [len(cells[k]) + 2 for cells in table]) for k, w in enumerate([29, 26, 12, 30][:len(heads)])]
        total_width = sum(widths)

        def row(cells):
            return "".join(f" {str(c):<{w - 1}}" for c, w in zip(cells, widths)).rstrip()

        lines = [f'Model: "{self.name}"', "_" * total_width, row(heads), "=" * total_width]
        for i, cells in enumerate(table):
            lines.append(row(cells))
            lines.append(("=" if i == len(table) - 1 else "_") * total_width)
        total = self.count_params()
        frozen = sum(layer.count_non_trainable() for layer in self._layers)
        lines += [f"Total params: {total:,}", f"Trainable params: {total - frozen:,}",
                  f"Non-trainable params: {frozen:,}", "_" * total_width]
        for line in lines:
            print_fn(line)

    # --- saving -------------------------------------------------------------------------------
    def get_config(self):
        self._ensure_built()
        layers = [self._input.layer] + self._layers
        return {
            "format": "xcnn-model", "version": FORMAT_VERSION, "class": type(self).__name__, "name": self.name,
            "dtype": self.dtype, "seed": self.seed,
            "layers": [{"class": type(layer).__name__, "config": layer.get_config(),
                        "inbound": [t.layer.name for t in layer.inbound]} for layer in layers],
            "output": self._output.layer.name,
            "compile": None if self.optimizer is None else {
                "optimizer": self.optimizer.get_config(), "loss": self.loss.name, "metrics": list(self.metrics),
                "iterations": self.optimizer.iterations},
        }

    def save(self, path, extra=None):
        """Write architecture (JSON), weights and optimizer state to ``path`` as safetensors.

        The write is atomic (a temporary file renamed into place). ``extra`` is a JSON-able
        dict stored beside the config (the CLI keeps its epoch counter there).
        """
        tensors = {}
        for layer, kind, d in self._weight_dicts():
            for k, v in d.items():
                tensors[f"{kind}/{layer.name}/{k}"] = np.ascontiguousarray(B.to_numpy(v))
        if self.optimizer is not None:
            for key, slots in self.optimizer.state.items():
                for slot, v in slots.items():
                    tensors[f"optimizer/{key}/{slot}"] = np.ascontiguousarray(B.to_numpy(v))
        config = json.dumps({**self.get_config(), "extra": extra or {}}, sort_keys=True)
        from safetensors.numpy import save as save_safetensors

        data = save_safetensors(tensors, metadata={"xcnn_config": config, "xcnn_sha256": _digest(config, tensors)})
        atomic_write(path, data)


def _host(scalar):
    return float(B.to_numpy(scalar))


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
        logs = {"loss": _host(self.loss_sum) / self.seen}
        if self.model.metrics:
            logs["accuracy"] = _host(self.correct) / self.judged
        return logs


def _digest(config, tensors):
    """SHA-256 over the config and every tensor (name, dtype, shape, bytes), in name order."""
    h = hashlib.sha256(config.encode())
    for name in sorted(tensors):
        t = tensors[name]
        h.update(f"{name}|{t.dtype.str}|{t.shape}".encode())
        h.update(t.tobytes())
    return h.hexdigest()


def atomic_write(path, data):
    """Write bytes to ``path`` through a temporary file in the same folder and a rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Sequential(Model):
    """A stack of layers: ``Sequential([Conv2D(..., input_shape=(28, 28, 1)), ...])`` or ``.add``.

    The first layer may be ``Input(shape)`` or carry ``input_shape=``; otherwise the input
    shape is taken from the first data the model sees.
    """

    def __init__(self, layers=None, *, backend=None, dtype="float32", seed=None, name=None):
        super().__init__(backend=backend, dtype=dtype, seed=seed, name=name)
        self._pending = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer (or ``Input(shape)`` as the very first element)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            if self._pending or self.built:
                raise ValueError("Input(...) can only be the first element of a Sequential model")
            self._build_from_shape(layer.shape, layer.layer)
            return
        if not isinstance(layer, Layer) or isinstance(layer, InputLayer):
            raise TypeError(f"Sequential.add takes a layer, got {layer!r}")
        if layer.multi_input:
            raise ValueError(f"{type(layer).__name__} merges several inputs; use the functional Model API")
        if self.built:
            self._set_graph(self._input, layer(self._output))  # builds only the new layer
            return
        self._pending.append(layer)
        if len(self._pending) == 1 and layer.input_shape is not None:
            self._build_from_shape(layer.input_shape)

    def _build_from_shape(self, shape, input_layer=None):
        input_layer = input_layer or InputLayer(shape)
        tensor = input_layer.output
        for layer in self._pending:
            tensor = layer(tensor)
        self._pending = []
        self._set_graph(input_layer.output, tensor)

    def _ensure_built(self):
        if not self.built:
            raise ValueError(
                f"model {self.name} is not built yet: give the first layer input_shape=..., start with "
                "Input(shape), or call fit/predict first"
            )


# --- loading ------------------------------------------------------------------------------------

def _read_safetensors(data, path):
    """Parse a safetensors blob: (metadata dict, {name: np.ndarray}); ValueError if malformed."""
    from safetensors.numpy import load as load_safetensors

    try:
        if len(data) < 8:
            raise ValueError("file too short")
        (header_len,) = struct.unpack("<Q", data[:8])
        if header_len > len(data) - 8:
            raise ValueError("header runs past the end of the file (truncated?)")
        header = json.loads(data[8 : 8 + header_len])
        tensors = load_safetensors(bytes(data))
    except Exception as exc:  # safetensors raises its own error type; name the file either way
        raise ValueError(f"{path} is not a readable xcnn model file: {exc}") from None
    meta = header.get("__metadata__") or {}
    if "xcnn_config" not in meta or "xcnn_sha256" not in meta:
        raise ValueError(f"{path} is a safetensors file but not an xcnn model (no xcnn_config metadata)")
    if _digest(meta["xcnn_config"], tensors) != meta["xcnn_sha256"]:
        raise ValueError(f"{path} failed its integrity check: the weights or the config were modified or damaged")
    return json.loads(meta["xcnn_config"]), tensors


def _layer_from_config(entry):
    cls = LAYER_CLASSES.get(entry["class"])
    if cls is None:
        raise ValueError(f"unknown layer class {entry['class']!r} in model file")
    return cls(**entry["config"])


def load_model(path, backend=None, compile=True):
    """Load a model written by :meth:`Model.save` onto ``backend`` (default: the global default).

    Nothing in the file is executed or unpickled: the architecture is JSON naming known layer
    classes, the weights are safetensors, and a SHA-256 over both detects damage or tampering.
    """
    with open(path, "rb") as f:
        data = f.read()
    config, tensors = _read_safetensors(data, path)
    return model_from_config(config, tensors, backend=backend, compile=compile, path=path)


def model_from_config(config, tensors, backend=None, compile=True, path="model"):
    if config.get("format") != "xcnn-model" or config.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported model format {config.get('format')!r} v{config.get('version')}")
    try:
        layers = {}
        for entry in config["layers"]:
            layer = _layer_from_config(entry)
            layers[layer.name] = layer
            if not isinstance(layer, InputLayer):
                inbound = [layers[name].output for name in entry["inbound"]]
                layer(inbound if layer.multi_input else inbound[0])
        input_layer = layers[config["layers"][0]["config"]["name"]]
        kwargs = dict(backend=backend, dtype=config["dtype"], seed=config["seed"], name=config["name"])
        if config["class"] == "Sequential":
            model = Sequential(**kwargs)
            model._set_graph(input_layer.output, layers[config["output"]].output)
        else:
            model = Model(input_layer.output, layers[config["output"]].output, **kwargs)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{path}: the model config is malformed ({exc!r})") from None
    expected = {f"{kind}/{layer.name}/{k}": tuple(v.shape) for layer, kind, d in model._weight_dicts() for k, v in d.items()}
    for name, shape in expected.items():
        if name not in tensors:
            raise ValueError(f"{path}: weight {name} is missing")
        if tuple(tensors[name].shape) != shape:
            raise ValueError(f"{path}: weight {name} has shape {tuple(tensors[name].shape)}, the model needs {shape}")
    for layer, kind, d in model._weight_dicts():
        for k in d:
            d[k] = B.asarray(tensors[f"{kind}/{layer.name}/{k}"], model.backend, model.dtype)
    compiled = config.get("compile")
    if compile and compiled:
        model.compile(optimizers_module.get(compiled["optimizer"]), compiled["loss"], compiled["metrics"])
        model.optimizer.iterations = compiled["iterations"]
        for name, value in tensors.items():
            if name.startswith("optimizer/"):
                key, slot = name[len("optimizer/"):].rsplit("/", 1)
                model.optimizer.state.setdefault(key, {})[slot] = B.asarray(value, model.backend, model.dtype)
    model.saved_extra = config.get("extra", {})
    return model
