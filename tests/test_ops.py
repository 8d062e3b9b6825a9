"""xcnn.ops against the loop references, on every backend and both float dtypes."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference as ref
from conftest import TEST_DEVICES, assert_close, on
from xcnn import backend as B
from xcnn import ops, scratch
from xcnn.ops import conv as conv_module
from xcnn.ops import conv_pool as conv_pool_module
from xcnn.ops import reductions

# (x shape NHWC, w shape (F, KH, KW, C), stride, padding): batch 1, odd and >= 32, 1x1 and
# full-size kernels, every padding form, rectangular strides.
CONV_CASES = [
    ((1, 5, 5, 1), (1, 3, 3, 1), 1, 0),
    ((3, 7, 6, 2), (4, 3, 3, 2), 2, 1),
    ((2, 6, 7, 3), (2, 2, 3, 3), (1, 2), "same"),
    ((2, 7, 7, 2), (3, 3, 3, 2), 2, "same"),
    ((33, 4, 4, 1), (2, 3, 3, 1), 1, "valid"),
    ((2, 5, 5, 3), (2, 1, 1, 3), 1, 0),
    ((2, 5, 4, 2), (3, 5, 4, 2), 1, 0),
    ((2, 6, 6, 1), (2, 3, 2, 1), (2, 1), ((1, 2), (0, 1))),
    ((1, 8, 8, 1), (6, 7, 7, 1), 1, (1, 2)),
    # "auto" takes the gather path (stride 1, C >= 8)
    ((7, 9, 14, 16), (5, 3, 3, 16), 1, "same"),
    ((3, 6, 5, 17), (2, 2, 4, 17), 1, ((2, 0), (1, 3))),
    # strided: gather's input gradient phase by phase on the host, some phases with no taps
    ((2, 7, 8, 3), (4, 1, 1, 3), 2, 0),
    ((2, 9, 8, 2), (3, 2, 3, 2), 3, "same"),
    ((3, 8, 7, 9), (4, 3, 3, 9), 2, "same"),
]
POOL_CASES = [
    ((2, 4, 4, 3), 2, None, 0),
    ((3, 5, 5, 2), 2, None, 0),  # odd size: the last row and column are dropped
    ((1, 5, 5, 1), 3, 1, 1),
    ((2, 5, 7, 2), 2, None, "same"),
    ((2, 6, 6, 2), (3, 2), (2, 1), "same"),
    ((33, 4, 4, 1), 2, 1, "valid"),
    ((2, 4, 4, 1), 4, None, 0),  # full-size window
    ((2, 5, 5, 2), 3, 2, ((1, 0), (0, 1))),
    ((2, 7, 6, 2), (3, 1), None, 0),  # disjoint, one column per window, a row dropped
    ((2, 4, 7, 1), (1, 3), None, 0),  # disjoint, one row per window, a column dropped
    ((2, 4, 6, 32), 2, None, 0),  # disjoint with 32 channels: average pooling sums columns by slices, not a GEMM
    ((2, 5, 7, 33), (2, 3), None, 0),  # the same, a row and a column dropped
]


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


# every algorithm joins every conv test by being listed in ops.conv.ALGORITHMS
CONV_ALGORITHMS = ["auto", *conv_module.ALGORITHMS]


def _skip_unless_it_runs(backend, algorithm):
    """'native' is torch's own convolution, for torch tensors on the CPU only."""
    if algorithm == "native" and (backend != "torch" or TEST_DEVICES.get("torch", "cpu") != "cpu"):
        pytest.skip("algorithm 'native' runs on torch tensors on the CPU only")


@pytest.mark.parametrize("algorithm", CONV_ALGORITHMS)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES)
def test_conv2d_forward_and_backward_match_reference(backend, dtype, x_shape, w_shape, stride, padding, algorithm):
    _skip_unless_it_runs(backend, algorithm)
    x, w, b = _random(x_shape, 0), _random(w_shape, 1), _random(w_shape[:1], 2)
    expected = ref.conv2d(x, w, b, stride, padding)
    dy = _random(expected.shape, 3)
    xb, wb, bb, dyb = on(backend, x, w, b, dy, dtype=dtype)

    y = ops.conv2d(xb, wb, bb, stride=stride, padding=padding, algorithm=algorithm)
    assert B.backend_of(y) == backend and str(y.dtype).endswith(dtype)
    assert_close(y, expected, dtype)

    dx, dw, db = ops.conv2d_backward(dyb, xb, wb, stride=stride, padding=padding, algorithm=algorithm)
    rdx, rdw, rdb = ref.conv2d_backward(dy, x, w, stride, padding)
    for got, want in ((dx, rdx), (dw, rdw), (db, rdb)):
        assert str(got.dtype).endswith(dtype)
        assert_close(got, want, dtype)

    y2, window_matrix = ops.conv2d_forward(xb, wb, bb, stride=stride, padding=padding, algorithm=algorithm)
    no_dx, dw2, no_db = ops.conv2d_backward(
        dyb,
        xb,
        wb,
        stride=stride,
        padding=padding,
        need_dx=False,
        cols=window_matrix,
        algorithm=algorithm,
        need_db=False,
    )
    assert no_dx is None and no_db is None
    assert_close(dw2, rdw, dtype)


@pytest.mark.parametrize("algorithm", CONV_ALGORITHMS)
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_of_no_images_is_empty(backend, algorithm, padding):
    # every algorithm, asked by name or not: an empty batch gives empty outputs and input
    # gradient and zero weight gradients (the banded and gather forms divided by the image count)
    _skip_unless_it_runs(backend, algorithm)
    x, w, b = on(backend, np.zeros((0, 6, 5, 3)), np.ones((4, 3, 3, 3)), np.ones(4))
    y, cols = ops.conv2d_forward(x, w, b, padding=padding, algorithm=algorithm)
    assert tuple(y.shape) == ((0, 6, 5, 4) if padding == "same" else (0, 4, 3, 4))
    dx, dw, db = ops.conv2d_backward(y, x, w, padding=padding, cols=cols, algorithm=algorithm)
    assert tuple(dx.shape) == (0, 6, 5, 3)
    assert_close(dw, np.zeros((4, 3, 3, 3)))
    assert_close(db, np.zeros(4))


