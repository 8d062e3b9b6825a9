"""torch's own kernels on the CPU (xcnn.ops.native): chosen where they should be, and training
with them gives the numbers the array-API path gives. Their values and gradients against the
float64 references are in the op and layer tests (the ``kernels`` fixture and the "native"
convolution algorithm)."""

import numpy as np
import pytest

from conftest import RTOL, TEST_DEVICES, assert_close, on
from xcnn import backend as B
from xcnn import cli, ops
from xcnn.layers import Activation, BatchNormalization, Conv2D, Dense, Flatten, Input, MaxPooling2D
from xcnn.models import Sequential
from xcnn.ops import native

pytestmark = pytest.mark.skipif(
    not B.is_available("torch") or TEST_DEVICES.get("torch", "cpu") != "cpu",
    reason="torch's own kernels run on torch tensors on the CPU",
)


def _spy(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(name) or real(*a, **k))
    return calls


def test_the_ops_pick_torchs_kernels_on_torch_cpu_and_not_elsewhere(monkeypatch):
    import xcnn.ops.activations as activations
    import xcnn.ops.conv as conv
    import xcnn.ops.conv_pool as conv_pool
    import xcnn.ops.conv_variants as conv_variants
    import xcnn.ops.pooling as pooling

    calls = []
    for module, name in [
        (conv, "native_forward"),
        (conv, "native_backward"),
        (pooling, "native_max_pool"),
        (pooling, "native_max_pool_backward"),
        (activations, "native_relu"),
        (activations, "native_relu_backward"),
        (activations, "native_softmax"),
        (conv_pool, "native_forward"),  # the fused conv + max pool, unfused: torch's conv, then its pool
        (conv_pool, "native_max_pool"),
        (conv_pool, "native_max_pool_backward"),
        (conv_pool, "native_backward"),
        (conv_variants, "native_forward"),  # dilated and grouped (depthwise) convolutions
        (conv_variants, "native_backward"),
    ]:
        calls += [_spy(monkeypatch, module, name)]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 6, 6, 8)), rng.standard_normal((4, 3, 3, 8))
    for backend, expected in (("numpy", 0), ("torch", 1)):
        xb, wb = on(backend, x, w, dtype="float32")
        argmax = _every_op(xb, wb)
        assert [len(c) for c in calls] == [expected] * 13, backend
    assert tuple(argmax.shape) == (2, 4, 3, 3)  # torch's argmax (N, C, OH, OW), not the row maxima
    monkeypatch.setattr(native, "ENABLED", False)
    assert not ops.native_available(xb)
    _every_op(xb, wb)  # XCNN_NATIVE=0: every op takes its array-API path, the softmax too
    assert [len(c) for c in calls] == [1] * 13
    assert ops.conv_algorithm(tuple(xb.shape), tuple(wb.shape), ops.window_geometry((6, 6), 3, 1, "same")) == "gather"
    ops.conv2d(xb, wb, algorithm="native")  # asked for by name, it still runs
    assert len(calls[0]) == 2


def _every_op(xb, wb):
    """Each op that may take torch's kernels, once (forward and backward); the max pool's `row_max`."""
    y, kept = ops.conv2d_forward(xb, wb, padding="same")
    ops.conv2d_backward(y, xb, wb, padding="same", cols=kept)
    p, argmax = ops.max_pool2d_forward(y, 2)
    ops.max_pool2d_backward(p, y, 2, row_max=argmax)
    ops.relu_backward(ops.relu(y), y, None)
    ops.softmax(y, axis=1)
    q, kept, at_max = ops.conv2d_max_pool2d_forward(xb[..., :1], wb[..., :1], pool_size=2)
    ops.conv2d_max_pool2d_backward(q, xb[..., :1], wb[..., :1], pool_size=2, cols=kept, at_max=at_max)
    g = ops.conv2d_general(xb, wb[..., :2], stride=2, padding="same", dilation=(2, 1), groups=4)
    ops.conv2d_general_backward(g, xb, wb[..., :2], stride=2, padding="same", dilation=(2, 1), groups=4)
    return argmax


