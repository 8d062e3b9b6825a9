"""Image data sets with Keras's names, shapes and key names: `mnist.load_data()` etc.

Each `load_data` returns `(x_train, y_train), (x_test, y_test)` as uint8 NumPy arrays and
looks for the data in this order:

1. the `path=` argument (a Keras-style `.npz` with x_train/y_train/x_test/y_test);
2. `$XCNN_DATA_DIR/<name>.npz`;
3. the cache, `$XCNN_CACHE_DIR` or `~/.cache/xcnn`, holding files downloaded before;
4. a download from the public mirrors Keras uses, checked by SHA-256 before it is cached
   (written atomically: a partial or corrupt file is never used).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from .models import atomic_write
from .utils import to_categorical

KEYS = ("x_train", "y_train", "x_test", "y_test")
_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file of a data set.

    Attributes:
        name: The file name (in the cache too).
        sha256: Its SHA-256, checked before it is cached.
        urls: Mirrors to try in order.

    Examples:
        >>> from xcnn.datasets import SPECS
        >>> SPECS["mnist"].files[0].name
        'mnist.npz'
    """

    name: str
    sha256: str
    urls: tuple


@dataclass(frozen=True)
class Spec:
    """A data set: the files to fetch and how to turn them into the four arrays.

    Attributes:
        name: The data set's name, a key of `SPECS`.
        files: Its `RemoteFile`s.
        parse: `{file name: bytes} -> {"x_train": ..., "y_train": ..., "x_test": ..., "y_test": ...}`.
        classes: Labels are `0 .. classes - 1`.

    Examples:
        >>> from xcnn.datasets import SPECS
        >>> [(name, spec.classes) for name, spec in sorted(SPECS.items())]
        [('cifar10', 10), ('fashion_mnist', 10), ('mnist', 10)]
    """

    name: str
    files: tuple
    parse: Callable[[dict[str, bytes]], dict[str, np.ndarray]]  # {file name: bytes} -> dict of the four arrays
    classes: int = 10  # labels are 0 .. classes - 1 (the data set's own description, not its labels)


def _parse_npz(blobs):
    (data,) = blobs.values()
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        return {k: f[k] for k in KEYS}


def _idx(data):
    """An IDX file (gzip-compressed) as a uint8 array."""
    raw = gzip.decompress(data)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _parse_idx_set(blobs):
    return {
        "x_train": _idx(blobs["train-images-idx3-ubyte.gz"]),
        "y_train": _idx(blobs["train-labels-idx1-ubyte.gz"]),
        "x_test": _idx(blobs["t10k-images-idx3-ubyte.gz"]),
        "y_test": _idx(blobs["t10k-labels-idx1-ubyte.gz"]),
    }


def _parse_cifar10_binary(blobs):
    """The CIFAR-10 binary release (no pickles): records of 1 label byte + 3x32x32 pixels."""
    (data,) = blobs.values()
    parts = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.name.endswith(".bin") and "batch" in member.name:
                parts[os.path.basename(member.name)] = tar.extractfile(member).read()

    def records(names):
        raw = np.frombuffer(b"".join(parts[n] for n in names), dtype=np.uint8).reshape(-1, 3073)
        images = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), raw[:, :1].copy()  # Keras's labels are (N, 1)

    x_train, y_train = records([f"data_batch_{i}.bin" for i in range(1, 6)])
    x_test, y_test = records(["test_batch.bin"])
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


