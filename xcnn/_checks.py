"""Argument checks shared by the public API: one clear sentence naming the argument.

Python ints, NumPy integers and any other ``numbers.Integral`` count as whole numbers (bools
do not, although Python makes them ints); ``numbers.Real`` values count as numbers.
"""

from __future__ import annotations

import math
import numbers


def whole_number(value, name, minimum=None):
    """``value`` as a Python int, refusing bools, floats and anything below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{name} must be {'a positive whole number' if minimum == 1 else f'>= {minimum}'}, got {value}"
        )
    return value


def positive_int(value, name):
    """``value`` as a Python int >= 1 (NumPy integers accepted)."""
    return whole_number(value, name, minimum=1)


def real_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """``value`` as a finite Python float inside the given bounds (open ends excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    given, value = value, float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        if low is not None and high is not None:
            wanted = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            wanted = "a positive number" if low == 0 and low_open else f"{'>' if low_open else '>='} {low:g}"
        elif high is not None:
            wanted = f"{'<' if high_open else '<='} {high:g}"
        else:
            wanted = "finite"
        raise ValueError(f"{name} must be {wanted}, got {given!r}")
    return value
