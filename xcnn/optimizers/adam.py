"""The `Adam` optimizer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_namespace
from .optimizer import Optimizer, _decay_rate, _epsilon
from .schedules import LearningRateSchedule


class Adam(Optimizer):
    """Adam as Keras writes it.

    `w -= lr_t * m / (sqrt(v) + eps)` with `lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`.
    With `amsgrad=True` (AMSGrad, as Keras's): a slot `v_hat` keeps the running maximum of `v`
    (`v_hat = max(v_hat, v)` each step), and the denominator is `sqrt(v_hat) + eps`.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        beta_1: The first moment's decay, in `[0, 1)`.
        beta_2: The second moment's decay, in `[0, 1)`.
        epsilon: Added to the denominator; positive.
        amsgrad: Whether to divide by the running maximum of the second moment (AMSGrad).
        weight_decay: Decoupled weight decay: each step first does `w -= w * weight_decay * lr`.
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `learning_rate` is not a positive number or a schedule, an argument is out
            of its range, `amsgrad` is not a bool, or more than one of `clipnorm`, `clipvalue` and
            `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import Adam
        >>> optimizer = Adam(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.9, 2.1]
        >>> optimizer.iterations
        1
        >>> amsgrad = Adam(learning_rate=0.1, amsgrad=True)
        >>> [weight] = amsgrad.apply([("w", np.array([1.0, 2.0]), np.array([0.5, -0.5]))])
        >>> sorted(amsgrad.state["w"]), amsgrad.get_config()["amsgrad"]
        (['m', 'v', 'v_hat'], True)
    """

    name = "adam"
    slots: tuple[str, ...] = ("m", "v")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1, self.beta_2 = _decay_rate(beta_1, "beta_1"), _decay_rate(beta_2, "beta_2")
        self.epsilon = _epsilon(epsilon)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise ValueError(f"amsgrad must be True or False, got {amsgrad!r}")
        self.amsgrad = bool(amsgrad)
        self.slots = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def _update(self, w, g, slots):
        xp = array_namespace(w)
        t = self.iterations
        lr_t = self._lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        # the moments are this optimizer's own arrays, so they are updated in place and each
        # line makes one temporary, not three: for a weight array the size of the article's
        # 726x100 kernel a fresh temporary costs as much as the arithmetic
        m, v = slots["m"], slots["v"]
        step = g - m
        step *= 1.0 - self.beta_1
        m += step
        step = g * g
        step -= v
        step *= 1.0 - self.beta_2
        v += step
        if self.amsgrad:  # Keras's velocity_hat: the running maximum of v, kept in place
            v_hat = slots.get("v_hat")
            if v_hat is None:  # a state from a checkpoint without it: max(0, v) is v
                v_hat = slots["v_hat"] = xp.asarray(v, copy=True)
            else:
                v_hat[...] = xp.maximum(v_hat, v)
            v = v_hat
        step = xp.sqrt(v)
        step += self.epsilon
        step = m / step
        step *= lr_t  # not a division by lr_t: a schedule may bring the rate to 0
        return w - step


class AdamW(Adam):
    """Adam with decoupled weight decay on by default (`weight_decay=0.004`), as Keras's AdamW.

    Args:
        learning_rate: A positive number, a `xcnn.optimizers.schedules.LearningRateSchedule`, or its config.
        weight_decay: Decoupled weight decay (`w -= w * weight_decay * lr` each step); required.
        beta_1: The first moment's decay, in `[0, 1)`.
        beta_2: The second moment's decay, in `[0, 1)`.
        epsilon: Added to the denominator; positive.
        amsgrad: Whether to divide by the running maximum of the second moment (AMSGrad).
        clipnorm: Clip each gradient's L2 norm to at most this.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`.
        global_clipnorm: Scale all gradients together so that their joint L2 norm is at most this.

    Raises:
        ValueError: If `weight_decay` is None, `learning_rate` is not a positive number or a
            schedule, an argument is out of its range, `amsgrad` is not a bool, or more than one
            of `clipnorm`, `clipvalue` and `global_clipnorm` is set.

    Examples:
        >>> import numpy as np
        >>> from xcnn.optimizers import AdamW
        >>> optimizer = AdamW(learning_rate=0.1)
        >>> weight, gradient = np.array([1.0, 2.0]), np.array([0.5, -0.5])
        >>> [weight] = optimizer.apply([("w", weight, gradient)])
        >>> weight.round(4).tolist()
        [0.8996, 2.0992]
        >>> optimizer.iterations
        1
    """

    name = "adamw"

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | dict[str, Any] = 0.001,
        weight_decay: float | None = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        if weight_decay is None:
            raise ValueError("AdamW needs a weight_decay (a number >= 0); use Adam for none")
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )
