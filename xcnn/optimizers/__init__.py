"""Optimizers with Keras's names, update rules and defaults; ``schedules`` for learning rates.

Every optimizer takes ``learning_rate`` (a number or a schedule), ``weight_decay``,
``clipnorm``, ``clipvalue`` and ``global_clipnorm`` as in Keras. State lives on the model's
backend.
"""

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


def get(identifier):
    """An optimizer from a name (Keras defaults, any case), a config dict, or an :class:`Optimizer`."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        cls = get(config.pop("name", None)).__class__
        code = cls.__init__.__code__
        accepted = code.co_varnames[1 : code.co_argcount]
        unknown = sorted(set(config) - set(accepted), key=str)
        if unknown:
            raise ValueError(f"optimizer config for {cls.name!r} has unknown keys {unknown}; accepted: {list(accepted)}")
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
