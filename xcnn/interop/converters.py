"""The converter registry: how each xcnn layer and activation maps to Keras 3 and to ONNX.

One :class:`LayerConverter` per layer class, registered with :func:`register`, says

- its Keras config both ways (:meth:`~LayerConverter.from_keras`, :meth:`~LayerConverter.keras_config`):
  a Keras argument that the xcnn constructor also takes passes through by name; one it does not
  take must hold the value at which Keras computes what xcnn computes (:data:`KERAS_NEUTRAL`,
  ``keras_neutral``), or the file is refused with one sentence naming the argument;
- its weights both ways: the layer's own ``get_weights``/``set_weights`` give them in Keras's
  order and layouts (the one place those layouts are written), so the entries only check them;
- its ONNX nodes (:meth:`~LayerConverter.onnx`), in inference behaviour.

Activations have one :class:`ActivationConverter` each in :data:`ACTIVATIONS`. A new layer
joins ``.keras`` files, ``.weights.h5`` files and ONNX export by adding one entry here;
``tests/test_interop.py`` checks that every class in ``xcnn.layers.LAYER_CLASSES`` and every
activation in ``xcnn.activations.NAMES`` has one.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import activations as activations_module
from .. import backend as B
from .. import constraints, initializers, ops, regularizers
from ..layers import (
    ELU,
    Activation,
    Add,
    Average,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Conv2DTranspose,
    Cropping2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Identity,
    InputLayer,
    LayerNormalization,
    LeakyReLU,
    Maximum,
    MaxPooling2D,
    Minimum,
    Multiply,
    Permute,
    PReLU,
    RandomFlip,
    RandomRotation,
    RandomZoom,
    RandomContrast,
    Resizing,
    CenterCrop,
    RandomCrop,
    RandomBrightness,
    Normalization,
    RandomTranslation,
    ReLU,
    Rescaling,
    Reshape,
    SeparableConv2D,
    Softmax,
    SpatialDropout2D,
    Subtract,
    SyncBatchNormalization,
    UpSampling2D,
    ZeroPadding2D,
)
from .._typing import Shape
from ..initializers import Initializer
from ..layers import Layer
from ..ops import activations as act_ops
from ..regularizers import Regularizer

if TYPE_CHECKING:
    from .onnx_export import OnnxGraph, Tensor

ANY = object()  # a neutral value: any value of this Keras argument computes what xcnn computes

# Keras arguments xcnn's layers do not take, with the value at which Keras computes what xcnn
# computes. When an xcnn constructor takes an argument of the same name (as layers grow), the
# value passes through instead.
KERAS_NEUTRAL = {
    "trainable": True,
    "data_format": "channels_last",
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "dilation_rate": (1, 1),
    "groups": 1,
    "noise_shape": None,
    "seed": None,
    "depthwise_constraint": None,
    "pointwise_constraint": None,
    "alpha_constraint": None,
}


def unsupported(what: str, detail: str) -> ValueError:
    """The one-sentence error for something xcnn cannot map.

    Args:
        what: What it is about (`"layer 'd' (Dense)"`).
        detail: Why it cannot be converted.

    Returns:
        The `ValueError`, for the caller to raise.

    Examples:
        >>> from xcnn.interop.converters import unsupported
        >>> unsupported("layer 'x' (Foo)", "it has no converter")
        ValueError("layer 'x' (Foo) cannot be converted: it has no converter")
    """
    return ValueError(f"{what} cannot be converted: {detail}")


def keras_snake_case(name: str) -> str:
    """Keras's `naming.to_snake_case`: the group names inside `.weights.h5` files.

    Args:
        name: A class name.

    Returns:
        The name in snake case.

    Examples:
        >>> from xcnn.interop.converters import keras_snake_case
        >>> keras_snake_case("Conv2DTranspose"), keras_snake_case("BatchNormalization")
        ('conv2d_transpose', 'batch_normalization')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def keras_object(module: str, class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """A Keras serialized object, as Keras writes one.

    Args:
        module: Its Python module in Keras (`"keras.initializers"`).
        class_name: Its class.
        config: Its constructor arguments.

    Returns:
        The dict Keras's deserializer takes.

    Examples:
        >>> from xcnn.interop.converters import keras_object
        >>> keras_object("keras.regularizers", "L1L2", {"l1": 0.0, "l2": 0.01})["class_name"]
        'L1L2'
    """
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def dtype_policy(dtype: str) -> dict[str, Any]:
    """A Keras `DTypePolicy` object of `dtype`, as a layer config holds it.

    Args:
        dtype: `"float32"` or `"float64"`.

    Returns:
        The serialized policy.

    Examples:
        >>> from xcnn.interop.converters import dtype_policy
        >>> dtype_policy("float32")
        {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}
    """
    return keras_object("keras", "DTypePolicy", {"name": dtype})


# --- initializers and regularizers ------------------------------------------------------------

# Keras class name -> xcnn initializer name; the constructor arguments each may carry
_KERAS_INITIALIZERS = {
    "Zeros": "zeros",
    "Ones": "ones",
    "GlorotUniform": "glorot_uniform",
    "GlorotNormal": "glorot_normal",
    "HeNormal": "he_normal",
    "HeUniform": "he_uniform",
    "LecunNormal": "lecun_normal",
    "LecunUniform": "lecun_uniform",
    "RandomNormal": "random_normal",
    "RandomUniform": "random_uniform",
    "TruncatedNormal": "truncated_normal",
    "Orthogonal": "orthogonal",
    "Identity": "identity",
    "VarianceScaling": "variance_scaling",
    "Constant": "constant",
}
_INITIALIZER_ARGS = {
    "constant": ("value",),
    "random_normal": ("mean", "stddev"),
    "random_uniform": ("minval", "maxval"),
    "truncated_normal": ("mean", "stddev"),
    "orthogonal": ("gain",),
    "identity": ("gain",),
    "variance_scaling": ("scale", "mode", "distribution"),
}
_INITIALIZER_CLASSES = {
    "constant": initializers.Constant,
    "random_normal": initializers.RandomNormal,
    "random_uniform": initializers.RandomUniform,
    "truncated_normal": initializers.TruncatedNormal,
    "orthogonal": initializers.Orthogonal,
    "identity": initializers.Identity,
    "variance_scaling": initializers.VarianceScaling,
}
_XCNN_INITIALIZER_NAMES = {"normal": "random_normal", "uniform": "random_uniform"}


def initializer_from_keras(value: str | dict[str, Any], what: str) -> str | Initializer:
    """A Keras initializer (a name or a serialized dict) as an xcnn initializer.

    Initializer seeds are not kept: a loaded model's weights come from the file.

    Args:
        value: A Keras initializer name or serialized initializer.
        what: What it belongs to, for the error message.

    Returns:
        An xcnn initializer name, or an `Initializer` for those with arguments.

    Raises:
        ValueError: If xcnn has no such initializer, or it has arguments xcnn does not take.

    Examples:
        >>> from xcnn.interop.converters import initializer_from_keras
        >>> initializer_from_keras("HeNormal", "layer 'c'")
        'he_normal'
        >>> initializer_from_keras({"class_name": "RandomNormal", "config": {"stddev": 0.1}}, "layer 'c'").stddev
        0.1
    """
    if isinstance(value, str):
        name = keras_snake_case(value) if value in _KERAS_INITIALIZERS else value
        if name not in initializers.NAMES:
            raise unsupported(what, f"initializer {value!r} is not one of xcnn's {initializers.NAMES}")
        return name
    if not isinstance(value, dict) or value.get("class_name") not in _KERAS_INITIALIZERS:
        found = value.get("class_name") if isinstance(value, dict) else value
        raise unsupported(what, f"initializer {found!r} is not one of {sorted(_KERAS_INITIALIZERS)}")
    name = _KERAS_INITIALIZERS[value["class_name"]]
    config = dict(value.get("config") or {})
    config.pop("seed", None)
    wanted = _INITIALIZER_ARGS.get(name, ())
    extra = {k: v for k, v in config.items() if k not in wanted and v is not None}
    if extra:
        raise unsupported(what, f"initializer {value['class_name']} has arguments {extra} xcnn does not take")
    if not wanted:
        return name
    try:
        return _INITIALIZER_CLASSES[name](**{k: config[k] for k in wanted if k in config})
    except ValueError as exc:
        raise unsupported(what, str(exc)) from None


def initializer_to_keras(init: Initializer) -> dict[str, Any]:
    """An xcnn initializer as a serialized Keras initializer.

    Args:
        init: The initializer.

    Returns:
        The serialized Keras initializer (`keras_object`).

    Raises:
        ValueError: If Keras has no initializer of that name.

    Examples:
        >>> from xcnn import initializers
        >>> from xcnn.interop.converters import initializer_to_keras
        >>> initializer_to_keras(initializers.get("he_normal"))["class_name"]
        'HeNormal'
    """
    name = _XCNN_INITIALIZER_NAMES.get(init.name, init.name)
    if isinstance(init, initializers.Constant) and name not in ("zeros", "ones"):
        return keras_object("keras.initializers", "Constant", {"value": float(init.value)})
    by_name = {v: k for k, v in _KERAS_INITIALIZERS.items()}
    if name not in by_name:
        raise unsupported(f"initializer {init.name!r}", "Keras has no initializer of that name")
    if name in ("zeros", "ones"):
        return keras_object("keras.initializers", by_name[name], {})
    config = {k: getattr(init, k) for k in _INITIALIZER_ARGS.get(name, ())}
    config = {k: v if isinstance(v, str) else float(v) for k, v in config.items()}
    if name == "identity":  # Keras's Identity takes no seed
        return keras_object("keras.initializers", by_name[name], config)
    return keras_object("keras.initializers", by_name[name], {**config, "seed": None})


def _initializer_name(init):
    return _XCNN_INITIALIZER_NAMES.get(init.name, init.name) if isinstance(init, initializers.Initializer) else init


def regularizer_from_keras(value: dict[str, Any] | None, what: str) -> Regularizer | None:
    """A serialized Keras `L1`, `L2` or `L1L2` regularizer as an xcnn `Regularizer`.

    Args:
        value: The serialized regularizer, or `None`.
        what: What it belongs to, for the error message.

    Returns:
        The `Regularizer`, or `None` for `None`.

    Raises:
        ValueError: If it is another kind of regularizer.

    Examples:
        >>> from xcnn.interop.converters import regularizer_from_keras
        >>> regularizer_from_keras({"class_name": "L2", "config": {"l2": 0.01}}, "layer 'd'")
        Regularizer(l1=0.0, l2=0.01)
    """
    if value is None:
        return None
    if isinstance(value, dict) and value.get("class_name") in ("L1", "L2", "L1L2"):
        config = value.get("config") or {}
        return regularizers.Regularizer(l1=config.get("l1", 0.0), l2=config.get("l2", 0.0))
    found = value.get("class_name") if isinstance(value, dict) else value
    raise unsupported(what, f"regularizer {found!r} is not L1, L2 or L1L2")


def regularizer_to_keras(config: dict[str, float] | None) -> dict[str, Any] | None:
    """xcnn's regularizer config `{"l1": .., "l2": ..}` (or `None`) as a Keras `L1L2`.

    Args:
        config: The regularizer's config, or `None`.

    Returns:
        The serialized Keras `L1L2`, or `None`.

    Examples:
        >>> from xcnn.interop.converters import regularizer_to_keras
        >>> regularizer_to_keras({"l1": 0.0, "l2": 0.01})["config"]
        {'l1': 0.0, 'l2': 0.01}
    """
    return None if config is None else keras_object("keras.regularizers", "L1L2", dict(config))


def constraint_from_keras(value: dict[str, Any] | str | None, what: str) -> constraints.Constraint | None:
    """A serialized Keras constraint (`MaxNorm`, `MinMaxNorm`, `NonNeg`, `UnitNorm`) as xcnn's.

    Args:
        value: The serialized constraint (or a Keras name such as `"max_norm"`), or `None`.
        what: What it belongs to, for the error message.

    Returns:
        The `xcnn.constraints.Constraint`, or `None` for `None`.

    Raises:
        ValueError: If it is another kind of constraint (a custom class), or its arguments are
            out of range.

    Examples:
        >>> from xcnn.interop.converters import constraint_from_keras
        >>> constraint_from_keras({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}, "layer 'd'")
        MaxNorm(max_value=3, axis=0)
    """
    if value is None:
        return None
    found = value.get("class_name") if isinstance(value, dict) else value
    known = isinstance(found, str) and (found in constraints.CLASSES or isinstance(value, str))
    if isinstance(value, dict) and not str(value.get("module") or "keras").startswith("keras"):
        known = False  # a custom class of the same name
    if not known:
        raise unsupported(what, f"constraint {found!r} is not one of Keras's {sorted(constraints.CLASSES)}")
    try:
        constraint = constraints.get(value)
    except ValueError as exc:
        raise unsupported(what, str(exc)) from None
    assert isinstance(constraint, constraints.Constraint)
    return constraint


def constraint_to_keras(config: dict[str, Any] | None, what: str) -> dict[str, Any] | None:
    """A layer config's constraint (already as Keras serializes it, or `None`) for a `.keras` file.

    Args:
        config: `xcnn.constraints.serialize`'s output, or `None`.
        what: What it belongs to, for the error message.

    Returns:
        The serialized Keras constraint, or `None`.

    Raises:
        ValueError: If it is not one of Keras's constraint classes.

    Examples:
        >>> from xcnn import constraints
        >>> from xcnn.interop.converters import constraint_to_keras
        >>> constraint_to_keras(constraints.serialize(constraints.NonNeg()), "layer 'd'")["class_name"]
        'NonNeg'
    """
    if config is None:
        return None
    constraint = constraint_from_keras(config, what)  # checked as a Keras file's would be
    assert constraint is not None
    return keras_object("keras.constraints", type(constraint).__name__, constraint.get_config())


# --- activations ------------------------------------------------------------------------------


class ActivationConverter:
    """One activation: its Keras name (`None` where Keras has none) and its ONNX nodes.

    Args:
        name: The xcnn activation's name.
        keras: Its Keras name, or `None`.
        onnx: `onnx(g, x, kwargs, layer)`, which returns the activated tensor; `kwargs` are the
            activation's keywords with the op's defaults filled in.
        keras_kwargs: The xcnn keyword values Keras's function has built in (`relu6` is xcnn's
            `relun` with `n=6`); an xcnn activation with other values has no Keras name.

    Examples:
        >>> from xcnn.interop.converters import ACTIVATIONS
        >>> converter = ACTIVATIONS["relun"]
        >>> converter.keras, converter.keras_kwargs
        ('relu6', {'n': 6.0})
    """

    def __init__(
        self,
        name: str,
        keras: str | None = None,
        onnx: Callable[..., Tensor] | Any = None,
        keras_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.keras, self._onnx, self.keras_kwargs = name, keras, onnx, dict(keras_kwargs or {})

    def kwargs(self, activation: Any) -> dict[str, Any]:
        """The activation's keywords with the op's defaults filled in.

        Args:
            activation: An xcnn activation (`xcnn.activations.get(...)`).

        Returns:
            Keyword name -> value.

        Examples:
            >>> from xcnn import activations
            >>> from xcnn.interop.converters import ACTIVATIONS
            >>> ACTIVATIONS["leaky_relu"].kwargs(activations.get("leaky_relu"))
            {'negative_slope': 0.2}
        """
        found = act_ops.ELEMENTWISE.get(self.name)
        defaults = {}
        if found is not None:
            params = list(inspect.signature(found[0]).parameters.values())[1:]
            defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        own = getattr(activation, "kwargs", None)
        if own is None and hasattr(activation, "lower"):  # rrelu keeps its bounds as attributes
            own = {"lower": activation.lower, "upper": activation.upper}
        return {**defaults, **(own or {})}

    def to_keras(self, activation: Any, where: str) -> str:
        """The Keras name of `activation`.

        Args:
            activation: An xcnn activation of this converter's name.
            where: What it belongs to, for the error message.

        Returns:
            The Keras activation name.

        Raises:
            ValueError: If Keras has no such activation, or not with these keyword values.

        Examples:
            >>> from xcnn import activations
            >>> from xcnn.interop.converters import ACTIVATIONS
            >>> ACTIVATIONS["relu"].to_keras(activations.get("relu"), "layer 'd'")
            'relu'
            >>> ACTIVATIONS["step"].to_keras(activations.get("step"), "layer 'd'")
            Traceback (most recent call last):
            ...
            ValueError: layer 'd' cannot be converted: activation 'step' has no Keras equivalent
        """
        kwargs = self.kwargs(activation)
        if self.keras is None or any(kwargs.get(k) != v for k, v in self.keras_kwargs.items()):
            raise unsupported(where, f"activation {activation.get_config()!r} has no Keras equivalent")
        # its other keywords must have the values Keras's function has built in
        other = {k: v for k, v in kwargs.items() if k not in self.keras_kwargs}
        if any(k not in _KERAS_DEFAULT_KWARGS or _KERAS_DEFAULT_KWARGS[k] != v for k, v in other.items()):
            raise unsupported(where, f"activation {activation.get_config()!r} has no Keras equivalent")
        return self.keras

    def onnx(self, g: OnnxGraph, x: Tensor, activation: Any, layer: Layer | None) -> Tensor:
        """`activation` applied to `x` as ONNX nodes added to `g`.

        Args:
            g: The graph being built.
            x: The activation's input.
            activation: The xcnn activation.
            layer: The layer it belongs to (PReLU-like activations read their weights there).

        Returns:
            The activated tensor, of `x`'s shape and layout.

        Examples:
            >>> from xcnn import activations
            >>> from xcnn.interop.converters import ACTIVATIONS
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> g = OnnxGraph("float32")
            >>> y = ACTIVATIONS["relu"].onnx(g, Tensor("input", (3,), "nhwc"), activations.get("relu"), None)
            >>> [node.op_type for node in g.nodes]
            ['Relu']
        """
        return self._onnx(g, x, self.kwargs(activation), layer)


# keyword values of Keras's own activation functions (leaky_relu's slope, elu's alpha, softmax's
# and log_softmax's axis, gelu's exact form)
_KERAS_DEFAULT_KWARGS = {"negative_slope": 0.2, "alpha": 1.0, "axis": -1, "approximate": False}


def _onnx_simple(op):
    return lambda g, x, kw, layer: g.op(op, [x], x.shape, x.layout)


def _onnx_over_axis(op):
    """Softmax or LogSoftmax over the activation's axis (the channels), in the tensor's layout."""
    return lambda g, x, kw, layer: g.op(op, [x], x.shape, x.layout, axis=g.axis(x, kw.get("axis", -1)))


def _onnx_times(gate):
    """``x * gate(x)``: silu (``x * sigmoid(x)``), mish (``x * tanh(softplus(x))``)."""

    def convert(g, x, kw, layer):
        return g.op("Mul", [x, gate(g, x)], x.shape, x.layout)

    return convert


def _onnx_gelu(g, x, kw, layer):
    """``x * Phi(x)``: exact with Erf (opset 17 has no Gelu op), or the tanh form."""
    half = g.const(np.asarray(0.5, g.dtype), "half")
    one = g.const(np.asarray(1.0, g.dtype), "one")
    if kw.get("approximate", False):
        cube = g.op("Mul", [x, g.op("Mul", [x, x], x.shape, x.layout)], x.shape, x.layout)
        inner = g.op(
            "Add",
            [x, g.op("Mul", [cube, g.const(np.asarray(0.044715, g.dtype), "gelu_c")], x.shape, x.layout)],
            x.shape,
            x.layout,
        )
        scaled = g.op(
            "Mul", [inner, g.const(np.asarray(np.sqrt(2.0 / np.pi), g.dtype), "gelu_scale")], x.shape, x.layout
        )
        phi = g.op("Tanh", [scaled], x.shape, x.layout)
    else:
        scaled = g.op("Mul", [x, g.const(np.asarray(1.0 / np.sqrt(2.0), g.dtype), "inv_sqrt2")], x.shape, x.layout)
        phi = g.op("Erf", [scaled], x.shape, x.layout)
    return g.op(
        "Mul",
        [g.op("Mul", [x, half], x.shape, x.layout), g.op("Add", [phi, one], x.shape, x.layout)],
        x.shape,
        x.layout,
    )


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _onnx_step(g, x, kw, layer):
    positive = g.op("Greater", [x, g.const(np.zeros((), g.dtype), "zero")], x.shape, x.layout)
    return g.op("Cast", [positive], x.shape, x.layout, to=g.onnx_dtype)


def _onnx_relun(g, x, kw, layer):
    low, high = g.const(np.zeros((), g.dtype), "zero"), g.const(np.asarray(kw["n"], g.dtype), "cap")
    return g.op("Clip", [x, low, high], x.shape, x.layout)


def _onnx_maxout(g, x, kw, layer):
    """Max over groups of ``pieces`` consecutive channels: the channel axis splits in two, in
    either layout, and the max runs over the inner one."""
    pieces, c = kw["pieces"], x.shape[-1]
    shape = (*x.shape[:-1], c // pieces)
    if x.layout == "nchw" and len(x.shape) == 3:
        split, axis = [-1, c // pieces, pieces, *x.shape[:2]], 2
    else:
        split, axis = [-1, *x.shape[:-1], c // pieces, pieces], -1
    grouped = g.op("Reshape", [x, g.const(np.asarray(split, np.int64), "maxout_shape")], shape, x.layout)
    return g.op("ReduceMax", [grouped], shape, x.layout, axes=[axis], keepdims=0)


def _onnx_prelu(g, x, kw, layer):
    """PRelu with ``alpha`` of the ``prelu`` activation ``(C,)``, or of the PReLU layer (the
    input's shape, size 1 along its ``shared_axes``), laid out as ``x`` is stored."""
    alpha = B.to_numpy(layer.params["alpha"])
    if alpha.ndim == 3 and x.layout == "nchw":
        alpha = alpha.transpose(2, 0, 1)
    elif alpha.ndim == 1:
        alpha = g.channel_shaped(x, alpha)
    return g.op("PRelu", [x, g.const(alpha, f"{layer.name}_alpha")], x.shape, x.layout)


def _onnx_thresholded_relu(g, x, kw, layer):
    """Keras's ReLU layer: ``x`` from ``threshold`` up, ``negative_slope * (x - threshold)``
    below, capped at ``max_value``."""
    threshold = g.const(np.asarray(kw["threshold"], g.dtype), "threshold")
    above = g.op("GreaterOrEqual", [x, threshold], x.shape, x.layout)
    below = g.op(
        "Mul",
        [
            g.op("Sub", [x, threshold], x.shape, x.layout),
            g.const(np.asarray(kw["negative_slope"], g.dtype), "negative_slope"),
        ],
        x.shape,
        x.layout,
    )
    y = g.op("Where", [above, x, below], x.shape, x.layout)
    if kw["max_value"] is None:
        return y
    return g.op("Min", [y, g.const(np.asarray(kw["max_value"], g.dtype), "max_value")], x.shape, x.layout)


ACTIVATIONS = {
    a.name: a
    for a in (
        ActivationConverter("linear", "linear", lambda g, x, kw, layer: x),
        ActivationConverter("relu", "relu", _onnx_simple("Relu")),
        ActivationConverter("sigmoid", "sigmoid", _onnx_simple("Sigmoid")),
        ActivationConverter("tanh", "tanh", _onnx_simple("Tanh")),
        ActivationConverter("softmax", "softmax", _onnx_over_axis("Softmax")),
        ActivationConverter(
            "leaky_relu",
            "leaky_relu",
            lambda g, x, kw, layer: g.op("LeakyRelu", [x], x.shape, x.layout, alpha=kw["negative_slope"]),
        ),
        ActivationConverter(
            "elu", "elu", lambda g, x, kw, layer: g.op("Elu", [x], x.shape, x.layout, alpha=kw["alpha"])
        ),
        ActivationConverter("softplus", "softplus", _onnx_simple("Softplus")),
        ActivationConverter("softsign", "softsign", _onnx_simple("Softsign")),
        ActivationConverter("step", None, _onnx_step),
        ActivationConverter("relu6", "relu6", lambda g, x, kw, layer: _onnx_relun(g, x, {"n": 6.0}, layer)),
        ActivationConverter("relun", "relu6", _onnx_relun, keras_kwargs={"n": 6.0}),
        ActivationConverter(
            "selu",
            "selu",
            lambda g, x, kw, layer: g.op("Selu", [x], x.shape, x.layout, alpha=_SELU_ALPHA, gamma=_SELU_SCALE),
        ),
        ActivationConverter("gelu", "gelu", _onnx_gelu),
        ActivationConverter("silu", "silu", _onnx_times(lambda g, x: g.op("Sigmoid", [x], x.shape, x.layout))),
        ActivationConverter("swish", "silu", _onnx_times(lambda g, x: g.op("Sigmoid", [x], x.shape, x.layout))),
        # Keras 3's hard_sigmoid is relu6(x + 3) / 6
        ActivationConverter(
            "hard_sigmoid",
            "hard_sigmoid",
            lambda g, x, kw, layer: g.op("HardSigmoid", [x], x.shape, x.layout, alpha=1.0 / 6.0, beta=0.5),
        ),
        ActivationConverter("hard_silu", "hard_silu", _onnx_simple("HardSwish")),
        ActivationConverter("hard_swish", "hard_silu", _onnx_simple("HardSwish")),
        ActivationConverter("exponential", "exponential", _onnx_simple("Exp")),
        ActivationConverter("log_softmax", "log_softmax", _onnx_over_axis("LogSoftmax")),
        ActivationConverter(
            "mish",
            "mish",
            _onnx_times(lambda g, x: g.op("Tanh", [g.op("Softplus", [x], x.shape, x.layout)], x.shape, x.layout)),
        ),
        ActivationConverter("maxout", None, _onnx_maxout),
        ActivationConverter("prelu", None, _onnx_prelu),
        # the activations of the ReLU, Softmax (another axis than the last) and PReLU layers: those
        # layers are their Keras form, so the activations alone have no Keras name
        ActivationConverter("thresholded_relu", None, _onnx_thresholded_relu),
        ActivationConverter("softmax_axis", None, _onnx_over_axis("Softmax")),
        ActivationConverter("parametric_relu", None, _onnx_prelu),
        # at inference rrelu's slope is the mean of its bounds
        ActivationConverter(
            "rrelu",
            None,
            lambda g, x, kw, layer: g.op("LeakyRelu", [x], x.shape, x.layout, alpha=(kw["lower"] + kw["upper"]) / 2.0),
        ),
    )
}


def _from_keras_activations():
    """Keras activation name -> xcnn activation identifier, from the first entry of that Keras
    name whose xcnn activation exists (``relu6`` where xcnn has it, else ``relun`` with n=6)."""
    found = {}
    for a in ACTIVATIONS.values():
        if a.keras is not None and a.name in activations_module.NAMES:
            found.setdefault(a.keras, {"name": a.name, **a.keras_kwargs} if a.keras_kwargs else a.name)
    return found


def activation_converter(activation: Any, where: str) -> ActivationConverter:
    """The `ActivationConverter` of an xcnn activation.

    Args:
        activation: An xcnn activation (it has a `.name`).
        where: What it belongs to, for the error message.

    Returns:
        Its entry in `ACTIVATIONS`.

    Raises:
        ValueError: If it has none.

    Examples:
        >>> from xcnn import activations
        >>> from xcnn.interop.converters import activation_converter
        >>> activation_converter(activations.get("relu"), "layer 'd'").keras
        'relu'
    """
    found = ACTIVATIONS.get(getattr(activation, "name", None))  # type: ignore[arg-type]  # None: not found
    if found is None:
        raise unsupported(
            where,
            f"activation {getattr(activation, 'name', activation)!r} has no converter "
            "(add one to ACTIVATIONS in xcnn/interop/converters.py)",
        )
    return found


def activation_from_keras(value: str | dict[str, Any] | None, what: str) -> str | dict[str, Any] | None:
    """A Keras activation (a name, or a serialized function) as an xcnn activation identifier.

    Args:
        value: A Keras activation name or serialized function, or `None`.
        what: What it belongs to, for the error message.

    Returns:
        An xcnn activation name or `{"name": ..., **kwargs}`; `None` for `"linear"` or `None`.

    Raises:
        ValueError: If it is not an activation xcnn has.

    Examples:
        >>> from xcnn.interop.converters import activation_from_keras
        >>> activation_from_keras("relu", "layer 'd'"), activation_from_keras("linear", "layer 'd'")
        ('relu', None)
    """
    if isinstance(value, dict) and value.get("module") in ("keras.activations", "keras.src.activations"):
        value = value.get("config")
    if value is None:
        return None
    known = _from_keras_activations()
    if not isinstance(value, str) or value not in known:
        raise unsupported(what, f"activation {value!r} is not one of {sorted(known)}")
    return None if known[value] == "linear" else known[value]


def activation_to_keras(activation: Any, where: str) -> str:
    """The Keras name of an xcnn activation; `"linear"` for `None`.

    Args:
        activation: An xcnn activation, or `None`.
        where: What it belongs to, for the error message.

    Returns:
        The Keras activation name.

    Raises:
        ValueError: If Keras has no equivalent.

    Examples:
        >>> from xcnn import activations
        >>> from xcnn.interop.converters import activation_to_keras
        >>> activation_to_keras(activations.get("relu"), "layer 'd'"), activation_to_keras(None, "layer 'd'")
        ('relu', 'linear')
    """
    return "linear" if activation is None else activation_converter(activation, where).to_keras(activation, where)


# --- layers -------------------------------------------------------------------------------------


class LayerConverter:
    """How one xcnn layer class maps to a Keras layer class and to ONNX nodes.

    Subclasses set `xcnn_class` and, where needed, `keras_class` (default the same name),
    `keras_neutral` (Keras-only arguments, see `KERAS_NEUTRAL`), `keras_written` (Keras
    arguments written so that Keras computes what xcnn computes, where Keras's default
    differs), and override `onnx`. Weights need nothing here: each layer's
    `get_weights`/`set_weights` give them in Keras's order and layouts.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> converter = CONVERTERS["Dense"]
        >>> converter.keras_name
        'Dense'
        >>> converter.from_keras({"name": "d", "units": 2, "activation": "relu"}, (3,))
        <Dense name=d, built=False>
    """

    xcnn_class: Any = type(None)  # a Layer subclass: every registered subclass sets it
    keras_class: str | None = None
    keras_neutral: ClassVar[dict] = {}
    keras_written: ClassVar[dict] = {}

    @property
    def keras_name(self) -> str:
        """The Keras layer class: `keras_class`, or the xcnn class's name.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> CONVERTERS["Conv2D"].keras_name
            'Conv2D'
        """
        return self.keras_class or self.xcnn_class.__name__

    # --- Keras config ---------------------------------------------------------------------
    def from_keras(self, config: dict[str, Any], input_shape: Shape) -> Layer:
        """The xcnn layer a Keras layer config describes.

        Args:
            config: The Keras layer's config.
            input_shape: Its per-sample input shape (without the batch axis).

        Returns:
            The layer, not built.

        Raises:
            ValueError: If an argument has no xcnn equivalent, or a Keras-only argument has a
                value at which Keras computes something else, or xcnn's layer refuses a value.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> CONVERTERS["Dense"].from_keras({"name": "d", "units": 2, "foo": 3}, (3,))
            Traceback (most recent call last):
            ...
            ValueError: Keras layer 'd' (Dense) cannot be converted: argument foo=3 has no xcnn equivalent
        """
        where = f"Keras layer {config.get('name')!r} ({self.keras_name})"
        accepted = inspect.signature(self.xcnn_class.__init__).parameters
        neutral = {**KERAS_NEUTRAL, **self.keras_neutral}
        kwargs = {"name": config["name"]}
        frozen = False
        for key, value in config.items():
            if key in ("name", "dtype"):
                continue
            if key in accepted:
                kwargs[key] = _from_keras_value(key, value, where)
            elif key == "trainable" and value is False:
                frozen = True  # set on the layer once made
            elif key in neutral:
                expected = neutral[key]
                if expected is not ANY and _normal(key, value, where) != _tuples(expected):
                    raise unsupported(
                        where,
                        f"{key}={value!r} is not supported (xcnn's {self.xcnn_class.__name__} "
                        f"computes as {key}={expected!r})",
                    )
            else:
                raise unsupported(where, f"argument {key}={value!r} has no xcnn equivalent")
        try:
            layer = self.xcnn_class(**kwargs)
        except (TypeError, ValueError) as exc:  # xcnn's own check of a value, e.g. padding="causal"
            raise unsupported(where, str(exc)) from None
        if frozen:
            layer.trainable = False
        return layer

    def keras_config(self, layer: Layer) -> dict[str, Any]:
        """The Keras config of `layer` (a dict Keras's `from_config` takes).

        Args:
            layer: The xcnn layer.

        Returns:
            The config.

        Raises:
            ValueError: If an initializer, regularizer or activation has no Keras equivalent.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import Dense
            >>> config = CONVERTERS["Dense"].keras_config(Dense(2, activation="relu", name="d"))
            >>> config["units"], config["activation"], config["kernel_initializer"]["class_name"]
            (2, 'relu', 'GlorotUniform')
        """
        where = f"layer {layer.name!r} ({type(layer).__name__})"
        config = layer.get_config()
        out = {
            "name": config.pop("name"),
            "trainable": bool(getattr(layer, "trainable", True)),
            "dtype": dtype_policy(layer.dtype or "float32"),
        }
        for key, value in config.items():
            out[key] = _to_keras_value(key, value, layer, where)
        accepted = inspect.signature(self.xcnn_class.__init__).parameters
        for key, value in vars(layer).items():  # initializers, where xcnn's config leaves them out
            if (
                key.endswith("_initializer")
                and key in accepted
                and key not in out
                and isinstance(value, initializers.Initializer)
            ):
                out[key] = initializer_to_keras(value)
        for key, value in self.keras_written.items():  # unless xcnn's layer states its own value
            out.setdefault(key, value)
        return out

    # --- weights ----------------------------------------------------------------------------
    # The layer's get_weights/set_weights hold Keras's order and layouts; these only check.
    def weights_to_keras(self, layer: Layer) -> list[np.ndarray]:
        """The layer's weights as host arrays in Keras's order and layouts.

        Args:
            layer: A built layer.

        Returns:
            The arrays, C-contiguous.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)], seed=0)
            >>> [w.shape for w in CONVERTERS["Dense"].weights_to_keras(model.layers[0])]
            [(3, 2), (2,)]
        """
        return [np.ascontiguousarray(w) for w in layer.get_weights()]

    def check_keras_weights(self, layer: Layer, arrays: Sequence[Any], where: str) -> None:
        """Refuse `arrays` (Keras's order and layouts) that do not fit `layer`, before anything changes.

        `layer.set_weights(arrays)` then sets them.

        Args:
            layer: A built layer.
            arrays: Its weights as Keras stores them.
            where: The file, for the error message.

        Raises:
            ValueError: If their number or a shape differs from the layer's.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Sequential([Input((3,)), Dense(2, name="d")], seed=0).layers[0]
            >>> CONVERTERS["Dense"].check_keras_weights(layer, [np.ones((3, 2))], "m.keras")
            Traceback (most recent call last):
            ...
            ValueError: m.keras: Keras stores 1 weights for layer 'd', xcnn's Dense has 2
        """
        wanted = [tuple(w.shape) for w in layer.get_weights()]
        if len(arrays) != len(wanted):
            raise ValueError(
                f"{where}: Keras stores {len(arrays)} weights for layer {layer.name!r}, "
                f"xcnn's {type(layer).__name__} has {len(wanted)}"
            )
        for (_, name), array, shape in zip(layer._weight_slots, arrays, wanted):
            if tuple(np.shape(array)) != shape:
                raise ValueError(
                    f"{where}: weight {name!r} of layer {layer.name!r} has shape "
                    f"{tuple(np.shape(array))} in Keras's layout, the model needs {shape}"
                )

    # --- ONNX -------------------------------------------------------------------------------
    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """The layer's core (before its activation) as ONNX nodes added to `g`.

        Args:
            layer: The built layer.
            g: The graph being built.
            inputs: The builder's tensors for `layer.inbound`.

        Returns:
            The output tensor.

        Raises:
            ValueError: Here, in the base class: the layer has no ONNX conversion.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> from xcnn.layers import Flatten
            >>> g = OnnxGraph("float32")
            >>> y = CONVERTERS["Flatten"].onnx(Flatten(), g, [Tensor("input", (2, 2, 3), "nhwc")])
            >>> y.shape, [node.op_type for node in g.nodes]
            ((12,), ['Flatten'])
        """
        raise unsupported(f"layer {layer.name!r} ({type(layer).__name__})", "it has no ONNX conversion")


def _from_keras_value(key, value, where):
    if key == "activation":
        return activation_from_keras(value, where)
    if key.endswith("_initializer"):
        return initializer_from_keras(value, where)
    if key.endswith("_regularizer"):
        return regularizer_from_keras(value, where)
    if key.endswith("_constraint"):
        return constraint_from_keras(value, where)
    return _tuples(value)


def _normal(key, value, where):
    """A Keras value in the form :data:`KERAS_NEUTRAL` states it."""
    if key.endswith("_initializer"):
        return _initializer_name(initializer_from_keras(value, where))
    if key == "activation":
        return activation_from_keras(value, where)
    return _tuples(value)


def _to_keras_value(key, value, layer, where):
    if key == "activation":
        return activation_to_keras(layer.activation, where)
    if key.endswith("_regularizer") and (value is None or set(value) <= {"l1", "l2"}):
        return regularizer_to_keras(value)
    if key.endswith("_constraint"):
        return constraint_to_keras(value, where)
    if key.endswith("_initializer") and isinstance(value, str):
        return initializer_to_keras(initializers.get(value))
    return list(value) if isinstance(value, tuple) else value


CONVERTERS: dict[str, LayerConverter] = {}  # xcnn layer class name -> LayerConverter
KERAS_CLASSES: dict[str, LayerConverter] = {}  # Keras layer class name -> LayerConverter


def register(converter_class: type[LayerConverter]) -> type[LayerConverter]:
    """Class decorator: add a converter to the registry (by xcnn and by Keras class name).

    Args:
        converter_class: A `LayerConverter` subclass (it is instantiated once).

    Returns:
        The class itself.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS, KERAS_CLASSES
        >>> KERAS_CLASSES["Dense"] is CONVERTERS["Dense"]
        True
    """
    converter = converter_class()
    CONVERTERS[converter.xcnn_class.__name__] = converter
    KERAS_CLASSES[converter.keras_name] = converter
    return converter_class


def converter_for(layer: Layer) -> LayerConverter:
    """The `LayerConverter` of a layer's class.

    Args:
        layer: An xcnn layer.

    Returns:
        Its entry in `CONVERTERS`.

    Raises:
        ValueError: If its class has none.

    Examples:
        >>> from xcnn.interop.converters import converter_for
        >>> from xcnn.layers import Dense
        >>> type(converter_for(Dense(2))).__name__
        'DenseConverter'
    """
    found = CONVERTERS.get(type(layer).__name__)
    if found is None:
        raise unsupported(
            f"layer {layer.name!r} ({type(layer).__name__})",
            "it has no converter (add one to xcnn/interop/converters.py)",
        )
    return found


def _host(layer, name):
    d = layer.params if name in layer.params else layer.state
    return B.to_numpy(d[name])


def _onnx_pads(win):
    (top, bottom), (left, right) = win.pads
    return [top, left, bottom, right]


# --- the entries -----------------------------------------------------------------------------------


@register
class InputLayerConverter(LayerConverter):
    """The model reader handles ``batch_shape``; this entry only names the class.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["InputLayer"].keras_name
        'InputLayer'
    """

    xcnn_class = InputLayer

    def keras_config(self, layer: Layer) -> dict[str, Any]:
        """As `LayerConverter.keras_config`: Keras's InputLayer config, its `batch_shape` first
        of all (the batch axis `None`).

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import InputLayer
            >>> CONVERTERS["InputLayer"].keras_config(InputLayer((28, 28, 1), name="pixels"))
            {'batch_shape': [None, 28, 28, 1], 'dtype': 'float32', 'sparse': False, 'ragged': False, 'name': 'pixels'}
        """
        return {
            "batch_shape": [None, *layer.input_shape],
            "dtype": "float32",
            "sparse": False,
            "ragged": False,
            "name": layer.name,
        }


def _onnx_conv(g, x, layer, kernel, bias, groups, shape):
    """An ONNX Conv of ``x`` (NCHW) with an xcnn kernel ``(F, KH, KW, C / groups)``, the
    layer's strides, padding and dilation; ``bias`` a host array or None."""
    dilation = tuple(getattr(layer, "dilation_rate", (1, 1)))
    win = ops.window_geometry(
        x.shape[:2], ops.dilated_extent(kernel.shape[1:3], dilation), layer.strides, layer.padding
    )
    args = [x, g.const(kernel.transpose(0, 3, 1, 2), f"{layer.name}_kernel")]
    if bias is not None:
        args.append(g.const(bias, f"{layer.name}_bias"))
    return g.op(
        "Conv",
        args,
        shape,
        "nchw",
        kernel_shape=list(kernel.shape[1:3]),
        strides=list(layer.strides),
        pads=_onnx_pads(win),
        dilations=list(dilation),
        group=int(groups),
    )


@register
class Conv2DConverter(LayerConverter):
    """Conv2D, dilated and grouped too (ONNX's ``dilations`` and ``group``).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Conv2D"].keras_name
        'Conv2D'
    """

    xcnn_class: type = Conv2D
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Conv`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2D, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((5, 5, 1)), Conv2D(2, 3, strides=2, padding="same")], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # to NCHW and back
            ['Transpose', 'Conv', 'Transpose', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 5, 5, 1))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = g.layout(inputs[0], "nchw")
        bias = _host(layer, "bias") if "bias" in layer.params else None
        return _onnx_conv(g, x, layer, _host(layer, "kernel"), bias, layer.groups, layer.compute_output_shape(x.shape))


@register
class DepthwiseConv2DConverter(Conv2DConverter):
    """xcnn keeps the depthwise kernel as a grouped Conv2D's ``(C * M, KH, KW, 1)``: ONNX's Conv
    with ``group`` = C takes it as it is.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["DepthwiseConv2D"].keras_name
        'DepthwiseConv2D'
    """

    xcnn_class = DepthwiseConv2D


@register
class SeparableConv2DConverter(LayerConverter):
    """Two ONNX Convs: the depthwise one (``group`` = C) and the 1x1 pointwise one with the bias.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["SeparableConv2D"].keras_name
        'SeparableConv2D'
    """

    xcnn_class = SeparableConv2D
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: two ONNX `Conv` nodes, depthwise then pointwise.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, SeparableConv2D
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((4, 4, 2)), SeparableConv2D(3, 3, padding="same")], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Transpose', 'Conv', 'Conv', 'Transpose', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 4, 4, 2))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = g.layout(inputs[0], "nchw")
        shape = layer.compute_output_shape(x.shape)
        depthwise = _host(layer, "depthwise_kernel")
        z = _onnx_conv(g, x, layer, depthwise, None, layer._channels, (*shape[:2], depthwise.shape[0]))
        pointwise = _host(layer, "pointwise_kernel")
        args = [z, g.const(pointwise.transpose(0, 3, 1, 2), f"{layer.name}_pointwise_kernel")]
        if "bias" in layer.params:
            args.append(g.const(_host(layer, "bias"), f"{layer.name}_bias"))
        return g.op("Conv", args, shape, "nchw", kernel_shape=[1, 1])


@register
class Conv2DTransposeConverter(LayerConverter):
    """ONNX's ConvTranspose takes the kernel of the convolution this layer is the transpose of,
    ``(C, filters, KH, KW)``; Keras's output sizes come from ``pads`` (the rows 'same' crops)
    and ``output_padding`` (the zero rows a stride larger than the kernel leaves at the end).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Conv2DTranspose"].keras_name
        'Conv2DTranspose'
    """

    xcnn_class = Conv2DTranspose
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `ConvTranspose`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2DTranspose, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3, 3, 1)), Conv2DTranspose(2, 3, strides=2, padding="same")], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Transpose', 'ConvTranspose', 'Transpose', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3, 3, 1))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = g.layout(inputs[0], "nchw")
        shape = layer.compute_output_shape(x.shape)
        pads, output_padding = [], []
        for n, k, s, out in zip(x.shape[:2], layer.kernel_size, layer.strides, shape[:2]):
            pads.append(ops.conv2d_transpose_padding(n, k, s, layer.padding)[1])
            output_padding.append(out - (s * (n - 1) + k - sum(pads[-1])))  # ONNX's size without it
        args: list[Tensor | str] = [x, g.const(_host(layer, "kernel").transpose(0, 3, 1, 2), f"{layer.name}_kernel")]
        if "bias" in layer.params:
            args.append(g.const(_host(layer, "bias"), f"{layer.name}_bias"))
        (top, bottom), (left, right) = pads
        return g.op(
            "ConvTranspose",
            args,
            shape,
            "nchw",
            kernel_shape=list(layer.kernel_size),
            strides=list(layer.strides),
            pads=[top, left, bottom, right],
            output_padding=output_padding,
        )


@register
class DenseConverter(LayerConverter):
    """The converter of xcnn's `Dense` layer (Keras `Dense`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Dense"].keras_name
        'Dense'
    """

    xcnn_class = Dense

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Gemm`, `MatMul`, `Add`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # (N, C) inputs: one Gemm
            ['Gemm', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = g.layout(inputs[0], "nhwc")  # the kernel multiplies the last axis
        shape = layer.compute_output_shape(x.shape)
        kernel = g.const(_host(layer, "kernel"), f"{layer.name}_kernel")
        bias = g.const(_host(layer, "bias"), f"{layer.name}_bias") if "bias" in layer.params else None
        if len(x.shape) == 1:
            return g.op("Gemm", [x, kernel, *([bias] if bias else [])], shape, "nhwc")
        y = g.op("MatMul", [x, kernel], shape, "nhwc")
        return g.op("Add", [y, bias], shape, "nhwc") if bias else y


class _PoolingConverter(LayerConverter):
    """The shared part of the pooling converters: one ONNX pooling op (`onnx_op`) on NCHW."""

    keras_written: ClassVar[dict] = {"data_format": "channels_last"}
    onnx_op: str | None = None
    onnx_attrs: ClassVar[dict] = {}

    def onnx(self, layer, g, inputs):
        """As `LayerConverter.onnx`: the ONNX pooling op `onnx_op` on NCHW."""
        x = g.layout(inputs[0], "nchw")
        win = ops.window_geometry(x.shape[:2], layer.pool_size, layer.strides, layer.padding, kernel_name="pool_size")
        return g.op(
            self.onnx_op,
            [x],
            layer.compute_output_shape(x.shape),
            "nchw",
            kernel_shape=list(layer.pool_size),
            strides=list(layer.strides),
            pads=_onnx_pads(win),
            **self.onnx_attrs,
        )


@register
class MaxPooling2DConverter(_PoolingConverter):
    """The converter of xcnn's `MaxPooling2D` layer (Keras `MaxPooling2D`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["MaxPooling2D"].keras_name
        'MaxPooling2D'
    """

    xcnn_class = MaxPooling2D
    onnx_op = "MaxPool"


@register
class AveragePooling2DConverter(_PoolingConverter):
    """The converter of xcnn's `AveragePooling2D` layer (Keras `AveragePooling2D`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["AveragePooling2D"].keras_name
        'AveragePooling2D'
    """

    xcnn_class = AveragePooling2D
    onnx_op = "AveragePool"
    onnx_attrs: ClassVar[dict] = {"count_include_pad": 0}  # xcnn leaves padded cells out of the mean, as Keras


class _GlobalPoolingConverter(LayerConverter):
    """Global poolings as one ONNX reduction over the spatial axes of the NCHW layout (opset
    17 takes the axes as an attribute)."""

    keras_written: ClassVar[dict] = {"data_format": "channels_last"}
    onnx_op: str | None = None

    def onnx(self, layer, g, inputs):
        """As `LayerConverter.onnx`: the ONNX reduction `onnx_op` over H and W."""
        x = g.layout(inputs[0], "nchw")
        shape = layer.compute_output_shape(x.shape)
        return g.op(
            self.onnx_op, [x], shape, "nchw" if layer.keepdims else "nhwc", axes=[2, 3], keepdims=int(layer.keepdims)
        )


@register
class GlobalAveragePooling2DConverter(_GlobalPoolingConverter):
    """The converter of xcnn's `GlobalAveragePooling2D` layer (Keras `GlobalAveragePooling2D`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["GlobalAveragePooling2D"].keras_name
        'GlobalAveragePooling2D'
    """

    xcnn_class = GlobalAveragePooling2D
    onnx_op = "ReduceMean"


@register
class GlobalMaxPooling2DConverter(_GlobalPoolingConverter):
    """The converter of xcnn's `GlobalMaxPooling2D` layer (Keras `GlobalMaxPooling2D`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["GlobalMaxPooling2D"].keras_name
        'GlobalMaxPooling2D'
    """

    xcnn_class = GlobalMaxPooling2D
    onnx_op = "ReduceMax"


@register
class FlattenConverter(LayerConverter):
    """The converter of xcnn's `Flatten` layer (Keras `Flatten`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Flatten"].keras_name
        'Flatten'
    """

    xcnn_class = Flatten
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Flatten`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2D, Flatten, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3, 3, 1)), Conv2D(2, 2), Flatten()], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # back to NHWC first
            ['Transpose', 'Conv', 'Transpose', 'Flatten', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3, 3, 1))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = g.layout(inputs[0], "nhwc")  # the flattened order is NHWC's
        return g.op("Flatten", [x], layer.compute_output_shape(x.shape), "nhwc", axis=1)


@register
class ActivationLayerConverter(LayerConverter):
    """The converter of xcnn's `Activation` layer (Keras `Activation`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Activation"].keras_name
        'Activation'
    """

    xcnn_class = Activation

    def keras_config(self, layer: Layer) -> dict[str, Any]:
        """As `LayerConverter.keras_config`, with the activation as Keras names it.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import Activation
            >>> config = CONVERTERS["Activation"].keras_config(Activation("relu", name="act"))
            >>> config["name"], config["activation"]
            ('act', 'relu')
            >>> CONVERTERS["Activation"].from_keras(config, (3,)).activation.name  # and back
            'relu'
        """
        where = f"layer {layer.name!r} (Activation)"
        return {**super().keras_config(layer), "activation": activation_to_keras(layer.activation, where)}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: no node of its own (its activation does the work).

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Activation, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Activation("relu")], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # the activation's node only
            ['Relu', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        return inputs[0]  # the core is the identity; the activation follows


class _IdentityAtInference(LayerConverter):
    """Layers that change nothing at inference (dropout, augmentation): no ONNX node."""

    def onnx(self, layer, g, inputs):
        """As `LayerConverter.onnx`: the identity, no node."""
        return inputs[0]


@register
class DropoutConverter(_IdentityAtInference):
    """The converter of xcnn's `Dropout` layer (Keras `Dropout`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Dropout"].keras_name
        'Dropout'
    """

    xcnn_class = Dropout


@register
class RandomTranslationConverter(_IdentityAtInference):
    """xcnn shifts by whole pixels and fills with a constant: Keras's ``fill_mode="constant"``,
    ``interpolation="nearest"`` (Keras's defaults are ``"reflect"`` and ``"bilinear"``).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomTranslation"].keras_name
        'RandomTranslation'
    """

    xcnn_class = RandomTranslation
    keras_neutral: ClassVar[dict] = {"fill_mode": "constant", "interpolation": "nearest"}
    keras_written: ClassVar[dict] = {
        "fill_mode": "constant",
        "interpolation": "nearest",
        "data_format": "channels_last",
    }

    def from_keras(self, config: dict[str, Any], input_shape: Shape) -> Layer:
        """As `LayerConverter.from_keras`, refusing the Keras options xcnn's layer does not have.

        Raises:
            ValueError: As `LayerConverter.from_keras`, or for an option xcnn does not have.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> CONVERTERS["RandomTranslation"].from_keras(
            ...     {"name": "t", "height_factor": 0.1, "width_factor": 0.1}, (28, 28, 1))
            <RandomTranslation name=t, built=False>
        """
        config = dict(config)
        for key in ("height_factor", "width_factor"):
            factor = config.get(key)
            if isinstance(factor, (list, tuple)):
                if len(factor) != 2 or factor[0] != -factor[1]:
                    raise unsupported(
                        f"Keras layer {config.get('name')!r} (RandomTranslation)",
                        f"{key}={factor!r} is not symmetric (xcnn shifts by up to the same amount either way)",
                    )
                config[key] = abs(factor[1])
        return super().from_keras(config, input_shape)


@register
class RandomFlipConverter(_IdentityAtInference):
    """The converter of xcnn's `RandomFlip` layer (Keras `RandomFlip`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomFlip"].keras_name
        'RandomFlip'
    """

    xcnn_class = RandomFlip
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}


@register
class RandomRotationConverter(_IdentityAtInference):
    """The converter of xcnn's `RandomRotation` layer (Keras `RandomRotation`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomRotation"].keras_name
        'RandomRotation'
    """

    xcnn_class = RandomRotation
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}


@register
class RandomZoomConverter(_IdentityAtInference):
    """The converter of xcnn's `RandomZoom` layer (Keras `RandomZoom`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomZoom"].keras_name
        'RandomZoom'
    """

    xcnn_class = RandomZoom
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}


@register
class RandomContrastConverter(_IdentityAtInference):
    """The converter of xcnn's `RandomContrast` layer (Keras `RandomContrast`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomContrast"].keras_name
        'RandomContrast'
    """

    xcnn_class = RandomContrast
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}


@register
class RandomBrightnessConverter(_IdentityAtInference):
    """The converter of xcnn's `RandomBrightness` layer (Keras `RandomBrightness`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomBrightness"].from_keras({"name": "b", "factor": [-0.2, 0.2]}, (8, 8, 3)).factor
        (-0.2, 0.2)
    """

    xcnn_class = RandomBrightness
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}


@register
class IdentityConverter(_IdentityAtInference):
    """The converter of xcnn's `Identity` layer (Keras `Identity`): no ONNX node.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.converters import CONVERTERS
        >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
        >>> from xcnn.layers import Identity, Input
        >>> from xcnn.models import Sequential
        >>> CONVERTERS["Identity"].keras_name
        'Identity'
        >>> model = Sequential([Input((3,)), Identity()], seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]  # the graph's output only
        ['Identity']
        >>> x = np.random.default_rng(0).random((2, 3))
        >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0))
        True
    """

    xcnn_class = Identity


@register
class SpatialDropout2DConverter(_IdentityAtInference):
    """The converter of xcnn's `SpatialDropout2D` layer (Keras `SpatialDropout2D`); the identity
    in ONNX. Keras's constructor takes no ``trainable`` (its config has none): it is not written.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> from xcnn.layers import SpatialDropout2D
        >>> config = CONVERTERS["SpatialDropout2D"].keras_config(SpatialDropout2D(0.3, seed=1, name="drop"))
        >>> sorted(config)
        ['data_format', 'dtype', 'name', 'rate', 'seed']
        >>> CONVERTERS["SpatialDropout2D"].from_keras(config, (4, 4, 3)).get_config()  # and back
        {'name': 'drop', 'rate': 0.3, 'seed': 1, 'data_format': 'channels_last'}
    """

    xcnn_class = SpatialDropout2D

    def keras_config(self, layer: Layer) -> dict[str, Any]:
        """As `LayerConverter.keras_config`, without `trainable` (Keras's `SpatialDropout2D`
        refuses it; the layer has no weights to freeze).

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import SpatialDropout2D
            >>> "trainable" in CONVERTERS["SpatialDropout2D"].keras_config(SpatialDropout2D(0.5))
            False
        """
        config = super().keras_config(layer)
        config.pop("trainable")
        return config


@register
class GaussianNoiseConverter(_IdentityAtInference):
    """The converter of xcnn's `GaussianNoise` layer (Keras `GaussianNoise`): `stddev` and
    `seed` pass through; the identity in ONNX (noise is added in training only).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["GaussianNoise"].from_keras({"name": "n", "stddev": 0.1, "seed": 3}, (4,)).get_config()
        {'name': 'n', 'stddev': 0.1, 'seed': 3}
    """

    xcnn_class = GaussianNoise


class _ActivationOnlyConverter(LayerConverter):
    """ReLU, LeakyReLU, ELU, Softmax, PReLU: the layer's Keras config is its own arguments; in
    ONNX its core is the identity and its activation (see :data:`ACTIVATIONS`) does the work."""

    def onnx(self, layer, g, inputs):
        """As `LayerConverter.onnx`: the identity (its activation does the work)."""
        return inputs[0]


@register
class ReLUConverter(_ActivationOnlyConverter):
    """The converter of xcnn's `ReLU` layer (Keras `ReLU`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["ReLU"].keras_name
        'ReLU'
    """

    xcnn_class = ReLU


@register
class LeakyReLUConverter(_ActivationOnlyConverter):
    """The converter of xcnn's `LeakyReLU` layer (Keras `LeakyReLU`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["LeakyReLU"].keras_name
        'LeakyReLU'
    """

    xcnn_class = LeakyReLU


@register
class ELUConverter(_ActivationOnlyConverter):
    """The converter of xcnn's `ELU` layer (Keras `ELU`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["ELU"].keras_name
        'ELU'
    """

    xcnn_class = ELU


@register
class SoftmaxConverter(_ActivationOnlyConverter):
    """The converter of xcnn's `Softmax` layer (Keras `Softmax`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Softmax"].keras_name
        'Softmax'
    """

    xcnn_class = Softmax


@register
class PReLUConverter(_ActivationOnlyConverter):
    """The converter of xcnn's `PReLU` layer (Keras `PReLU`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["PReLU"].keras_name
        'PReLU'
    """

    xcnn_class = PReLU


@register
class ReshapeConverter(LayerConverter):
    """Keras reshapes in NHWC's row-major order: the input goes to NHWC first.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Reshape"].keras_name
        'Reshape'
    """

    xcnn_class = Reshape

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Reshape`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, Reshape
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((6,)), Reshape((3, 2))], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Reshape', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 6))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = g.layout(inputs[0], "nhwc")
        shape = layer.compute_output_shape(x.shape)
        target = g.const(np.asarray([-1, *shape], np.int64), f"{layer.name}_shape")
        return g.op("Reshape", [x, target], shape, "nhwc")


@register
class PermuteConverter(LayerConverter):
    """The converter of xcnn's `Permute` layer (Keras `Permute`): one ONNX `Transpose` from the
    axes as the input is stored (NCHW images too) to the permuted order; none where the two agree.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Permute"].from_keras({"name": "p", "dims": [2, 1]}, (4, 5)).dims
        (2, 1)
    """

    xcnn_class = Permute

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Transpose`, the result stored in its own (NHWC) order.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2D, Input, Permute
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((4, 5, 3)), Permute((2, 1, 3))], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Transpose', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 4, 5, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0))
            True
            >>> nchw = Sequential([Input((4, 5, 3)), Conv2D(2, 1), Permute((3, 1, 2))], seed=0)
            >>> [node.op_type for node in onnx_model(nchw).graph.node]  # NCHW is that order already
            ['Transpose', 'Conv', 'Identity']
            >>> np.allclose(onnx_predict(nchw, x), nchw.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]
        perm = [0, *(g.axis(x, d) for d in layer.dims)]  # output axis i is input axis dims[i - 1]
        shape = layer.compute_output_shape(x.shape)
        if perm == sorted(perm):  # stored in the permuted order already
            from .onnx_export import Tensor

            return Tensor(x.name, shape, "nhwc")
        return g.op("Transpose", [x], shape, "nhwc", perm=perm)


@register
class ZeroPadding2DConverter(LayerConverter):
    """The converter of xcnn's `ZeroPadding2D` layer (Keras `ZeroPadding2D`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["ZeroPadding2D"].keras_name
        'ZeroPadding2D'
    """

    xcnn_class = ZeroPadding2D
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Pad`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, ZeroPadding2D
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((2, 2, 1)), ZeroPadding2D(((1, 0), (2, 1)))], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Pad', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 2, 2, 1))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]  # either layout: the pads follow the stored axes
        (top, bottom), (left, right) = layer.padding
        if x.layout == "nchw":
            pads = [0, 0, top, left, 0, 0, bottom, right]
        else:
            pads = [0, top, left, 0, 0, bottom, right, 0]
        return g.op(
            "Pad",
            [x, g.const(np.asarray(pads, np.int64), f"{layer.name}_pads")],
            layer.compute_output_shape(x.shape),
            x.layout,
            mode="constant",
        )


@register
class Cropping2DConverter(LayerConverter):
    """The converter of xcnn's `Cropping2D` layer (Keras `Cropping2D`): `cropping` and
    `data_format` pass through (xcnn refuses `"channels_first"`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Cropping2D"].from_keras({"name": "c", "cropping": [[1, 2], [0, 1]]}, (8, 8, 3)).cropping
        ((1, 2), (0, 1))
    """

    xcnn_class = Cropping2D

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Slice` of the rows and columns kept.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2D, Cropping2D, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((5, 6, 1)), Conv2D(2, 1), Cropping2D(((1, 2), (0, 3)))], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # on NCHW, as the Conv left it
            ['Transpose', 'Conv', 'Slice', 'Transpose', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 5, 6, 1))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]  # either layout: the slice follows the stored axes
        (top, bottom), (left, right) = layer.cropping
        rows, cols = x.shape[:2]
        axes = [2, 3] if x.layout == "nchw" else [1, 2]
        args = [
            g.const(np.asarray(v, np.int64), f"{layer.name}_{n}")
            for v, n in (([top, left], "starts"), ([rows - bottom, cols - right], "ends"), (axes, "axes"))
        ]
        return g.op("Slice", [x, *args], layer.compute_output_shape(x.shape), x.layout)


@register
class UpSampling2DConverter(LayerConverter):
    """ONNX's Resize, nearest: with whole scales and ``asymmetric`` coordinates rounded down,
    output pixel ``i`` reads input pixel ``i // size``, as xcnn's repeat.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["UpSampling2D"].keras_name
        'UpSampling2D'
    """

    xcnn_class = UpSampling2D
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Resize`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, UpSampling2D
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((2, 2, 1)), UpSampling2D(2)], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Resize', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 2, 2, 1))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]  # either layout: the scales follow the stored axes
        rows, cols = layer.size
        factors = [1, 1, rows, cols] if x.layout == "nchw" else [1, rows, cols, 1]
        scales = g.const(np.asarray(factors, np.float32), f"{layer.name}_scales", dtype=np.float32)
        return g.op(
            "Resize",
            [x, "", scales],
            layer.compute_output_shape(x.shape),
            x.layout,
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )


@register
class ResizingConverter(LayerConverter):
    """ONNX's Resize at half-pixel centres, as xcnn's (and Keras-torch's) `Resizing`: linear, or
    nearest rounding ties up, which is PyTorch's "nearest-exact".

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Resizing"].keras_name
        'Resizing'
    """

    xcnn_class = Resizing
    keras_written: ClassVar[dict] = {"data_format": "channels_last"}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Resize` with scales that give exactly the layer's size.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, Resizing
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((7, 5, 2)), Resizing(3, 9)], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Resize', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 7, 5, 2))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]  # either layout: the scales follow the stored axes
        height, width = x.shape[0], x.shape[1]
        factors = [_resize_scale(height, layer.height), _resize_scale(width, layer.width)]
        scales = [1.0, 1.0, *factors] if x.layout == "nchw" else [1.0, *factors, 1.0]
        nearest = layer.interpolation == "nearest"
        return g.op(
            "Resize",
            [x, "", g.const(np.asarray(scales, np.float32), f"{layer.name}_scales", dtype=np.float32)],
            layer.compute_output_shape(x.shape),
            x.layout,
            mode="nearest" if nearest else "linear",
            coordinate_transformation_mode="half_pixel",
            **({"nearest_mode": "round_prefer_ceil"} if nearest else {}),
        )


def _resize_scale(size, out):
    """The float32 scale ONNX's Resize turns into exactly ``out`` from ``size`` (it floors
    ``size * scale``, in float32 or float64 depending on the runtime and the shape inference):
    ``out / size``, stepped up by float32 ulps while either product falls short."""
    scale = np.float32(out / size)
    while np.floor(np.float32(size) * scale) < out or np.floor(float(size) * float(scale)) < out:
        scale = np.nextafter(scale, np.float32(np.inf))
    return float(scale)


def _onnx_window(layer, g, x):
    """The inference crop of `CenterCrop` and `RandomCrop`: ONNX `Slice` of the window that
    `layer.window` keeps, then `Resize` (linear, half-pixel) when it is not of the output size."""
    top, left, ch, cw = layer.window(x.shape[:2])
    rows, cols = x.shape[:2]
    channels = x.shape[2]
    y = x
    if (top, left, ch, cw) != (0, 0, rows, cols):
        axes = [2, 3] if x.layout == "nchw" else [1, 2]
        args = [
            g.const(np.asarray(v, np.int64), f"{layer.name}_{n}")
            for v, n in (([top, left], "starts"), ([top + ch, left + cw], "ends"), (axes, "axes"))
        ]
        y = g.op("Slice", [x, *args], (ch, cw, channels), x.layout)
    if (ch, cw) == (layer.height, layer.width):
        return y
    factors = [_resize_scale(ch, layer.height), _resize_scale(cw, layer.width)]
    scales = [1.0, 1.0, *factors] if y.layout == "nchw" else [1.0, *factors, 1.0]
    return g.op(
        "Resize",
        [y, "", g.const(np.asarray(scales, np.float32), f"{layer.name}_scales", dtype=np.float32)],
        (layer.height, layer.width, channels),
        y.layout,
        mode="linear",
        coordinate_transformation_mode="half_pixel",
    )


@register
class CenterCropConverter(LayerConverter):
    """The converter of xcnn's `CenterCrop` layer (Keras `CenterCrop`): `height`, `width` and
    `data_format` pass through (xcnn refuses `"channels_first"`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["CenterCrop"].from_keras({"name": "c", "height": 4, "width": 3}, (8, 8, 3)).window((8, 8))
        (2, 2, 4, 3)
    """

    xcnn_class = CenterCrop

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Slice` of the window, and `Resize` where Keras resizes it.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import CenterCrop, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((7, 6, 2)), CenterCrop(4, 3), CenterCrop(5, 5)], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # the second: a 3x3 window resized
            ['Slice', 'Slice', 'Resize', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 7, 6, 2))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        return _onnx_window(layer, g, inputs[0])


@register
class RandomCropConverter(LayerConverter):
    """The converter of xcnn's `RandomCrop` layer (Keras `RandomCrop`); in ONNX its inference
    window, as `CenterCrop`'s.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["RandomCrop"].from_keras({"name": "c", "height": 4, "width": 4, "seed": 7}, (8, 8, 3)).seed
        7
    """

    xcnn_class = RandomCrop

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Slice` of the inference window, `Resize` where it is of another size.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, RandomCrop
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((7, 6, 2)), RandomCrop(4, 4)], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Slice', 'Resize', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 7, 6, 2))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        return _onnx_window(layer, g, inputs[0])


@register
class NormalizationConverter(LayerConverter):
    """The converter of xcnn's `Normalization` layer (Keras `Normalization`): `axis`, `mean`,
    `variance` and `invert` pass through; adapted statistics are the weights `mean`,
    `variance`, `count`, in Keras's order.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Normalization"].from_keras({"name": "n", "axis": [-1], "mean": None, "variance": None}, (3,)).axis
        (-1,)
    """

    xcnn_class = Normalization

    def weights_to_keras(self, layer: Layer) -> list[np.ndarray]:
        """As `LayerConverter.weights_to_keras`, `count` kept a scalar (`np.ascontiguousarray`
        would make it `(1,)`).

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> from xcnn.layers import Input, Normalization
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Normalization()], seed=0)
            >>> [w.shape for w in CONVERTERS["Normalization"].weights_to_keras(model.layers[0])]
            [(3,), (3,), ()]
        """
        return [np.array(w, order="C") for w in layer.get_weights()]

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Sub` and `Div` (`Mul` and `Add` when inverting), the
        statistics laid out as the input is stored.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2D, Input, Normalization
            >>> from xcnn.models import Sequential
            >>> x = np.random.default_rng(0).random((5, 4, 4, 3))
            >>> norm = Normalization(axis=(1, 3))
            >>> norm.adapt(x)
            >>> model = Sequential([Input((4, 4, 3)), Conv2D(3, 1), norm], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]  # on NCHW, as the Conv left it
            ['Transpose', 'Conv', 'Sub', 'Div', 'Transpose', 'Identity']
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]
        mean, variance = (B.to_numpy(a) for a in layer._statistics())
        std = np.maximum(np.sqrt(variance), 1e-7)
        order = sorted(range(len(x.shape) + 1), key=lambda a: g.axis(x, a))  # NHWC axis of each stored position
        shift = g.const(mean.transpose(order), f"{layer.name}_mean")
        scale = g.const(std.transpose(order), f"{layer.name}_std")
        if layer.invert:
            return g.op("Add", [g.op("Mul", [x, scale], x.shape, x.layout), shift], x.shape, x.layout)
        return g.op("Div", [g.op("Sub", [x, shift], x.shape, x.layout), scale], x.shape, x.layout)


