"""ONNX export: a model's inference graph (opset 17) built with ``onnx.helper``.

The graph's input is ``"input"``, NHWC like the model's, with a dynamic batch axis
(``("batch", H, W, C)``); its output is ``"output"``. ONNX's Conv and pooling ops work on NCHW,
so the builder tracks each tensor's layout and inserts a Transpose only where a layer needs the
other one: NHWC -> NCHW before the first convolution, back before Flatten, Reshape, a Dense on images,
or the output. Every layer runs in its inference behaviour: Dropout, RandomTranslation,
RandomFlip and RandomRotation are the identity, BatchNormalization uses its moving statistics,
rrelu its mean slope.

Each layer's and activation's nodes come from its entry in :mod:`.converters`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .. import __version__
from . import converters as C

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17; onnxruntime reads it

# NHWC -> NCHW moves axis 3 to position 1; position p of NCHW holds NHWC axis _TO_NCHW[p]
_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('ONNX export needs onnx: pip install "xcnn[onnx]"') from None
    return onnx


class Tensor:
    """A value in the graph: its ONNX name, its per-sample ``shape`` in xcnn's (NHWC) order,
    and the ``layout`` it is stored in (``"nhwc"``, or ``"nchw"`` for images)."""

    def __init__(self, name, shape, layout):
        self.name, self.shape, self.layout = name, tuple(shape), layout
        self.other_layout = None  # the same values transposed, once made


class OnnxGraph:
    """Collects nodes and constants; the converters call :meth:`op`, :meth:`const`,
    :meth:`layout`, :meth:`axis` and :meth:`channel_shaped`."""

    def __init__(self, dtype):
        onnx = _onnx()
        self.dtype = np.dtype(dtype)
        self.onnx_dtype = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes, self.initializers = [], []
        self._used = Counter()

    def _fresh(self, base):
        n = self._used[base]
        self._used[base] += 1
        return base if n == 0 else f"{base}_{n}"

    def const(self, array, base, dtype=None):
        """A constant (an initializer); floating arrays take the model's dtype unless ``dtype``
        says another (ops such as Resize want float32 arguments). Returns its name."""
        onnx = _onnx()
        array = np.asarray(array)
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype.kind == "f":
            array = array.astype(self.dtype)
        name = self._fresh(base)
        self.initializers.append(onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, shape, layout, output=None, **attrs):
        """Add one node; ``inputs`` are :class:`Tensor` objects or constant names."""
        onnx = _onnx()
        name = output or self._fresh(op_type.lower())
        names = [t.name if isinstance(t, Tensor) else t for t in inputs]
        self.nodes.append(onnx.helper.make_node(op_type, names, [name], name=f"{name}_node", **attrs))
        return Tensor(name, shape, layout)

    def layout(self, t, layout):
        """``t`` stored in ``layout``: images get one Transpose the first time it is asked for."""
        if len(t.shape) != 3 or t.layout == layout:
            return t
        if t.other_layout is None:
            perm = _TO_NCHW if layout == "nchw" else _TO_NHWC
            t.other_layout = self.op("Transpose", [t], t.shape, layout, perm=list(perm))
            t.other_layout.other_layout = t
        return t.other_layout

    def axis(self, t, axis):
        """The stored position of xcnn axis ``axis`` (counting the batch axis; negative from the end)."""
        rank = len(t.shape) + 1
        axis %= rank
        return _TO_NCHW.index(axis) if t.layout == "nchw" and rank == 4 else axis

    def model(self, name, inputs, result):
        """The checked ``onnx.ModelProto`` from ``inputs`` (named "input") to ``result``, given
        back in NHWC as "output"."""
        onnx = _onnx()
        result = self.layout(result, "nhwc")
        self.op("Identity", [result], result.shape, "nhwc", output="output")
        tensor = onnx.helper.make_tensor_value_info
        graph = onnx.helper.make_graph(
            self.nodes, name, [tensor(inputs.name, self.onnx_dtype, ["batch", *inputs.shape])],
            [tensor("output", self.onnx_dtype, ["batch", *result.shape])], self.initializers)
        proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                       producer_name="xcnn", producer_version=__version__)
        proto.ir_version = IR_VERSION
        onnx.checker.check_model(proto, full_check=True)
        return proto

    def channel_shaped(self, t, values):
        """Per-channel ``values`` ``(C,)`` shaped to broadcast over ``t`` in its layout."""
        values = np.asarray(values)
        return values.reshape(-1, 1, 1) if t.layout == "nchw" and len(t.shape) == 3 else values


def onnx_model(model):
    """The model as an ``onnx.ModelProto``, checked with ``onnx.checker``."""
    model._ensure_built()
    g = OnnxGraph(model.dtype)
    values = {id(model._input): Tensor("input", model._input.shape, "nhwc")}
    for layer in model._layers:  # the non-input layers in topological order
        where = f"layer {layer.name!r} ({type(layer).__name__})"
        y = C.converter_for(layer).onnx(layer, g, [values[id(t)] for t in layer.inbound])
        if layer.activation is not None:
            y = C.activation_converter(layer.activation, where).onnx(g, y, layer.activation, layer)
        values[id(layer.output)] = y
    return g.model(model.name, values[id(model._input)], values[id(model._output)])


def export_onnx(model, path):
    """Write the model's ONNX graph to ``path`` (atomically)."""
    from ..models.saving import atomic_write

    atomic_write(path, onnx_model(model).SerializeToString())