@pytest.mark.parametrize("x_shape, pool, stride, padding", POOL_CASES)
def test_max_pool_matches_reference(backend, dtype, x_shape, pool, stride, padding, kernels):
    x = _random(x_shape, 4)
    expected = ref.max_pool2d(x, pool, stride, padding)
    dy = _random(expected.shape, 5)
    xb, dyb = on(backend, x, dy, dtype=dtype)
    assert_close(ops.max_pool2d(xb, pool, stride=stride, padding=padding), expected, dtype)
    dx = ops.max_pool2d_backward(dyb, xb, pool, stride=stride, padding=padding)
    assert_close(dx, ref.max_pool2d_backward(dy, x, pool, stride, padding), dtype)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("x_shape, pool, stride, padding", POOL_CASES)
def test_avg_pool_matches_reference(backend, dtype, x_shape, pool, stride, padding, count_include_pad):
    x = _random(x_shape, 6)
    expected = ref.avg_pool2d(x, pool, stride, padding, count_include_pad)
    dy = _random(expected.shape, 7)
    xb, dyb = on(backend, x, dy, dtype=dtype)
    kw = dict(stride=stride, padding=padding, count_include_pad=count_include_pad)
    assert_close(ops.avg_pool2d(xb, pool, **kw), expected, dtype)
    dx = ops.avg_pool2d_backward(dyb, xb, pool, **kw)
    assert_close(dx, ref.avg_pool2d_backward(dy, x, pool, stride, padding, count_include_pad), dtype)


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_max_pool_image_groups(backend, dtype, threads, monkeypatch, kernels):
    # on NumPy with threadpoolctl, groups of images pool on threads of their own: the same
    # values and gradients (ties included: integer-valued inputs), with the row maxima of the
    # forward reused by the backward, and a batch that does not split evenly
    monkeypatch.setenv("XCNN_THREADS", threads)
    x = np.floor(_random((5, 7, 6, 3), 28) * 2)
    expected = ref.max_pool2d(x, 2, None, 0)
    dy = _random(expected.shape, 29)
    xb, dyb = on(backend, x, dy, dtype=dtype)
    y, row_max = ops.max_pool2d_forward(xb, 2)
    assert_close(y, expected, dtype)
    want = ref.max_pool2d_backward(dy, x, 2, None, 0)
    assert_close(ops.max_pool2d_backward(dyb, xb, 2, y=y, row_max=row_max), want, dtype)
    assert_close(ops.max_pool2d_backward(dyb, xb, 2), want, dtype)


def test_max_pool_ties_go_to_first_maximum(backend, dtype, kernels):
    # every window is constant: the whole gradient must land on its top-left cell
    x = np.zeros((1, 4, 4, 1))
    x[0, 2:, 2:, 0] = 5.0
    dy = np.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    dx = ops.max_pool2d_backward(*on(backend, dy, x, dtype=dtype), 2)
    expected = np.zeros((1, 4, 4, 1))
    expected[0, ::2, ::2, 0] = [[1, 2], [3, 4]]
    assert_close(dx, expected, dtype)
    # overlapping windows with ties: the first max in row-major order of each window
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [0.0, 0.0, 0.0]]).reshape(1, 3, 3, 1)
    dy = np.ones((1, 2, 2, 1))
    dx = ops.max_pool2d_backward(*on(backend, dy, x, dtype=dtype), 2, stride=1)
    assert_close(dx, ref.max_pool2d_backward(dy, x, 2, 1, 0), dtype)
    assert B.to_numpy(dx)[0, :, :, 0].tolist() == [[0, 2, 0], [1, 0, 1], [0, 0, 0]]


@pytest.mark.parametrize("pool, stride", [((3, 3), None), ((3, 3), (2, 2)), ((2, 3), None)])
def test_max_pool_ties_both_paths(backend, dtype, pool, stride):
    # small integers make ties in most windows, e.g. cells (0, 1) and (1, 0) of one window both
    # holding its max: row-major order gives (0, 1). Disjoint windows (stride == pool) take the
    # separable path, overlapping ones the slice path; both must route like the reference.
    x = np.random.default_rng(3).integers(0, 3, size=(2, 7, 8, 3)).astype(float)
    x[0, :2, :2, 0] = [[0, 2], [2, 1]]
    dy = np.random.default_rng(4).standard_normal(ref.max_pool2d(x, pool, stride, 0).shape)
    xb, dyb = on(backend, x, dy, dtype=dtype)
    assert_close(ops.max_pool2d(xb, pool, stride=stride), ref.max_pool2d(x, pool, stride, 0), dtype)
    dx = ops.max_pool2d_backward(dyb, xb, pool, stride=stride)
    assert_close(dx, ref.max_pool2d_backward(dy, x, pool, stride, 0), dtype)
    y, row_max = ops.max_pool2d_forward(xb, pool, stride=stride)
    assert (row_max is not None) == (stride is None)  # kept only on the separable path
    assert_close(ops.max_pool2d_backward(dyb, xb, pool, stride=stride, y=y, row_max=row_max), B.to_numpy(dx), dtype)


# --- conv + max pool fused (ops.conv2d_max_pool2d) -----------------------------------------

# (x shape, w shape, conv stride, conv padding, pool size): odd conv outputs (the last row or
# column belongs to no window), rectangular pools, strided convs, a pool as large as the output
FUSED_CASES = [
    ((2, 8, 8, 1), (3, 3, 3, 1), 1, "same", 2),
    ((3, 10, 9, 1), (2, 4, 4, 1), 1, 0, 2),
    ((2, 7, 8, 2), (3, 3, 2, 2), (1, 2), "same", (2, 3)),
    ((1, 6, 6, 3), (4, 3, 3, 3), 1, ((1, 0), (2, 1)), 3),
    ((2, 5, 5, 1), (2, 2, 2, 1), 1, 0, 4),
    ((2, 12, 12, 1), (6, 7, 7, 1), 1, "valid", 2),
    ((2, 9, 7, 2), (2, 3, 3, 2), 2, 1, 2),
    ((2, 20, 20, 1), (2, 7, 7, 1), 1, "valid", 2),  # the article's kernel and pool
]


