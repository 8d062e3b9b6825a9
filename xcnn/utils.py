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
