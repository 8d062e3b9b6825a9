"""A per-channel affine map folded into the linear layer before it (inference only).

Batch normalization outside training is affine per channel, `y = x * scale + shift`. When it
follows a convolution or a dense layer with no activation between them, it can be folded into
that layer's weights: `conv(x, w) * s + t = conv(x, w * s)`, since each output channel is a sum
of products with its own filter, so the normalization costs no pass over the activations at
all, only one over the kernel (ONNX runtimes and TensorRT do the same). PyTorch's eager
inference runs the two separately.
"""

from __future__ import annotations

from .._typing import Array
from ..backend import array_namespace


def fold_channel_affine(
    kernel: Array, bias: Array | None, scale: Array, shift: Array, out_axis: int
) -> tuple[Array, Array]:
    """The kernel and bias of `affine(linear(x))`, where `affine(z) = z * scale + shift` per output channel.

    Args:
        kernel: The linear layer's kernel, output channels along `out_axis`: a convolution's
            `(F, KH, KW, C)` (`out_axis=0`) or a dense layer's `(in, F)` (`out_axis=-1`).
        bias: Its bias `(F,)`, or `None` (no bias: zero).
        scale: The per-channel factor `(F,)`.
        shift: The per-channel offset `(F,)`.
        out_axis: The kernel's axis of output channels.

    Returns:
        `(kernel * scale, bias * scale + shift)`, `scale` laid along `out_axis`; the kernel's
        shape, the bias `(F,)`; the kernel's dtype.

    Raises:
        ValueError: If `scale` or `shift` is not one value per output channel.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops import fold_channel_affine
        >>> k, b = fold_channel_affine(np.ones((2, 1, 1, 3)), np.array([1.0, 2.0]),
        ...                            np.array([2.0, 3.0]), np.array([0.5, -1.0]), out_axis=0)
        >>> k[:, 0, 0, :].tolist(), b.tolist()
        ([[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]], [2.5, 5.0])
    """
    xp = array_namespace(kernel, scale, shift)
    channels = kernel.shape[out_axis]
    if tuple(scale.shape) != (channels,) or tuple(shift.shape) != (channels,):
        raise ValueError(
            f"scale and shift must have shape ({channels},) (the kernel's output channels), "
            f"got {tuple(scale.shape)} and {tuple(shift.shape)}"
        )
    along = [1] * kernel.ndim
    along[out_axis] = channels
    folded_kernel = kernel * xp.reshape(scale, tuple(along))
    folded_bias = shift if bias is None else bias * scale + shift
    return folded_kernel, folded_bias
