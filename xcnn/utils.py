"""Small helpers users of Keras expect: `to_categorical`, `plot_model`, `set_random_seed`."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .models import Model

# Seeds for models built without seed=; set_random_seed makes them reproducible.
_model_seeds = None


def to_categorical(y: Any, num_classes: int | None = None, dtype: str | np.dtype[Any] = "float64") -> np.ndarray:
    """Integer class labels of any shape -> one-hot NumPy arrays with a class axis added last.

    As Keras 3: `(N,)` -> `(N, num_classes)`, `(N, H, W)` -> `(N, H, W, num_classes)` (a mask of
    per-pixel labels), a trailing axis of size 1 is dropped first (`(N, 1)` -> `(N, num_classes)`),
    and the result is float64 (Keras's `to_categorical` always returns float64 for host labels).

    Args:
        y: Class labels, whole numbers in `[0, num_classes)` (an array or a (nested) list; floats
            must be whole), of any shape.
        num_classes: The number of classes (default: the largest label + 1).
        dtype: The result's dtype (default float64, Keras's).

    Returns:
        `(*y.shape, num_classes)` ones and zeros in `dtype` (without `y`'s trailing size-1 axis).

    Raises:
        ValueError: If `y` does not hold whole-number labels, or a label is outside
            `[0, num_classes)`.

    Examples:
        >>> from xcnn.utils import to_categorical
        >>> to_categorical([0, 2, 1], num_classes=3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
        >>> to_categorical([0, 1]).dtype
        dtype('float64')
        >>> to_categorical([[[0, 1], [1, 1]]], num_classes=2).shape  # per-pixel labels (N, H, W)
        (1, 2, 2, 2)
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must hold integer class labels, got an array of dtype {y.dtype}")
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.size and (not np.issubdtype(y.dtype, np.integer) and not np.all(y == np.round(y))):
        raise ValueError("y must hold integer class labels")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range [{y.min()}, {y.max()}]")
    flat = y.reshape(-1)
    out = np.zeros((flat.shape[0], num_classes), dtype=dtype)
    out[np.arange(flat.shape[0]), flat] = 1
    return out.reshape((*y.shape, num_classes))


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and later models without `seed=`.

    The models' initial weights, dropout and shuffling become reproducible, as with Keras's.

    Args:
        seed: A non-negative int.

    Raises:
        ValueError: If `seed` is not a non-negative int.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.utils import set_random_seed
        >>> set_random_seed(7)
        >>> a = Sequential([Input((3,)), Dense(2)]).get_weights()[0]
        >>> set_random_seed(7)
        >>> b = Sequential([Input((3,)), Dense(2)]).get_weights()[0]
        >>> bool((a == b).all())
        True
        >>> import xcnn.utils
        >>> xcnn.utils._model_seeds = None  # later models: fresh seeds again
    """
    global _model_seeds
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _model_seeds = np.random.default_rng(int(seed))


def next_model_seed() -> int:
    """The seed of a model built without `seed=`.

    Fresh entropy, or the next from `set_random_seed`'s stream.

    Returns:
        An int in `[0, 2**32 - 2)` (the model uses `seed`, `seed + 1` and `seed + 2`).

    Examples:
        >>> from xcnn.utils import next_model_seed, set_random_seed
        >>> set_random_seed(0)
        >>> first = next_model_seed()
        >>> set_random_seed(0)
        >>> next_model_seed() == first
        True
        >>> import xcnn.utils
        >>> xcnn.utils._model_seeds = None  # later models: fresh seeds again
    """
    if _model_seeds is None:
        return int(np.random.SeedSequence().entropy % 2**32)  # type: ignore[operator]  # a fresh SeedSequence always has entropy
    return int(_model_seeds.integers(2**32 - 2))  # the model uses seed, seed + 1 and seed + 2


def plot_model(model: Model, to_file: str = "model.png", show_shapes: bool = True) -> str:
    """A layer diagram of `model` written to `to_file`, like Keras's.

    See `xcnn.plot.plot_model`.

    Uses graphviz's `dot` when installed; matplotlib is imported only when it is absent.

    Args:
        model: A built model.
        to_file: The image to write (its ending chooses the format).
        show_shapes: Show each layer's input and output shapes.

    Returns:
        The path written.

    Examples:
        Not run by the documentation tests (it draws a picture):

        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.utils import plot_model
        >>> plot_model(Sequential([Input((3,)), Dense(2)]), to_file="model.png")  # doctest: +SKIP
        'model.png'
    """
    from .plot import plot_model as draw

    return draw(model, to_file=to_file, show_shapes=show_shapes)


class PyDataset:
    """A data set served a batch at a time, as Keras's `keras.utils.PyDataset` (alias `Sequence`).

    Subclass it with `__len__` (the batches in an epoch) and `__getitem__(index)` returning
    `(x, y)` or `(x, y, sample_weight)` batches (`x` alone for `predict`), and optionally
    `on_epoch_end()`; pass an instance to `fit`, `evaluate` or `predict` (`shuffle=True` in `fit`
    permutes the batch order). xcnn reads the batches in order in the calling thread:
    `workers` and `use_multiprocessing` are accepted for Keras's scripts and warned about when
    they ask for more, as xcnn does not use them.

    Args:
        workers: Keras's count of loader threads or processes (xcnn uses none).
        use_multiprocessing: Keras's choice of processes over threads (xcnn uses neither).
        max_queue_size: Keras's queue of prepared batches (xcnn prepares one at a time).

    Raises:
        ValueError: If `workers` or `max_queue_size` is not a whole number >= 1.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.utils import PyDataset
        >>> class Batches(PyDataset):
        ...     def __len__(self):
        ...         return 3
        ...     def __getitem__(self, index):
        ...         return np.full((2, 3), index, "float32"), np.array([0, 1])
        >>> model = Sequential([Input((3,)), Dense(2, activation="softmax")], seed=0)
        >>> model.compile("sgd", "sparse_categorical_crossentropy")
        >>> len(model.fit(Batches(), epochs=2, verbose=0).history["loss"])
        2
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        from ._checks import positive_int

        self.workers = positive_int(workers, "workers")
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = positive_int(max_queue_size, "max_queue_size")
        if self.workers > 1 or self.use_multiprocessing:
            import warnings

            warnings.warn(
                f"xcnn reads a PyDataset's batches in the calling thread: workers={self.workers} and "
                f"use_multiprocessing={self.use_multiprocessing} are not used",
                stacklevel=2,
            )

    def __len__(self) -> int:
        """The number of batches in an epoch: a subclass's to give.

        Raises:
            NotImplementedError: Always, here.

        Examples:
            >>> from xcnn.utils import PyDataset
            >>> hasattr(PyDataset, "__len__")
            True
        """
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the batches in an epoch)")

    def __getitem__(self, index: int) -> Any:
        """Batch `index` as `(x, y)` or `(x, y, sample_weight)`: a subclass's to give.

        Args:
            index: From 0 to `len(self) - 1`.

        Raises:
            NotImplementedError: Always, here.

        Examples:
            >>> from xcnn.utils import PyDataset
            >>> hasattr(PyDataset, "__getitem__")
            True
        """
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) returning a batch")

    def on_epoch_end(self) -> None:
        """Called after each epoch of `fit` (nothing here; e.g. reshuffle the samples).

        Examples:
            >>> from xcnn.utils import PyDataset
            >>> PyDataset().on_epoch_end()
        """

    @property
    def num_batches(self) -> int:
        """`len(self)`, Keras's name for it.

        Examples:
            >>> from xcnn.utils import PyDataset
            >>> class Two(PyDataset):
            ...     def __len__(self):
            ...         return 2
            >>> Two().num_batches
            2
        """
        return len(self)


