"""Saving and loading: architecture as JSON and weights as safetensors; nothing is executed.

A saved file carries a SHA-256 over its config and tensors. It is not keyed, so it detects
damage (a truncated copy, flipped bits), not tampering: whoever can edit the file can also
rewrite the digest. Loading is safe against hostile files all the same: nothing is unpickled
or executed, only known layer classes are built, and every stored tensor's shape and dtype is
checked against the config before any weight is allocated, so a small file cannot make the
loader allocate much more than its own size.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
import time
import zipfile
from typing import Any

import numpy as np

from .. import backend as B
from .._typing import Device
from .. import optimizers as optimizers_module
from ..initializers import Initializer
from ..layers import LAYER_CLASSES, InputLayer
from .model import FORMAT_VERSION, Model
from .sequential import Sequential


def save_safetensors(model: Model, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> None:
    """Write `model` to `path` in xcnn's `.safetensors` format (see `Model.save`).

    The file holds the config as JSON, every weight, the optimizer's state and a SHA-256 over
    them all.

    Args:
        model: A built model.
        path: The file to write, atomically (see `atomic_write`).
        extra: A JSON-serializable dict stored with the model (read back as `saved_extra`).

    Raises:
        OSError: If the file cannot be written.
        TypeError: If `extra` is not a dict of JSON values.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import load_model, save_safetensors
        >>> save_safetensors(Sequential([Input((3,)), Dense(2)], seed=0), "m.safetensors", extra={"epochs": 3})
        >>> load_model("m.safetensors").saved_extra
        {'epochs': 3}
    """
    tensors = {}
    for layer, kind, d in model._weight_dicts():
        for k, v in d.items():
            tensors[f"{kind}/{layer.name}/{k}"] = np.ascontiguousarray(B.to_numpy(v))
    if model.optimizer is not None:
        for key, slots in model.optimizer.state.items():
            for slot, v in slots.items():
                tensors[f"optimizer/{key}/{slot}"] = np.ascontiguousarray(B.to_numpy(v))
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(
            f"extra must be a dict of JSON values (str, int, float, bool, None, lists, dicts), got {type(extra).__name__}"
        )
    try:
        json.dumps(extra or {})
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"extra must hold JSON values only (str, int, float, bool, None, lists, dicts): {exc}"
        ) from None
    config = json.dumps({**model.get_config(), "extra": extra or {}}, sort_keys=True)
    from safetensors.numpy import save as save_safetensors

    data = save_safetensors(tensors, metadata={"xcnn_config": config, "xcnn_sha256": _digest(config, tensors)})
    atomic_write(path, data)


def _digest(config, tensors):
    """SHA-256 over the config and every tensor (name, dtype, shape, bytes), in name order.

    Unkeyed: a check against damage, not a signature (anyone can recompute it)."""
    h = hashlib.sha256(config.encode())
    for name in sorted(tensors):
        t = tensors[name]
        h.update(f"{name}|{t.dtype.str}|{t.shape}".encode())
        h.update(t.tobytes())
    return h.hexdigest()


_TMP_PREFIX = ".tmp-xcnn-"  # + "<pid>-" + random + the target's name
_TMP_NAME = re.compile(r"^\.tmp-xcnn-(\d+)-")
# a temporary file whose writer is gone is removed after this long (its pid is checked first
# where that means something: same machine, not Windows); any other after STALE_TMP_ANY, for
# writers on other machines sharing the folder
STALE_TMP_DEAD = 60.0
STALE_TMP_ANY = 24 * 3600.0


def _umask():
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes to `path` through a temporary file in the same folder and a rename.

    The file gets the permissions a plain `open(path, "w")` would (0666 less the umask); the
    temporary file is removed on every error path, and temporary files left in the folder by
    killed writers are removed (see `remove_stale_temporaries`). Missing folders are made.

    Args:
        path: The file to write.
        data: Its whole content.

    Raises:
        OSError: If the folder or file cannot be written (the old file, if any, is kept).

    Examples:
        >>> from xcnn.models.saving import atomic_write
        >>> atomic_write("note.txt", b"hello")
        >>> open("note.txt", "rb").read()
        b'hello'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{_TMP_PREFIX}{os.getpid()}-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o666 & ~_umask())  # mkstemp makes it 0600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _process_gone(pid):
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def remove_stale_temporaries(folder: str | os.PathLike[str], now: float | None = None) -> list[str]:
    """Delete the temporary files of `atomic_write` in `folder` whose writer was killed.

    A file goes when its process is gone and it is over a minute old, or when it is over a
    day old (a writer on another machine). A live writer's file is left alone; errors
    (a missing folder, a file removed meanwhile) are ignored.

    Args:
        folder: The folder to clean.
        now: The current time in seconds since the epoch (default `time.time()`).

    Returns:
        The names removed.

    Examples:
        >>> import time
        >>> from xcnn.models.saving import remove_stale_temporaries
        >>> open(".tmp-xcnn-999999-abc-note.txt", "w").close()
        >>> remove_stale_temporaries(".", now=time.time() + 2 * 24 * 3600)
        ['.tmp-xcnn-999999-abc-note.txt']
    """
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TMP_NAME.match(name)
        if match is None:
            continue
        full = os.path.join(folder, name)
        try:
            age = now - os.stat(full).st_mtime
            if age > STALE_TMP_ANY or (age > STALE_TMP_DEAD and _process_gone(int(match.group(1)))):
                os.unlink(full)
                removed.append(name)
        except OSError:  # removed meanwhile by another writer, or not ours to remove
            continue
    return removed


def _parse_safetensors(data, path):
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
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return (meta if isinstance(meta, dict) else {}), tensors


def _read_safetensors(data, path, key="xcnn_config"):
    """The JSON under metadata ``key`` and the tensors of an xcnn safetensors file, checked
    against its SHA-256; ValueError if malformed, foreign or damaged."""
    meta, tensors = _parse_safetensors(data, path)
    if key not in meta or "xcnn_sha256" not in meta:
        what = "an xcnn model" if key == "xcnn_config" else "an xcnn model or weights file"
        raise ValueError(f"{path} is a safetensors file but not {what} (no {key} metadata)")
    if _digest(meta[key], tensors) != meta["xcnn_sha256"]:
        raise ValueError(
            f"{path} failed its integrity check (SHA-256): the file is damaged, or was changed "
            "without updating its checksum"
        )
    try:
        config = json.loads(meta[key])
    except RecursionError:
        raise ValueError(
            f"{path}: the model config is nested too deeply to read; an xcnn model config "
            f"has at most {MAX_CONFIG_DEPTH} levels"
        ) from None
    except ValueError as exc:
        raise ValueError(f"{path}: the model config is not readable JSON ({exc})") from None
    if _depth(config) > MAX_CONFIG_DEPTH:
        raise ValueError(
            f"{path}: the model config is nested more than {MAX_CONFIG_DEPTH} levels deep; "
            "an xcnn model config has about 6"
        )
    if not isinstance(config, dict):
        raise ValueError(f"{path}: the model config must be a JSON object, got {type(config).__name__}")
    return config, tensors


# an xcnn config nests about 6 levels (model, layers, layer, config, activation, its config)
MAX_CONFIG_DEPTH = 32


def _depth(obj):
    """How deeply lists and dicts nest in ``obj``, counted up to ``MAX_CONFIG_DEPTH + 1``
    (without recursion: the config is untrusted)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if level <= MAX_CONFIG_DEPTH:  # deeper is refused anyway: do not walk it all
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


