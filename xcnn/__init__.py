"""xcnn: convolutional networks written once against the Python array API.

The same forward and backward code runs on NumPy (CPU) and CuPy (CUDA GPU). Keras names:

>>> from xcnn.layers import Conv2D, MaxPooling2D, Flatten, Dense
>>> from xcnn.models import Sequential
>>> model = Sequential([Conv2D(6, 7, activation="relu", input_shape=(28, 28, 1)),
...                     MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")])

:mod:`xcnn.backend` chooses where arrays live; :mod:`xcnn.ops` is the numerical core.
Keras scripts run with ``import xcnn as keras``: ``keras.Input``, ``keras.layers``,
``keras.datasets.mnist.load_data()``, ``keras.utils.to_categorical`` and the rest keep their names.
"""

__version__ = "0.1.0"


from . import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    regularizers,
    saving,
    utils,
)
from .backend import get_backend, set_backend
from .layers import Input
from .models import Model, Sequential, load_model


def version() -> str:
    """xcnn's version, as Keras's `keras.version()` gives Keras's.

    Returns:
        The version string.

    Examples:
        >>> import xcnn
        >>> xcnn.version() == xcnn.__version__
        True
    """
    return __version__


__all__ = [
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
    "get_backend",
    "set_backend",
    "Input",
    "Model",
    "Sequential",
    "load_model",
    "__version__",
    "version",
]
