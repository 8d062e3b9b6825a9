"""Keras 3 model files (``.keras``) and weight files (``.weights.h5``), without Keras.

A ``.keras`` file is a zip of ``config.json`` (the architecture: Keras's serialized model),
``metadata.json`` and ``model.weights.h5``. In the HDF5 file each layer's weights are the
datasets ``layers/<group>/vars/0``, ``1``, ... in the layer's own order, where ``<group>`` is
the snake-case name of the layer's *class* with a counter (``conv2d``, ``conv2d_1``, ...) in
the order of the model's ``layers``; a ``.weights.h5`` file is the same HDF5 tree alone.

Keras orders a functional model's layers by their depth (the longest path to the output,
deepest first), ties broken by a depth-first walk from the output;
:func:`keras_layer_order` reproduces that order so that group names agree with Keras's.

The per-layer mapping (configs, weight layouts) is in :mod:`.converters`; the compile settings
(optimizer, loss, metrics) in :mod:`.keras_compile`. What Keras files do not carry from xcnn:
the optimizer's state and the seed (use xcnn's own ``.safetensors`` format for a checkpoint to
resume from).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import IO, TYPE_CHECKING, Any

from .. import __version__
from ..layers import Input, InputLayer
from . import converters as C
from .keras_compile import compile_from_keras_config, keras_compile_config

if TYPE_CHECKING:
    from .._typing import Device
    from ..layers import Layer
    from ..models import Model

PathLike = str | os.PathLike[str]

KERAS_VERSION = "3.15.1"  # the Keras version whose files these were checked against


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError('Keras .keras and .weights.h5 files need h5py: pip install "xcnn[keras-files]"') from None
    return h5py


# --- layer order and weight paths ---------------------------------------------------------------


def keras_layer_order(model: Model) -> list[Layer]:
    """The model's layers (the InputLayer first) in the order Keras's ``model.layers`` has.

    Args:
        model: A built xcnn model (Sequential or functional).

    Returns:
        Every layer, the `InputLayer` first, deepest (farthest from the output) first, ties in
        the order of a depth-first walk from the output.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import keras_layer_order
        >>> [type(layer).__name__ for layer in keras_layer_order(model)]
        ['InputLayer', 'Dense']
    """
    if model._sequential:
        return [model._input.layer, *model._layers]  # _layers: the non-input layers in order
    output = model._output.layer
    index: dict[int, int] = {}  # pre-order of a depth-first walk from the output, inputs in order
    stack = [output]
    while stack:
        layer = stack.pop()
        if id(layer) in index:
            continue
        index[id(layer)] = len(index)
        stack.extend(t.layer for t in reversed(layer.inbound or []))
    depth = {id(output): 0}  # the longest path to the output
    everything = [model._input.layer, *model._layers]
    for layer in reversed(everything):
        for t in layer.inbound or []:
            depth[id(t.layer)] = max(depth.get(id(t.layer), 0), depth.get(id(layer), 0) + 1)
    return sorted(everything, key=lambda layer: (-depth[id(layer)], index[id(layer)]))


def weight_groups(model: Model) -> list[tuple[str, Layer]]:
    """``[(group, layer)]``: each layer's group in a Keras weights file, in Keras's order.

    Args:
        model: A built xcnn model.

    Returns:
        `(group, layer)` pairs; `group` is the HDF5 path `layers/<class in snake case>[_<n>]`.
        A Sequential model's `InputLayer` has none.

    Raises:
        ValueError: If a layer has no Keras counterpart.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import weight_groups
        >>> [(group, layer.name) for group, layer in weight_groups(model)]
        [('layers/dense', 'd')]
    """
    counts: dict[str, int] = {}
    out: list[tuple[str, Layer]] = []
    for layer in keras_layer_order(model):
        if model._sequential and isinstance(layer, InputLayer):
            continue  # a Sequential model's layers leave its InputLayer out
        base = C.keras_snake_case(C.converter_for(layer).keras_name)
        n = counts.get(base, 0)
        counts[base] = n + 1
        out.append((f"layers/{base}" if n == 0 else f"layers/{base}_{n}", layer))
    return out


# --- weights ---------------------------------------------------------------------------------------


def write_weights_h5(model: Model, target: PathLike | IO[bytes]) -> None:
    """Write the model's weights as Keras's HDF5 tree to ``target`` (a path or a binary file).

    Args:
        model: A built xcnn model.
        target: Where to write: a path or a writable binary file.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If a layer (or its configuration) has no Keras counterpart.

    Examples:
        >>> import io
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import write_weights_h5
        >>> buffer = io.BytesIO()
        >>> write_weights_h5(model, buffer)
        >>> buffer.getvalue()[:4]
        b'\\x89HDF'
    """
    h5py = _h5py()
    with h5py.File(target, "w") as f:
        for group, layer in weight_groups(model):
            converter = C.converter_for(layer)
            if not isinstance(layer, InputLayer):
                converter.keras_config(layer)  # refuses what Keras cannot hold (e.g. a prelu activation)
            arrays = [] if isinstance(layer, InputLayer) else converter.weights_to_keras(layer)
            g = f.create_group(f"{group}/vars")
            g.attrs["name"] = layer.name
            for i, array in enumerate(arrays):
                g.create_dataset(str(i), data=array)
        f.create_group("vars").attrs["name"] = model.name


def read_weights_h5(model: Model, source: PathLike | IO[bytes], where: str) -> None:
    """Set the model's weights from a Keras HDF5 weights tree (a path or a binary file).

    Every layer's weights are checked before any is set, so a bad file leaves the model as it was.

    Args:
        model: A built xcnn model with the architecture the file was saved from.
        source: A path or a readable binary file.
        where: The file's name in error messages.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If `source` is not an HDF5 file, lacks a layer's weights, holds weights of
            layers the model does not have, or a weight has the wrong shape.

    Examples:
        >>> import io
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import read_weights_h5, write_weights_h5
        >>> buffer = io.BytesIO()
        >>> write_weights_h5(model, buffer)
        >>> twin = Sequential([Input((3,)), Dense(2)])
        >>> read_weights_h5(twin, io.BytesIO(buffer.getvalue()), "m.weights.h5")
        >>> all(np.array_equal(a, b) for a, b in zip(twin.get_weights(), model.get_weights()))
        True
    """
    h5py = _h5py()
    try:
        f = h5py.File(source, "r")
    except OSError as exc:
        raise ValueError(f"{where} is not a readable HDF5 weights file ({exc})") from None
    with f:
        found = []
        for group, layer in weight_groups(model):
            converter = C.converter_for(layer)
            vars_group = f.get(f"{group}/vars")
            arrays = [] if vars_group is None else [vars_group[str(i)][()] for i in range(len(vars_group))]
            if vars_group is None and layer._weight_slots:
                raise ValueError(
                    f"{where} has no weights for layer {layer.name!r} (group {group}); "
                    "the file was saved from a different architecture"
                )
            converter.check_keras_weights(layer, arrays, where)
            found.append((layer, arrays))
        stored = {name for name in f.get("layers", {}) if len(f["layers"][name].get("vars", {}))}
        unused = stored - {group.split("/")[1] for group, _ in weight_groups(model)}
        if unused:
            raise ValueError(f"{where} holds weights for layers the model does not have: {sorted(unused)}")
        for layer, arrays in found:  # every check passed: now change the model
            if arrays:
                layer.set_weights(arrays)


# --- whole models ------------------------------------------------------------------------------------


def _layer_entry(layer, functional):
    converter = C.converter_for(layer)
    entry = {
        "module": "keras.layers",
        "class_name": converter.keras_name,
        "config": converter.keras_config(layer),
        "registered_name": None,
    }
    if not isinstance(layer, InputLayer):
        shapes = [list(t.shape) for t in layer.inbound]
        entry["build_config"] = {"input_shape": shapes if layer.multi_input else shapes[0]}
    if functional:
        entry["name"] = layer.name
        tensors = [
            {
                "class_name": "__keras_tensor__",
                "config": {
                    "shape": list(t.shape),
                    "dtype": layer.dtype or "float32",
                    "keras_history": [t.layer.name, 0, 0],
                },
            }
            for t in layer.inbound or []
        ]
        entry["inbound_nodes"] = (
            []
            if isinstance(layer, InputLayer)
            else [{"args": [tensors] if layer.multi_input else tensors, "kwargs": {}}]
        )
    return entry


def keras_model_config(model: Model) -> dict[str, Any]:
    """The model as Keras's serialized model (the ``config.json`` of a ``.keras`` file).

    Args:
        model: An xcnn model (built here if it is not yet).

    Returns:
        The JSON-ready dict, with the `compile_config` when the model is compiled.

    Raises:
        ValueError: If a layer, or the compile settings, have no Keras counterpart.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import keras_model_config
        >>> config = keras_model_config(model)
        >>> config["class_name"], [layer["class_name"] for layer in config["config"]["layers"]]
        ('Sequential', ['InputLayer', 'Dense'])
    """
    model._ensure_built()
    compile_config = keras_compile_config(model)
    layers = keras_layer_order(model)
    input_shape = [None, *model._input.item_shape]
    entries = [_layer_entry(layer, not model._sequential) for layer in layers]
    for entry in entries:
        if entry["class_name"] == "InputLayer":
            entry["config"]["dtype"] = model.dtype
    config: dict[str, Any]
    if model._sequential:
        config = {
            "module": "keras",
            "class_name": "Sequential",
            "registered_name": None,
            "config": {
                "name": model.name,
                "trainable": True,
                "dtype": C.dtype_policy(model.dtype),
                "layers": entries,
                "build_input_shape": input_shape,
            },
            "build_config": {"input_shape": input_shape},
        }
    else:
        config = {
            "module": "keras.src.models.functional",
            "class_name": "Functional",
            "registered_name": "Functional",
            "config": {
                "name": model.name,
                "trainable": True,
                "layers": entries,
                "input_layers": [model._input.layer.name, 0, 0],
                "output_layers": [model._output.layer.name, 0, 0],
            },
            "build_config": {"input_shape": None},
        }
    if compile_config is not None:
        config["compile_config"] = compile_config
    return config


def keras_file_bytes(model: Model) -> bytes:
    """The bytes of a ``.keras`` file holding ``model``.

    Args:
        model: A built xcnn model.

    Returns:
        A zip of `metadata.json`, `config.json` and `model.weights.h5`.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If a layer, or the compile settings, have no Keras counterpart.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import keras_file_bytes
        >>> keras_file_bytes(model)[:2]
        b'PK'
    """
    config = json.dumps(keras_model_config(model))
    metadata = json.dumps(
        {
            "keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            "producer": f"xcnn {__version__}",
        }
    )
    weights = io.BytesIO()
    write_weights_h5(model, weights)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("metadata.json", metadata)
        z.writestr("config.json", config)
        z.writestr("model.weights.h5", weights.getvalue())  # Keras stores it uncompressed too
    return out.getvalue()


def _dtype_of(config, where):
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype not in ("float32", "float64"):
        raise C.unsupported(where, f"dtype {dtype!r} is not float32 or float64")
    return dtype


def _history(tensor, where):
    if not isinstance(tensor, dict) or tensor.get("class_name") != "__keras_tensor__":
        raise C.unsupported(where, f"an input {tensor!r} is not a layer's output")
    name, node, index = tensor["config"]["keras_history"]
    if node != 0 or index != 0:
        raise C.unsupported(where, "it uses a layer shared between several calls (xcnn calls each layer once)")
    return name


def _inbound_names(entry, where):
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1:
        raise C.unsupported(where, f"it is called {len(nodes)} times (xcnn calls each layer once)")
    args, kwargs = nodes[0].get("args", []), nodes[0].get("kwargs", {})
    # Keras records training=False (True for RandomFlip and RandomRotation) on symbolic calls; its
    # functional models pass their own mode over it when they run, and so does xcnn
    extra = {k: v for k, v in kwargs.items() if v is not None and not (k == "training" and isinstance(v, bool))}
    if len(args) != 1 or extra:
        raise C.unsupported(where, f"it is called with arguments {args[1:]!r} {extra!r} besides its input")
    tensors = args[0] if isinstance(args[0], list) else [args[0]]
    return [_history(t, where) for t in tensors]


def _single(refs, what, where):
    if refs and not isinstance(refs[0], list):
        refs = [refs]
    if len(refs) != 1:
        raise C.unsupported(where, f"it has {len(refs)} {what} (xcnn models have one)")
    return refs[0][0]


def model_from_keras_config(
    config: dict[str, Any], backend: str | None = None, where: str = "the Keras model", device: Device | None = None
) -> Model:
    """An xcnn model equal to a Keras serialized model (weights freshly initialized).

    Args:
        config: Keras's serialized model (a `.keras` file's `config.json`, or
            `keras_model_config`'s result).
        backend: The new model's backend (default: xcnn's default backend).
        where: The model's origin in error messages.
        device: The new model's device (default: the backend's default; see
            `xcnn.backend.device_of`).

    Returns:
        A `Sequential` or functional `Model`, not compiled.

    Raises:
        ValueError: If the model class is not Sequential or Functional, a layer has no xcnn
            counterpart, the layers mix dtypes, no input shape is stated, or a layer is shared.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import keras_model_config, model_from_keras_config
        >>> twin = model_from_keras_config(keras_model_config(model))
        >>> type(twin).__name__, twin.output_shape
        ('Sequential', (None, 2))
    """
    from ..models import Model, Sequential

    kind, body = config.get("class_name"), config.get("config") or {}
    if kind not in ("Sequential", "Functional", "Model"):
        raise C.unsupported(where, f"its model class {kind!r} is not Sequential or Functional")
    entries = body.get("layers") or []
    dtypes = {_dtype_of(e.get("config") or {}, f"{where}: layer {e.get('config', {}).get('name')!r}") for e in entries}
    if len(dtypes) > 1:
        raise C.unsupported(where, f"its layers mix the dtypes {sorted(dtypes)}")
    dtype = dtypes.pop() if dtypes else "float32"
    outputs = {}  # layer name -> SymbolicTensor
    nested: list[Layer] = []  # the layers of nested Sequential models, written out in the graph
    for entry in entries:
        layer_config = entry.get("config") or {}
        cls = entry.get("class_name")
        layer_where = f"{where}: Keras layer {layer_config.get('name')!r} ({cls})"
        if cls == "InputLayer":
            outputs[layer_config["name"]] = Input(
                C.keras_input_shape(layer_config, layer_where), name=layer_config["name"]
            )
            continue
        if kind == "Sequential":
            if not outputs:  # a Sequential config without an InputLayer states its input shape elsewhere
                shape = body.get("build_input_shape") or (entry.get("build_config") or {}).get("input_shape")
                if shape is None:
                    raise C.unsupported(where, "it states no input shape (it was never built)")
                outputs["__input__"] = Input(tuple(shape[1:]))
            inputs = [list(outputs.values())[-1]]
        else:
            inputs = [
                outputs[name] if name in outputs else _missing(name, layer_where)
                for name in _inbound_names(entry, layer_where)
            ]
        if cls == "Sequential":  # a nested model (data augmentation): its layers, written out here
            tensor = inputs[0]
            for inner in layer_config.get("layers") or []:
                if inner.get("class_name") != "InputLayer":
                    nested.append(_converted(inner, [tensor], f"{layer_where}: {inner.get('class_name')}", where))
                    tensor = nested[-1].output
            outputs[layer_config["name"]] = tensor
            continue
        layer = _converted(entry, inputs, layer_where, where)
        outputs[layer.name] = layer.output
    if not outputs:
        raise C.unsupported(where, "it has no layers")
    kwargs: dict[str, Any] = {"backend": backend, "dtype": dtype, "name": body.get("name"), "device": device}
    first = next(iter(outputs.values()))
    model: Model
    if kind == "Sequential":
        model = Sequential(**kwargs)
        model._set_graph(first, list(outputs.values())[-1])
    else:
        input_name = _single(body.get("input_layers") or [], "inputs", where)
        output_name = _single(body.get("output_layers") or [], "outputs", where)
        model = Model(outputs[input_name], outputs[output_name], **kwargs)
    weighted = [layer.name for layer in nested if layer._weight_slots]
    if weighted:
        # Keras keeps a nested model's weights under its own path, which a graph of the layers
        # written out has no place for: only weightless ones (augmentation, rescaling) are read
        raise C.unsupported(
            where,
            f"a nested model holds layers with weights ({', '.join(weighted)}); xcnn reads nested "
            "models of weightless layers only (such as data augmentation)",
        )
    return model


def _converted(entry, inputs, layer_where, where):
    """The xcnn layer of one Keras layer entry, called on ``inputs`` (symbolic tensors)."""
    converter = C.KERAS_CLASSES.get(entry.get("class_name"))
    if converter is None:
        raise C.unsupported(
            layer_where, f"xcnn has no {entry.get('class_name')} layer (it converts {sorted(C.KERAS_CLASSES)})"
        )
    try:
        layer = converter.from_keras(entry.get("config") or {}, inputs[0].item_shape)
        layer(inputs if layer.multi_input else inputs[0])
    except ValueError as exc:  # the converter's sentence names the layer; this names the file
        raise ValueError(f"{where}: {exc}") from None
    return layer


def _missing(name, where):
    raise C.unsupported(where, f"its input {name!r} comes from no earlier layer")


def read_keras_zip(path: PathLike | IO[bytes]) -> tuple[dict[str, Any], bytes]:
    """``(config, weights_h5_bytes)`` of a ``.keras`` file.

    Args:
        path: The `.keras` file: a path or a readable binary file.

    Returns:
        The parsed `config.json` and the bytes of `model.weights.h5`.

    Raises:
        ValueError: If `path` is not a zip file, or lacks `config.json` or `model.weights.h5`.

    Examples:
        >>> import io
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import keras_file_bytes, read_keras_zip
        >>> config, weights = read_keras_zip(io.BytesIO(keras_file_bytes(model)))
        >>> config["config"]["name"], weights[:4]
        ('m', b'\\x89HDF')
    """
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "config.json" not in names or "model.weights.h5" not in names:
                raise ValueError(f"{path} is a zip file but not a Keras 3 model (no config.json or model.weights.h5)")
            return json.loads(z.read("config.json")), z.read("model.weights.h5")
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path} is not a readable .keras file ({exc})") from None


def load_keras_model(
    path: PathLike, backend: str | None = None, compile: bool = True, device: Device | None = None
) -> Model:
    """The xcnn model a Keras 3 ``.keras`` file holds, compiled from its ``compile_config`` when
    it has one and ``compile`` is true (see :mod:`.keras_compile`; the optimizer starts afresh).

    Args:
        path: The `.keras` file.
        backend: The model's backend (default: xcnn's default backend).
        compile: Whether to compile the model from the file's compile settings.
        device: The model's device (default: the backend's default; see `xcnn.backend.device_of`).

    Returns:
        The model, with the file's weights.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If the file is not a Keras 3 model, or holds something xcnn cannot map.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import load_keras_model, save_keras_model
        >>> save_keras_model(model, "m.keras")
        >>> twin = load_keras_model("m.keras")
        >>> x = np.ones((1, 3), "float32")
        >>> np.allclose(twin.predict(x, verbose=0), model.predict(x, verbose=0))
        True
    """
    config, weights = read_keras_zip(path)
    model = model_from_keras_config(config, backend=backend, where=str(path), device=device)
    read_weights_h5(model, io.BytesIO(weights), str(path))
    if compile and config.get("compile_config"):
        compile_from_keras_config(model, config["compile_config"], where=str(path))
    return model


def save_keras_model(model: Model, path: PathLike) -> None:
    """Save the model as a Keras 3 `.keras` file (written atomically: a failed save leaves no file).

    Args:
        model: A built xcnn model.
        path: The file to write.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If a layer, or the compile settings, have no Keras counterpart.

    Examples:
        >>> import os
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import save_keras_model
        >>> save_keras_model(model, "m.keras")
        >>> os.path.exists("m.keras")
        True
    """
    from ..models.saving import atomic_write

    atomic_write(path, keras_file_bytes(model))


def save_keras_weights(model: Model, path: PathLike) -> None:
    """Save the model's weights as a Keras `.weights.h5` file (written atomically).

    Args:
        model: An xcnn model (built here if it is not yet).
        path: The file to write.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If a layer has no Keras counterpart.

    Examples:
        >>> import os
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import save_keras_weights
        >>> save_keras_weights(model, "m.weights.h5")
        >>> os.path.exists("m.weights.h5")
        True
    """
    from ..models.saving import atomic_write

    model._ensure_built()
    data = io.BytesIO()
    write_weights_h5(model, data)
    atomic_write(path, data.getvalue())


def load_keras_weights(model: Model, path: PathLike) -> None:
    """Weights from a ``.weights.h5`` file, or from the weights inside a ``.keras`` file.

    Args:
        model: An xcnn model (built here if it is not yet) with the file's architecture.
        path: The `.weights.h5` or `.keras` file.

    Raises:
        ImportError: If h5py is not installed.
        ValueError: If the file is unreadable or its weights do not fit the model.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], name="m")
        >>> from xcnn.interop.keras_format import load_keras_weights, save_keras_weights
        >>> save_keras_weights(model, "m.weights.h5")
        >>> twin = Sequential([Input((3,)), Dense(2)])
        >>> load_keras_weights(twin, "m.weights.h5")
        >>> all(np.array_equal(a, b) for a, b in zip(twin.get_weights(), model.get_weights()))
        True
    """
    model._ensure_built()
    if zipfile.is_zipfile(path):
        _, weights = read_keras_zip(path)
        read_weights_h5(model, io.BytesIO(weights), str(path))
    else:
        read_weights_h5(model, path, str(path))