@register
class RescalingConverter(LayerConverter):
    """The converter of xcnn's `Rescaling` layer (Keras `Rescaling`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Rescaling"].keras_name
        'Rescaling'
    """

    xcnn_class = Rescaling

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Mul`, `Add`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Input, Rescaling
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Rescaling(2.0, offset=-1.0)], seed=0)
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Mul', 'Add', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]
        y = g.op("Mul", [x, g.const(np.asarray(layer.scale, g.dtype), f"{layer.name}_scale")], x.shape, x.layout)
        return g.op("Add", [y, g.const(np.asarray(layer.offset, g.dtype), f"{layer.name}_offset")], x.shape, x.layout)


@register
class BatchNormalizationConverter(LayerConverter):
    """The converter of xcnn's `BatchNormalization` layer (Keras `BatchNormalization`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["BatchNormalization"].keras_name
        'BatchNormalization'
    """

    xcnn_class = BatchNormalization
    keras_neutral: ClassVar[dict] = {
        "synchronized": False,
        "renorm": False,
        "renorm_clipping": None,
        "renorm_momentum": ANY,
    }

    def from_keras(self, config: dict[str, Any], input_shape: Shape) -> Layer:
        """As `LayerConverter.from_keras`, for the last axis only.

        Raises:
            ValueError: As `LayerConverter.from_keras`, or if `axis` is not the last one.

        Examples:
            >>> from xcnn.interop.converters import CONVERTERS
            >>> CONVERTERS["BatchNormalization"].from_keras({"name": "bn", "axis": 1}, (4, 4, 3))
            Traceback (most recent call last):
            ...
            ValueError: Keras layer 'bn' (BatchNormalization) cannot be converted: axis=1 is not supported ...
        """
        config = dict(config)
        if config.pop("synchronized", False) and self.xcnn_class is BatchNormalization:
            # Keras's synchronized=True (TensorFlow only) is xcnn's SyncBatchNormalization
            return CONVERTERS[SyncBatchNormalization.__name__].from_keras(config, input_shape)
        axis = config.get("axis", -1)
        if isinstance(axis, list) and len(axis) == 1:
            axis = axis[0]
        if axis not in (-1, len(input_shape)):  # the last axis, counted from the batch axis or the end
            raise unsupported(
                f"Keras layer {config.get('name')!r} (BatchNormalization)",
                f"axis={config.get('axis')!r} is not supported (xcnn's BatchNormalization normalizes "
                f"the last axis only: -1 or {len(input_shape)} here)",
            )
        config["axis"] = -1
        return super().from_keras(config, input_shape)

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `BatchNormalization`, `Mul`, `Add`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((2, 2, 3)), BatchNormalization()], seed=0)
            >>> gamma, beta, mean, variance = np.random.default_rng(1).random((4, 3)) + 0.5
            >>> model.layers[0].set_weights([gamma, beta, mean, variance])
            >>> [node.op_type for node in onnx_model(model).graph.node]  # images: ONNX's op, on NCHW
            ['Transpose', 'BatchNormalization', 'Transpose', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 2, 2, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        x = inputs[0]
        mean, var = _host(layer, "moving_mean"), _host(layer, "moving_variance")
        # without scale (center) the layer has no gamma (beta): 1 (0) in ONNX's op
        gamma = _host(layer, "gamma") if "gamma" in layer.params else np.ones_like(mean)
        beta = _host(layer, "beta") if "beta" in layer.params else np.zeros_like(mean)
        if len(x.shape) in (1, 3):  # (N, C) or images: ONNX's op normalizes axis 1
            x = g.layout(x, "nchw")
            stats = [
                g.const(a, f"{layer.name}_{n}")
                for a, n in ((gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "variance"))
            ]
            return g.op("BatchNormalization", [x, *stats], x.shape, x.layout, epsilon=layer.epsilon)
        x = g.layout(x, "nhwc")
        scale = gamma / np.sqrt(var + layer.epsilon)
        y = g.op("Mul", [x, g.const(scale, f"{layer.name}_scale")], x.shape, "nhwc")
        return g.op("Add", [y, g.const(beta - mean * scale, f"{layer.name}_shift")], x.shape, "nhwc")


class SyncBatchNormalizationConverter(BatchNormalizationConverter):
    """xcnn's SyncBatchNormalization is Keras's BatchNormalization: at inference (and in one
    process) the two compute the same. It is written with synchronized=False, since Keras
    refuses synchronized=True on any backend but TensorFlow; Keras's synchronized=True is read
    back as SyncBatchNormalization.

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> from xcnn.layers import SyncBatchNormalization
        >>> converter = CONVERTERS["SyncBatchNormalization"]
        >>> converter.keras_name, converter.keras_config(SyncBatchNormalization(name="bn"))["name"]
        ('BatchNormalization', 'bn')
        >>> type(CONVERTERS["BatchNormalization"].from_keras({"name": "bn", "synchronized": True}, (3,)))
        <class 'xcnn.layers.sync_batch_normalization.SyncBatchNormalization'>
    """

    xcnn_class = SyncBatchNormalization
    keras_class = "BatchNormalization"


# by xcnn's class name only: Keras's "BatchNormalization" stays BatchNormalizationConverter's
CONVERTERS[SyncBatchNormalization.__name__] = SyncBatchNormalizationConverter()


@register
class LayerNormalizationConverter(LayerConverter):
    """The converter of xcnn's `LayerNormalization` layer (Keras `LayerNormalization`).

    Its arguments pass through, `axis` (an int or a list) and constraints too; Keras's
    `rms_scaling=True` (a different normalization) is refused. The weights `gamma`, `beta` are in
    Keras's order and layout (the sizes of the normalized axes in the order of `sorted(axis)`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["LayerNormalization"].from_keras({"name": "n", "axis": [1, 3]}, (4, 4, 3)).axis
        [1, 3]
        >>> CONVERTERS["LayerNormalization"].from_keras({"name": "n", "rms_scaling": True}, (3,))
        Traceback (most recent call last):
        ...
        ValueError: Keras layer 'n' (LayerNormalization) cannot be converted: rms_scaling=True is not supported ...
    """

    xcnn_class = LayerNormalization
    keras_neutral: ClassVar[dict] = {"rms_scaling": False}

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `LayerNormalization` where the normalized axes are the
        trailing ones as the input is stored (or as it is stored transposed, for images);
        otherwise `ReduceMean`, `Sub`, `Mul`, `ReduceMean`, `Add`, `Sqrt`, `Div` over those
        axes in the input's layout, then `Mul` by gamma and `Add` beta.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Conv2D, Input, LayerNormalization
            >>> from xcnn.models import Sequential
            >>> rng = np.random.default_rng(0)
            >>> x = rng.random((2, 4, 5, 3))
            >>> def nodes_and_check(*layers):
            ...     model = Sequential([Input((4, 5, 3)), *layers], seed=0)
            ...     norm = model.layers[-1]
            ...     norm.set_weights([rng.normal(size=w.shape) for w in norm.get_weights()])  # gamma, beta
            ...     close = np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            ...     return [node.op_type for node in onnx_model(model).graph.node], close
            >>> nodes_and_check(LayerNormalization())  # the channels of NHWC: the trailing axis
            (['LayerNormalization', 'Identity'], True)
            >>> nodes_and_check(Conv2D(3, 1), LayerNormalization(axis=[1, 2]))  # H and W: NCHW's trailing axes
            (['Transpose', 'Conv', 'LayerNormalization', 'Transpose', 'Identity'], True)
            >>> nodes_and_check(LayerNormalization(axis=[1, 3]))[1]  # H and C: trailing in neither layout
            True
            >>> nodes_and_check(LayerNormalization(axis=[1, 3]))[0][:7]
            ['ReduceMean', 'Sub', 'Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div']
        """
        x = inputs[0]
        rank = len(x.shape) + 1
        axes = layer._axes(rank)  # the normalized axes, NHWC's, sorted, the batch axis 0
        full = (1, *x.shape)
        spread = [full[a] if a in axes else 1 for a in range(rank)]  # Keras reshapes (not transposes) them so

        def weight(name, fill):
            w = _host(layer, name) if name in layer.params else np.full(spread, fill, g.dtype)
            return w.reshape(spread)

        gamma, beta = weight("gamma", 1.0), weight("beta", 0.0)
        layouts = [x.layout] if len(x.shape) != 3 else [x.layout, "nhwc" if x.layout == "nchw" else "nchw"]
        for layout in layouts:
            stored = sorted(g.axis(x, a, layout) for a in axes)
            if stored != list(range(rank - len(axes), rank)):
                continue
            x = g.layout(x, layout)
            order = sorted(range(rank), key=lambda a: g.axis(x, a))  # NHWC axis of each stored position
            trailing = [full[a] for a in order[stored[0] :]]
            args: list[Tensor | str] = [x, g.const(gamma.transpose(order).reshape(trailing), f"{layer.name}_gamma")]
            if "beta" in layer.params:
                args.append(g.const(beta.transpose(order).reshape(trailing), f"{layer.name}_beta"))
            return g.op("LayerNormalization", args, x.shape, layout, axis=stored[0], epsilon=layer.epsilon)
        # not the trailing axes in either layout: the normalization spelled out over them
        stored = sorted(g.axis(x, a) for a in axes)
        order = sorted(range(rank), key=lambda a: g.axis(x, a))
        reduced = tuple(1 if a in axes else n for a, n in enumerate(full))[1:]
        mean = g.op("ReduceMean", [x], reduced, x.layout, axes=stored, keepdims=1)
        centered = g.op("Sub", [x, mean], x.shape, x.layout)
        square = g.op("Mul", [centered, centered], x.shape, x.layout)
        variance = g.op("ReduceMean", [square], reduced, x.layout, axes=stored, keepdims=1)
        eps = g.const(np.asarray(layer.epsilon, g.dtype), f"{layer.name}_epsilon")
        std = g.op("Sqrt", [g.op("Add", [variance, eps], reduced, x.layout)], reduced, x.layout)
        y = g.op("Div", [centered, std], x.shape, x.layout)
        if "gamma" in layer.params:
            y = g.op("Mul", [y, g.const(gamma.transpose(order), f"{layer.name}_gamma")], x.shape, x.layout)
        if "beta" in layer.params:
            y = g.op("Add", [y, g.const(beta.transpose(order), f"{layer.name}_beta")], x.shape, x.layout)
        return y


@register
class AddConverter(LayerConverter):
    """The converter of xcnn's `Add` layer (Keras `Add`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Add"].keras_name
        'Add'
    """

    xcnn_class = Add

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Sum`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Add, Dense, Input
            >>> from xcnn.models import Model
            >>> inputs = Input((3,))
            >>> model = Model(inputs, Add()([inputs, Dense(3)(inputs)]))
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Gemm', 'Sum', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        first = inputs[0]
        return g.op("Sum", [g.layout(t, first.layout) for t in inputs], first.shape, first.layout)