def test_xcnn_native_0_in_the_environment_turns_them_off(monkeypatch):
    x = on("torch", np.zeros(1))
    for value, expected in (("0", False), ("1", True)):
        monkeypatch.setenv("XCNN_NATIVE", value)
        assert ops.native_available(x) is expected
    monkeypatch.delenv("XCNN_NATIVE")
    assert ops.native_available(x)
    monkeypatch.setenv("XCNN_NATIVE", "")  # set but empty: as if unset
    assert ops.native_available(x)
    monkeypatch.setenv("XCNN_NATIVE", "no")
    with pytest.raises(
        ValueError, match=r"XCNN_NATIVE must be 0 \(torch's own kernels off\) or 1 \(on, the default\), got 'no'"
    ):
        ops.native_available(x)


def test_the_command_line_says_a_bad_xcnn_native_in_one_line(tmp_path, monkeypatch, capsys):
    model = Sequential([Input((6, 6, 1)), Conv2D(2, 3), Flatten(), Dense(3, activation="softmax")], seed=0)
    model.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "x.npy", np.zeros((6, 6, 1), np.float32))
    monkeypatch.setenv("XCNN_NATIVE", "no")
    code = cli.main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "x.npy"), "--backend", "torch"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "XCNN_NATIVE must be 0 (torch's own kernels off) or 1 (on, the default), got 'no'" in err
    # before the job starts: no output, no folder made (a training run on NumPy too)
    assert out == ""
    code = cli.main(["train", "--limit", "10", "--epochs", "1", "--out", str(tmp_path / "run")])
    assert code == 1 and "XCNN_NATIVE must be 0" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_batch_statistics_are_as_precise_as_the_array_api_ones(monkeypatch):
    # torch's training kernel sums a channels-last tensor element by element in float32: at
    # 128x32x32 images its variance was 3e-4 off; the statistics must stay within float32's
    # blocked-sum rounding (a few 1e-6), as the array-API path's, and a variance far below
    # epsilon must survive (it was rebuilt from 1/sqrt(var + eps), losing what eps swamps)
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((128, 32, 32, 4)) + 0.3, 0.0) * 2.0
    x[..., 3] = 5.0 + 1e-4 * rng.standard_normal(x.shape[:-1])  # variance 1e-8, epsilon 1e-3
    x = x.astype(np.float32).astype(np.float64)  # the reference sees the float32 values
    layer = BatchNormalization(momentum=0.0)
    Sequential([Input(x.shape[1:]), layer], backend="torch", dtype="float32", seed=0)
    y = layer.forward([on("torch", x, dtype="float32")], True)
    assert layer._native is not None
    mean, var = x.reshape(-1, 4).mean(axis=0), x.reshape(-1, 4).var(axis=0)
    np.testing.assert_allclose(B.to_numpy(layer.state["moving_mean"]), mean, rtol=2e-5)
    # the tiny variance is also resolved as far as float32 allows: the statistics combine partial
    # means (see native_batch_statistics), each off by a few units in the last place of |mean|
    # = 5, which adds their square (~1e-12) to it; rebuilding it from eps would be 1e-10 off
    ulp_squared = float(np.spacing(np.float32(np.abs(mean).max()))) ** 2
    np.testing.assert_allclose(B.to_numpy(layer.state["moving_variance"]), var, rtol=2e-5, atol=16 * ulp_squared)
    np.testing.assert_allclose(B.to_numpy(y), (x - mean) / np.sqrt(var + 1e-3), rtol=0, atol=2e-5)
    # the weights' gradients, sum(dy) and sum(dy * x-hat), within a blocked float32 sum's
    # rounding of the terms' magnitudes: torch's backward kernel over plain channels adds
    # them one by one, and beta's was 5e-6 of sum(|dy|) off where dy leans one way, as here.
    # x-hat is taken with the statistics the layer used (a float32 mean is a few ulps off the
    # exact one, which the tiny-variance channel's 1/std of 32 would make 1e-5 of gamma's)
    dy = rng.standard_normal(x.shape).astype(np.float32).astype(np.float64) + 0.5
    layer.backward(on("torch", dy, dtype="float32"))
    used_mean, used_var = (B.to_numpy(layer.state[k]).astype(np.float64) for k in ("moving_mean", "moving_variance"))
    x_hat = (x - used_mean) / np.sqrt(used_var + 1e-3)
    for key, terms in (("beta", dy), ("gamma", dy * x_hat)):
        error = np.abs(B.to_numpy(layer.grads[key]) - terms.reshape(-1, 4).sum(axis=0))
        assert np.all(error <= 5e-7 * np.abs(terms).reshape(-1, 4).sum(axis=0)), (key, error)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 3, 1), (3, 4, 5, 2), (2, 3, 2, 4, 3)])
