"""The base :class:`Layer`, the functional graph's :class:`SymbolicTensor`, and the argument
helpers every layer shares."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import NamedTuple

import numpy as np

from .. import activations, initializers
from .. import backend as B

_name_counts: Counter[str] = Counter()


def _auto_name(cls_name):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls_name).lower()
    base = re.sub(r"(?<=[a-z])(?=\d)", "", base)
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def _shape(shape, name="shape"):
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints without the batch axis, got {shape!r}") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"{name} must be a non-empty tuple of positive ints (no batch axis), got {shape!r}")
    return shape


class Rewrite(NamedTuple):
    """How a model's execution plan runs one layer (see ``xcnn.models.graph``); the layer
    object itself is never changed, so a layer shared by two models runs each model's way.

    defer_relu: this layer's ReLU is left to the MaxPooling2D after it;
    pool: (a Conv2D) the MaxPooling2D it computes too, in one fused op;
    relu_after_pool: (a MaxPooling2D) apply the ReLU deferred by the layer before it;
    pooled_by_conv: (a MaxPooling2D) its input is already pooled by the Conv2D before it.
    """

    defer_relu: bool = False
    pool: object = None
    relu_after_pool: bool = False
    pooled_by_conv: bool = False


NO_REWRITE = Rewrite()


class SymbolicTensor:
    """A placeholder for a layer's output in the functional API: its ``shape`` excludes the batch."""

    def __init__(self, shape, layer):
        self.shape = tuple(shape)
        self.layer = layer

    def __repr__(self):
        return f"<SymbolicTensor shape=(None, {', '.join(map(str, self.shape))}) from {self.layer.name}>"