@register
class ConcatenateConverter(LayerConverter):
    """The converter of xcnn's `Concatenate` layer (Keras `Concatenate`).

    Examples:
        >>> from xcnn.interop.converters import CONVERTERS
        >>> CONVERTERS["Concatenate"].keras_name
        'Concatenate'
    """

    xcnn_class = Concatenate

    def onnx(self, layer: Any, g: OnnxGraph, inputs: list[Tensor]) -> Tensor:
        """As `LayerConverter.onnx`: ONNX `Concat`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
            >>> from xcnn.layers import Concatenate, Dense, Input
            >>> from xcnn.models import Model
            >>> inputs = Input((3,))
            >>> model = Model(inputs, Concatenate()([inputs, Dense(3)(inputs)]))
            >>> [node.op_type for node in onnx_model(model).graph.node]
            ['Gemm', 'Concat', 'Identity']
            >>> x = np.random.default_rng(0).random((2, 3))
            >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
            True
        """
        first = inputs[0]
        same = [g.layout(t, first.layout) for t in inputs]
        shape = layer.compute_output_shape([t.shape for t in inputs])
        axis = layer.axis if layer.axis < 0 else layer.axis - 1 - len(first.shape)  # counted from the end
        return g.op("Concat", same, shape, first.layout, axis=g.axis(first, axis))