@pytest.mark.parametrize("with_gamma", [True, False])
def test_batch_norm_kernels_match_the_float64_reference(dtype, shape, with_gamma):
    # the column-group view (rows, W*C) and its exact combination on every layout: dense
    # (N, C), one group; a single channel; images; and a 5-D input. float64 to its own
    # rounding: no step may go through float32
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 2.0 + rng.uniform(-3.0, 3.0, shape[-1])).astype(dtype).astype(np.float64)
    dy = (rng.standard_normal(shape) + 0.5).astype(dtype).astype(np.float64)
    c, eps, axes = shape[-1], 1e-3, tuple(range(len(shape) - 1))
    gamma, beta = rng.uniform(0.5, 2.0, c), rng.uniform(-1.0, 1.0, c)
    gb, bb = on("torch", gamma, beta, dtype=dtype) if with_gamma else (None, None)
    y, mean, var = native.native_batch_norm(on("torch", x, dtype=dtype), gb, bb, eps)
    dx, dgamma, dbeta = native.native_batch_norm_backward(
        on("torch", dy, dtype=dtype), on("torch", x, dtype=dtype), gb, mean, var, eps, True
    )
    want_mean, want_var = x.mean(axis=axes), x.var(axis=axes)
    assert_close(mean, want_mean, dtype)
    assert_close(var, want_var, dtype)
    inv_std = 1.0 / np.sqrt(want_var + eps)
    x_hat = (x - want_mean) * inv_std
    scale = gamma if with_gamma else 1.0
    assert_close(y, x_hat * scale + (beta if with_gamma else 0.0), dtype)
    want_dbeta, want_dgamma = dy.sum(axis=axes), (dy * x_hat).sum(axis=axes)
    assert_close(dbeta, want_dbeta, dtype, scale=float(np.abs(dy).sum()))
    assert_close(dgamma, want_dgamma, dtype, scale=float(np.abs(dy * x_hat).sum()))
    count = x.size // c
    assert_close(dx, scale * inv_std * (dy - (want_dbeta + x_hat * want_dgamma) / count), dtype)


def _cnn(kernels_on, dtype, monkeypatch):
    monkeypatch.setattr(native, "ENABLED", kernels_on)
    model = Sequential(
        [
            Input((16, 16, 3)),
            Conv2D(4, 3, padding="same", activation="relu"),  # the plan fuses it with the pool
            MaxPooling2D(2),
            Conv2D(8, 3, padding="same", use_bias=False),  # a bias there gets 0 + rounding, which Adam scales up
            BatchNormalization(),
            Activation("relu"),
            Conv2D(8, 3, strides=2, padding="same", activation="relu"),  # uneven "same" padding
            MaxPooling2D(2),
            Flatten(),
            Dense(3, activation="softmax"),
        ],
        backend="torch",
        dtype=dtype,
        seed=3,
    )
    model.compile("adam", "categorical_crossentropy")
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((16, 16, 16, 3)), np.eye(3)[rng.integers(0, 3, 16)]
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert model._rewrites[model.layers[0]].pool is model.layers[1]
    bn = model.layers[3]
    assert (bn._native is not None) == kernels_on  # the path asked for is the one taken
    return history.history["loss"], model.get_weights()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_with_torchs_kernels_gives_the_array_api_paths_numbers(dtype, monkeypatch):
    # conv (padded evenly and unevenly, and fused with a max pool), batch statistics with moving averages, ReLU's
    # gradient, max pool: four Adam steps, then the losses and every weight (moving
    # statistics included) agree with the portable path's to the dtype's rounding
    loss_native, weights_native = _cnn(True, dtype, monkeypatch)
    loss_portable, weights_portable = _cnn(False, dtype, monkeypatch)
    np.testing.assert_allclose(loss_native, loss_portable, rtol=RTOL[dtype] * 10)
    for a, b in zip(weights_native, weights_portable):
        assert_close(a, b, dtype, scale=10.0)


