"""Keras's global settings (`keras.config`, and the same names in `keras.backend`), as xcnn has them.

Scripts written for Keras ask these, e.g. `if keras.backend.image_data_format() == "channels_first":`,
or call `keras.backend.clear_session()` between models. xcnn keeps one image layout (channels
last) and one loss clip (`epsilon`), so those report xcnn's fixed choices and their setters
refuse anything else, naming what is accepted; `set_floatx` sets the dtype of the models built
after it (float32 or float64), as Keras's does.
"""

from __future__ import annotations


def image_data_format() -> str:
    """The image layout: always `"channels_last"` (NHWC), as Keras's default.

    Returns:
        `"channels_last"`.

    Examples:
        >>> import xcnn as keras
        >>> keras.backend.image_data_format()
        'channels_last'
    """
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Keras's setter; xcnn has channels last only.

    Args:
        data_format: `"channels_last"`.

    Raises:
        ValueError: For any other value (xcnn's ops are written for NHWC only).

    Examples:
        >>> from xcnn import config
        >>> config.set_image_data_format("channels_last")
    """
    if data_format != "channels_last":
        raise ValueError(
            f"data_format must be 'channels_last': xcnn takes images as (N, H, W, C) only, got {data_format!r}"
        )


_floatx = "float32"  # the dtype of models built without dtype=


def floatx() -> str:
    """The dtype of models built without `dtype=`: `"float32"` unless `set_floatx` changed it.

    Returns:
        `"float32"` or `"float64"`.

    Examples:
        >>> from xcnn import config
        >>> config.floatx()
        'float32'
    """
    return _floatx


def set_floatx(value: str) -> None:
    """Set the dtype of models built from now on without `dtype=`, as Keras's `set_floatx`.

    Models already built keep theirs, and a model given `dtype=` takes that one.

    Args:
        value: `"float32"` or `"float64"`.

    Raises:
        ValueError: For any other value (xcnn computes in float32 or float64 only).

    Examples:
        >>> from xcnn import config
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> config.set_floatx("float64")
        >>> Sequential([Input((3,)), Dense(2)]).dtype
        'float64'
        >>> config.set_floatx("float32")
    """
    global _floatx
    if value not in ("float32", "float64"):
        raise ValueError(f"floatx must be 'float32' or 'float64' (xcnn computes in these only), got {value!r}")
    _floatx = value


def epsilon() -> float:
    """The fuzz factor the cross-entropy losses clip probabilities by, as Keras's `epsilon()`.

    Returns:
        `1e-07`.

    Examples:
        >>> from xcnn import config
        >>> config.epsilon()
        1e-07
    """
    from .ops.losses import EPSILON

    return EPSILON


def set_epsilon(value: float) -> None:
    """Keras's setter of `epsilon()`; xcnn's losses clip by a fixed `1e-07`.

    Args:
        value: `1e-07`, the value xcnn's losses use.

    Raises:
        ValueError: For any other value (the clip is a constant of `xcnn.ops`, which keep no
            global state).

    Examples:
        >>> from xcnn import config
        >>> config.set_epsilon(1e-7)
    """
    if value != epsilon():
        raise ValueError(
            f"epsilon must be {epsilon()!r}: xcnn's losses clip probabilities by this fixed value, got {value!r}"
        )


def backend() -> str:
    """The array backend models use when given none, as Keras's `backend()` names its own.

    Returns:
        A name from `xcnn.backend.BACKENDS` (`"numpy"` unless `set_backend` or `XCNN_BACKEND`
        chose another).

    Examples:
        >>> import xcnn as keras
        >>> keras.backend.backend() in keras.backend.BACKENDS
        True
    """
    from .backend import get_backend

    return get_backend()


def enable_unsafe_deserialization() -> None:
    """Keras's switch for loading files that hold code (`Lambda` layers); nothing to enable here.

    xcnn loads architectures as data only and never runs code from a file, so a script that
    calls this loads the same files as before.

    Examples:
        >>> import xcnn as keras
        >>> keras.config.enable_unsafe_deserialization()
    """


def clear_session() -> None:
    """Restart the automatic layer names (`dense`, `dense_1`, ... begin again at `dense`).

    What Keras's `clear_session()` does that xcnn has: a script that builds several models in
    a loop and calls it between them gets the same names each time. xcnn keeps no other
    global graph state (each model holds its own).

    Examples:
        >>> import xcnn as keras
        >>> keras.backend.clear_session()
        >>> keras.layers.Dense(2).name
        'dense'
    """
    from .layers.layer import _name_counts

    _name_counts.clear()