def _broadcast_inputs(g: OnnxGraph, inputs: list[Tensor]) -> list[Tensor]:
    """The inputs of an element-wise merge, ready for ONNX's broadcasting, in the layout of the
    first input of the highest rank. One of lower rank gains its size-1 axes right after the
    batch axis, as in Keras and xcnn (ONNX alone would align it with the trailing axes, the
    batch axis among them): an `Unsqueeze`, then the layout; a vector joins NCHW images as
    `(C, 1, 1)` directly."""
    rank = max(len(t.shape) for t in inputs)
    layout = next(t for t in inputs if len(t.shape) == rank).layout
    out = []
    for t in inputs:
        k = rank - len(t.shape)
        if k:
            t = g.layout(t, "nhwc")
            shape = (1,) * k + t.shape
            if layout == "nchw" and rank == 3 and len(t.shape) == 1:  # (C,) -> (C, 1, 1), already NCHW
                axes, stored = [2, 3], "nchw"
            else:
                axes, stored = list(range(1, k + 1)), "nhwc"
            t = g.op("Unsqueeze", [t, g.const(np.asarray(axes, np.int64), "unsqueeze_axes")], shape, stored)
        out.append(g.layout(t, layout))
    return out


class _ElementwiseMergeConverter(LayerConverter):
    """Multiply, Subtract, Average, Maximum, Minimum: one ONNX op (`onnx_op`) over the inputs,
    broadcast as Keras broadcasts them (:func:`_broadcast_inputs`); a binary op (`Mul`, `Sub`)
    folds from the left."""

    onnx_op: str = ""
    variadic: bool = True

    def onnx(self, layer, g, inputs):
        """As `LayerConverter.onnx`: the ONNX op `onnx_op` over the inputs."""
        same = _broadcast_inputs(g, inputs)
        shape = layer.compute_output_shape([t.shape for t in inputs])
        layout = same[0].layout
        if self.variadic:
            return g.op(self.onnx_op, same, shape, layout)
        y = same[0]
        for t in same[1:]:
            y = g.op(self.onnx_op, [y, t], shape, layout)
        return y