# the fused op's own two GEMM forms, torch's kernels one after the other ("native", torch on the
# CPU only), and whichever of them "auto" picks on each backend
FUSED_ALGORITHMS = ["auto", "im2col", "banded", "native"]


def _conv_pool_reference(x, w, b, stride, padding, pool, dy):
    z = ref.conv2d(x, w, b, stride, padding)
    dz = ref.max_pool2d_backward(dy, z, pool)
    return (ref.max_pool2d(z, pool), *ref.conv2d_backward(dz, x, w, stride, padding))


def _conv_pool_output_shape(x, w, stride, padding, pool):
    return ref.max_pool2d(ref.conv2d(x, w, None, stride, padding), pool).shape


@pytest.mark.parametrize("algorithm", FUSED_ALGORITHMS)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, pool", FUSED_CASES)
def test_conv2d_max_pool2d_matches_reference(backend, dtype, x_shape, w_shape, stride, padding, pool, algorithm):
    _skip_unless_it_runs(backend, algorithm)
    x, w, b = _random(x_shape, 20), _random(w_shape, 21), _random(w_shape[:1], 22)
    dy = _random(_conv_pool_output_shape(x, w, stride, padding, pool), 23)
    expected = _conv_pool_reference(x, w, b, stride, padding, pool, dy)
    xb, wb, bb, dyb = on(backend, x, w, b, dy, dtype=dtype)
    kw = dict(stride=stride, padding=padding, pool_size=pool, algorithm=algorithm)
    assert_close(ops.conv2d_max_pool2d(xb, wb, bb, **kw), expected[0], dtype)
    y, cols, at_max = ops.conv2d_max_pool2d_forward(xb, wb, bb, **kw)
    assert B.backend_of(y) == backend and str(y.dtype).endswith(dtype)
    assert_close(y, expected[0], dtype)
    grads = ops.conv2d_max_pool2d_backward(dyb, xb, wb, cols=cols, at_max=at_max, **kw)
    for got, want in zip(grads, expected[1:]):
        assert str(got.dtype).endswith(dtype)
        assert_close(got, want, dtype)
    no_dx, dw, db = ops.conv2d_max_pool2d_backward(dyb, xb, wb, cols=cols, at_max=at_max, need_dx=False, **kw)
    assert no_dx is None
    assert_close(dw, expected[2], dtype)
    assert_close(db, expected[3], dtype)


@pytest.mark.parametrize("algorithm", FUSED_ALGORITHMS)
@pytest.mark.parametrize("pool", [1, 2])
def test_conv2d_max_pool2d_results_outlive_the_workspace(backend, algorithm, pool):
    _skip_unless_it_runs(backend, algorithm)
    # what a call returns is the caller's: the next call with the same workspace leaves it be
    x1, x2, w, b = _random((2, 8, 8, 1), 0), _random((2, 8, 8, 1), 1), _random((3, 3, 3, 1), 2), _random((3,), 3)
    x1b, x2b, wb, bb = on(backend, x1, x2, w, b)
    workspace = {}
    kw = dict(padding="same", pool_size=pool, algorithm=algorithm, workspace=workspace)
    first = ops.conv2d_max_pool2d(x1b, wb, bb, **kw)
    trained, _, _ = ops.conv2d_max_pool2d_forward(x1b, wb, bb, **kw)
    ops.conv2d_max_pool2d(x2b, wb, bb, **kw)
    ops.conv2d_max_pool2d_forward(x2b, wb, bb, **kw)
    expected = ref.max_pool2d(ref.conv2d(x1, w, b, 1, "same"), pool)
    assert_close(first, expected)
    assert_close(trained, expected)


@pytest.mark.parametrize("algorithm", FUSED_ALGORITHMS)
def test_conv2d_max_pool2d_ties_go_to_first_maximum(backend, dtype, algorithm):
    _skip_unless_it_runs(backend, algorithm)
    # small integers: exact in float32 too, and most windows hold their maximum more than once
    rng = np.random.default_rng(24)
    x = rng.integers(-1, 2, size=(2, 9, 10, 2)).astype(float)
    w = rng.integers(-1, 2, size=(3, 2, 3, 2)).astype(float)
    b = np.array([0.0, 1.0, -1.0])
    for stride, padding, pool in ((1, "same", 2), (1, 0, (3, 2)), ((2, 1), 1, (2, 3))):
        dy = rng.standard_normal(_conv_pool_output_shape(x, w, stride, padding, pool))
        expected = _conv_pool_reference(x, w, b, stride, padding, pool, dy)
        xb, wb, bb, dyb = on(backend, x, w, b, dy, dtype=dtype)
        kw = dict(stride=stride, padding=padding, pool_size=pool, algorithm=algorithm)
        at_max = ops.conv2d_max_pool2d_forward(x, w, b, **{**kw, "algorithm": "im2col"})[2]  # NumPy's, boolean
        assert int(np.sum(at_max)) > expected[0].size  # the test has ties to break
        y, cols, at_max = ops.conv2d_max_pool2d_forward(xb, wb, bb, **kw)
        assert_close(y, expected[0], dtype)
        for got, want in zip(ops.conv2d_max_pool2d_backward(dyb, xb, wb, cols=cols, at_max=at_max, **kw), expected[1:]):
            assert_close(got, want, dtype)


@pytest.mark.parametrize("algorithm", FUSED_ALGORITHMS)
def test_conv2d_max_pool2d_numerical_gradients(backend, algorithm):
    _skip_unless_it_runs(backend, algorithm)
    rng = np.random.default_rng(25)
    x, w, b = rng.standard_normal((2, 7, 8, 2)), rng.standard_normal((3, 3, 3, 2)), rng.standard_normal(3)
    kw = dict(stride=1, padding="same", pool_size=(2, 3), algorithm=algorithm)
    r = rng.standard_normal(_conv_pool_output_shape(x, w, 1, "same", (2, 3)))

    def loss(x_, w_, b_):
        return float(np.sum(B.to_numpy(ops.conv2d_max_pool2d(*on(backend, x_, w_, b_), **kw)) * r))

    _, cols, at_max = ops.conv2d_max_pool2d_forward(*on(backend, x, w, b), **kw)
    dx, dw, db = ops.conv2d_max_pool2d_backward(on(backend, r), *on(backend, x, w), cols=cols, at_max=at_max, **kw)
    _check_gradient(lambda v: loss(v, w, b), dx, x.copy())
    _check_gradient(lambda v: loss(x, v, b), dw, w.copy())
    _check_gradient(lambda v: loss(x, w, v), db, b.copy())


