"""ONNX export: a model's inference graph (opset 17) built with ``onnx.helper``.

The graph's input is ``"input"``, NHWC like the model's, with a dynamic batch axis
(``("batch", H, W, C)``); its output is ``"output"``. ONNX's Conv and pooling ops work on NCHW,
so the builder tracks each tensor's layout and inserts a Transpose only where a layer needs the
other one: NHWC -> NCHW before the first convolution, back before Flatten, Reshape, a Dense on images,
or the output. Every layer runs in its inference behaviour: Dropout, RandomTranslation,
RandomFlip, RandomRotation, RandomZoom, RandomContrast, RandomBrightness, SpatialDropout2D,
GaussianNoise (and Identity) are the identity, RandomCrop is its centre window (a Slice, and a
Resize where the window is of another size, as CenterCrop), Normalization is Sub and Div,
BatchNormalization uses its moving statistics, rrelu its mean slope.

Each layer's and activation's nodes come from its entry in :mod:`.converters`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from .._typing import DType
from . import converters as C

if TYPE_CHECKING:
    from ..models import Model

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
    """A value in the graph: its ONNX name, its per-sample shape and the layout it is stored in.

    Args:
        name: The ONNX name.
        shape: The per-sample shape in xcnn's (NHWC) order, e.g. `(H, W, C)` or `(units,)`.
        layout: `"nhwc"`, or `"nchw"` for images stored channels-first.

    Examples:
        >>> from xcnn.interop.onnx_export import Tensor
        >>> t = Tensor("input", [28, 28, 1], "nhwc")
        >>> t.shape, t.layout, t.other_layout
        ((28, 28, 1), 'nhwc', None)
    """

    def __init__(self, name: str, shape: Sequence[int], layout: str) -> None:
        self.name, self.shape, self.layout = name, tuple(shape), layout
        self.other_layout: Tensor | None = None  # the same values transposed, once made


class OnnxGraph:
    """Collects nodes and constants of an ONNX graph being built.

    The converters call `op`, `const`, `layout`, `axis` and `channel_shaped`.

    Args:
        dtype: The model's float dtype (`"float32"` or `"float64"`), that of the graph's values.

    Raises:
        ImportError: If onnx is not installed.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
        >>> g = OnnxGraph("float32")
        >>> x = Tensor("input", (4, 4, 3), "nhwc")
        >>> y = g.op("Relu", [g.layout(x, "nchw")], x.shape, "nchw")
        >>> [node.op_type for node in g.model("tiny", x, y).graph.node]
        ['Transpose', 'Relu', 'Transpose', 'Identity']
    """

    def __init__(self, dtype: DType) -> None:
        onnx = _onnx()
        self.dtype = np.dtype(dtype)
        self.onnx_dtype = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes: list[Any] = []  # onnx NodeProto
        self.initializers: list[Any] = []  # onnx TensorProto
        self._used: Counter[str] = Counter()

    def _fresh(self, base):
        n = self._used[base]
        self._used[base] += 1
        return base if n == 0 else f"{base}_{n}"

    def const(self, array: Any, base: str, dtype: DType | None = None) -> str:
        """Add a constant (an initializer).

        Args:
            array: The value, anything `np.asarray` takes.
            base: The name to start from; `_1`, `_2`, ... are appended when it is taken.
            dtype: The constant's dtype; by default floating arrays take the model's dtype
                (ops such as Resize want float32 arguments), others keep theirs.

        Returns:
            The constant's name.

        Examples:
            >>> import numpy as np
            >>> from xcnn.interop.onnx_export import OnnxGraph
            >>> g = OnnxGraph("float32")
            >>> g.const(np.ones(3), "bias"), g.const(np.ones(3), "bias")
            ('bias', 'bias_1')
        """
        onnx = _onnx()
        array = np.asarray(array)
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype.kind == "f":
            array = array.astype(self.dtype)
        name = self._fresh(base)
        self.initializers.append(onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(
        self,
        op_type: str,
        inputs: Sequence[Tensor | str],
        shape: Sequence[int],
        layout: str,
        output: str | None = None,
        **attrs: Any,
    ) -> Tensor:
        """Add one node.

        Args:
            op_type: The ONNX operator (`"Conv"`, `"Relu"`, ...).
            inputs: `Tensor` objects or constant names.
            shape: The result's per-sample shape in NHWC order.
            layout: The result's layout (`"nhwc"` or `"nchw"`).
            output: The result's name (default: a fresh one from `op_type`).
            **attrs: The node's ONNX attributes.

        Returns:
            The result, a `Tensor`.

        Examples:
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> g = OnnxGraph("float32")
            >>> y = g.op("Relu", [Tensor("input", (3,), "nhwc")], (3,), "nhwc")
            >>> y.name, len(g.nodes)
            ('relu', 1)
        """
        onnx = _onnx()
        name = output or self._fresh(op_type.lower())
        names = [t.name if isinstance(t, Tensor) else t for t in inputs]
        self.nodes.append(onnx.helper.make_node(op_type, names, [name], name=f"{name}_node", **attrs))
        return Tensor(name, shape, layout)

    def layout(self, t: Tensor, layout: str) -> Tensor:
        """`t` stored in `layout`: images get one Transpose the first time it is asked for.

        Args:
            t: A value of the graph.
            layout: `"nhwc"` or `"nchw"`.

        Returns:
            `t` itself, or its transposed twin (made once, then reused).

        Examples:
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> g = OnnxGraph("float32")
            >>> x = Tensor("input", (4, 4, 3), "nhwc")
            >>> nchw = g.layout(x, "nchw")
            >>> nchw.layout, g.layout(x, "nchw") is nchw, g.layout(nchw, "nhwc") is x
            ('nchw', True, True)
        """
        if len(t.shape) != 3 or t.layout == layout:
            return t
        if t.other_layout is None:
            perm = _TO_NCHW if layout == "nchw" else _TO_NHWC
            t.other_layout = self.op("Transpose", [t], t.shape, layout, perm=list(perm))
            t.other_layout.other_layout = t
        return t.other_layout

    def axis(self, t: Tensor, axis: int, layout: str | None = None) -> int:
        """The stored position of xcnn axis `axis` of `t`.

        Args:
            t: A value of the graph.
            axis: An axis in NHWC order, counting the batch axis; negative from the end.
            layout: The layout to count in (default `t`'s own): where the axis would be if
                `t` were stored so, without making that twin.

        Returns:
            The axis in `t`'s stored layout (or in `layout`).

        Examples:
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> g = OnnxGraph("float32")
            >>> g.axis(Tensor("x", (4, 4, 3), "nhwc"), -1), g.axis(Tensor("x", (4, 4, 3), "nchw"), -1)
            (3, 1)
            >>> g.axis(Tensor("x", (4, 4, 3), "nhwc"), 1, "nchw"), len(g.nodes)
            (2, 0)
        """
        rank = len(t.shape) + 1
        axis %= rank
        return _TO_NCHW.index(axis) if (layout or t.layout) == "nchw" and rank == 4 else axis

    def model(self, name: str, inputs: Tensor, result: Tensor) -> Any:
        """The checked `onnx.ModelProto` from `inputs` to `result`.

        Args:
            name: The graph's name.
            inputs: The graph's input (named "input"), with a dynamic batch axis.
            result: The value given back, in NHWC, as "output".

        Returns:
            The `onnx.ModelProto` (opset 17), checked with `onnx.checker`.

        Raises:
            onnx.checker.ValidationError: If the graph is not valid ONNX.

        Examples:
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> g = OnnxGraph("float32")
            >>> x = Tensor("input", (3,), "nhwc")
            >>> proto = g.model("tiny", x, g.op("Relu", [x], (3,), "nhwc"))
            >>> proto.graph.output[0].name, proto.opset_import[0].version
            ('output', 17)
        """
        onnx = _onnx()
        result = self.layout(result, "nhwc")
        self.op("Identity", [result], result.shape, "nhwc", output="output")
        tensor = onnx.helper.make_tensor_value_info
        graph = onnx.helper.make_graph(
            self.nodes,
            name,
            [tensor(inputs.name, self.onnx_dtype, ["batch", *inputs.shape])],
            [tensor("output", self.onnx_dtype, ["batch", *result.shape])],
            self.initializers,
        )
        proto = onnx.helper.make_model(
            graph,
            opset_imports=[onnx.helper.make_opsetid("", OPSET)],
            producer_name="xcnn",
            producer_version=__version__,
        )
        proto.ir_version = IR_VERSION
        onnx.checker.check_model(proto, full_check=True)
        return proto

    def channel_shaped(self, t: Tensor, values: Any) -> np.ndarray:
        """Per-channel `values` shaped to broadcast over `t` in its layout.

        Args:
            t: A value of the graph.
            values: `(C,)`.

        Returns:
            `(C, 1, 1)` for images stored NCHW, else `(C,)`.

        Examples:
            >>> from xcnn.interop.onnx_export import OnnxGraph, Tensor
            >>> g = OnnxGraph("float32")
            >>> g.channel_shaped(Tensor("x", (4, 4, 3), "nchw"), [1.0, 2.0, 3.0]).shape
            (3, 1, 1)
        """
        values = np.asarray(values)
        return values.reshape(-1, 1, 1) if t.layout == "nchw" and len(t.shape) == 3 else values


def onnx_model(model: Model) -> Any:
    """The model's inference graph as an `onnx.ModelProto`, checked with `onnx.checker`.

    Args:
        model: A built xcnn model (Sequential or functional).

    Returns:
        The `onnx.ModelProto`: input "input" `("batch", H, W, C)` (or the model's input shape),
        output "output", opset 17.

    Raises:
        ImportError: If onnx is not installed.
        ValueError: If a layer or activation has no ONNX conversion.

    Examples:
        >>> from xcnn.interop.onnx_export import onnx_model
        >>> from xcnn.layers import Conv2D, Dense, Flatten, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((4, 4, 1)), Conv2D(2, 3), Flatten(), Dense(3)], seed=0)
        >>> [node.op_type for node in onnx_model(model).graph.node]
        ['Transpose', 'Conv', 'Transpose', 'Flatten', 'Gemm', 'Identity']
    """
    model._ensure_built()
    g = OnnxGraph(model.dtype)
    values = {id(model._input): Tensor("input", model._input.item_shape, "nhwc")}
    for layer in model._layers:  # the non-input layers in topological order
        where = f"layer {layer.name!r} ({type(layer).__name__})"
        y = C.converter_for(layer).onnx(layer, g, [values[id(t)] for t in layer.inbound])
        if layer.activation is not None:
            y = C.activation_converter(layer.activation, where).onnx(g, y, layer.activation, layer)
        values[id(layer.output)] = y
    return g.model(model.name, values[id(model._input)], values[id(model._output)])


def export_onnx(model: Model, path: str | os.PathLike[str]) -> None:
    """Write the model's ONNX graph (`onnx_model`) to `path`, atomically.

    Args:
        model: A built xcnn model.
        path: The file to write (`.onnx`).

    Raises:
        ImportError: If onnx is not installed.
        ValueError: If a layer or activation has no ONNX conversion.
        OSError: If the file cannot be written.

    Examples:
        >>> import os
        >>> from xcnn.interop.onnx_export import export_onnx
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> export_onnx(Sequential([Input((3,)), Dense(2)], seed=0), "model.onnx")
        >>> os.path.exists("model.onnx")
        True
    """
    from ..models.saving import atomic_write

    atomic_write(path, onnx_model(model).SerializeToString())


def onnx_predict(model: Model, x: Any) -> np.ndarray:
    """What the model's ONNX graph (`onnx_model`) computes for `x`, run by ONNX Runtime on the
    CPU: a check of an export against `model.predict`.

    Args:
        model: A built xcnn model.
        x: A batch `(N, ...)` of the model's input shape, a NumPy array or anything `np.asarray`
            takes; cast to the model's dtype.

    Returns:
        The NumPy output `(N, ...)`, in the model's dtype.

    Raises:
        ImportError: If onnx or onnxruntime is not installed.
        ValueError: If a layer or activation has no ONNX conversion.

    Examples:
        >>> import numpy as np
        >>> from xcnn.interop.onnx_export import onnx_predict
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, activation="relu")], seed=0)
        >>> x = np.random.default_rng(0).random((4, 3))
        >>> y = onnx_predict(model, x)
        >>> y.shape, y.dtype, np.allclose(y, model.predict(x, verbose=0), atol=1e-6)
        ((4, 2), dtype('float32'), True)
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_model(model).SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = session.run(["output"], {"input": np.asarray(x, dtype=model.dtype)})
    return y
