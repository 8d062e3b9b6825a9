"""torch's own kernels for torch tensors on the CPU: convolution (dilated and grouped too),
disjoint max pooling (and average pooling of a lone image), batch normalization's training
passes, the ReLU and its gradient, and the softmax.

The one place where xcnn hands an op to its backend instead of writing it in array-API calls,
beside the portable paths and under the same tests (one float64 reference, numerical
gradients). On the CPU PyTorch convolves with oneDNN's direct kernels, which run every kernel
tap inside one register-blocked loop; a GEMM-based convolution (im2col, gather) cannot get
there through the array API on this kind of CPU (docs/performance.md, "The measured limit").
Its max pooling keeps each window's argmax and routes the gradient by it in one pass (a
forward with no backward to follow takes it for one image only, see
`xcnn.ops.pooling.takes_native_max_pool`); its batch normalization normalizes, and
computes the input gradient, in one pass each (its float32 sums add a channel's values one
by one, so the batch statistics and the weights' gradients come from its kernels run over a
grouped view, see `native_batch_statistics`); its average pooling of a lone image and its
softmax save the array-API forms' fixed costs; its ReLU gradient is one pass where the
array-API form makes three.
The array-API forms write each step into a fresh tensor, and torch's CPU ``where`` and
bool-to-float casts are slow.
Its ReLU is the array-API form's one pass, without the ~15 us a Python scalar costs on torch
(which a layer at batch 1 feels). The conv + max pool pairs that the model fuses for NumPy
(`xcnn.ops.conv_pool`) run as torch's conv, then its pool.
So on torch tensors on the CPU, where these kernels are at hand, the ops pick them: a VGG
training step at batch 128 took 350 ms on the portable ops and 151 ms with these, PyTorch's
own step 147 ms (Emerald Rapids, 2 cores, 2026-12-02; docs/performance.md).

``XCNN_NATIVE=0`` in the environment turns them off: every op then runs its array-API path on
torch too, as it does on every other backend. The tests run both.

The layout costs nothing: an NHWC tensor viewed as NCHW by ``permute`` is exactly PyTorch's
"channels-last" memory format, which its kernels take without a copy, and the filters
``(F, KH, KW, C)`` viewed as ``(F, C, KH, KW)`` likewise.

Off the CPU (CUDA) the portable ops keep the choice: their numbers were checked on a GPU, and
cuDNN's float32 convolutions may round through TF32 unless told not to.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .._typing import Array
from ..backend import array_namespace, backend_of
from ._geometry import Window, crop_hw
from ._workspace import padded_in_workspace
from .reductions import channel_columns

_ENV = "XCNN_NATIVE"

ENABLED: bool | None = None
"""Whether the ops may pick this module's kernels: `None` (the default) asks ``$XCNN_NATIVE``
each time (unset or ``1``: yes, ``0``: no); `True` or `False` decides here (the tests set it)."""


def native_runs(x: Array) -> bool:
    """Whether this module's kernels can take `x`: a torch tensor on the CPU.

    Args:
        x: An array of any backend.

    Returns:
        True for a torch tensor on the CPU.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.native import native_runs
        >>> native_runs(np.zeros(3))
        False
    """
    return backend_of(x) == "torch" and x.device.type == "cpu"


def native_available(x: Array) -> bool:
    """Whether the ops pick this module's kernels for `x`: they can take it and `ENABLED`.

    Args:
        x: An array of any backend.

    Returns:
        True for a torch tensor on the CPU, unless ``XCNN_NATIVE=0``.

    Raises:
        ValueError: If ``XCNN_NATIVE`` is set to anything but 0 or 1.

    Examples:
        >>> import numpy as np
        >>> from xcnn.ops.native import native_available
        >>> native_available(np.zeros((1, 4, 4, 1)))
        False
    """
    if not native_runs(x):  # the variable concerns torch's CPU only: not even read elsewhere
        return False
    return enabled_by_environment() if ENABLED is None else ENABLED


def enabled_by_environment() -> bool:
    """``$XCNN_NATIVE`` as a yes or no: unset, empty or ``1`` yes, ``0`` no.

    The command line asks it before a job starts, so that a bad value stops the job at once.

    Returns:
        Whether the variable lets the ops pick torch's own kernels.

    Raises:
        ValueError: If it is set to anything else.

    Examples:
        >>> from xcnn.ops.native import enabled_by_environment
        >>> isinstance(enabled_by_environment(), bool)
        True
    """
    return _parse_environment(os.environ.get(_ENV, "1"))


@functools.lru_cache(maxsize=8)
def _parse_environment(text: str) -> bool:
    """``$XCNN_NATIVE`` as a yes or no, or a sentence naming it (parsed once per value)."""
    if text.strip() not in ("", "0", "1"):  # set but empty: as if unset
        raise ValueError(f"{_ENV} must be 0 (torch's own kernels off) or 1 (on, the default), got {text!r}")
    return text.strip() != "0"


def _torch() -> Any:
    import torch  # a torch tensor is at hand whenever this runs

    return torch


def pads_input(win: Window) -> bool:
    """Whether `native_forward` pads its input itself, and keeps the padded input for the backward.

    torch's convolution pads both sides of an axis alike; an uneven padding (a strided "same"
    on an even size pads only the bottom and right) is done before the call instead.

    Args:
        win: The convolution's `Window`.

    Returns:
        True when the padding is uneven on some axis.

    Examples:
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.native import pads_input
        >>> pads_input(window_geometry((32, 32), 3, 1, "same")), pads_input(window_geometry((32, 32), 3, 2, "same"))
        (False, True)
    """
    (top, bottom), (left, right) = win.pads
    return top != bottom or left != right


def _torch_padding(win: Window) -> list[int]:
    """The padding torch's kernels are given: none where `pads_input`, else each axis's."""
    return [0, 0] if pads_input(win) else [win.pads[0][0], win.pads[1][0]]


def native_input(x: Array, win: Window, workspace: dict[str, Array] | None = None) -> Array:
    """What torch's convolution reads for `win`: `x` itself, or `x` padded where `pads_input(win)`.

    Args:
        x: The images `(N, H, W, C)`, a torch tensor on the CPU.
        win: The convolution's `Window`.
        workspace: A dict the caller keeps between calls: the padded array is then made there
            once and only its interior written after that (see
            `xcnn.ops._workspace.padded_in_workspace`), valid until the next call.

    Returns:
        `x`, or `(N, Hp, Wp, C)` padded with zeros.

    Examples:
        >>> import torch
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.native import native_input
        >>> x = torch.ones(1, 4, 4, 1)
        >>> native_input(x, window_geometry((4, 4), 3, 1, "same")) is x
        True
        >>> tuple(native_input(x, window_geometry((4, 4), 3, 2, "same")).shape)  # padded below and right
        (1, 5, 5, 1)
    """
    return padded_in_workspace(array_namespace(x), x, win, workspace) if pads_input(win) else x


def native_forward(
    x: Array,
    w: Array,
    b: Array | None,
    win: Window,
    workspace: dict[str, Array] | None = None,
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
) -> tuple[Array, Array]:
    """The convolution by torch's own kernel: `(y, kept)`.

    Args:
        x: The images `(N, H, W, C)`, a float32 or float64 torch tensor on the CPU.
        w: The filters `(F, KH, KW, C / groups)`, of `x`'s dtype.
        b: The bias `(F,)`, or `None`.
        win: The convolution's `Window` (its stride and padding; its kernel the dilated one's
            extent).
        workspace: A dict the caller keeps between calls (a layer does): the padded input,
            where `pads_input(win)`, is then written into the same array each call (see
            `xcnn.ops._workspace.padded_in_workspace`), valid until the next call.
        dilation: `(rh, rw)`, the distance between taps (as in `conv2d_general`).
        groups: How many groups the channels and filters are split into.

    Returns:
        The output `(N, OH, OW, F)` (an NHWC view of torch's channels-last result), and what
        `native_backward` reads: `x` itself, or `x` padded where `pads_input(win)`.

    Examples:
        >>> import torch
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.native import native_forward
        >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
        >>> y, kept = native_forward(x, torch.ones(1, 2, 2, 1), None, window_geometry((4, 4), 2, 2, 0))
        >>> y[0, :, :, 0].tolist(), kept is x
        ([[10.0, 18.0], [42.0, 50.0]], True)
    """
    kept = native_input(x, win, workspace)
    y = _torch().nn.functional.conv2d(
        kept.permute(0, 3, 1, 2),
        w.permute(0, 3, 1, 2),
        b,
        list(win.stride),
        _torch_padding(win),
        list(dilation),
        groups,
    )
    return y.permute(0, 2, 3, 1), kept


def native_backward(
    dy: Array,
    kept: Array,
    w: Array,
    win: Window,
    need_dx: bool,
    need_db: bool = True,
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
) -> tuple[Array | None, Array, Array | None]:
    """Gradients of `native_forward` by torch's own kernel: `(dx, dw, db)`.

    Args:
        dy: The output gradient `(N, OH, OW, F)`, of the input's dtype.
        kept: What `native_forward` returned beside `y` (the input, padded where `pads_input(win)`).
        w: The filters `(F, KH, KW, C / groups)`.
        win: The convolution's `Window`.
        need_dx: Whether to compute the input gradient.
        need_db: Whether to compute the bias gradient (a layer without a bias needs none).
        dilation: As in the forward call.
        groups: As in the forward call.

    Returns:
        `dx` `(N, H, W, C)` (unpadded) or `None` unless `need_dx`, `dw` `(F, KH, KW, C)`, and
        `db` `(F,)` or `None` unless `need_db`.

    Examples:
        >>> import torch
        >>> from xcnn.ops._geometry import window_geometry
        >>> from xcnn.ops.native import native_backward
        >>> x, w = torch.arange(16.0).reshape(1, 4, 4, 1), torch.ones(1, 2, 2, 1)
        >>> dx, dw, db = native_backward(torch.ones(1, 3, 3, 1), x, w, window_geometry((4, 4), 2, 1, 0), True)
        >>> dx[0, :, :, 0].tolist()[0], dw.flatten().tolist(), db.tolist()
        ([1.0, 2.0, 2.0, 1.0], [45.0, 54.0, 81.0, 90.0], [9.0])
    """
    dx, dw, db = _torch().ops.aten.convolution_backward(
        dy.permute(0, 3, 1, 2),
        kept.permute(0, 3, 1, 2),
        w.permute(0, 3, 1, 2),
        [w.shape[0]] if need_db else None,
        list(win.stride),
        _torch_padding(win),
        list(dilation),
        False,
        [0, 0],
        groups,
        [need_dx, True, need_db],
    )
    if dx is not None:
        dx = dx.permute(0, 2, 3, 1)
        if pads_input(win):  # the gradient of the padding itself is dropped
            dx = crop_hw(dx, win)
    return dx, dw.permute(0, 2, 3, 1), db


def native_max_pool(x: Array, pool_size: tuple[int, int]) -> tuple[Array, Array]:
    """Max pooling over disjoint, unpadded windows by torch's own kernel: `(y, argmax)`.

    Args:
        x: The images `(N, H, W, C)`, a float32 or float64 torch tensor on the CPU.
        pool_size: `(PH, PW)`, also the stride (floor mode: trailing rows and columns that
            fill no window are left out).

    Returns:
        `y` `(N, OH, OW, C)` and `argmax` `(N, C, OH, OW)`, each window's maximum's position in
        its image row-major (`H*W` positions; ties go to the first), for `native_max_pool_backward`.
        A window holding a NaN takes it as its maximum, as the array-API form does, but its
        gradient goes to the NaN's position, where the array-API form's goes to no cell or
        another one: the loss is NaN there by then either way.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_max_pool
        >>> y, argmax = native_max_pool(torch.arange(16.0).reshape(1, 4, 4, 1), (2, 2))
        >>> y[0, :, :, 0].tolist(), argmax.flatten().tolist()
        ([[5.0, 7.0], [13.0, 15.0]], [5, 7, 13, 15])
    """
    y, argmax = _torch().nn.functional.max_pool2d(x.permute(0, 3, 1, 2), pool_size, return_indices=True)
    return y.permute(0, 2, 3, 1), argmax


def native_avg_pool(x: Array, pool_size: tuple[int, int]) -> Array:
    """Average pooling over disjoint, unpadded windows by torch's own kernel.

    Args:
        x: The images `(N, H, W, C)`, a float32 or float64 torch tensor on the CPU.
        pool_size: `(PH, PW)`, also the stride (floor mode, as `native_max_pool`).

    Returns:
        `(N, OH, OW, C)`, each window's mean.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_avg_pool
        >>> native_avg_pool(torch.arange(16.0).reshape(1, 4, 4, 1), (2, 2))[0, :, :, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """
    return _torch().nn.functional.avg_pool2d(x.permute(0, 3, 1, 2), pool_size).permute(0, 2, 3, 1)


def native_max_pool_backward(
    dy: Array, x_shape: tuple[int, int, int, int], pool_size: tuple[int, int], argmax: Array
) -> Array:
    """Gradient of `native_max_pool`: each window's `dy` to its `argmax`.

    Args:
        dy: The output gradient `(N, OH, OW, C)`, of the input's dtype.
        x_shape: The forward's input shape `(N, H, W, C)` (its values are not needed: the
            forward's input need not be kept).
        pool_size: As in the forward call.
        argmax: What `native_max_pool` returned.

    Returns:
        `dx` `x_shape`, of `dy`'s dtype.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_max_pool, native_max_pool_backward
        >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
        >>> y, argmax = native_max_pool(x, (2, 2))
        >>> native_max_pool_backward(torch.ones_like(y), x.shape, (2, 2), argmax)[0, :, :, 0].tolist()[1]
        [0.0, 1.0, 0.0, 1.0]
    """
    torch = _torch()
    n, h, w, c = x_shape
    # torch's kernel reads only the shape and memory format of the input it is given: an
    # unfilled channels-last tensor stands in for it (no pass over memory)
    like_x = torch.empty((n, c, h, w), dtype=dy.dtype, device=dy.device, memory_format=torch.channels_last)
    dx = torch.ops.aten.max_pool2d_with_indices_backward(
        dy.permute(0, 3, 1, 2), like_x, list(pool_size), list(pool_size), [0, 0], [1, 1], False, argmax
    )
    return dx.permute(0, 2, 3, 1)


def native_relu(x: Array, overwrite: bool = False) -> Array:
    """`max(x, 0)` by torch's own kernel (NaN stays NaN, as in the array-API form).

    The array-API form is the same one pass, but its call with a Python scalar costs ~15 us
    on torch (the compatibility layer turns the scalar into a tensor and works out the
    promotion first), 5x the kernel of a small layer at batch 1.

    Args:
        x: The input, any shape, a torch tensor on the CPU.
        overwrite: Write the result over `x` (`torch.relu_`) and return `x`.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_relu
        >>> native_relu(torch.tensor([-1.0, 0.0, 2.0])).tolist()
        [0.0, 0.0, 2.0]
    """
    return _torch().relu_(x) if overwrite else _torch().relu(x)


def native_softmax(x: Array, axis: int = -1) -> Array:
    """Softmax over `axis` by torch's own kernel (shifted by the max, as the array-API form).

    The array-API form is five ops (max, subtract, exp, sum, divide): 12 us on a `(1, 10)`
    tensor where torch's one kernel takes 2, at the end of every `predict` at batch 1.

    Args:
        x: The input, `(..., K)`, a float32 or float64 torch tensor on the CPU.
        axis: The axis the softmax runs along.

    Returns:
        An array of `x`'s shape and dtype.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_softmax
        >>> native_softmax(torch.tensor([[0.0, 0.0]])).tolist()
        [[0.5, 0.5]]
    """
    return _torch().softmax(x, axis)


def native_relu_backward(dy: Array, x: Array) -> Array:
    """The gradient of `max(x, 0)` by torch's own kernel: `dy` where `x > 0`, else 0.

    Where `x` is NaN, `dy` passes (as in PyTorch), where the array-API form gives 0: the
    loss is NaN there by then either way.

    Args:
        dy: The gradient w.r.t. the output, of `x`'s shape.
        x: The forward's input, a torch tensor on the CPU.

    Returns:
        The gradient w.r.t. `x`, of its shape and dtype.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_relu_backward
        >>> native_relu_backward(torch.ones(3), torch.tensor([-1.0, 0.0, 2.0])).tolist()
        [0.0, 0.0, 1.0]
    """
    return _torch().ops.aten.threshold_backward(dy, x, 0)


def _channels_second(x: Array) -> Array:
    """`(N, ..., C)` viewed as `(N, C, ...)`: channels-last, as torch's kernels take it."""
    return x.movedim(-1, 1)


def native_batch_norm(x: Array, gamma: Array | None, beta: Array | None, epsilon: float) -> tuple[Array, Array, Array]:
    """Batch normalization with the batch's statistics: `(y, mean, var)`.

    `y = (x - mean) / sqrt(var + epsilon) * gamma + beta` per channel, over every axis but the
    last; `var` is the biased variance (divided by the count). The statistics are
    `native_batch_statistics`; torch's kernel then normalizes with them in one pass, as it does
    for inference.

    Args:
        x: The input `(N, ..., C)`, a float32 or float64 torch tensor on the CPU.
        gamma: The scale `(C,)`, or `None` for 1.
        beta: The offset `(C,)`, or `None` for 0.
        epsilon: Added to the variance.

    Returns:
        `y` of `x`'s shape, and `mean` and `var`, `(C,)` each.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_batch_norm
        >>> y, mean, var = native_batch_norm(torch.tensor([[1.0], [3.0]]), None, None, 0.0)
        >>> y.flatten().tolist(), mean.tolist(), var.tolist()
        ([-1.0, 1.0], [2.0], [1.0])
    """
    mean, var = native_batch_statistics(x)
    y = _torch().native_batch_norm(_channels_second(x), gamma, beta, mean, var, False, 0.0, epsilon)[0]
    return y.movedim(1, -1), mean, var


def native_batch_statistics(x: Array) -> tuple[Array, Array]:
    """The mean and biased variance of `x` `(N, ..., C)` per channel, over every axis but the last.

    torch's statistics kernel (`batch_norm_update_stats`: a pass for the mean, one for the
    squared deviations, nothing written) adds each channel's values one by one in float32, so
    over all 128x32x32 values of a channel it is ~1e-5 off. Here it runs on `x` viewed as
    `(rows, W*C)`: each of the W column groups, a channel at one position along the last
    spatial axis, sums only N*H values, and the groups' statistics are then combined exactly
    (the mean of the means; the mean of the variances plus the variance of the means). That
    is ~2e-7 of the variance off for activations centred near zero, as the array-API GEMVs
    (far from zero, the groups' float32 means carry their rounding into the combination: 6e-7
    with means at 128, 3e-6 at 1000, where the GEMVs stay at ~4e-8), and at 128x32x32x16
    float32 0.25 ms where torch's kernel over plain channels takes 0.54 and the array-API
    statistics (two GEMVs and two element-wise passes) ~1.5.

    Args:
        x: `(N, ..., C)`, at least one axis besides the channels, float32 or float64, a torch
            tensor on the CPU.

    Returns:
        `(mean, var)`, `(C,)` each, in `x`'s dtype.

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_batch_statistics
        >>> mean, var = native_batch_statistics(torch.tensor([[[1.0], [3.0]], [[5.0], [7.0]]]))
        >>> mean.tolist(), var.tolist()
        ([4.0], [5.0])
    """
    channels = x.shape[-1]
    columns, groups = channel_columns(x)
    mean, var = _torch().batch_norm_update_stats(columns, None, None, 0.0)
    if groups == 1:
        return mean, var
    mean, var = mean.reshape(groups, channels), var.reshape(groups, channels)
    overall = mean.mean(0)
    spread = mean - overall
    return overall, var.mean(0) + (spread * spread).mean(0)


def native_batch_norm_backward(
    dy: Array, x: Array, gamma: Array | None, mean: Array, var: Array, epsilon: float, need_dx: bool
) -> tuple[Array | None, Array, Array]:
    """Gradients of `native_batch_norm` by torch's own kernel: `(dx, dgamma, dbeta)`.

    The weights' gradients, `sum(dy * x-hat)` and `sum(dy)`, come from the kernel run over the
    `(rows, W*C)` view of `native_batch_statistics` and are then summed over the W groups:
    over plain channels it adds 128x32x32 values one by one in float32, and gamma's gradient
    was 1.4e-5 off (beta's 5e-6 of `sum(|dy|)` where dy leans one way), against ~2e-7 here.
    `dx` is the kernel's over plain channels (its sums only scale the small centring terms).

    Args:
        dy: The output gradient, of `x`'s shape.
        x: The forward's input `(N, ..., C)`.
        gamma: The forward's scale, or `None`.
        mean: What `native_batch_norm` returned.
        var: What `native_batch_norm` returned.
        epsilon: The forward's.
        need_dx: Whether to compute the input gradient.

    Returns:
        `dx` of `x`'s shape (`None` unless `need_dx`), and `dgamma` and `dbeta`, `(C,)` each
        (the gradients a scale and an offset would get: `sum(dy * x-hat)` and `sum(dy)`).

    Examples:
        >>> import torch
        >>> from xcnn.ops.native import native_batch_norm, native_batch_norm_backward
        >>> x = torch.tensor([[1.0], [3.0]])
        >>> _, mean, var = native_batch_norm(x, None, None, 0.0)
        >>> dx, dgamma, dbeta = native_batch_norm_backward(torch.tensor([[1.0], [0.0]]), x, None, mean, var, 0.0, True)
        >>> dx.flatten().tolist(), dgamma.tolist(), dbeta.tolist()
        ([0.0, 0.0], [-1.0], [1.0])
    """
    torch = _torch()
    backward = torch.ops.aten.native_batch_norm_backward
    inv_std = 1.0 / torch.sqrt(var + epsilon)
    channels = x.shape[-1]
    columns, groups = channel_columns(x)
    # the kernel gives a scale's gradient only when given a scale: ones (it does not enter it)
    ones = torch.ones(groups * channels, dtype=x.dtype, device=x.device)
    _, dgamma, dbeta = backward(
        channel_columns(dy)[0],
        columns,
        ones,
        None,
        None,
        mean.repeat(groups),
        inv_std.repeat(groups),
        True,
        epsilon,
        [False, True, True],
    )
    dgamma, dbeta = dgamma.reshape(groups, channels).sum(0), dbeta.reshape(groups, channels).sum(0)
    if not need_dx:
        return None, dgamma, dbeta
    dx = backward(
        _channels_second(dy),
        _channels_second(x),
        ones[:channels] if gamma is None else gamma,
        None,
        None,
        mean,
        inv_std,
        True,
        epsilon,
        [True, False, False],
    )[0]
    return dx.movedim(1, -1), dgamma, dbeta