def test_fuses_with_max_pool_decides_in_one_place():
    article = ((None, 28, 28, 1), (6, 7, 7, 1), 1, "valid")
    lecture = ((None, 28, 28, 1), (9, 3, 3, 1), 1, "same")
    assert ops.fuses_with_max_pool(*article, 2)
    assert ops.fuses_with_max_pool(*lecture, 2)
    assert ops.fuses_with_max_pool(*lecture, 2, None, "same")  # 'same' on an even size pads nothing
    assert not ops.fuses_with_max_pool(*lecture, 2, 1)  # overlapping windows
    assert not ops.fuses_with_max_pool(*article, 3, None, "same")  # 22 -> padded windows
    assert not ops.fuses_with_max_pool(*article, (2, 2), (1, 2))
    # VGG's 32-channel conv runs alone on the gather path, its pool after it
    assert (
        ops.conv_algorithm((None, 32, 32, 32), (32, 3, 3, 32), ops.window_geometry((32, 32), 3, 1, "same")) == "gather"
    )
    assert not ops.fuses_with_max_pool((None, 32, 32, 32), (32, 3, 3, 32), 1, "same", 2)
    assert ops.fuses_with_max_pool((None, 32, 32, 3), (32, 3, 3, 3), 1, "same", 2)  # im2col, C = 3


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding",
    [
        ((None, 28, 28, 1), (6, 7, 7, 1), 1, "valid"),
        ((None, 32, 32, 3), (32, 3, 3, 3), 1, "same"),
        ((None, 16, 16, 4), (64, 3, 3, 4), 2, "same"),
    ],
)
def test_conv_algorithm_takes_gather_on_an_accelerator_only(x_shape, w_shape, stride, padding):
    win = ops.window_geometry(x_shape[1:3], w_shape[1:3], stride, padding)
    assert ops.conv_algorithm(x_shape, w_shape, win, accelerator=True) == "gather"
    # on the host, few channels take the slice algorithms (faster there)
    assert ops.conv_algorithm(x_shape, w_shape, win) != "gather"


def test_strided_convolutions_of_several_channels_take_gather_on_the_host():
    # ResNet's stride-2 convs: their input gradient phase by phase (dx_phases)
    for x_shape, w_shape in (((None, 32, 32, 16), (32, 3, 3, 16)), ((None, 16, 16, 32), (64, 3, 3, 32))):
        win = ops.window_geometry(x_shape[1:3], w_shape[1:3], 2, "same")
        assert ops.conv_algorithm(x_shape, w_shape, win) == "gather"


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding",
    [
        ((1, 28, 28, 1), (6, 5, 5, 1), 1, "same"),  # banded for a batch
        ((1, 32, 32, 3), (32, 3, 3, 3), 1, "same"),  # im2col for a batch
        ((1, 32, 32, 3), (32, 3, 3, 3), 2, "same"),  # strided: im2col for a batch
    ],
)
def test_a_lone_image_takes_gather_on_the_host(x_shape, w_shape, stride, padding):
    # predict's latency case: the banded filter matrix and im2col's copies are fixed costs one
    # image does not amortize (gather measured 1.2-2.5x faster at batch 1)
    win = ops.window_geometry(x_shape[1:3], w_shape[1:3], stride, padding)
    assert ops.conv_algorithm(x_shape, w_shape, win) == "gather"
    assert ops.conv_algorithm((2, *x_shape[1:]), w_shape, win) != "gather"
    assert (
        ops.conv_algorithm(x_shape, (8, 1, 1, x_shape[3]), ops.window_geometry(x_shape[1:3], 1, 1, "valid")) == "im2col"
    )


def test_a_fused_conv_pool_keeps_the_batch_choice_for_a_lone_image(monkeypatch):
    # the fused op has no gather: with one image it runs the algorithm a batch would (banded
    # here), not im2col
    chosen = []
    real = conv_pool_module._pick_algorithm
    monkeypatch.setattr(conv_pool_module, "_pick_algorithm", lambda *a: chosen.append(real(*a)) or chosen[-1])
    x, w = _random((1, 28, 28, 1), 14), _random((6, 5, 5, 1), 15)
    ops.conv2d_max_pool2d(x, w, padding="same", pool_size=2)
    assert chosen == ["banded"]


def test_a_1x1_kernel_takes_im2col_on_the_host():
    # a strided copy of the input: faster than gather's take and the banded GEMM's W-fold work
    for x_shape in ((None, 8, 8, 128), (None, 16, 16, 64), (None, 32, 32, 3)):
        win = ops.window_geometry(x_shape[1:3], (1, 1), 1, "valid")
        assert ops.conv_algorithm(x_shape, (64, 1, 1, x_shape[3]), win) == "im2col"


def test_gather_chunks_fit_the_cache_on_the_host_and_take_the_batch_on_a_gpu():
    from xcnn.ops.conv_gather import GATHER_CHUNK_BYTES, gather_chunk

    image = 32 * 32 * 9 * 32  # one 32x32x32 image's window matrix
    chunk = gather_chunk(128, image, 4)
    assert 1 <= chunk < 128 and chunk * image * 4 <= GATHER_CHUNK_BYTES < (chunk + 1) * image * 4
    assert gather_chunk(128, image, 4, accelerator=True) == 128
    assert gather_chunk(3, 10 * image, 8) == 1  # never less than one image