class Layer:
    """Base layer. Subclasses implement ``compute_output_shape``, ``build_weights``, ``call``, ``grad``."""

    multi_input = False

    def __init__(self, name=None, activation=None, input_shape=None):
        self.name = name or _auto_name(type(self).__name__)
        self.activation = activations.get(activation) if activation is not None else None
        self.input_shape = _shape(input_shape, "input_shape") if input_shape is not None else None
        self.params, self.grads, self.state, self.regularizers = {}, {}, {}, {}
        self._weight_slots = []  # ("params" or "state", key) of each weight in creation order: Keras's order
        self.inbound = None  # the SymbolicTensors this layer was called on
        self.output = None
        self.rng = None  # per-step random numbers (dropout, rrelu), set by the model
        self.xp = None
        self.device = None  # the backend's device the weights live on, set by build
        self.dtype = None
        self.built = False
        self.trainable = True  # False freezes the weights (and runs BatchNormalization in inference mode)

    # --- the functional graph -----------------------------------------------------------------
    def __call__(self, inputs):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if not all(isinstance(t, SymbolicTensor) for t in tensors):
            raise TypeError(
                f"layer {self.name} must be called on the output of Input(...) or another layer; "
                "to run a model on data use model.predict(x)"
            )
        if self.output is not None:
            raise ValueError(f"layer {self.name} is already used in a model; create a new layer instead")
        if not self.multi_input and len(tensors) != 1:
            raise ValueError(f"layer {self.name} takes one input, got {len(tensors)}")
        shapes = [t.shape for t in tensors]
        shape = self.compute_output_shape(shapes if self.multi_input else shapes[0])
        if self.activation is not None:
            shape = self.activation.output_shape(shape)
        self.inbound = tensors
        self.output = SymbolicTensor(shape, self)
        return self.output

    def compute_output_shape(self, input_shape):
        return input_shape

    # --- weights ------------------------------------------------------------------------------
    def build(self, backend, dtype, init_rng, device=None):
        """Create the weights on ``backend`` in ``dtype`` from the host generator ``init_rng``, on
        ``device`` (default: ``self.device``, which the model sets, else the backend's default)."""
        self.xp = B.namespace(backend)
        self.dtype = dtype
        self.device = B.device_of(backend, device if device is not None else self.device)
        self._backend, self._init_rng = backend, init_rng
        shapes = [t.shape for t in self.inbound]
        self.build_weights(shapes if self.multi_input else shapes[0])
        if self.activation is not None:
            core_shape = self.compute_output_shape(shapes if self.multi_input else shapes[0])
            self.activation.build(self, core_shape, self.xp, dtype)
        self._init_rng = None
        self.built = True

    def build_weights(self, input_shape):
        pass

    def add_weight(self, name, shape, initializer, regularizer=None, trainable=True):
        """Create weight ``name`` of ``shape``; ``initializer`` is a name, an Initializer or a number."""
        if isinstance(initializer, (int, float)):
            initializer = initializers.Constant(float(initializer), "constant")
        values = initializers.get(initializer)(shape, self._init_rng)
        kind = "params" if trainable else "state"
        getattr(self, kind)[name] = B.asarray(values, self._backend, self.dtype, device=self.device)
        self._weight_slots.append((kind, name))
        if regularizer is not None:
            self.regularizers[name] = regularizer

    def count_params(self):
        return sum(math.prod(w.shape) for d in (self.params, self.state) for w in d.values())

    def count_non_trainable(self):
        """Weights the optimizer does not change: the state, and every weight of a frozen layer."""
        frozen = 0 if self.trainable else sum(math.prod(p.shape) for p in self.params.values())
        return frozen + sum(math.prod(p.shape) for p in self.state.values())

    def get_weights(self):
        """The weights as host NumPy arrays in Keras's order and layouts (a conv kernel is
        ``(KH, KW, C, F)``), so that Keras's ``layer.get_weights()`` can be set here unchanged."""
        return [self._keras_layout(key, B.to_numpy(getattr(self, kind)[key])) for kind, key in self._weight_slots]

    def set_weights(self, weights):
        """Set the weights from arrays in :meth:`get_weights`'s order and layouts."""
        weights = list(weights)
        if len(weights) != len(self._weight_slots):
            raise ValueError(f"layer {self.name} has {len(self._weight_slots)} weights "
                             f"({', '.join(k for _, k in self._weight_slots) or 'none'}), got {len(weights)} arrays")
        converted = []
        for (kind, key), w in zip(self._weight_slots, weights):
            current = getattr(self, kind)[key]
            # the shape Keras uses, from a view of one number (nothing of the weight's size is allocated)
            expected = self._keras_layout(key, np.broadcast_to(np.empty(()), tuple(current.shape))).shape
            if tuple(np.shape(w)) != expected:
                raise ValueError(f"weight {key!r} of layer {self.name} must have shape {expected}, "
                                 f"got {tuple(np.shape(w))}")
            converted.append(B.asarray(self._xcnn_layout(key, np.asarray(w)), B.backend_of(current), self.dtype,
                                       device=self.device))
        for (kind, key), value in zip(self._weight_slots, converted):
            getattr(self, kind)[key] = value

    def _keras_layout(self, key, array):
        """Weight ``key`` from xcnn's layout to Keras's (the same, except for conv kernels)."""
        return array

    def _xcnn_layout(self, key, array):
        return array

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # --- running ------------------------------------------------------------------------------
    def forward(self, inputs, training=False, rewrite=NO_REWRITE):
        """Run the layer on a list of input arrays, as the model's plan says (``rewrite``);
        keeps what :meth:`backward` needs."""
        x = inputs if self.multi_input else inputs[0]
        z = self.call(x, training) if rewrite is NO_REWRITE else self.call_rewritten(x, training, rewrite)
        if self.activation is None or rewrite.defer_relu:
            return z
        return self.activation.forward(self, z, training)

    def backward(self, dy, need_dx=True, skip_activation=False, rewrite=NO_REWRITE):
        """Gradient w.r.t. each input (a list; None where not needed); fills ``self.grads``.

        ``skip_activation`` means ``dy`` is already the gradient before the activation (the
        model fuses softmax with cross-entropy that way); ``rewrite`` must be the forward's.
        """
        if self.activation is not None and not skip_activation and not rewrite.defer_relu:
            dy = self.activation.backward(self, dy)
        dx = self.grad(dy, need_dx) if rewrite is NO_REWRITE else self.grad_rewritten(dy, need_dx, rewrite)
        return dx if self.multi_input else [dx]

    def call(self, x, training):
        return x

    def grad(self, dy, need_dx):
        return dy

    def call_rewritten(self, x, training, rewrite):
        """:meth:`call` under a plan's rewrite; layers the plan changes override it."""
        return self.call(x, training)

    def grad_rewritten(self, dy, need_dx, rewrite):
        return self.grad(dy, need_dx)

    def get_config(self):
        config = {"name": self.name}
        if self.activation is not None:
            config["activation"] = self.activation.get_config()
        return config


def _require_rank(layer, shape, rank, what):
    if len(shape) != rank:
        raise ValueError(f"{type(layer).__name__} {layer.name} expects input of shape {what}, got (None, {shape})")


def _padding_arg(padding):
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def _reg_config(reg):
    return None if reg is None else reg.get_config()
