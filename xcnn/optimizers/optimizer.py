"""The `Optimizer` base class: learning rate (or schedule), gradient clipping and
decoupled weight decay as Keras applies them, then each subclass's update rule.

Each optimizer updates `(key, weight, gradient)` triples and returns the new weights; its
per-weight slots (momentum, moments, accumulators) are arrays on the weights' backend,
so a step never leaves the device (clipping norms too stay there). Step counts and learning
rates are host numbers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from .._checks import real_number
from .._typing import Array
from ..backend import array_namespace
from .schedules import LearningRateSchedule, constructor_config
from .schedules import get as get_schedule


def _learning_rate(value):
    """A positive float, a schedule, or a schedule's config dict (as saved)."""
    if isinstance(value, (dict, LearningRateSchedule)):
        return get_schedule(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"learning_rate must be a positive number or a schedule, got {value!r}")
    return float(value)


def _optional_positive(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: subclasses define `slots` and `_update(w, g, slots) -> new w`.

    As in Keras, each step first clips the gradients (at most one of `clipnorm`,
    `global_clipnorm`, `clipvalue`), then applies `weight_decay` (`w -= w * weight_decay * lr`),
    then the update rule. Per-weight slots (momentum, moments) are arrays on the weights'
    backend, so a step never leaves the device; `iterations` and the rates are host numbers.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or
            its config.
        weight_decay: Decoupled weight decay (`None` or >= 0).
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `learning_rate` is not a positive number or a schedule, an argument is out
            of its range, or more than one of `clipnorm`, `clipvalue` and `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import SGD
        >>> optimizer = SGD(learning_rate=1.0, clipnorm=1.0)
        >>> [w] = optimizer.apply([("w", np.zeros(2), np.array([3.0, 4.0]))])
        >>> w.round(4).tolist()
        [-0.6, -0.8]
    """

    name = "optimizer"
    slots: tuple[str, ...] = ()
    state: dict[Hashable, dict[str, Array]]  # weight key -> {slot name: array}, set in __init__

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        self.learning_rate = _learning_rate(learning_rate)
        if weight_decay is not None:
            weight_decay = real_number(weight_decay, "weight_decay", 0.0)
        self.weight_decay = weight_decay
        self.clipnorm = _optional_positive(clipnorm, "clipnorm")
        self.clipvalue = _optional_positive(clipvalue, "clipvalue")
        self.global_clipnorm = _optional_positive(global_clipnorm, "global_clipnorm")
        if sum(v is not None for v in (self.clipnorm, self.clipvalue, self.global_clipnorm)) > 1:
            raise ValueError(
                f"only one of clipnorm, clipvalue and global_clipnorm can be set, got clipnorm={clipnorm}, "
                f"clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.iterations = 0
        self.state = {}  # key -> {slot name: array}

    @property
    def current_learning_rate(self) -> float:
        """The learning rate of the next step (the schedule's value at `iterations`).

        Examples:
            >>> from xcnn.optimizers import SGD
            >>> from xcnn.optimizers.schedules import ExponentialDecay
            >>> optimizer = SGD(learning_rate=ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
            >>> optimizer.iterations = 2
            >>> optimizer.current_learning_rate
            0.025
        """
        if isinstance(self.learning_rate, LearningRateSchedule):
            return self.learning_rate(self.iterations)
        return self.learning_rate

    def _initial_slot(self, slot, w):
        xp = array_namespace(w)
        return xp.zeros_like(w)

    def _clip(self, grads):
        """The gradients after ``clipnorm``/``global_clipnorm``/``clipvalue`` (device arithmetic)."""
        if not grads:
            return grads
        xp = array_namespace(grads[0])
        if self.clipnorm is not None:
            return [
                g * (self.clipnorm / xp.maximum(xp.sqrt(xp.sum(g * g)), _like(xp, g, self.clipnorm))) for g in grads
            ]
        if self.global_clipnorm is not None:
            total = None
            for g in grads:
                total = xp.sum(g * g) if total is None else total + xp.sum(g * g)
            scale = self.global_clipnorm / xp.maximum(xp.sqrt(total), _like(xp, total, self.global_clipnorm))
            return [g * scale for g in grads]
        if self.clipvalue is not None:
            # not xp.clip: array-api-compat's generic clip for CuPy syncs (boolean-mask indexing)
            return [xp.minimum(xp.maximum(g, -self.clipvalue), self.clipvalue) for g in grads]
        return grads

    def apply(self, items: Sequence[tuple[Hashable, Array, Array]]) -> list[Array]:
        """One step: update every weight from its gradient.

        Args:
            items: `(key, w, g)` triples: a hashable key naming the weight (its slots are kept under
                it), the weight and its gradient, arrays of one shape on one backend.

        Returns:
            The new weights, in the order of `items`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.optimizers import SGD
            >>> optimizer = SGD(learning_rate=0.1, momentum=0.9)
            >>> [w] = optimizer.apply([("w", np.array([1.0]), np.array([1.0]))])
            >>> [w] = optimizer.apply([("w", w, np.array([1.0]))])
            >>> w.round(4).tolist(), sorted(optimizer.state["w"])
            ([0.71], ['velocity'])
        """
        self._lr = self.current_learning_rate  # this step's rate, read by _update
        grads = self._clip([g for _, _, g in items])
        self._before_step()
        self.iterations += 1
        new = []
        for (key, w, _), g in zip(items, grads):
            slots = self.state.get(key)
            if slots is None:
                slots = self.state[key] = {s: self._initial_slot(s, w) for s in self.slots}
            if self.weight_decay:
                # decoupled weight decay (AdamW style), as Keras applies it
                w = w - w * (self._lr * self.weight_decay)
            new.append(self._update(w, g, slots))
        return new

    def _before_step(self):
        """Per-step bookkeeping shared by all weights (Nadam's momentum product); none by default."""

    def _update(self, w, g, slots):
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Name and constructor arguments, from which `xcnn.optimizers.get` rebuilds the optimizer.

        Returns:
            A dict of plain values (a schedule as its own config).

        Examples:
            >>> from xcnn import optimizers
            >>> config = optimizers.Adam(learning_rate=0.01).get_config()
            >>> config["name"], config["learning_rate"]
            ('adam', 0.01)
            >>> type(optimizers.get(config)).__name__
            'Adam'
        """
        config = constructor_config(self)
        if isinstance(self.learning_rate, LearningRateSchedule):
            config["learning_rate"] = self.learning_rate.get_config()
        return config


def _like(xp, array, value):
    """The host number ``value`` as a 0-d array beside ``array`` (for ``maximum`` on the device)."""
    return xp.asarray(value, dtype=array.dtype, device=array.device)


def _decay_rate(value, name):
    """A moving-average factor such as Adam's ``beta_1``: in [0, 1) (1 would divide by 0)."""
    return real_number(value, name, 0.0, 1.0, high_open=True)


def _epsilon(value):
    """A fuzz factor added to a denominator: > 0."""
    return real_number(value, "epsilon", 0.0, low_open=True)