def test_auto_runs_gather_on_torch_meta_and_the_fused_op_keeps_its_own(monkeypatch):
    """ "meta" stands in for a GPU: "auto" must route the conv to gather there, while the fused
    conv + pool (which has no gather form) keeps the host's choice."""
    torch = pytest.importorskip("torch")
    calls = []
    real = conv_module.gather_forward
    monkeypatch.setattr(conv_module, "gather_forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    x, w = torch.empty((2, 8, 8, 16), device="meta"), torch.empty((4, 3, 3, 16), device="meta")
    assert ops.conv2d(x, w, padding="same").shape == (2, 8, 8, 4) and calls == [1]
    assert ops.conv2d_max_pool2d(x, w, padding="same", pool_size=2).shape == (2, 4, 4, 4) and calls == [1]


def test_conv2d_max_pool2d_errors_name_the_argument():
    x, w = np.zeros((2, 6, 6, 1)), np.zeros((3, 3, 3, 1))
    y, cols, at_max = ops.conv2d_max_pool2d_forward(x, w, pool_size=2, algorithm="banded")
    assert y.shape == (2, 2, 2, 3)
    kw = dict(cols=cols, at_max=at_max, algorithm="banded")
    with pytest.raises(ValueError, match=r"dy must have shape \(2, 2, 2, 3\)"):
        ops.conv2d_max_pool2d_backward(np.zeros((2, 4, 4, 3)), x, w, **kw)
    with pytest.raises(ValueError, match=r"cols must have shape \(8, 18\)"):
        ops.conv2d_max_pool2d_backward(y, x, w, cols=cols[:4], at_max=at_max, algorithm="banded")
    with pytest.raises(ValueError, match=r"at_max must have shape \(4, 2, 2, 6\)"):
        ops.conv2d_max_pool2d_backward(y, x, w, cols=cols, at_max=at_max[:1], algorithm="banded")
    with pytest.raises(TypeError, match=r"at_max must be the boolean array"):
        ops.conv2d_max_pool2d_backward(y, x, w, cols=cols, at_max=at_max.astype(float), algorithm="banded")
    with pytest.raises(ValueError, match=r"at_max must have shape \(1, 2, 2, 24\)"):  # banded's, given to im2col
        ops.conv2d_max_pool2d_backward(y, x, w, cols=cols, at_max=at_max, algorithm="im2col")
    with pytest.raises(ValueError, match=r"pool_size \(5, 5\) is larger than the padded input"):
        ops.conv2d_max_pool2d(x, w, pool_size=5)
    with pytest.raises(ValueError, match=r"channel mismatch"):
        ops.conv2d_max_pool2d(x, np.zeros((3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"algorithm must be 'auto', 'im2col', 'banded' or 'native'"):
        ops.conv2d_max_pool2d(x, w, algorithm="winograd")
    with pytest.raises(ValueError, match=r"has no gather form\), got 'gather'"):
        ops.conv2d_max_pool2d(x, w, algorithm="gather")


def test_max_pool_padding_never_wins(backend, dtype):
    x = -np.ones((1, 3, 3, 1)) * 7.0
    y = ops.max_pool2d(on(backend, x, dtype=dtype), 2, padding="same")
    assert_close(y, np.full((1, 2, 2, 1), -7.0), dtype)


def test_flatten_round_trip(backend, dtype):
    x = _random((3, 4, 5, 2), 8)
    xb = on(backend, x, dtype=dtype)
    y = ops.flatten(xb)
    assert_close(y, x.reshape(3, -1), dtype)
    dy = _random((3, 40), 9)
    assert_close(ops.flatten_backward(on(backend, dy, dtype=dtype), x.shape), dy.reshape(x.shape), dtype)


@pytest.mark.parametrize("shape", [(7, 3), (2, 5, 4), (3, 4, 5, 6), (2, 2, 3, 4, 5), (1, 1, 1, 1)])
def test_channel_sum(backend, dtype, shape):
    x = _random(shape, 10)
    got = ops.channel_sum(on(backend, x, dtype=dtype))
    assert_close(got, x.sum(axis=tuple(range(x.ndim - 1))), dtype, scale=float(np.abs(x).sum()))


@pytest.mark.parametrize("shape", [(7, 3), (2, 5, 4), (3, 4, 5, 6), (2, 2, 3, 4, 5), (1, 1, 1, 1)])
def test_channel_dot(backend, dtype, shape):
    # sum(a * b) per channel; b off zero, so that a product taken with the wrong operand or
    # a group (the width's) summed twice or left out shows
    a, b = _random(shape, 14), _random(shape, 15) + 2.0
    got = ops.channel_dot(*on(backend, a, b, dtype=dtype))
    assert_close(got, (a * b).sum(axis=tuple(range(a.ndim - 1))), dtype, scale=float(np.abs(a * b).sum()))
    with pytest.raises(ValueError, match="b must have a's shape"):
        ops.channel_dot(*on(backend, a, np.concatenate([b, b], axis=-1), dtype=dtype))


@pytest.mark.parametrize("shape", [(7, 3), (2, 5, 4, 6), (3, 1, 9, 2)])
def test_channel_mean(backend, dtype, shape):
    x = _random(shape, 11) + 3.0  # off zero: a mean divided by the wrong count shows
    got = ops.channel_mean(on(backend, x, dtype=dtype))
    assert_close(got, x.mean(axis=tuple(range(x.ndim - 1))), dtype, scale=float(np.abs(x).mean()))


@pytest.mark.parametrize(
    "shape, cap, spread_shape",
    [
        ((2, 3, 4, 5), 65536, (3, 4, 5)),  # the whole image
        ((2, 3, 4, 5), 20, (4, 5)),  # only the width fits
        ((2, 3, 4, 5), 19, (5,)),  # nothing fits: the vector itself
        ((7, 3), 65536, (3,)),  # no axes between the batch and the channels
        ((2, 2, 3, 4, 5), 60, (3, 4, 5)),
    ],
)
def test_spread_channels_broadcasts_to_the_vectors_values(backend, dtype, monkeypatch, shape, cap, spread_shape):
    monkeypatch.setattr(reductions, "SPREAD_MAX_ELEMENTS", cap)
    monkeypatch.setattr(reductions, "SPREAD_MIN_COPIES", 1)
    x, v = _random(shape, 12), _random(shape[-1:], 13)
    xb, vb = on(backend, x, v, dtype=dtype)
    spread = ops.spread_channels(vb, xb)
    assert tuple(spread.shape) == spread_shape
    assert_close(xb * spread - spread, x * v - v, dtype)


def test_spread_channels_leaves_small_arrays_alone(backend):
    v = on(backend, np.ones(4))
    assert ops.spread_channels(v, on(backend, np.zeros((1, 8, 8, 4)))) is v  # one image: the repeat costs more


@pytest.mark.parametrize("reduce", [ops.channel_sum, ops.channel_mean, lambda x: ops.channel_dot(x, x)])
def test_channel_sum_needs_an_axis_besides_the_channels(backend, reduce):
    with pytest.raises(ValueError, match="at least one axis besides its channels"):
        reduce(on(backend, np.ones(3)))


# --- the article's worked examples, as golden values --------------------------------------


def _article_image():
    return np.array([[10 * r + c for c in range(1, 6)] for r in range(1, 6)], float).reshape(1, 5, 5, 1)


def _article_filter():
    return np.array([[10 * r + c for c in range(1, 4)] for r in range(1, 4)], float).reshape(1, 3, 3, 1)


def test_article_golden_examples(backend, dtype):
    u, W = on(backend, _article_image(), _article_filter(), dtype=dtype)
    b = on(backend, np.zeros(1), dtype=dtype)
    got = B.to_numpy(scratch.convolution2d(u, W, b))[0, :, :, 0]
    assert got.tolist() == [[4962, 5160, 5358], [6942, 7140, 7338], [8922, 9120, 9318]]
    got = B.to_numpy(scratch.convolution2d(u, W, b, padding=1))[0, 0, :, 0]
    assert got.tolist() == [1916, 2908, 3070, 3232, 2168]
    got = B.to_numpy(scratch.convolution2d(u, W, b, strides=2))[0, :, :, 0]
    assert got.tolist() == [[4962, 5358], [8922, 9318]]
    # 5x5x3 image and 3x3x3 filter: the value at (row, col, channel) is 100*row + 10*col + channel
    img3 = np.fromfunction(lambda r, c, ch: 100 * (r + 1) + 10 * (c + 1) + ch + 1, (5, 5, 3))[None]
    w3 = np.fromfunction(lambda r, c, ch: 100 * (r + 1) + 10 * (c + 1) + ch + 1, (3, 3, 3))[None]
    u3, W3 = on(backend, img3, w3, dtype=dtype)
    got = B.to_numpy(scratch.convolution2d(u3, W3, b))[0, 0, :, 0]
    assert got.tolist() == [1512486, 1572426, 1632366]


def test_scratch_backward_names(backend):
    u, W = on(backend, _article_image(), _article_filter())
    b = on(backend, np.zeros(1))
    z = scratch.convolution2d(u, W, b)
    du, dW, db = scratch.convolution2d_back(z, u, W, b)
    rdx, rdw, rdb = ref.conv2d_backward(B.to_numpy(z), _article_image(), _article_filter())
    assert_close(du, rdx)
    assert_close(dW, rdw)
    assert scratch.convolution2d_back(z, u, W, b, calc_du_flag=False)[0] is None
    p = scratch.max_pooling2d(u, 2)
    assert_close(scratch.max_pooling2d_back(p, u, p, 2), ref.max_pool2d_backward(B.to_numpy(p), _article_image()))
    a = scratch.average_pooling2d(u, 2, padding=1)
    assert_close(
        scratch.average_pooling2d_back(a, u, a, 2, padding=1),
        ref.avg_pool2d_backward(B.to_numpy(a), _article_image(), 2, None, 1),
    )
    f = scratch.flatten2d(u)
    assert tuple(scratch.flatten2d_back(f, u, f).shape) == (1, 5, 5, 1)


# --- numerical gradient checks (float64, central differences) ------------------------------


def _check_gradient(loss_of, analytic, x):
    numeric = ref.numerical_gradient(loss_of, x)
    np.testing.assert_allclose(B.to_numpy(analytic), numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("algorithm", conv_module.ALGORITHMS)
@pytest.mark.parametrize("stride, padding", [(1, 0), (1, ((2, 1), (0, 1))), (2, "same"), ((2, 1), ((1, 0), (2, 1)))])
def test_conv2d_numerical_gradients(backend, stride, padding, algorithm):
    _skip_unless_it_runs(backend, algorithm)
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((3, 3, 2, 2)), rng.standard_normal(3)
    y0 = ref.conv2d(x, w, b, stride, padding)
    r = rng.standard_normal(y0.shape)

    def loss(x_, w_, b_):
        y = ops.conv2d(*on(backend, x_, w_, b_), stride=stride, padding=padding, algorithm=algorithm)
        return float(np.sum(B.to_numpy(y) * r))

    dx, dw, db = ops.conv2d_backward(
        on(backend, r), *on(backend, x, w), stride=stride, padding=padding, algorithm=algorithm
    )
    _check_gradient(lambda v: loss(v, w, b), dx, x.copy())
    _check_gradient(lambda v: loss(x, v, b), dw, w.copy())
    _check_gradient(lambda v: loss(x, w, v), db, b.copy())


@pytest.mark.parametrize("pool, stride, padding", [(2, None, 0), (3, 2, "same"), (2, 1, 1)])
def test_pooling_numerical_gradients(backend, pool, stride, padding, kernels):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 5, 5, 2))  # continuous values: no ties, max is differentiable
    r = rng.standard_normal(ref.max_pool2d(x, pool, stride, padding).shape)
    kw = dict(stride=stride, padding=padding)
    for forward, backward in ((ops.max_pool2d, ops.max_pool2d_backward), (ops.avg_pool2d, ops.avg_pool2d_backward)):
        analytic = backward(on(backend, r), on(backend, x), pool, **kw)
        _check_gradient(
            lambda v: float(np.sum(B.to_numpy(forward(on(backend, v), pool, **kw)) * r)), analytic, x.copy()
        )


def test_flatten_numerical_gradient(backend):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 2, 2))
    r = rng.standard_normal((2, 12))
    analytic = ops.flatten_backward(on(backend, r), x.shape)
    _check_gradient(lambda v: float(np.sum(B.to_numpy(ops.flatten(on(backend, v))) * r)), analytic, x.copy())


