"""Learning-rate schedules with Keras's names and formulas: `schedule(step) -> float`.

Pass one as `learning_rate` to any optimizer; `step` is the optimizer's `iterations`
(0 for the first update). Each keeps its constructor arguments as attributes (its config).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


class LearningRateSchedule:
    """Base class: `schedule(step) -> float`, step 0 first.

    Subclasses set `name` (the key in a saved config) and keep their constructor arguments as
    attributes of the same name.

    Examples:
        >>> from xcnn.optimizers.schedules import LearningRateSchedule
        >>> class Halving(LearningRateSchedule):
        ...     name = "halving"
        ...     def __call__(self, step):
        ...         return 0.5 ** step
        >>> Halving()(3)
        0.125
    """

    name = "schedule"

    def __call__(self, step: int) -> float:
        """The learning rate at `step`.

        Args:
            step: The optimizer's `iterations` (0 for the first update).

        Returns:
            The rate, a float.

        Raises:
            NotImplementedError: In the base class; every schedule implements it.

        Examples:
            >>> from xcnn.optimizers.schedules import ExponentialDecay
            >>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
            >>> [round(schedule(step), 4) for step in [0, 10]]
            [0.1, 0.05]
        """
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The schedule's name and constructor arguments, which `get` accepts back.

        Returns:
            `{"name": ..., <argument>: <value>, ...}`.

        Examples:
            >>> from xcnn.optimizers.schedules import ExponentialDecay
            >>> ExponentialDecay(0.1, 10, 0.5).get_config()
            {'name': 'exponential_decay', 'initial_learning_rate': 0.1, 'decay_steps': 10, 'decay_rate': 0.5, 'staircase': False}
        """
        return constructor_config(self)


def constructor_config(obj: Any) -> dict[str, Any]:
    """`{"name": obj.name, arg: obj.arg, ...}` for each constructor argument of `obj`.

    The class keeps each constructor argument as an attribute of the same name.

    Args:
        obj: A schedule or optimizer.

    Returns:
        The config dict.

    Examples:
        >>> from xcnn.optimizers import SGD
        >>> from xcnn.optimizers.schedules import constructor_config
        >>> constructor_config(SGD())["learning_rate"]
        0.01
    """
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
    """Keras's `CosineDecay`: down a half cosine, then flat.

    From `initial_learning_rate` down a half cosine to `alpha * initial_learning_rate` at
    `decay_steps`, then flat. With `warmup_target`: first a straight line from
    `initial_learning_rate` to `warmup_target` over `warmup_steps`, then the cosine from
    `warmup_target` over the next `decay_steps`.

    Args:
        initial_learning_rate: The starting rate (positive; may be 0 with a warm-up).
        decay_steps: The steps the cosine takes; positive.
        alpha: The final rate as a fraction of the peak, in `[0, 1]`.
        warmup_target: The rate at the end of the warm-up (`None`: no warm-up).
        warmup_steps: The steps of the warm-up.

    Raises:
        ValueError: If a rate or step count is not a positive number, or `alpha` is outside `[0, 1]`.

    Examples:
        >>> from xcnn.optimizers.schedules import CosineDecay
        >>> schedule = CosineDecay(0.1, decay_steps=10)
        >>> [round(schedule(step), 4) for step in [0, 5, 10, 20]]
        [0.1, 0.05, 0.0, 0.0]
    """

    name = "cosine_decay"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
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

    def get_config(self) -> dict[str, Any]:
        """The schedule's name and constructor arguments, which `get` accepts back.

        The warm-up arguments are left out when there is no warm-up.

        Returns:
            `{"name": "cosine_decay", ...}`.

        Examples:
            >>> from xcnn.optimizers.schedules import CosineDecay
            >>> CosineDecay(0.1, 100).get_config()
            {'name': 'cosine_decay', 'initial_learning_rate': 0.1, 'decay_steps': 100, 'alpha': 0.0}
        """
        config = constructor_config(self)
        if self.warmup_target is None:  # configs without a warm-up read as before warm-ups existed
            del config["warmup_target"], config["warmup_steps"]
        return config

    def _decayed(self, step, start):
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decayed(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * fraction
        return self._decayed(step - self.warmup_steps, self.warmup_target)


class ExponentialDecay(LearningRateSchedule):
    """Keras's `ExponentialDecay`: `initial_learning_rate * decay_rate ** (step / decay_steps)`.

    The exponent is rounded down with `staircase=True`.

    Args:
        initial_learning_rate: The rate at step 0; positive.
        decay_steps: The steps over which the rate is multiplied by `decay_rate`; positive.
        decay_rate: The factor; positive.
        staircase: Decay in whole steps of `decay_steps`.

    Raises:
        ValueError: If a rate or step count is not a positive number.

    Examples:
        >>> from xcnn.optimizers.schedules import ExponentialDecay
        >>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
        >>> [round(schedule(step), 4) for step in [0, 5, 10, 20]]
        [0.1, 0.0707, 0.05, 0.025]
    """

    name = "exponential_decay"

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False
    ) -> None:
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.decay_rate = float(_positive(decay_rate, "decay_rate"))
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        exponent = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(exponent) if self.staircase else exponent)