# --- the format by the file name's ending -----------------------------------------------------

KERAS_ENDINGS = (".keras",)
WEIGHTS_FORMAT = "xcnn-weights"


def _name(path):
    return os.fspath(path).lower()


def save_by_extension(
    model: Model, path: str | os.PathLike[str], extra: dict[str, Any] | None = None, overwrite: bool = True
) -> None:
    """`Model.save`: `.safetensors` is xcnn's own format, `.keras` a Keras 3 file.

    Args:
        model: A built model.
        path: The file to write; its ending chooses the format.
        extra: As in `save_safetensors`; only the `.safetensors` format stores it.
        overwrite: Whether an existing file at `path` is replaced. Keras asks at an interactive
            prompt when it is false; xcnn refuses, so that a script never waits for input.

    Raises:
        ValueError: If the ending is neither, or `extra` is given for a `.keras` file.
        FileExistsError: If `overwrite` is false and `path` exists.
        OSError: If the file cannot be written.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import save_by_extension
        >>> save_by_extension(Sequential([Input((3,)), Dense(2)], seed=0), "m.bin")
        Traceback (most recent call last):
        ...
        ValueError: cannot tell the format from the file name 'm.bin': end it with .safetensors ...
    """
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{os.fspath(path)} exists and overwrite=False: pass overwrite=True to replace it")
    name = _name(path)
    if name.endswith(".safetensors"):
        save_safetensors(model, path, extra)
    elif name.endswith(".keras"):
        if extra:
            raise ValueError("extra= is stored only in xcnn's .safetensors format, not in a .keras file")
        from ..interop.keras_format import save_keras_model

        save_keras_model(model, path)
    else:
        raise ValueError(
            f"cannot tell the format from the file name {os.fspath(path)!r}: end it with .safetensors "
            "(xcnn's own format, with the optimizer state) or .keras (a Keras 3 file); "
            "for the weights alone use save_weights"
        )


