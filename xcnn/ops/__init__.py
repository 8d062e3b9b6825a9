"""Pure, stateless array-API ops; each forward sits beside its backward.

Layout is NHWC for images and ``(F, KH, KW, C)`` for filters. Every function works on any
backend in :mod:`xcnn.backend` and keeps its inputs' backend, device and dtype. On torch
tensors on the CPU a few of them run torch's own kernels instead (:mod:`xcnn.ops.native`;
``XCNN_NATIVE=0`` turns that off).
"""

from ._geometry import Window, dilated_extent, window_geometry
from .activations import (
    elu,
    elu_backward,
    erf,
    exponential,
    exponential_backward,
    gelu,
    gelu_backward,
    hard_sigmoid,
    hard_sigmoid_backward,
    hard_silu,
    hard_silu_backward,
    leaky_relu,
    leaky_relu_backward,
    linear,
    linear_backward,
    log_softmax,
    log_softmax_backward,
    maxout,
    maxout_backward,
    mish,
    mish_backward,
    prelu,
    prelu_backward,
    relu,
    relu6,
    relu6_backward,
    relu_backward,
    relun,
    relun_backward,
    rrelu,
    rrelu_backward,
    selu,
    selu_backward,
    sigmoid,
    sigmoid_backward,
    silu,
    silu_backward,
    softmax,
    softmax_backward,
    softplus,
    softplus_backward,
    softsign,
    softsign_backward,
    step,
    step_backward,
    tanh,
    tanh_backward,
    thresholded_relu,
    thresholded_relu_backward,
)
from .conv import col2im, conv2d, conv2d_backward, conv2d_forward, conv_algorithm, im2col, row_windows
from .conv_pool import (
    conv2d_max_pool2d,
    conv2d_max_pool2d_backward,
    conv2d_max_pool2d_forward,
    fuses_with_max_pool,
)
from .conv_variants import (
    conv2d_general,
    conv2d_general_backward,
    conv2d_transpose,
    conv2d_transpose_backward,
    conv2d_transpose_padding,
    dilate_kernel,
)
from .folding import fold_channel_affine
from .native import native_available
from .pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    global_avg_pool2d_backward,
    global_max_pool2d,
    global_max_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)
from .reductions import channel_dot, channel_mean, channel_sum, spread_channels
from .reshape import (
    flatten,
    flatten_backward,
    upsample_nearest2d,
    upsample_nearest2d_backward,
    zero_pad2d,
    zero_pad2d_backward,
)
from .sampling import (
    crop_windows,
    crop_windows_backward,
    resample,
    resample_backward,
    resize_coordinates,
    rotation_coordinates,
    sampling_plan,
    zoom_coordinates,
)

__all__ = [name for name in dir() if not name.startswith("_")]