# --- property tests over shapes, kernels 1..7, strides 1..3, every padding form ------------

_paddings = st.one_of(
    st.sampled_from(["valid", "same"]),
    st.integers(0, 2),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(0, 2), st.integers(0, 2))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    c=st.integers(1, 3),
    f=st.integers(1, 3),
    kh=st.integers(1, 7),
    kw=st.integers(1, 7),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    padding=_paddings,
    algorithm=st.sampled_from([a for a in conv_module.ALGORITHMS if a != "native" or B.is_available("torch")]),
)
def test_conv2d_property(n, h, w, c, f, kh, kw, sh, sw, padding, algorithm):
    pads = ref.pads_of(padding, (h, w), (kh, kw), (sh, sw))
    if kh > h + sum(pads[0]) or kw > w + sum(pads[1]):
        with pytest.raises(ValueError, match="larger than the padded input"):
            ops.conv2d(np.zeros((n, h, w, c)), np.zeros((f, kh, kw, c)), padding=padding, stride=(sh, sw))
        return
    rng = np.random.default_rng(h * 100 + w)
    x, wt = rng.standard_normal((n, h, w, c)), rng.standard_normal((f, kh, kw, c))
    home = "torch" if algorithm == "native" else "numpy"  # native: torch's own kernels, on the CPU
    y = ops.conv2d(*on(home, x, wt), stride=(sh, sw), padding=padding, algorithm=algorithm)
    assert_close(y, ref.conv2d(x, wt, None, (sh, sw), padding))
    if padding == "same":
        assert y.shape[1:3] == (-(-h // sh), -(-w // sw))
    dy = rng.standard_normal(y.shape)
    dx, dw, _ = ops.conv2d_backward(*on(home, dy, x, wt), stride=(sh, sw), padding=padding, algorithm=algorithm)
    rdx, rdw, _ = ref.conv2d_backward(dy, x, wt, (sh, sw), padding)
    assert_close(dx, rdx)
    assert_close(dw, rdw)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 2),
    h=st.integers(2, 9),
    w=st.integers(2, 9),
    c=st.integers(1, 2),
    f=st.integers(1, 3),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 2),
    sw=st.integers(1, 2),
    padding=_paddings,
    ph=st.integers(1, 3),
    pw=st.integers(1, 3),
    algorithm=st.sampled_from(["im2col", "banded"]),
)
def test_conv2d_max_pool2d_property(n, h, w, c, f, kh, kw, sh, sw, padding, ph, pw, algorithm):
    pads = ref.pads_of(padding, (h, w), (kh, kw), (sh, sw))
    if kh > h + sum(pads[0]) or kw > w + sum(pads[1]):
        return  # the conv itself is invalid: covered by test_conv2d_property
    rng = np.random.default_rng(h * 100 + w * 10 + c)
    x, wt = rng.standard_normal((n, h, w, c)), rng.standard_normal((f, kh, kw, c))
    z = ref.conv2d(x, wt, None, (sh, sw), padding)
    if ph > z.shape[1] or pw > z.shape[2]:
        with pytest.raises(ValueError, match="pool_size"):
            ops.conv2d_max_pool2d(x, wt, stride=(sh, sw), padding=padding, pool_size=(ph, pw), algorithm=algorithm)
        return
    kw_ = dict(stride=(sh, sw), padding=padding, pool_size=(ph, pw), algorithm=algorithm)
    y, cols, at_max = ops.conv2d_max_pool2d_forward(x, wt, **kw_)
    assert_close(y, ref.max_pool2d(z, (ph, pw)))
    dy = rng.standard_normal(y.shape)
    dx, dw, _ = ops.conv2d_max_pool2d_backward(dy, x, wt, cols=cols, at_max=at_max, **kw_)
    rdx, rdw, _ = ref.conv2d_backward(ref.max_pool2d_backward(dy, z, (ph, pw)), x, wt, (sh, sw), padding)
    assert_close(dx, rdx)
    assert_close(dw, rdw)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    padding=_paddings,
)
def test_pooling_property(h, w, kh, kw, stride, padding):
    s = stride or (kh, kw)
    pads = ref.pads_of(padding, (h, w), (kh, kw), s)
    x = np.random.default_rng(h * 10 + w).standard_normal((2, h, w, 2))
    too_big = kh > h + sum(pads[0]) or kw > w + sum(pads[1])
    pad_too_big = max(pads[0]) >= kh or max(pads[1]) >= kw
    if too_big or pad_too_big:
        with pytest.raises(ValueError):
            ops.max_pool2d(x, (kh, kw), stride=stride, padding=padding)
        return
    y = ops.max_pool2d(x, (kh, kw), stride=stride, padding=padding)
    assert_close(y, ref.max_pool2d(x, (kh, kw), stride, padding))
    dy = np.ones(y.shape)
    assert_close(
        ops.max_pool2d_backward(dy, x, (kh, kw), stride=stride, padding=padding),
        ref.max_pool2d_backward(dy, x, (kh, kw), stride, padding),
    )
    assert_close(
        ops.avg_pool2d(x, (kh, kw), stride=stride, padding=padding, count_include_pad=False),
        ref.avg_pool2d(x, (kh, kw), stride, padding, False),
    )