class InverseTimeDecay(LearningRateSchedule):
    """Keras's `InverseTimeDecay`: `initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    The ratio is rounded down with `staircase=True`.

    Args:
        initial_learning_rate: The rate at step 0; positive.
        decay_steps: The step unit; positive.
        decay_rate: The decay per `decay_steps`; >= 0.
        staircase: Decay in whole steps of `decay_steps`.

    Raises:
        ValueError: If a rate or step count is not a positive number, or `decay_rate` is negative.

    Examples:
        >>> from xcnn.optimizers.schedules import InverseTimeDecay
        >>> schedule = InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
        >>> [round(schedule(step), 4) for step in [0, 5, 10, 20]]
        [0.1, 0.0667, 0.05, 0.0333]
    """

    name = "inverse_time_decay"

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False
    ) -> None:
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.decay_rate = float(_number(decay_rate, "decay_rate", inclusive=True))
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        ratio = step / self.decay_steps
        return self.initial_learning_rate / (1.0 + self.decay_rate * (math.floor(ratio) if self.staircase else ratio))


class PolynomialDecay(LearningRateSchedule):
    """Keras's `PolynomialDecay`: `(initial - end) * (1 - step / decay_steps) ** power + end`.

    Flat at `end_learning_rate` after `decay_steps` (`cycle=True`: `decay_steps` grows to the next
    multiple of itself instead).

    Args:
        initial_learning_rate: The rate at step 0; positive.
        decay_steps: The steps of the decay; positive.
        end_learning_rate: The final rate; >= 0.
        power: The polynomial's power; positive.
        cycle: Restart the decay from a longer period instead of staying flat.

    Raises:
        ValueError: If a rate or step count is not a positive number, or `end_learning_rate` is negative.

    Examples:
        >>> from xcnn.optimizers.schedules import PolynomialDecay
        >>> schedule = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
        >>> [round(schedule(step), 4) for step in [0, 5, 10, 20]]
        [0.1, 0.05, 0.0, 0.0]
    """

    name = "polynomial_decay"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
    ) -> None:
        self.initial_learning_rate = float(_positive(initial_learning_rate, "initial_learning_rate"))
        self.decay_steps = int(_positive(decay_steps, "decay_steps"))
        self.end_learning_rate = float(_number(end_learning_rate, "end_learning_rate", inclusive=True))
        self.power = float(_positive(power, "power"))
        self.cycle = bool(cycle)

    def __call__(self, step: int) -> float:
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (
            1.0 - fraction
        ) ** self.power + self.end_learning_rate


class PiecewiseConstantDecay(LearningRateSchedule):
    """Keras's `PiecewiseConstantDecay`: constant rates between step boundaries.

    `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <=
    boundaries[i]`, `values[-1]` after.

    Args:
        boundaries: Increasing step numbers.
        values: The rates, one more than `boundaries`.

    Raises:
        ValueError: If `values` is not one longer than `boundaries`, or `boundaries` do not
            increase.

    Examples:
        >>> from xcnn.optimizers.schedules import PiecewiseConstantDecay
        >>> schedule = PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001])
        >>> [round(schedule(step), 4) for step in [0, 5, 10, 20]]
        [0.1, 0.1, 0.01, 0.001]
    """

    name = "piecewise_constant_decay"

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        boundaries, values = list(boundaries), [float(v) for v in values]
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"values must have one more entry than boundaries, got {len(values)} values "
                f"for {len(boundaries)} boundaries"
            )
        if boundaries != sorted(boundaries):
            raise ValueError(f"boundaries must increase, got {boundaries}")
        self.boundaries, self.values = boundaries, values

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


SCHEDULES = {
    cls.name: cls for cls in (CosineDecay, ExponentialDecay, InverseTimeDecay, PolynomialDecay, PiecewiseConstantDecay)
}


def get(value: LearningRateSchedule | dict[str, Any]) -> LearningRateSchedule:
    """A schedule from a schedule (returned as it is) or its config dict (as saved).

    Args:
        value: A `LearningRateSchedule`, or `get_config()`'s output.

    Returns:
        The schedule.

    Raises:
        ValueError: If the config's `name` is not a known schedule.

    Examples:
        >>> from xcnn.optimizers.schedules import get
        >>> schedule = get({"name": "exponential_decay", "initial_learning_rate": 0.1,
        ...                 "decay_steps": 10, "decay_rate": 0.5})
        >>> schedule(10)
        0.05
    """
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