SPECS = {
    "mnist": Spec(
        "mnist",
        (
            RemoteFile(
                "mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", (_KERAS + "mnist.npz",)
            ),
        ),
        _parse_npz,
    ),
    "fashion_mnist": Spec(
        "fashion_mnist",
        tuple(
            RemoteFile(name, sha, (_KERAS + name, _ZALANDO + name))
            for name, sha in (
                ("train-labels-idx1-ubyte.gz", "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
                ("train-images-idx3-ubyte.gz", "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
                ("t10k-labels-idx1-ubyte.gz", "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"),
                ("t10k-images-idx3-ubyte.gz", "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
            )
        ),
        _parse_idx_set,
    ),
    "cifar10": Spec(
        "cifar10",
        (
            RemoteFile(
                "cifar-10-binary.tar.gz",
                "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
            ),
        ),
        _parse_cifar10_binary,
    ),
}


def cache_dir() -> str:
    """Where downloads are kept: `$XCNN_CACHE_DIR` or `~/.cache/xcnn`.

    Returns:
        The folder's path (it may not exist yet).

    Examples:
        >>> import os
        >>> from xcnn.datasets import cache_dir
        >>> cache_dir() == (os.environ.get("XCNN_CACHE_DIR") or os.path.expanduser(os.path.join("~", ".cache", "xcnn")))
        True
    """
    return os.environ.get("XCNN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xcnn")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _download(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _fetch(spec, remote, folder, timeout, tried):
    """The verified bytes of ``remote``: from the cache, else downloaded, verified, cached."""
    cached = os.path.join(folder, spec.name, remote.name)
    if os.path.exists(cached):
        with open(cached, "rb") as f:
            data = f.read()
        if _sha256(data) == remote.sha256:
            return data
        tried.append(f"cache {cached}: checksum mismatch, file ignored and fetched again")
    errors = []
    for url in remote.urls:
        try:
            data = _download(url, timeout)
        except OSError as exc:
            errors.append(f"{url}: {exc}")
            continue
        digest = _sha256(data)
        if digest != remote.sha256:
            errors.append(f"{url}: SHA-256 {digest} does not match the expected {remote.sha256}")
            continue
        atomic_write(cached, data)
        return data
    tried.append(f"cache {cached}: absent")
    tried.extend(f"download {e}" for e in errors)
    raise FileNotFoundError(remote.name)


def _check_arrays(arrays, where, classes):
    """The four arrays as ``(x_train, y_train), (x_test, y_test)``, each checked: uint8 images
    ``(N, H, W)`` or ``(N, H, W, C)``, at least one; labels of the same N, ``(N,)`` or ``(N, 1)``,
    whole numbers in ``[0, classes)``; test images of the training images' size. ``where``
    names the file in each message."""
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{where} lacks the arrays {missing}; a data set file needs {list(KEYS)}")
    for x, y in (("x_train", "y_train"), ("x_test", "y_test")):
        _check_images(arrays[x], f"{where}: {x}")
        _check_labels(arrays[y], arrays[x].shape[0], classes, f"{where}: {y}", x)
    size = [arrays[k].shape[1:] + (1,) * (arrays[k].ndim == 3) for k in ("x_train", "x_test")]
    if size[0] != size[1]:
        raise ValueError(
            f"{where}: x_test holds images of shape {arrays['x_test'].shape[1:]} but x_train of shape "
            f"{arrays['x_train'].shape[1:]}; a data set's test images must be the size of its training images"
        )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _check_images(x, name):
    if x.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 pixels, got {x.dtype}")
    if x.ndim not in (3, 4) or 0 in x.shape[1:]:
        raise ValueError(f"{name} must be images of shape (N, H, W) or (N, H, W, C), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} holds no images (shape {x.shape}); a data set needs at least one")


def _check_labels(y, n, classes, name, images):
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != 1):
        hint = " (one-hot labels? store the class numbers, e.g. y.argmax(axis=1))" if y.ndim == 2 else ""
        raise ValueError(f"{name} must be class numbers of shape (N,) or (N, 1), got shape {y.shape}{hint}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} labels but {images} has {n} images; they must be as many")
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be whole-number class labels 0..{classes - 1}, got {y.dtype} values")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise ValueError(
                f"{name} holds labels that are not whole numbers ({bad.sum()} of {y.size}, the first "
                f"{float(y[bad].flat[0])!r}); labels must be whole-number classes 0..{classes - 1}"
            )
    low, high = y.min(), y.max()
    if low < 0 or high >= classes:
        raise ValueError(
            f"{name} holds labels from {low:g} to {high:g}; this data set has {classes} classes, "
            f"so labels must be 0..{classes - 1}"
        )


def _read_npz(path, classes):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except IsADirectoryError:
        raise IsADirectoryError(f"{path} is a folder, not a data set file (.npz)") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # np.load names neither the file nor what is wrong with it in a way a user can act on
        raise ValueError(f"{path} is not a readable data set file (a .npz with {', '.join(KEYS)}): {exc}") from None
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError(f"{path} is not a data set file: it holds no arrays")
    return _check_arrays(arrays, path, classes)


def load_data(
    name: str, path: str | os.PathLike[str] | None = None, timeout: float = 60
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`(x_train, y_train), (x_test, y_test)` of data set `name` (see `SPECS`).

    Looks in `path`, then `$XCNN_DATA_DIR/<name>.npz`, then the cache, then downloads (see the
    module's description). `xcnn.datasets.mnist.load_data()` is `load_data("mnist")`.

    Args:
        name: `"mnist"`, `"fashion_mnist"` or `"cifar10"`.
        path: A Keras-style `.npz` with `x_train`, `y_train`, `x_test`, `y_test` (uint8 images).
        timeout: Seconds to wait for each download.

    Returns:
        Images `(N, H, W)` (`(N, 32, 32, 3)` for CIFAR-10) and labels `(N,)`, uint8.

    Raises:
        ValueError: If `name` is unknown, or a file lacks the arrays or holds others than uint8
            images `(N, H, W)` or `(N, H, W, C)` (N >= 1; the test images of the training
            images' size) and whole-number labels `(N,)` or `(N, 1)` in `0 .. classes - 1`
            (the message names the file and the array).
        FileNotFoundError: If `path` does not exist, or the data set is nowhere to be found (the
            message lists where it looked).

    Examples:
        >>> import numpy as np
        >>> from xcnn.datasets import load_data
        >>> images, labels = np.zeros((2, 28, 28), np.uint8), np.array([3, 1], np.uint8)
        >>> np.savez("tiny.npz", x_train=images, y_train=labels, x_test=images, y_test=labels)
        >>> (x_train, y_train), (x_test, y_test) = load_data("mnist", path="tiny.npz")
        >>> x_train.shape, y_test.tolist()
        ((2, 28, 28), [3, 1])
    """
    if name not in SPECS:
        raise ValueError(f"unknown data set {name!r}; available: {sorted(SPECS)}")
    spec = SPECS[name]
    if path is not None:
        if not os.path.exists(path):
            raise FileNotFoundError(f"path={path!r} does not exist")
        return _read_npz(path, spec.classes)
    tried = []
    data_dir = os.environ.get("XCNN_DATA_DIR")
    if data_dir:
        candidate = os.path.join(data_dir, f"{name}.npz")
        if os.path.exists(candidate):
            return _read_npz(candidate, spec.classes)
        if os.path.exists(data_dir) and not os.path.isdir(data_dir):
            tried.append(f"$XCNN_DATA_DIR: {data_dir} is a file, not a folder (name the folder holding {name}.npz)")
        else:
            tried.append(f"$XCNN_DATA_DIR: {candidate} absent")
    else:
        tried.append("$XCNN_DATA_DIR: not set")
    folder = cache_dir()
    try:
        blobs = {remote.name: _fetch(spec, remote, folder, timeout, tried) for remote in spec.files}
    except FileNotFoundError:
        lines = "\n  - ".join(tried)
        raise FileNotFoundError(
            f"data set {name!r} is not available. Looked in:\n  - {lines}\n"
            f"Supply it with load_data(path='.../{name}.npz'), or put {name}.npz (keys {', '.join(KEYS)}) "
            f"in a folder named by $XCNN_DATA_DIR, or go online once so it can be downloaded into {folder}."
        ) from None
    return _check_arrays(spec.parse(blobs), f"downloaded {name}", spec.classes)


def prepare_images(x: Any, dtype: str | np.dtype[Any] = "float32") -> np.ndarray:
    """uint8 images `(N, H, W)` or `(N, H, W, C)` -> floats in `[0, 1]` with a channel axis.

    Float images are only converted (not scaled); the input is never changed.

    Args:
        x: Images `(N, H, W)` or `(N, H, W, C)`, uint8 (or already floats).
        dtype: The result's float dtype.

    Returns:
        `(N, H, W, C)` in `dtype` (C = 1 for `(N, H, W)` input).

    Raises:
        ValueError: If `x` is not 3-D or 4-D.

    Examples:
        >>> import numpy as np
        >>> from xcnn.datasets import prepare_images
        >>> images = prepare_images(np.full((2, 4, 4), 255, np.uint8))
        >>> images.shape, str(images.dtype), float(images.max())
        ((2, 4, 4, 1), 'float32', 1.0)
    """
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"x must be images (N, H, W) or (N, H, W, C), got shape {x.shape}")
    images = x.astype(dtype)  # always a copy: scaled in place below, the caller's x untouched
    if x.dtype == np.uint8:
        images /= 255.0
    return images


def _module(name):
    return SimpleNamespace(load_data=lambda path=None: load_data(name, path), __doc__=f"The {name} data set.")


mnist = _module("mnist")
fashion_mnist = _module("fashion_mnist")
cifar10 = _module("cifar10")

__all__ = ["load_data", "prepare_images", "to_categorical", "mnist", "fashion_mnist", "cifar10", "SPECS", "cache_dir"]
