"""Learning-rate schedules with Keras's names and formulas: ``schedule(step) -> float``.

Pass one as ``learning_rate`` to any optimizer; ``step`` is the optimizer's ``iterations``
(0 for the first update). Each keeps its constructor arguments as attributes (its config).
"""

from __future__ import annotations

import math


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``, step 0 first. Subclasses set ``name`` (the key
    in a saved config) and keep their constructor arguments as attributes of the same name."""

    name = "schedule"

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return constructor_config(self)


def constructor_config(obj):
    """``{"name": obj.name, arg: obj.arg, ...}`` for each constructor argument, which the
    class keeps as an attribute of the same name."""
    code = type(obj).__init__.__code__
    return {"name": obj.name, **{k: getattr(obj, k) for k in code.co_varnames[1 : code.co_argcount]}}


def _number(value, name, minimum=0.0, inclusive=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (value >= minimum if inclusive else value > minimum):
        raise ValueError(f"{name} must be a {'non-negative' if inclusive else 'positive'} number, got {value!r}")
    return value


def _positive(value, name):
    return _number(value, name)


class CosineDecay(LearningRateSchedule):
    """Keras's ``CosineDecay``: from ``initial_learning_rate`` down a half cosine to
    ``alpha * initial_learning_rate`` at ``decay_steps``, then flat. With ``warmup_target``:
    first a straight line from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then the cosine from ``warmup_target`` over the next ``decay_steps``."""

    name = "cosine_decay"

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
        if warmup_target is None:
            self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        else:  # a warm-up usually starts at 0
            self.initial_learning_rate = float(_number(initial_learning_rate, "initial_learning_rate", inclusive=True))
            warmup_target = float(_positive(warmup_target, "warmup_target"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)
        self.warmup_target = warmup_target
        self.warmup_steps = int(_number(warmup_steps, "warmup_steps", inclusive=True))

    def get_config(self):
        config = constructor_config(self)
        if self.warmup_target is None:  # configs without a warm-up read as before warm-ups existed
            del config["warmup_target"], config["warmup_steps"]
        return config

    def _decayed(self, step, start):
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decayed(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * fraction
        return self._decayed(step - self.warmup_steps, self.warmup_target)


class ExponentialDecay(LearningRateSchedule):
    """Keras's ``ExponentialDecay``: ``initial_learning_rate * decay_rate ** (step / decay_steps)``
    (the exponent rounded down with ``staircase=True``)."""

    name = "exponential_decay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.decay_rate = float(_positive(decay_rate, "decay_rate"))
        self.staircase = bool(staircase)

    def __call__(self, step):
        exponent = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(exponent) if self.staircase else exponent)


class InverseTimeDecay(LearningRateSchedule):
    """Keras's ``InverseTimeDecay``: ``initial_learning_rate / (1 + decay_rate * step / decay_steps)``
    (the ratio rounded down with ``staircase=True``)."""

    name = "inverse_time_decay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.decay_rate = float(_number(decay_rate, "decay_rate", inclusive=True))
        self.staircase = bool(staircase)

    def __call__(self, step):
        ratio = step / self.decay_steps
        return self.initial_learning_rate / (1.0 + self.decay_rate * (math.floor(ratio) if self.staircase else ratio))


class PolynomialDecay(LearningRateSchedule):
    """Keras's ``PolynomialDecay``: ``(initial - end) * (1 - step / decay_steps) ** power + end``,
    flat at ``end_learning_rate`` after ``decay_steps`` (``cycle=True``: decay_steps grows to the
    next multiple of itself instead)."""

    name = "polynomial_decay"

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.end_learning_rate = float(_number(end_learning_rate, "end_learning_rate", inclusive=True))
        self.power = float(_positive(power, "power"))
        self.cycle = bool(cycle)

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1.0 - fraction) ** self.power + self.end_learning_rate


class PiecewiseConstantDecay(LearningRateSchedule):
    """Keras's ``PiecewiseConstantDecay``: ``values[0]`` while ``step <= boundaries[0]``,
    ``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after."""

    name = "piecewise_constant_decay"

    def __init__(self, boundaries, values):
        boundaries, values = list(boundaries), [float(v) for v in values]
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"values must have one more entry than boundaries, got {len(values)} values "
                             f"for {len(boundaries)} boundaries")
        if boundaries != sorted(boundaries):
            raise ValueError(f"boundaries must increase, got {boundaries}")
        self.boundaries, self.values = boundaries, values

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


SCHEDULES = {cls.name: cls for cls in (CosineDecay, ExponentialDecay, InverseTimeDecay, PolynomialDecay,
                                       PiecewiseConstantDecay)}


def get(value):
    """A schedule from a schedule (returned as it is) or its config dict (as saved)."""
    if isinstance(value, LearningRateSchedule):
        return value
    config = dict(value)
    name = config.pop("name", None)
    if name not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {name!r}; expected one of {tuple(SCHEDULES)}")
    return SCHEDULES[name](**config)


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "get",
]
