"""`clone_model`: the same architecture with new layers and fresh weights, as Keras's."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .. import metrics as metrics_module
from .. import optimizers as optimizers_module

from ..layers import InputLayer, Layer
from .model import Model
from .sequential import Sequential


def _same_config(layer: Layer) -> Layer:
    """Keras's default `clone_function`: a new layer of the same class and config."""
    return type(layer).from_config(layer.get_config())


def clone_model(
    model: Model,
    input_tensors: Any = None,
    clone_function: Callable[[Layer], Layer] | None = None,
    call_function: Any = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Model:
    """A new model with the architecture of `model`: new layers, freshly drawn weights.

    Each layer is replaced by `clone_function(layer)` (default: a new layer of the same class
    and config, so of the same name) and called on the clones of its inputs, as Keras's
    `clone_model` does. The clone has the model's backend, device, dtype and name and a fresh
    seed; copy the weights with `clone.set_weights(model.get_weights())`. A compiled model's
    clone is compiled the same way, with a fresh optimizer and metrics, as in Keras.

    Args:
        model: A `Sequential` or functional `Model` (built, or a `Sequential` of layers alone).
        input_tensors: Must be `None`: the clone gets an `Input` like the model's.
        clone_function: Makes each new layer from the old one.
        call_function: Must be `None` (xcnn layers are each called once, on their inputs).
        recursive: Must be false: xcnn models hold no nested models.
        **kwargs: Not accepted; Keras takes none either.

    Returns:
        The new model.

    Raises:
        TypeError: If `model` is not an xcnn model, or `clone_function` does not return a layer.
        ValueError: If `model` is a subclassed model, or `input_tensors`, `call_function`,
            `recursive` or another argument asks for what xcnn does not do.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential, clone_model
        >>> model = Sequential([Input((3,)), Dense(2, name="d")], seed=0)
        >>> clone = clone_model(model)
        >>> clone.get_layer("d") is model.get_layer("d"), clone.output_shape
        (False, (None, 2))
        >>> clone.set_weights(model.get_weights())
        >>> x = np.ones((1, 3), "float32")
        >>> bool(np.allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0)))
        True
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be an xcnn Sequential or Model, got {type(model).__name__}")
    for name, value, default in [
        ("input_tensors", input_tensors, None),
        ("call_function", call_function, None),
        ("recursive", recursive, False),
    ]:
        if value is not default and value != default:
            raise ValueError(f"clone_model's {name} must be {default!r} in xcnn, got {value!r}")
    if kwargs:
        raise ValueError(f"clone_model takes no argument {sorted(kwargs)}")
    if type(model) not in (Model, Sequential):
        raise ValueError(
            f"clone_model clones Sequential and functional models; {type(model).__name__} is subclassed: "
            f"build a new one by calling its class"
        )
    clone_function = clone_function or _same_config
    options = {"backend": model.backend, "dtype": model.dtype, "name": model.name, "device": model.device}

    def clone(layer: Layer) -> Layer:
        new = clone_function(layer)
        if not isinstance(new, Layer):
            raise TypeError(f"clone_function must return a layer, got {type(new).__name__} for layer {layer.name!r}")
        return new

    new: Model
    if isinstance(model, Sequential) and not model.built:
        new = Sequential([clone(layer) for layer in model._pending], **options)
        _compile_like(new, model)
        return new
    model._ensure_built()
    # the Input first, then each layer on the clones of its inputs (the model's layer order is
    # topological, so every input is cloned before the layers that read it)
    inputs = model._input.layer
    tensors = {inputs.name: InputLayer.from_config(inputs.get_config()).output}
    for layer in model._layers:
        inbound = [tensors[t.layer.name] for t in layer.inbound]
        tensors[layer.name] = clone(layer)(inbound if layer.multi_input else inbound[0])
    output = tensors[model._output.layer.name]
    if isinstance(model, Sequential):
        new = Sequential(**options)
        new._set_graph(tensors[inputs.name], output)
    else:
        new = Model(tensors[inputs.name], output, **options)
    _compile_like(new, model)
    return new


def _compile_like(new: Model, model: Model) -> None:
    """Compile ``new`` as ``model`` was, with a fresh optimizer and fresh metric states (Keras's
    clone of a compiled model is compiled the same way)."""
    if not model.compiled:
        return

    def fresh(metric):
        if isinstance(metric, metrics_module.Metric):
            metric = copy.deepcopy(metric)
            metric.reset_state()
        return metric  # a name or a function holds no state

    new.compile(
        optimizers_module.get(model.optimizer.get_config()),
        copy.deepcopy(model.loss),
        [fresh(m) for m in model.metrics],
        weighted_metrics=[fresh(m) for m in model.weighted_metrics],
    )
