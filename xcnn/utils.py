"""Small helpers users of Keras expect: ``to_categorical``, ``plot_model``, ``set_random_seed``."""

from __future__ import annotations

import random

import numpy as np

# Seeds for models built without seed=; set_random_seed makes them reproducible.
_model_seeds = None


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer class labels ``(N,)`` -> one-hot ``(N, num_classes)`` NumPy array."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be a vector of class labels (N,), got shape {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) and not np.all(y == np.round(y))):
        raise ValueError("y must hold integer class labels")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range [{y.min()}, {y.max()}]")
    out = np.zeros((y.shape[0], num_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy's global generator and every model built afterwards
    without ``seed=`` (their initial weights, dropout and shuffling), as Keras's does."""
    global _model_seeds
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _model_seeds = np.random.default_rng(int(seed))


def next_model_seed():
    """The seed of a model built without ``seed=``: fresh entropy, or the next from
    :func:`set_random_seed`'s stream."""
    if _model_seeds is None:
        return int(np.random.SeedSequence().entropy % 2**32)
    return int(_model_seeds.integers(2**32 - 2))  # the model uses seed, seed + 1 and seed + 2


def plot_model(model, to_file="model.png", show_shapes=True):
    """A layer diagram of ``model`` written to ``to_file`` (see :func:`xcnn.plot.plot_model`);
    matplotlib is imported only when graphviz's ``dot`` is absent."""
    from .plot import plot_model as draw

    return draw(model, to_file=to_file, show_shapes=show_shapes)
