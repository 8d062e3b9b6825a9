"""The `Optimizer` base class: learning rate (or schedule), gradient clipping and
decoupled weight decay as Keras applies them, then each subclass's update rule.

Each optimizer updates `(key, weight, gradient)` triples and returns the new weights; its
per-weight slots (momentum, moments, accumulators) are arrays on the weights' backend,
so a step never leaves the device (clipping norms too stay there). Step counts and learning
rates are host numbers. The update rule runs once per step over all the weights as flat
vectors (a dozen kernel launches on a GPU, not a dozen per weight array); the weights handed
back and the slots in `state` are views into those vectors.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import real_number
from .._typing import Array
from ..backend import array_namespace
from .schedules import LearningRateSchedule, constructor_config
from .schedules import get as get_schedule


def _learning_rate(value):
    """A positive float, a schedule, or a schedule's config dict (as saved)."""
    if isinstance(value, (dict, LearningRateSchedule)):
        return get_schedule(value)
    if isinstance(value, LearningRate):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"learning_rate must be a positive number or a schedule, got {value!r}")
    return float(value)


class LearningRate(float):
    """An optimizer's constant learning rate as Keras scripts read it: a float, with the
    `numpy()` and `assign()` of Keras's variable.

    `optimizer.learning_rate.assign(1e-4)` is `optimizer.learning_rate = 1e-4`.

    Args:
        value: The rate.
        optimizer: The optimizer it belongs to.

    Examples:
        >>> from xcnn.optimizers import Adam
        >>> optimizer = Adam(0.01)
        >>> float(optimizer.learning_rate), optimizer.learning_rate.numpy().item()
        (0.01, 0.01)
        >>> optimizer.learning_rate.assign(0.001)
        >>> optimizer.learning_rate
        0.001
    """

    _optimizer: Optimizer

    def __new__(cls, value: float, optimizer: Optimizer) -> LearningRate:
        return super().__new__(cls, value)

    def __init__(self, value: float, optimizer: Optimizer) -> None:
        self._optimizer = optimizer

    def __repr__(self) -> str:
        return float.__repr__(self)

    def __reduce__(self):  # pickled, copied: a plain float
        return (float, (float(self),))

    def numpy(self) -> np.ndarray:
        """The rate as a 0-d NumPy array, as Keras's `variable.numpy()`.

        Returns:
            A 0-d float64 array.

        Examples:
            >>> from xcnn.optimizers import SGD
            >>> SGD(0.5).learning_rate.numpy().item()
            0.5
        """
        return np.asarray(float(self))

    def assign(self, value: float) -> None:
        """Set the optimizer's learning rate, as Keras's `learning_rate.assign(value)`.

        Args:
            value: A positive number.

        Raises:
            ValueError: If `value` is not a positive number.

        Examples:
            >>> from xcnn.optimizers import SGD
            >>> optimizer = SGD(0.5)
            >>> optimizer.learning_rate.assign(0.25)
            >>> float(optimizer.learning_rate)
            0.25
        """
        if isinstance(value, LearningRateSchedule):
            raise ValueError("assign takes a number; set optimizer.learning_rate to a schedule instead")
        self._optimizer.learning_rate = value


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
    _learning_rate: float | LearningRateSchedule
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
        self._flat: _FlatBuffers | None = None  # the weights and slots as flat buffers, made at the first step

    @property
    def learning_rate(self) -> LearningRate:
        """The learning rate of the next step, as Keras's: a float with `numpy()` and `assign()`.

        With a schedule, it is the schedule's rate at `iterations` (what callbacks log), as in
        Keras; the schedule itself is `learning_rate_schedule`. Set it to a positive number or a
        schedule; a number set while a schedule drives the rate is refused, as Keras refuses it.

        Raises:
            ValueError: If the value set is not a positive number or a schedule.
            TypeError: If a number is set on an optimizer whose rate is a schedule.

        Examples:
            >>> from xcnn.optimizers import Adam
            >>> from xcnn.optimizers.schedules import ExponentialDecay
            >>> optimizer = Adam(0.01)
            >>> optimizer.learning_rate = 0.001
            >>> optimizer.learning_rate
            0.001
            >>> float(Adam(ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)).learning_rate)
            0.1
        """
        return LearningRate(self.current_learning_rate, self)

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule | dict[str, Any]) -> None:
        new = _learning_rate(value)
        if isinstance(getattr(self, "_learning_rate", None), LearningRateSchedule) and not isinstance(
            new, LearningRateSchedule
        ):
            raise TypeError(
                f"the learning rate follows a schedule ({type(self._learning_rate).__name__}): "
                f"set optimizer.learning_rate to another schedule, or compile with a number"
            )
        self._learning_rate = new

    @property
    def learning_rate_schedule(self) -> LearningRateSchedule | None:
        """The schedule that sets the rate at each step, or `None` for a constant rate.

        Examples:
            >>> from xcnn.optimizers import SGD
            >>> from xcnn.optimizers.schedules import ExponentialDecay
            >>> type(SGD(ExponentialDecay(0.1, 10, 0.5)).learning_rate_schedule).__name__
            'ExponentialDecay'
            >>> SGD(0.1).learning_rate_schedule is None
            True
        """
        rate = self._learning_rate
        return rate if isinstance(rate, LearningRateSchedule) else None

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
        rate = self._learning_rate
        return rate(self.iterations) if isinstance(rate, LearningRateSchedule) else rate

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
            scale = self.global_clipnorm / xp.maximum(xp.sqrt(total), _like(xp, grads[0], self.global_clipnorm))
            return [g * scale for g in grads]
        if self.clipvalue is not None:
            # not xp.clip: array-api-compat's generic clip for CuPy syncs (boolean-mask indexing)
            return [xp.minimum(xp.maximum(g, -self.clipvalue), self.clipvalue) for g in grads]
        return grads

    def apply(
        self,
        items: Sequence[tuple[Hashable, Array, Array]],
        constraints: Mapping[Hashable, Callable[[Array], Array]] | None = None,
    ) -> list[Array]:
        """One step: update every weight from its gradient, then apply the weights' constraints.

        The update rule runs once over all the weights together: the
        gradients are concatenated into one flat vector, the weights and each slot are kept in
        flat buffers, and the new weights come back as views into the new flat weights. On a GPU
        a step then launches a dozen kernels for the rule, not a dozen per weight array.
        `state[key][slot]` stays a per-weight array (a view into the flat slot), and whatever
        replaces it (a loaded checkpoint, `Model.to`) is packed again at the next step. Weights
        and gradients of mixed array types, dtypes or devices take one weight at a time.

        As Keras's `optimizer.apply`, each constrained weight is replaced by `constraint(w)` right
        after its update (on the device; in the flat path the result is written back into the
        flat weights, so the next step still takes them without a copy).

        Args:
            items: `(key, w, g)` triples: a hashable key naming the weight (its slots are kept under
                it), the weight and its gradient, arrays of one shape on one backend.
            constraints: Weight key -> a function of the updated weight returning the weight to
                keep (of its shape and dtype), for the constrained weights; `None` for none.

        Returns:
            The new weights, in the order of `items`.

        Raises:
            ValueError: If a gradient's shape differs from its weight's, a slot in `state`
                from its weight's, a constraint's result from its weight's, or a key appears twice.

        Examples:
            >>> import numpy as np
            >>> from xcnn.optimizers import SGD
            >>> optimizer = SGD(learning_rate=0.1, momentum=0.9)
            >>> [w] = optimizer.apply([("w", np.array([1.0]), np.array([1.0]))])
            >>> [w] = optimizer.apply([("w", w, np.array([1.0]))])
            >>> w.round(4).tolist(), sorted(optimizer.state["w"])
            ([0.71], ['velocity'])
            >>> [w] = SGD(learning_rate=1.0).apply([("w", np.array([1.0]), np.array([3.0]))],
            ...                                    constraints={"w": lambda w: np.maximum(w, 0.0)})
            >>> w.tolist()
            [0.0]
        """
        items = list(items)
        for key, w, g in items:
            if tuple(g.shape) != tuple(w.shape):
                raise ValueError(f"the gradient of {key!r} has shape {tuple(g.shape)}, its weight {tuple(w.shape)}")
        self._lr = self.current_learning_rate  # this step's rate, read by _update
        constraints = dict(constraints or {})
        if items and _one_kind([a for _, w, g in items for a in (w, g)]):
            return self._apply_flat(items, constraints)
        return self._apply_per_weight(items, constraints)

    def _apply_per_weight(self, items, constraints=None):
        """The step one weight at a time (weights of mixed kinds): each rule on each weight."""
        self._flat = None  # the state is about to leave the flat buffers' views
        grads = self._clip([g for _, _, g in items])
        self._before_step()
        self.iterations += 1
        new = []
        for (key, w, _), g in zip(items, grads):
            slots = self.state.get(key)
            if slots is None:
                slots = self.state[key] = {s: self._initial_slot(s, w) for s in self.slots}
            w = self._update(self._decayed(w), g, slots)
            new.append(constraints[key](w) if constraints and key in constraints else w)
        return new

    def _apply_flat(self, items, constraints=None):
        """The step on flat vectors: one concatenation of the gradients, then the rule once."""
        keys = [key for key, _, _ in items]
        grads = [g for _, _, g in items]
        if self.clipnorm is not None:  # per weight, as Keras: before the gradients are packed
            grads = self._clip(grads)
        weights = [w for _, w, _ in items]
        flat = self._flat
        if flat is not None and flat.fits(keys, weights):
            flat.take_weights(weights)
        else:
            flat = self._flat = _FlatBuffers(keys, weights)
        flat.adopt_slots(self)
        g = flat.pack(grads)
        if self.clipnorm is None:
            [g] = self._clip([g])
        self._before_step()
        self.iterations += 1
        slots = dict(flat.slots)
        new = self._update(self._decayed(flat.weights), g, slots)
        flat.slots_updated(slots, self.state)
        if constraints:
            new = flat.constrain(new, constraints)
        return flat.hand_out(new)

    def _decayed(self, w):
        """``w`` after this step's decoupled weight decay (AdamW style), as Keras applies it."""
        if self.weight_decay:
            return w - w * (self._lr * self.weight_decay)
        return w

    def __getstate__(self):
        # a copy holds copies of the slot views that NumPy does not tie to a copied flat buffer:
        # it packs its own at its first step
        return {**self.__dict__, "_flat": None}

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
        rate = self._learning_rate
        config["learning_rate"] = rate.get_config() if isinstance(rate, LearningRateSchedule) else rate
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