Sequence = PyDataset  # Keras 2's name, still in keras.utils


# --- images from files, as keras.utils's (Pillow, an optional dependency, imported when used) ---

# Keras's names of PIL's resampling filters
_PIL_FILTERS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil_image(what):
    """PIL's `Image` module, or the one-sentence ImportError naming what to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f'xcnn.utils.{what} needs Pillow, which is not installed: pip install "xcnn[plot]"') from None
    return Image


def _image_data_format(data_format):
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last', 'channels_first' or None, got {data_format!r}")
    return data_format


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """An image file as a PIL image, converted and resized as Keras's `keras.utils.load_img`.

    `color_mode="grayscale"` converts to 8-bit grey (`"L"`) unless the image is already 8-,
    16- or 32-bit grey; `"rgb"` and `"rgba"` convert to those modes. With `target_size`, the
    image is resized by PIL's filter `interpolation`; with `keep_aspect_ratio`, the largest
    centred box of the target's aspect ratio is resized (nothing is stretched). Needs Pillow.

    Args:
        path: A file path (str, bytes or path-like) or an `io.BytesIO`.
        color_mode: `"rgb"`, `"grayscale"` or `"rgba"`.
        target_size: `(height, width)`, or `None` for the image's own size.
        interpolation: `"nearest"`, `"bilinear"`, `"bicubic"`, `"hamming"`, `"box"` or
            `"lanczos"` (PIL's filters).
        keep_aspect_ratio: Crop the centre to the target's aspect ratio before resizing.

    Returns:
        A `PIL.Image.Image` (`img_to_array` makes it an `(H, W, C)` array).

    Raises:
        ImportError: If Pillow is not installed.
        ValueError: If `color_mode` or `interpolation` is unknown.
        TypeError: If `path` is neither a path nor an `io.BytesIO`.
        OSError: If the file cannot be read or is no image PIL knows.

    Examples:
        >>> import numpy as np
        >>> from xcnn.utils import img_to_array, load_img, save_img
        >>> save_img("digit.png", np.arange(12.0).reshape(3, 4, 1))
        >>> img = load_img("digit.png", color_mode="grayscale", target_size=(6, 8))
        >>> img.size, img_to_array(img).shape  # PIL's (width, height); the array's (H, W, C)
        ((8, 6), (6, 8, 1))
    """
    import io
    import os

    image = _pil_image("load_img")
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(f"color_mode must be 'grayscale', 'rgb' or 'rgba', got {color_mode!r}")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path must be a file path or an io.BytesIO, got {type(path).__name__}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif img.mode != color_mode.upper():
        img = img.convert(color_mode.upper())
    if target_size is None:
        return img
    width_height = (int(target_size[1]), int(target_size[0]))
    if img.size == width_height:
        return img
    if interpolation not in _PIL_FILTERS:
        raise ValueError(f"interpolation must be one of {_PIL_FILTERS}, got {interpolation!r}")
    resample = getattr(image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    (width, height), (target_width, target_height) = img.size, width_height
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(width_height, resample, box=(left, top, left + crop_width, top + crop_height))


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A PIL image as a NumPy array `(H, W, C)`, as Keras's `keras.utils.img_to_array`.

    The pixel values are kept (0..255 for 8-bit images: scale them yourself, e.g. with
    `layers.Rescaling(1 / 255)`); a grey image gets a channel axis of size 1.

    Args:
        img: A PIL image (or anything `np.asarray` makes a 2-D or 3-D array of).
        data_format: `"channels_last"` (`None`: `(H, W, C)`) or `"channels_first"` (`(C, H, W)`).
        dtype: The array's dtype (default: `xcnn.config.floatx()`, float32 unless set).

    Returns:
        `(H, W, C)` (or `(C, H, W)`) in `dtype`.

    Raises:
        ValueError: If `data_format` is unknown, or the image is not 2-D or 3-D.

    Examples:
        >>> from xcnn.utils import array_to_img, img_to_array
        >>> import numpy as np
        >>> img = array_to_img(np.full((2, 3, 1), 7.0), scale=False)
        >>> x = img_to_array(img)
        >>> x.shape, x.dtype, float(x.max())
        ((2, 3, 1), dtype('float32'), 7.0)
    """
    from . import config

    data_format = _image_data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 2:
        x = x.reshape((*x.shape, 1))
    elif x.ndim != 3:
        raise ValueError(f"an image must be 2-D or 3-D, got shape {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None) -> Any:
    """One image array as a PIL image, as Keras's `keras.utils.array_to_img`.

    With `scale`, the values are first stretched to 0..255 (the minimum to 0, the maximum to
    255); they are then cut to 8 bits: 1 channel makes a grey image (`"L"`; mode `"I"`, 32-bit,
    for values above 255), 3 an RGB, 4 an RGBA image. Needs Pillow.

    Args:
        x: `(H, W, C)` (or `(C, H, W)` with `data_format="channels_first"`), C 1, 3 or 4.
        data_format: `"channels_last"` (`None`) or `"channels_first"`.
        scale: Stretch the values to 0..255 first.
        dtype: The dtype to compute in (default: `xcnn.config.floatx()`).

    Returns:
        A `PIL.Image.Image`.

    Raises:
        ImportError: If Pillow is not installed.
        ValueError: If `x` is not one image (3-D), `data_format` is unknown, or it has another
            number of channels.

    Examples:
        >>> import numpy as np
        >>> from xcnn.utils import array_to_img
        >>> img = array_to_img(np.linspace(0.0, 1.0, 6).reshape(2, 3, 1))
        >>> img.mode, img.size, np.asarray(img).tolist()
        ('L', (3, 2), [[0, 51, 102], [153, 204, 255]])
    """
    from . import config

    image = _pil_image("array_to_img")
    data_format = _image_data_format(data_format)
    x = np.array(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"x must be one image of 3 axes, got shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer grey
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"an image must have 1, 3 or 4 channels, got {channels}")


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Write one image array to a file, as Keras's `keras.utils.save_img` (through `array_to_img`).

    A path is written atomically (a temporary file in the same folder, then a rename: a
    reader never sees half a picture, a failed write leaves the old file). The format comes
    from `file_format` or the file's ending (`.jpg` is JPEG); an RGBA image written as JPEG
    is converted to RGB, with a warning, as Keras does. Needs Pillow.

    Args:
        path: A file path, or a binary file object (then give `file_format`).
        x: `(H, W, C)` (or `(C, H, W)` with `data_format="channels_first"`), C 1, 3 or 4.
        data_format: `"channels_last"` (`None`) or `"channels_first"`.
        file_format: `"png"`, `"jpeg"`, ... (default: from the path's ending).
        scale: Stretch the values to 0..255 first (see `array_to_img`).
        **kwargs: Passed to `PIL.Image.Image.save` (e.g. `quality=95`).

    Raises:
        ImportError: If Pillow is not installed.
        ValueError: If no format is given or known from the path, or as `array_to_img`.
        OSError: If the file cannot be written (an existing file is kept).

    Examples:
        >>> import numpy as np
        >>> from xcnn.utils import load_img, save_img
        >>> save_img("noise.jpg", np.random.default_rng(0).random((8, 8, 3)), quality=95)
        >>> load_img("noise.jpg").size
        (8, 8)
    """
    import io
    import os
    import warnings

    if file_format is None and isinstance(path, (str, os.PathLike)):
        file_format = os.path.splitext(os.fspath(path))[1][1:].lower() or None
    if file_format is not None and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format is not None and file_format.lower() == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    if not isinstance(path, (str, bytes, os.PathLike)):
        img.save(path, format=file_format, **kwargs)
        return
    if file_format is None:
        raise ValueError(f"save_img cannot tell the image format of {path!r}: give file_format or an ending (.png)")
    from .models.saving import atomic_write

    data = io.BytesIO()
    try:
        img.save(data, format=file_format.upper(), **kwargs)
    except KeyError:
        raise ValueError(f"save_img: {file_format!r} is not an image format Pillow writes (png, jpeg, ...)") from None
    atomic_write(os.fsdecode(os.fspath(path)), data.getvalue())
