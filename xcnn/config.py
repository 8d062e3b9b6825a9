"""Keras's global settings (`keras.config`, and the same names in `keras.backend`), as xcnn has them.

Scripts written for Keras ask these, e.g. `if keras.backend.image_data_format() == "channels_first":`,
or call `keras.backend.clear_session()` between models. xcnn keeps one image layout (channels
last) and sets the dtype per model (`Sequential(..., dtype=...)`), so these report xcnn's fixed
choices; the setters accept what xcnn does and refuse the rest, naming the alternative.
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


def floatx() -> str:
    """The default float dtype of a model's weights and activations: `"float32"`.

    A model takes another with `dtype="float64"`; there is no global setting.

    Returns:
        `"float32"`.

    Examples:
        >>> from xcnn import config
        >>> config.floatx()
        'float32'
    """
    return "float32"


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
