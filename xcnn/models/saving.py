"""Saving and loading: architecture as JSON and weights as safetensors; nothing is executed."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile

import numpy as np

from .. import backend as B
from .. import optimizers as optimizers_module
from ..layers import LAYER_CLASSES, InputLayer
from .model import FORMAT_VERSION, Model
from .sequential import Sequential


def save_model(model, path, extra=None):
    """Write ``model`` to ``path`` (see :meth:`Model.save`)."""
    tensors = {}
    for layer, kind, d in model._weight_dicts():
        for k, v in d.items():
            tensors[f"{kind}/{layer.name}/{k}"] = np.ascontiguousarray(B.to_numpy(v))
    if model.optimizer is not None:
        for key, slots in model.optimizer.state.items():
            for slot, v in slots.items():
                tensors[f"optimizer/{key}/{slot}"] = np.ascontiguousarray(B.to_numpy(v))
    config = json.dumps({**model.get_config(), "extra": extra or {}}, sort_keys=True)
    from safetensors.numpy import save as save_safetensors

    data = save_safetensors(tensors, metadata={"xcnn_config": config, "xcnn_sha256": _digest(config, tensors)})
    atomic_write(path, data)


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


def load_model(path, backend=None, compile=True, device=None):
    """Load a model written by :meth:`Model.save` onto ``backend`` (default: the global default)
    and its ``device`` (default: the backend's default device; see :func:`xcnn.backend.device_of`).

    Nothing in the file is executed or unpickled: the architecture is JSON naming known layer
    classes, the weights are safetensors, and a SHA-256 over both detects damage or tampering.
    """
    with open(path, "rb") as f:
        data = f.read()
    config, tensors = _read_safetensors(data, path)
    return model_from_config(config, tensors, backend=backend, compile=compile, path=path, device=device)


def model_from_config(config, tensors, backend=None, compile=True, path="model", device=None):
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
        kwargs = dict(backend=backend, dtype=config["dtype"], seed=config["seed"], name=config["name"],
                      device=device)
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
            d[k] = B.asarray(tensors[f"{kind}/{layer.name}/{k}"], model.backend, model.dtype, device=model.device)
    compiled = config.get("compile")
    if compile and compiled:
        model.compile(optimizers_module.get(compiled["optimizer"]), compiled["loss"], compiled["metrics"])
        model.optimizer.iterations = compiled["iterations"]
        for name, value in tensors.items():
            if name.startswith("optimizer/"):
                key, slot = name[len("optimizer/"):].rsplit("/", 1)
                model.optimizer.state.setdefault(key, {})[slot] = B.asarray(value, model.backend, model.dtype, device=model.device)
    model.saved_extra = config.get("extra", {})
    return model