def save_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """`Model.save_weights`: `.weights.h5` (Keras 3's layout) or `.safetensors`.

    Args:
        model: A model (built first if it is not).
        path: The file to write; its ending chooses the format.

    Raises:
        ValueError: If the ending is neither.
        OSError: If the file cannot be written.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import save_weights
        >>> save_weights(Sequential([Input((3,)), Dense(2)], seed=0), "m.weights.safetensors")
    """
    model._ensure_built()
    name = _name(path)
    if name.endswith(".weights.h5"):
        from ..interop.keras_format import save_keras_weights

        save_keras_weights(model, path)
    elif name.endswith(".safetensors"):
        tensors = {
            f"{kind}/{layer.name}/{k}": np.ascontiguousarray(B.to_numpy(v))
            for layer, kind, d in model._weight_dicts()
            for k, v in d.items()
        }
        header = json.dumps({"format": WEIGHTS_FORMAT, "version": FORMAT_VERSION})
        from safetensors.numpy import save as save_safetensors

        atomic_write(
            path, save_safetensors(tensors, metadata={"xcnn_weights": header, "xcnn_sha256": _digest(header, tensors)})
        )
    else:
        raise ValueError(
            f"cannot tell the weights format from the file name {os.fspath(path)!r}: end it with "
            ".weights.h5 (Keras 3's layout) or .safetensors (xcnn's, e.g. m.weights.safetensors)"
        )


def load_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """`Model.load_weights`: into `model`, in place.

    From `.weights.h5`/`.keras` (Keras's layout) or from `.safetensors` (an xcnn weights file
    or a whole xcnn model file). Weights are matched by layer name.

    Args:
        model: A model of the same architecture and layer names (built first if it is not).
        path: The file to read; its ending tells the format.

    Raises:
        ValueError: If the ending is unknown, the file is damaged or foreign, or a weight is
            missing, of another shape, or belongs to no layer of the model.
        OSError: If the file cannot be read.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import load_weights, save_weights
        >>> source = Sequential([Input((3,)), Dense(2, name="d")], seed=0)
        >>> save_weights(source, "d.weights.safetensors")
        >>> target = Sequential([Input((3,)), Dense(2, name="d")], seed=1)
        >>> load_weights(target, "d.weights.safetensors")
        >>> np.array_equal(target.get_weights()[0], source.get_weights()[0])
        True
    """
    model._ensure_built()
    name = _name(path)
    if name.endswith(".h5") or name.endswith(".keras"):
        from ..interop.keras_format import load_keras_weights

        load_keras_weights(model, path)
        return
    if not name.endswith(".safetensors"):
        raise ValueError(
            f"cannot tell the weights format from the file name {os.fspath(path)!r}: expected "
            ".weights.h5, .keras or .safetensors"
        )
    with open(path, "rb") as f:
        data = f.read()
    meta, _ = _parse_safetensors(data, path)
    key = "xcnn_weights" if "xcnn_weights" in meta else "xcnn_config"
    _, tensors = _read_safetensors(data, path, key)
    expected = {
        f"{kind}/{layer.name}/{k}": tuple(v.shape) for layer, kind, d in model._weight_dicts() for k, v in d.items()
    }
    _check_weights(expected, tensors, path)
    stored = {n for n in tensors if not n.startswith("optimizer/")}
    if stored - set(expected):
        raise ValueError(f"{path} holds weights the model does not have: {sorted(stored - set(expected))}")
    for layer, kind, d in model._weight_dicts():
        for k in d:
            d[k] = B.asarray(tensors[f"{kind}/{layer.name}/{k}"], model.backend, model.dtype)


