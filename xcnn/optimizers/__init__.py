"""Optimizers with Keras's names, update rules and defaults; `schedules` for learning rates.

Every optimizer takes `learning_rate` (a number or a schedule), `weight_decay`,
`clipnorm`, `clipvalue` and `global_clipnorm` as in Keras. State lives on the model's
backend.
"""

from __future__ import annotations

from typing import Any

from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import Nadam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .schedules import CosineDecay, ExponentialDecay, LearningRateSchedule
from .sgd import SGD

_REGISTRY = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Nadam, Adamax)}
NAMES = tuple(_REGISTRY)


def get(identifier: str | dict[str, Any] | Optimizer) -> Optimizer:
    """An optimizer from a name, a config dict or an `Optimizer` (returned as it is).

    Args:
        identifier: A name (see `NAMES`, any case), `get_config()`'s output, or an `Optimizer`.

    Returns:
        The optimizer (a fresh one with Keras's defaults for a name).

    Raises:
        ValueError: If the name is unknown, or the config has keys the optimizer does not take.

    Examples:
        >>> from xcnn import optimizers
        >>> optimizers.get("Adam").learning_rate
        0.001
        >>> optimizers.get({"name": "sgd", "momentum": 0.9}).momentum
        0.9
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        cls = get(config.pop("name", None)).__class__
        code = cls.__init__.__code__
        accepted = code.co_varnames[1 : code.co_argcount]
        unknown = sorted(set(config) - set(accepted), key=str)
        if unknown:
            raise ValueError(
                f"optimizer config for {cls.name!r} has unknown keys {unknown}; accepted: {list(accepted)}"
            )
        return cls(**config)
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; expected one of {NAMES} or an Optimizer instance")


__all__ = [
    "NAMES",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "get",
    "schedules",
]