@register
class MultiplyConverter(_ElementwiseMergeConverter):
    """The converter of xcnn's `Multiply` layer (Keras `Multiply`): ONNX `Mul`, pairwise.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
        >>> from xcnn.layers import Conv2D, Dense, GlobalAveragePooling2D, Input, Multiply
        >>> from xcnn.models import Model
        >>> inputs = Input((4, 4, 3))
        >>> images = Conv2D(3, 1)(inputs)
        >>> gate = Dense(3, activation="sigmoid")(GlobalAveragePooling2D()(images))  # (N, 3)
        >>> model = Model(inputs, Multiply()([images, gate]), seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]  # the gate as (N, 3, 1, 1)
        ['Transpose', 'Conv', 'ReduceMean', 'Gemm', 'Sigmoid', 'Unsqueeze', 'Mul', 'Transpose', 'Identity']
        >>> x = np.random.default_rng(0).random((2, 4, 4, 3))
        >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
        True
    """

    xcnn_class = Multiply
    onnx_op = "Mul"
    variadic = False


@register
class SubtractConverter(_ElementwiseMergeConverter):
    """The converter of xcnn's `Subtract` layer (Keras `Subtract`): ONNX `Sub`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
        >>> from xcnn.layers import Dense, Input, Subtract
        >>> from xcnn.models import Model
        >>> inputs = Input((3,))
        >>> model = Model(inputs, Subtract()([inputs, Dense(3)(inputs)]), seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]
        ['Gemm', 'Sub', 'Identity']
        >>> x = np.random.default_rng(0).random((2, 3))
        >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
        True
    """

    xcnn_class = Subtract
    onnx_op = "Sub"
    variadic = False


