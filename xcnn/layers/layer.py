"""The base :class:`Layer`, the functional graph's :class:`SymbolicTensor`, and the argument
helpers every layer shares."""

from __future__ import annotations

import math
import re
from collections import Counter

from .. import activations, initializers
from .. import backend as B

_name_counts = Counter()


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
        self.inbound = None  # the SymbolicTensors this layer was called on
        self.output = None
        self.rng = None  # per-step random numbers (dropout, rrelu), set by the model
        self.xp = None
        self.device = None  # the backend's device the weights live on, set by build
        self.dtype = None
        self.built = False
        # set by the model when the next layer (a max pool) applies this layer's ReLU instead
        self.relu_deferred = False

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
        (self.params if trainable else self.state)[name] = B.asarray(values, self._backend, self.dtype, device=self.device)
        if regularizer is not None:
            self.regularizers[name] = regularizer

    def count_params(self):
        return sum(math.prod(p.shape) for p in self.params.values()) + self.count_non_trainable()

    def count_non_trainable(self):
        return sum(math.prod(p.shape) for p in self.state.values())

    # --- running ------------------------------------------------------------------------------
    def forward(self, inputs, training=False):
        """Run the layer on a list of input arrays; keeps what :meth:`backward` needs."""
        z = self.call(inputs if self.multi_input else inputs[0], training)
        if self.activation is None or self.relu_deferred:
            return z
        return self.activation.forward(self, z, training)

    def backward(self, dy, need_dx=True, skip_activation=False):
        """Gradient w.r.t. each input (a list; None where not needed); fills ``self.grads``.

        ``skip_activation`` means ``dy`` is already the gradient before the activation (the
        model fuses softmax with cross-entropy that way).
        """
        if self.activation is not None and not skip_activation and not self.relu_deferred:
            dy = self.activation.backward(self, dy)
        dx = self.grad(dy, need_dx)
        return dx if self.multi_input else [dx]

    def call(self, x, training):
        return x

    def grad(self, dy, need_dx):
        return dy

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