def _check_weights(expected, tensors, path):
    for name, shape in expected.items():
        if name not in tensors:
            raise ValueError(f"{path}: weight {name} is missing")
        if tuple(tensors[name].shape) != shape:
            raise ValueError(f"{path}: weight {name} has shape {tuple(tensors[name].shape)}, the model needs {shape}")


def _layer_from_config(entry):
    cls = LAYER_CLASSES.get(entry["class"])
    if cls is None:
        raise ValueError(f"unknown layer class {entry['class']!r} in model file")
    return cls(**entry["config"])


class _Stored(Initializer):
    """The initializer of a loaded weight: the array from the file (already checked)."""

    name = "stored"

    def __init__(self, values):
        self.values = values

    def __call__(self, shape, *args, **kwargs):
        return self.values


def _build_from_tensors(layer, tensors, backend, dtype, path, device=None):
    """Build ``layer`` with its weights taken from ``tensors``; each weight's stored shape and
    dtype are compared with what the config asks for before that weight is allocated."""
    want = np.dtype(dtype)

    def add_weight(name, shape, initializer=None, regularizer=None, trainable=True, **kwargs):
        key = f"{'params' if trainable else 'state'}/{layer.name}/{name}"
        stored = tensors.get(key)
        if stored is None:
            raise ValueError(f"{path}: weight {key} is missing")
        if tuple(stored.shape) != tuple(shape):
            raise ValueError(f"{path}: weight {key} has shape {tuple(stored.shape)}, the model needs {tuple(shape)}")
        if stored.dtype != want:
            raise ValueError(f"{path}: weight {key} is {stored.dtype}, the model is {dtype}")
        return type(layer).add_weight(layer, name, shape, _Stored(stored), regularizer, trainable, **kwargs)

    layer.add_weight = add_weight
    layer.device = B.device_of(backend, device)
    try:
        layer.build(backend, dtype, None)
    finally:
        del layer.add_weight


def load_model(
    path: str | os.PathLike[str],
    backend: str | None = None,
    compile: bool = True,
    device: Device | None = None,
    *,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool = True,
) -> Model:
    """Load a model written by `Model.save`.

    xcnn's `.safetensors` format, or a Keras 3 `.keras` file (recognized by its content, a
    zip; see `xcnn.interop.keras_format`). Nothing in the file is executed or unpickled: the
    architecture is JSON naming known layer classes and the weights are safetensors, each
    checked against the config before any weight is allocated. A SHA-256 over both detects
    damage; it is unkeyed, so it is no proof of who wrote the file (only load models from
    sources you trust to be what they say).

    Args:
        path: The file to read.
        backend: The backend to load onto (default: the global default).
        compile: Whether to restore the compile settings and optimizer state, if saved.
        device: The device (default: the backend's default; see `xcnn.backend.device_of`).
        custom_objects: Keras's argument; must be empty, as xcnn builds only its own classes.
        safe_mode: Keras's argument; either value loads the same, as nothing in the file is
            ever executed.

    Returns:
        The model (a `Sequential` or a functional `Model`), its weights as saved.

    Raises:
        IsADirectoryError: If `path` is a folder.
        ValueError: If the file is damaged, foreign or malformed, or `custom_objects` is given.
        OSError: If the file cannot be read.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import load_model
        >>> model = Sequential([Input((3,)), Dense(2)], seed=0)
        >>> model.save("model.safetensors")
        >>> x = np.ones((1, 3), dtype=np.float32)
        >>> np.allclose(load_model("model.safetensors").predict(x, verbose=0), model.predict(x, verbose=0))
        True
    """
    path = os.fspath(path)
    if custom_objects:
        raise ValueError(
            f"custom_objects {sorted(custom_objects)} cannot be used: xcnn builds only its own classes "
            f"(a Keras file naming a class of yours is refused, naming it)"
        )
    if not isinstance(safe_mode, bool):
        raise TypeError(f"safe_mode must be True or False, got {safe_mode!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a model file")
    if zipfile.is_zipfile(path):
        from ..interop.keras_format import load_keras_model

        return load_keras_model(path, backend=backend, compile=compile, device=device)
    with open(path, "rb") as f:
        data = f.read()
    config, tensors = _read_safetensors(data, path)
    return model_from_config(config, tensors, backend=backend, compile=compile, path=path, device=device)