# --- bad input ------------------------------------------------------------------------------


def test_errors_name_the_argument():
    x, w = np.zeros((2, 5, 5, 3)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"larger than the padded input"):
        ops.conv2d(np.zeros((1, 2, 2, 3)), w)
    with pytest.raises(ValueError, match=r"stride must be positive"):
        ops.conv2d(x, w, stride=0)
    # geometry is memoized, but True and 1.0 are not taken for the 1 seen before
    ops.conv2d(x, w, stride=1, padding=(1, 1))
    for bad in (dict(stride=True), dict(stride=1.0), dict(padding=(1, True))):
        with pytest.raises(TypeError, match=r"stride|padding"):
            ops.conv2d(x, w, **{"stride": 1, "padding": (1, 1), **bad})
    with pytest.raises(ValueError, match=r"channel mismatch: x has C=3 .* w expects C=2"):
        ops.conv2d(x, np.zeros((4, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C\)"):
        ops.conv2d(np.zeros((5, 5, 3)), w)
    with pytest.raises(ValueError, match=r"w must have shape \(F, KH, KW, C\)"):
        ops.conv2d(x, np.zeros((3, 3, 3)))
    with pytest.raises(TypeError, match=r"x must have a real floating dtype"):
        ops.conv2d(np.zeros((2, 5, 5, 3), dtype=np.int64), w)
    with pytest.raises(TypeError, match=r"w must have the dtype of x"):
        ops.conv2d(x, w.astype(np.float32))
    with pytest.raises(ValueError, match=r"b must have shape \(F,\)"):
        ops.conv2d(x, w, np.zeros(3))
    with pytest.raises(
        ValueError, match=r"algorithm must be 'auto', 'im2col', 'banded', 'gather' or 'native', got 'fft'"
    ):
        ops.conv2d(x, w, algorithm="fft")
    with pytest.raises(
        ValueError, match=r"algorithm 'native' runs on torch tensors on the CPU only, got a numpy array"
    ):
        ops.conv2d(x, w, algorithm="native")
    with pytest.raises(ValueError, match=r"cols must be the window matrix conv2d_forward returned"):
        ops.conv2d_backward(np.zeros((2, 3, 3, 4)), x, w, cols=np.zeros((3, 3)))
    pooled, row_max = ops.max_pool2d_forward(x, 2)
    with pytest.raises(ValueError, match=r"row_max must have shape \(8, 2, 3\)"):
        ops.max_pool2d_backward(pooled, x, 2, row_max=pooled)
    with pytest.raises(ValueError, match=r"row_max applies only to disjoint windows"):
        ops.max_pool2d_backward(ops.max_pool2d(x, 2, stride=1), x, 2, stride=1, row_max=row_max)
    with pytest.raises(ValueError, match=r"dy must have the conv2d output shape"):
        ops.conv2d_backward(np.zeros((2, 4, 4, 4)), x, w)
    with pytest.raises(ValueError, match=r"padding must be 'valid' or 'same'"):
        ops.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"padding must be non-negative"):
        ops.conv2d(x, w, padding=-1)
    with pytest.raises(TypeError, match=r"padding must be an int"):
        ops.conv2d(x, w, padding=(1, 2, 3))
    with pytest.raises(TypeError, match=r"stride must be an int or a pair"):
        ops.conv2d(x, w, stride=1.5)
    with pytest.raises(ValueError, match=r"pool_size must be positive"):
        ops.max_pool2d(x, 0)
    with pytest.raises(ValueError, match=r"pool_size \(6, 6\) is larger than the padded input"):
        ops.max_pool2d(x, 6)
    with pytest.raises(ValueError, match=r"padding .* must be smaller than pool_size"):
        ops.avg_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"dy must have the pooled output shape"):
        ops.max_pool2d_backward(np.zeros((2, 3, 3, 3)), x, 2)
    with pytest.raises(TypeError, match=r"x must have a real floating dtype"):
        ops.max_pool2d(np.zeros((2, 4, 4, 1), dtype=np.int32))
    with pytest.raises(ValueError, match=r"dy must have shape"):
        ops.flatten_backward(np.zeros((2, 7)), (2, 2, 2, 2))