# each weight's segment of the flat buffers starts at a multiple of this many elements (256
# bytes in float32), so that the views handed out are as aligned for vector loads and GEMMs on
# a GPU as arrays of their own; the zero padding between segments stays zero under every rule
_ALIGN = 64


def _one_kind(arrays):
    """Whether ``arrays`` share one array type, dtype and device (so they can be concatenated)."""
    first = arrays[0]
    kind, dtype, device = type(first), first.dtype, getattr(first, "device", None)
    return all(type(a) is kind and a.dtype == dtype and getattr(a, "device", None) == device for a in arrays)


class _FlatBuffers:
    """An optimizer's weights and slots as flat vectors, one segment per weight key.

    The weights handed out after a step, and the slots in the optimizer's ``state``, are views
    (a reshaped slice, no copy) into the flat buffers. At the next step the weights passed in
    are used as they are when they are those views (no copy), and the slots when ``state``
    still holds them; anything else (``set_weights``, a loaded checkpoint, ``Model.to``) is
    packed again, so ``state[key][slot]`` can be read and replaced as a per-weight array.

    Args:
        keys: The weights' keys, in the order of the flat segments (no repeats).
        weights: The weights, arrays of one type, dtype and device.

    Raises:
        ValueError: If a key repeats.
    """

    def __init__(self, keys: list[Hashable], weights: list[Array]) -> None:
        if len(set(keys)) != len(keys):
            repeated = sorted({repr(k) for k in keys if keys.count(k) > 1})
            raise ValueError(f"each weight key must appear once in a step, got {', '.join(repeated)} more than once")
        self.keys = list(keys)
        self.xp = array_namespace(weights[0])
        first = weights[0]
        self.kind, self.dtype, self.device = type(first), first.dtype, getattr(first, "device", None)
        self.shapes = [tuple(w.shape) for w in weights]
        self.offsets, self.pads, end = [], [], 0
        for shape in self.shapes:
            self.offsets.append(end)
            end += math.prod(shape)
            pad = -end % _ALIGN
            self.pads.append(self.xp.zeros(pad, dtype=self.dtype, device=first.device) if pad else None)
            end += pad
        self.slots: dict[str, Array] = {}  # slot name -> flat buffer
        self.slot_views: dict[str, list[Array]] = {}  # slot name -> the views into it, in key order
        self.weights = self.pack(weights)
        self.weight_views = self._views(self.weights)

    def fits(self, keys: list[Hashable], weights: list[Array]) -> bool:
        """Whether ``keys`` and ``weights`` (of one kind) have this layout."""
        if keys != self.keys:
            return False
        if all(w is v for w, v in zip(weights, self.weight_views)):
            return True
        first = weights[0]
        return (
            type(first) is self.kind
            and first.dtype == self.dtype
            and getattr(first, "device", None) == self.device
            and all(tuple(w.shape) == shape for w, shape in zip(weights, self.shapes))
        )

    def take_weights(self, weights: list[Array]) -> None:
        """Make ``weights`` (of this layout) the flat weights: no copy when they are the views
        this object handed out last, one concatenation otherwise."""
        if not all(w is v for w, v in zip(weights, self.weight_views)):
            self.weights = self.pack(weights)
            self.weight_views = self._views(self.weights)

    def adopt_slots(self, optimizer: Optimizer) -> None:
        """Make the flat slots hold ``optimizer.state``: no copy when its entries are the views
        into them; packed again (missing slots initialised) when anything replaced one."""
        state = optimizer.state
        if self.slot_views.keys() == set(optimizer.slots) and all(
            (entry := state.get(key)) is not None
            and all(entry.get(slot) is views[i] for slot, views in self.slot_views.items())
            for i, key in enumerate(self.keys)
        ):
            return
        self.slots, self.slot_views = {}, {}
        for key in self.keys:  # an entry per weight, also for a rule without slots (as one weight at a time)
            state.setdefault(key, {})
        for slot in optimizer.slots:
            pieces = []
            for key, w, shape in zip(self.keys, self.weight_views, self.shapes):
                value = state[key].get(slot)
                if value is None:
                    value = optimizer._initial_slot(slot, w)
                elif tuple(value.shape) != shape:
                    raise ValueError(
                        f"the optimizer's {slot!r} slot of {key!r} has shape {tuple(value.shape)}, its weight {shape}"
                    )
                pieces.append(value)
            self._set_slot(slot, self.pack(pieces), state)

    def slots_updated(self, slots: dict[str, Array], state: dict[Hashable, dict[str, Array]]) -> None:
        """Take the flat slots an update rule left in ``slots``: a rule that replaced one (rather
        than updating it in place) gets fresh views of it into ``state``."""
        for slot, flat in slots.items():
            if flat is not self.slots.get(slot):
                self._set_slot(slot, flat, state)

    def constrain(self, weights: Array, constraints: Mapping[Hashable, Callable[[Array], Array]]) -> Array:
        """The flat ``weights`` with each constrained segment replaced by its constraint's value
        (written in place: the constraints see views of the new weights, their results are
        copied into those segments on the device)."""
        xp = self.xp
        if weights is self.weights:  # an update rule that handed the old buffer back: not in place
            weights = xp.asarray(weights, copy=True)
        views = self._views(weights)
        for key, view, start, shape in zip(self.keys, views, self.offsets, self.shapes):
            if key in constraints:
                value = constraints[key](view)
                if tuple(value.shape) != shape:
                    raise ValueError(
                        f"the constraint of {key!r} returned shape {tuple(value.shape)}, the weight's is {shape}"
                    )
                weights[start : start + math.prod(shape)] = xp.reshape(xp.astype(value, self.dtype, copy=False), (-1,))
        return weights

    def hand_out(self, weights: Array) -> list[Array]:
        """The new flat ``weights`` as one view per key (and kept for the next step)."""
        self.weights = weights
        self.weight_views = self._views(weights)
        return list(self.weight_views)

    def pack(self, arrays: list[Array]) -> Array:
        """``arrays`` (one per key, of its shape) as one flat vector: one concatenation."""
        xp = self.xp
        pieces = []
        for a, pad in zip(arrays, self.pads):
            pieces.append(xp.reshape(a, (-1,)))
            if pad is not None:
                pieces.append(pad)
        flat = xp.concat(pieces) if len(pieces) > 1 else xp.asarray(pieces[0], copy=True)
        return flat if flat.dtype == self.dtype else xp.astype(flat, self.dtype)

    def _set_slot(self, slot, flat, state):
        self.slots[slot] = flat
        views = self.slot_views[slot] = self._views(flat)
        for key, view in zip(self.keys, views):
            state.setdefault(key, {})[slot] = view

    def _views(self, flat):
        xp = self.xp
        return [
            xp.reshape(flat[start : start + math.prod(shape)], shape) for start, shape in zip(self.offsets, self.shapes)
        ]