def save_model(
    model: Model,
    filepath: str | os.PathLike[str],
    overwrite: bool = True,
    zipped: bool | None = None,
    **kwargs: Any,
) -> None:
    """Keras's `keras.models.save_model` / `keras.saving.save_model`: `model.save(filepath)`.

    Args:
        model: A built model.
        filepath: A `.keras` or `.safetensors` file (see `Model.save`).
        overwrite: Whether an existing file is replaced (if false, an existing file is refused;
            Keras would ask at a prompt).
        zipped: `None` or `True`: a `.keras` file is always a zip here.
        **kwargs: Keras's `include_optimizer=True` is accepted (xcnn's own format always holds
            the optimizer's state; a `.keras` file never does, in Keras's terms its variables).

    Raises:
        ValueError: If `zipped` is false, the file ending is neither format, or an argument is
            not one of the above.
        FileExistsError: If `overwrite` is false and the file exists.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential, load_model, save_model
        >>> save_model(Sequential([Input((3,)), Dense(2)], seed=0), "m.safetensors")
        >>> load_model("m.safetensors").output_shape
        (None, 2)
    """
    if zipped is False:
        raise ValueError("zipped=False (an unzipped .keras folder) is not written by xcnn: leave zipped=None")
    if kwargs.pop("include_optimizer", True) is not True:
        raise ValueError("include_optimizer=False is not supported: save the model and ignore its optimizer state")
    if kwargs:
        raise ValueError(f"save_model takes overwrite and zipped, not {sorted(kwargs)}")
    model.save(filepath, overwrite=overwrite)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Model:
    """The model a Keras model JSON (`model.to_json()`, Keras's or xcnn's) describes, uncompiled.

    The weights are freshly initialized, as in Keras.

    Args:
        json_string: Keras's serialized model as JSON text.
        custom_objects: Must be empty: xcnn builds only its own layer classes.

    Returns:
        A `Sequential` or functional `Model`.

    Raises:
        ValueError: If the text is not JSON, names a layer xcnn has no counterpart of, or
            `custom_objects` is given.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential, model_from_json
        >>> text = Sequential([Input((3,)), Dense(2, name="d")]).to_json()
        >>> model_from_json(text).get_layer("d").units
        2
    """
    from ..interop.keras_format import model_from_keras_config

    if custom_objects:
        raise ValueError(
            f"custom_objects {sorted(custom_objects)} cannot be used: xcnn builds only its own layer classes"
        )
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"json_string is not a model's JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"json_string must hold a JSON object (a Keras model config), got {type(config).__name__}")
    return model_from_keras_config(config, where="the model JSON")


def _model_of_config(config: Any, path: str, build_layer: Any, **options: Any) -> Model:
    """The model `config` (xcnn's format) describes: its layers made from their configs and wired
    as stored; `build_layer(layer)` runs on each after it is wired (weights from a file), else
    the model draws them. `options` go to the model (backend, seed, device)."""
    if not isinstance(config, dict) or config.get("format") != "xcnn-model" or config.get("version") != FORMAT_VERSION:
        got = config.get("format") if isinstance(config, dict) else None
        version = config.get("version") if isinstance(config, dict) else None
        raise ValueError(f"{path}: unsupported model format {got!r} v{version}")
    if config.get("dtype") not in ("float32", "float64"):
        raise ValueError(f"{path}: the model's dtype must be 'float32' or 'float64', got {config.get('dtype')!r}")
    try:
        layers = {}
        for entry in config["layers"]:
            layer = _layer_from_config(entry)
            if layer.name in layers:
                raise ValueError(f"{path}: two layers are named {layer.name!r}")
            layers[layer.name] = layer
            if not isinstance(layer, InputLayer):
                inbound = [layers[name].output for name in entry["inbound"]]
                layer(inbound if layer.multi_input else inbound[0])
                if build_layer is not None:
                    build_layer(layer)
        input_layer = layers[config["layers"][0]["config"]["name"]]
        options = dict(options, dtype=config["dtype"], name=config["name"])
        model: Model
        if config["class"] == "Sequential":
            model = Sequential(**options)
            model._set_graph(input_layer.output, layers[config["output"]].output)
        else:
            model = Model(input_layer.output, layers[config["output"]].output, **options)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"{path}: the model config is malformed ({exc!r})") from None
    return model