def test_an_unevenly_padded_input_is_padded_in_the_workspace_once():
    # a strided "same" conv on an even size pads only the bottom and right: the padded input
    # is built in the layer's workspace, its zero border written once and only the interior
    # after that; each call's output and gradients are still its own input's
    import reference as ref

    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 3, 3, 2))
    workspace = {}
    kept_arrays = []
    for seed in (6, 7, 8):
        x = np.random.default_rng(seed).standard_normal((3, 8, 8, 2)) * 5.0
        xb, wb = on("torch", x, w)
        y, kept = ops.conv2d_forward(xb, wb, stride=2, padding="same", workspace=workspace)
        kept_arrays.append(kept)
        assert_close(y, ref.conv2d(x, w, None, 2, "same"))
        dy = np.random.default_rng(seed + 10).standard_normal(y.shape)
        dx, dw, _ = ops.conv2d_backward(on("torch", dy), xb, wb, stride=2, padding="same", cols=kept, need_db=False)
        want_dx, want_dw, _ = ref.conv2d_backward(dy, x, w, 2, "same")
        assert_close(dx, want_dx)
        assert_close(dw, want_dw)
    assert kept_arrays[0] is kept_arrays[1] is kept_arrays[2]  # one array, reused
    assert float(kept_arrays[2][:, -1].abs().max()) == 0.0 and float(kept_arrays[2][:, :, -1].abs().max()) == 0.0


def test_inference_max_pooling_takes_torchs_kernel_for_one_image_only(monkeypatch):
    # torch's channels-last max pooling forward is slower than the separable array-API one
    # from a few images up, its backward much faster: a forward with a backward to follow
    # always takes it, a forward alone (predict) only for a lone image; the values agree
    import reference as ref
    import xcnn.ops.pooling as pooling

    calls = _spy(monkeypatch, pooling, "native_max_pool")
    rng = np.random.default_rng(9)
    for n, inference_native in ((1, 1), (3, 0)):
        x = rng.standard_normal((n, 6, 7, 5))
        xb = on("torch", x)
        calls.clear()
        assert_close(ops.max_pool2d(xb, 2), ref.max_pool2d(x, 2))
        assert len(calls) == inference_native
        assert pooling.takes_native_max_pool(xb, for_backward=False) == bool(inference_native)
        y, argmax = ops.max_pool2d_forward(xb, 2)
        assert len(calls) == inference_native + 1 and tuple(argmax.shape) == (n, 5, 3, 3)
        assert_close(y, ref.max_pool2d(x, 2))
    # the fused conv + pool's inference form: torch's conv, then the pooling op's choice
    x, w = rng.standard_normal((3, 8, 8, 1)), rng.standard_normal((2, 3, 3, 1))
    calls.clear()
    y = ops.conv2d_max_pool2d(on("torch", x), on("torch", w), padding="same", pool_size=2)
    assert_close(y, ref.max_pool2d(ref.conv2d(x, w, None, 1, "same"), 2))
    assert calls == []


def test_average_pooling_takes_torchs_kernel_for_one_image_only(monkeypatch):
    # its fixed costs beat the array-API form's for one image (predict at batch 1); from ~100
    # images the array-API form is as fast, and its backward faster: every other call keeps it.
    # Odd sizes: floor mode leaves the trailing row and column out on both paths
    import reference as ref
    import xcnn.ops.pooling as pooling

    calls = _spy(monkeypatch, pooling, "native_avg_pool")
    rng = np.random.default_rng(10)
    for n, native_calls in ((1, 1), (3, 0)):
        for dtype in ("float32", "float64"):
            x = rng.standard_normal((n, 7, 9, 5))
            calls.clear()
            assert_close(ops.avg_pool2d(on("torch", x, dtype=dtype), (2, 3)), ref.avg_pool2d(x, (2, 3)), dtype)
            assert len(calls) == native_calls
    assert not pooling.takes_native_avg_pool(np.zeros((1, 4, 4, 1)))