@register
class AverageConverter(_ElementwiseMergeConverter):
    """The converter of xcnn's `Average` layer (Keras `Average`): ONNX `Mean`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
        >>> from xcnn.layers import Average, Dense, Input
        >>> from xcnn.models import Model
        >>> inputs = Input((3,))
        >>> model = Model(inputs, Average()([inputs, Dense(3)(inputs), Dense(1)(inputs)]), seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]
        ['Gemm', 'Gemm', 'Mean', 'Identity']
        >>> x = np.random.default_rng(0).random((2, 3))
        >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
        True
    """

    xcnn_class = Average
    onnx_op = "Mean"


@register
class MaximumConverter(_ElementwiseMergeConverter):
    """The converter of xcnn's `Maximum` layer (Keras `Maximum`): ONNX `Max`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
        >>> from xcnn.layers import Dense, Input, Maximum
        >>> from xcnn.models import Model
        >>> inputs = Input((3,))
        >>> model = Model(inputs, Maximum()([inputs, Dense(3)(inputs)]), seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]
        ['Gemm', 'Max', 'Identity']
        >>> x = np.random.default_rng(0).random((2, 3))
        >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
        True
    """

    xcnn_class = Maximum
    onnx_op = "Max"


@register
class MinimumConverter(_ElementwiseMergeConverter):
    """The converter of xcnn's `Minimum` layer (Keras `Minimum`): ONNX `Min`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import onnx_model, onnx_predict
        >>> from xcnn.layers import Dense, Input, Minimum
        >>> from xcnn.models import Model
        >>> inputs = Input((3,))
        >>> model = Model(inputs, Minimum()([inputs, Dense(3)(inputs)]), seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]
        ['Gemm', 'Min', 'Identity']
        >>> x = np.random.default_rng(0).random((2, 3))
        >>> np.allclose(onnx_predict(model, x), model.predict(x, verbose=0), atol=1e-5)
        True
    """

    xcnn_class = Minimum
    onnx_op = "Min"


def keras_input_shape(config: dict[str, Any], where: str) -> Shape:
    """The per-sample input shape a Keras `InputLayer` config states.

    Args:
        config: The `InputLayer`'s config.
        where: The file, for the error message.

    Returns:
        The shape without the batch axis.

    Raises:
        ValueError: If the config states no shape, or fixes the batch size.

    Examples:
        >>> from xcnn.interop.converters import keras_input_shape
        >>> keras_input_shape({"batch_shape": [None, 28, 28, 1]}, "m.keras")
        (28, 28, 1)
    """
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if shape is None:
        raise unsupported(where, "its InputLayer states no batch_shape")
    if shape[0] is not None:
        raise unsupported(where, f"batch_shape={shape!r} fixes the batch size (xcnn models take any batch size)")
    return tuple(shape[1:])


def activation_names() -> tuple[str, ...]:
    """Every activation name xcnn knows (for the registry's completeness test).

    Returns:
        `xcnn.activations.NAMES`.

    Examples:
        >>> from xcnn.interop.converters import ACTIVATIONS, activation_names
        >>> set(activation_names()) <= set(ACTIVATIONS)
        True
    """
    return activations_module.NAMES