def model_from_config_alone(config: dict[str, Any], backend: str | None = None) -> Model:
    """The model a config describes, with freshly drawn weights and not compiled (`Model.from_config`).

    Args:
        config: xcnn's `model.get_config()`, or Keras's model config (`{"class_name", "config"}`,
            as in a `.keras` file or `model.to_json()`).
        backend: The model's backend (default: the global default).

    Returns:
        A `Sequential` or functional `Model`.

    Raises:
        ValueError: If the config is malformed, or names a layer xcnn has no counterpart of.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import model_from_config_alone
        >>> config = Sequential([Input((3,)), Dense(2, name="d")]).get_config()
        >>> model_from_config_alone(config).get_layer("d").units
        2
    """
    if isinstance(config, dict) and "class_name" in config:
        from ..interop.keras_format import model_from_keras_config

        return model_from_keras_config(config, backend=backend, where="the model config")
    return _model_of_config(config, "the model config", None, backend=backend or B.get_backend())


def model_from_config(
    config: dict[str, Any],
    tensors: dict[str, np.ndarray],
    backend: str | None = None,
    compile: bool = True,
    path: str = "model",
    device: Device | None = None,
) -> Model:
    """The model that `config` describes, with the weights in `tensors`.

    Every tensor must match the config in name, shape and dtype; each layer is built from its
    stored weights, so nothing is allocated that the tensors do not already hold.

    Args:
        config: A model's `get_config()` (format `"xcnn-model"`).
        tensors: Name -> host array, named as `save_safetensors` names them
            (`"params/<layer>/<weight>"`, `"state/..."`, `"optimizer/..."`).
        backend: As in `load_model`.
        compile: As in `load_model`.
        path: The name error messages give the source.
        device: As in `load_model`.

    Returns:
        The model.

    Raises:
        ValueError: If the config is of another format or malformed, or a tensor is missing,
            of another shape or dtype, or belongs to no layer.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.saving import model_from_config
        >>> config = Sequential([Input((3,)), Dense(2, name="d")], seed=0).get_config()
        >>> tensors = {"params/d/kernel": np.ones((3, 2), np.float32), "params/d/bias": np.zeros(2, np.float32)}
        >>> model_from_config(config, tensors).predict(np.ones((1, 3), np.float32), verbose=0).tolist()
        [[3.0, 3.0]]
    """
    backend = backend or B.get_backend()
    model = _model_of_config(
        config,
        path,
        lambda layer: _build_from_tensors(layer, tensors, backend, config["dtype"], path, device),
        backend=backend,
        seed=config.get("seed"),
        device=device,
    )
    dtype = model.dtype
    weights = {f"{kind}/{layer.name}/{k}": v for layer, kind, d in model._weight_dicts() for k, v in d.items()}
    slots = {
        f"{layer.name}/{k}": v for layer, kind, d in model._weight_dicts() if kind == "params" for k, v in d.items()
    }
    for name, value in tensors.items():
        if name.startswith("optimizer/"):
            key = name[len("optimizer/") :].rpartition("/")[0]
            if key not in slots:
                raise ValueError(f"{path}: optimizer state {name} belongs to no weight of the model")
            if tuple(value.shape) != tuple(slots[key].shape) or value.dtype != np.dtype(dtype):
                raise ValueError(
                    f"{path}: optimizer state {name} is {value.dtype} {tuple(value.shape)}, "
                    f"its weight is {dtype} {tuple(slots[key].shape)}"
                )
        elif name not in weights:
            raise ValueError(f"{path}: tensor {name} belongs to no layer of the model")
    compiled = config.get("compile")
    if compile and compiled:
        try:
            model.compile(
                optimizers_module.get(compiled["optimizer"]),
                compiled["loss"],
                compiled["metrics"],
                weighted_metrics=compiled.get("weighted_metrics"),
            )
            iterations = compiled["iterations"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: the model's compile settings are malformed ({exc!r})") from None
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f"{path}: the optimizer's step count must be a whole number >= 0, got {iterations!r}")
        model.optimizer.iterations = iterations
        for name, value in tensors.items():
            if name.startswith("optimizer/"):
                key, slot = name[len("optimizer/") :].rsplit("/", 1)
                model.optimizer.state.setdefault(key, {})[slot] = B.asarray(
                    value, model.backend, model.dtype, device=model.device
                )
    extra = config.get("extra", {})
    # what save_safetensors(extra=...) stored, for the caller (the CLI resumes from it); not a Model attribute
    model.saved_extra = extra if isinstance(extra, dict) else {}  # type: ignore[attr-defined]
    return model