def test_mixing_backends_is_a_type_error():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"one backend"):
        ops.conv2d(np.zeros((1, 3, 3, 1)), strict.zeros((1, 3, 3, 1), dtype=strict.float64))


def _assert_conv_gradients(got, want, need_dx, dtype):
    """``conv2d_backward``'s ``(dx, dw, db)`` against the reference's; dx is None without need_dx."""
    dx, dw, db = got
    assert_close(dw, want[1], dtype)
    assert_close(db, want[2], dtype)
    if need_dx:
        assert_close(dx, want[0], dtype)
    else:
        assert dx is None


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_conv2d_im2col_image_groups(backend, dtype, threads, monkeypatch):
    # on NumPy with threadpoolctl, groups of images build, multiply and scatter back their own
    # rows of the window matrix on threads of their own: the same results as the reference,
    # with a stride, uneven padding and a batch that does not split evenly
    from xcnn.ops import conv

    monkeypatch.setenv("XCNN_THREADS", threads)
    x, w, b = _random((5, 7, 6, 3), 24), _random((4, 3, 2, 3), 25), _random((4,), 26)
    stride, padding = (2, 1), ((1, 0), (0, 1))
    expected = ref.conv2d(x, w, b, stride, padding)
    dy = _random(expected.shape, 27)
    xb, wb, bb, dyb = on(backend, x, w, b, dy, dtype=dtype)
    workspace = {}
    for _ in range(2):  # the second step reuses the workspace's window matrix
        y, cols = ops.conv2d_forward(
            xb, wb, bb, stride=stride, padding=padding, algorithm="im2col", workspace=workspace
        )
        assert_close(y, expected, dtype)
        for need_dx in (True, False):
            got = ops.conv2d_backward(
                dyb, xb, wb, stride=stride, padding=padding, algorithm="im2col", cols=cols, need_dx=need_dx
            )
            _assert_conv_gradients(got, ref.conv2d_backward(dy, x, w, stride, padding), need_dx, dtype)
    groups = conv._im2col_groups(B.namespace(backend), xb)
    expected_groups = int(threads) if backend == "numpy" and conv.parallel._blas_controller() is not None else 1
    assert groups == expected_groups


@pytest.mark.parametrize("stride", [1, (2, 1)])
@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_conv2d_gather_chunks_and_image_groups(backend, dtype, threads, stride, monkeypatch):
    # one image per chunk, and (on NumPy with threadpoolctl) groups of images on threads of
    # their own, the workspace's buffers reused by the second step: the reference's results
    from xcnn.ops import conv_gather

    monkeypatch.setattr(conv_gather, "GATHER_CHUNK_BYTES", 1)
    monkeypatch.setenv("XCNN_THREADS", threads)
    x, w, b = _random((5, 6, 7, 3), 30), _random((4, 3, 2, 3), 31), _random((4,), 32)
    padding = ((1, 1), (0, 1))
    expected = ref.conv2d(x, w, b, stride, padding)
    dy = _random(expected.shape, 33)
    xb, wb, bb, dyb = on(backend, x, w, b, dy, dtype=dtype)
    kw = dict(stride=stride, padding=padding, algorithm="gather")
    workspace = {}
    for need_dx in (True, False, True):
        y, x_rows = ops.conv2d_forward(xb, wb, bb, workspace=workspace, **kw)
        assert_close(y, expected, dtype)
        assert tuple(x_rows.shape) == (5, 6 * 7 + 1, 3)
        got = ops.conv2d_backward(dyb, xb, wb, cols=x_rows, need_dx=need_dx, workspace=workspace, **kw)
        _assert_conv_gradients(got, ref.conv2d_backward(dy, x, w, stride, padding), need_dx, dtype)
