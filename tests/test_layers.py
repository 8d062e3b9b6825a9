"""Layers on their own: values and gradients against float64 references, on every backend."""

import numpy as np
import pytest

import reference as ref
from conftest import RTOL, assert_close
from xcnn import backend as B
from xcnn.layers import BatchNormalization, Input
from xcnn.models import Model
from xcnn.ops import reductions


def _layer_model(layer, shape, backend="numpy", dtype="float64", seed=0):
    inp = Input(shape)
    return Model(inp, layer(inp), backend=backend, dtype=dtype, seed=seed)


@pytest.fixture(params=["spread", "not spread"])
def spread(request, monkeypatch):
    """Per-channel vectors repeated over the image (`ops.spread_channels`), as for large batches,
    or not, as for small ones: the test's small arrays take both paths."""
    if request.param == "spread":
        monkeypatch.setattr(reductions, "SPREAD_MIN_COPIES", 1)


def _input_gradient(layer, x, dy, training, backend, dtype):
    y = layer.forward([B.asarray(x, backend, dtype)], training)
    return B.to_numpy(y), B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
def test_batchnorm_inference_backward_uses_the_moving_statistics(backend, dtype, center, scale, spread, kernels):
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((5, 3, 4, 2)) * 3 + 1, rng.standard_normal((5, 3, 4, 2))
    layer = BatchNormalization(center=center, scale=scale, epsilon=0.01)
    model = _layer_model(layer, (3, 4, 2), backend, dtype)
    weights = [rng.uniform(0.5, 2.0, 2) for _ in model.get_weights()]
    model.set_weights(weights)
    mean, var = weights[-2], weights[-1]
    gamma = weights[0] if scale else 1.0
    y, dx = _input_gradient(layer, x, dy, False, backend, dtype)
    assert_close(y, (x - mean) / np.sqrt(var + 0.01) * gamma + (weights[int(scale)] if center else 0.0), dtype)
    # the inference-mode function is affine: dx = dy * gamma / sqrt(moving_variance + eps)
    assert_close(dx, dy * gamma / np.sqrt(var + 0.01), dtype)
    names = (["gamma"] if scale else []) + (["beta"] if center else [])
    assert sorted(layer.grads) == sorted(names)
    if center:
        assert_close(layer.grads["beta"], dy.sum(axis=(0, 1, 2)), dtype)
    if scale:  # from the kept input, centred on the moving mean in the backward
        assert_close(layer.grads["gamma"], (dy * (x - mean) / np.sqrt(var + 0.01)).sum(axis=(0, 1, 2)), dtype)


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
def test_batchnorm_training_backward_matches_numerical_gradient(backend, dtype, center, scale, spread, kernels):
    # gamma and beta off 1 and 0, and the input off zero mean: the input gradient and the
    # weights' gradients in training mode (batch statistics) against central differences of the
    # float64 forward, on every backend
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal((4, 3, 2)) * 2 + 0.5, rng.standard_normal((4, 3, 2))
    layer = BatchNormalization(center=center, scale=scale)
    model = _layer_model(layer, (3, 2), backend, dtype)
    weights = {key: rng.uniform(0.5, 2.0, 2) for key in layer.params}
    model.set_weights(
        [weights.get(k, w) for k, w in zip(("gamma", "beta")[: len(weights)], model.get_weights())]
        + model.get_weights()[len(weights) :]
    )
    _, dx = _input_gradient(layer, x, dy, True, backend, dtype)
    grads = {key: B.to_numpy(g) for key, g in layer.grads.items()}
    reference = BatchNormalization(center=center, scale=scale)
    reference_model = _layer_model(reference, (3, 2))
    reference_model.set_weights(model.get_weights())

    def loss(values=x, **params):
        reference.params.update({k: v for k, v in params.items()})
        return float(np.sum(B.to_numpy(reference.call(values, True)) * dy))

    assert_close_to_numerical(dx, ref.numerical_gradient(loss, x.copy()), dtype)
    for key in layer.params:
        value = B.to_numpy(reference.params[key]).copy()
        numerical = ref.numerical_gradient(lambda v, key=key: loss(**{key: v}), value)
        assert_close_to_numerical(grads[key], numerical, dtype)
        reference.params[key] = value


def test_batchnorm_training_statistics_hold_far_from_zero(backend, dtype, spread, kernels):
    # channels whose mean is hundreds of standard deviations off zero: the variance must come
    # from the centred values alone (a sum of x * centred, equal in exact arithmetic, cancels
    # the mean's rounding times the mean), and the output is normalized with the statistics
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((6, 3, 4, 2)) + np.array([1000.0, -300.0])).astype(dtype).astype(np.float64)
    layer = BatchNormalization(momentum=0.0)  # the moving statistics are then the batch's
    model = _layer_model(layer, (3, 4, 2), backend, dtype)
    gamma, beta = np.array([1.5, 0.5]), np.array([0.2, -0.3])
    model.set_weights([gamma, beta, np.zeros(2), np.ones(2)])
    y = B.to_numpy(layer.forward([B.asarray(x, backend, dtype)], True))
    mean, var = (B.to_numpy(layer.state[k]).astype(np.float64) for k in ("moving_mean", "moving_variance"))
    assert_close(mean, x.mean(axis=(0, 1, 2)), dtype)
    # to a few units in the last place of the mean of 1000 (times the spread, 1): torch's kernels
    # combine the statistics of groups whose means are each rounded so; x * centred is 2e-2 off
    ulp = float(np.spacing(np.array(1000.0, dtype)))
    np.testing.assert_allclose(var, x.var(axis=(0, 1, 2)), rtol=RTOL[dtype] * 10, atol=8 * ulp)
    # against the statistics the layer used (float32 rounds a mean of 1000 by ~1e-4), to the
    # rounding of x * gamma / std: torch's kernel folds the normalization into x * s + shift
    scaled = x * gamma / np.sqrt(var + 1e-3)
    assert_close(y, scaled - mean * gamma / np.sqrt(var + 1e-3) + beta, dtype, scale=float(np.abs(scaled).max()))


def assert_close_to_numerical(actual, numerical, dtype):
    """Central differences are good to ~1e-9 relative: float64 is held to 1e-7, float32 to its own tolerance."""
    rtol = max(RTOL[dtype], 1e-7)
    np.testing.assert_allclose(actual, numerical, rtol=rtol, atol=rtol * max(1.0, float(np.abs(numerical).max())))


def test_frozen_batchnorm_runs_in_inference_mode():
    layer = BatchNormalization()
    model = _layer_model(layer, (3,))
    layer.trainable = False
    x = np.random.default_rng(2).standard_normal((6, 3)) + 5.0
    before = model.get_weights()
    y = B.to_numpy(layer.forward([x], True))
    np.testing.assert_allclose(y, x / np.sqrt(1.0 + 1e-3))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the moving statistics did not move


def test_batchnorm_refuses_other_axes():
    with pytest.raises(ValueError, match=r"only axis=-1 \(channels last\) is supported, got axis=1"):
        _layer_model(BatchNormalization(axis=1), (4, 4, 2))
    with pytest.raises(ValueError, match="axis must be -1"):
        BatchNormalization(axis=[1, 2])
    _layer_model(BatchNormalization(axis=3), (4, 4, 2))  # the last axis by its number is fine


def test_conv2d_starts_from_keras_glorot_uniform():
    from xcnn.layers import Conv2D

    conv = Conv2D(64, 5)
    _layer_model(conv, (9, 9, 32))
    kernel = conv.get_weights()[0]  # (KH, KW, C, F)
    limit = np.sqrt(6.0 / (5 * 5 * 32 + 5 * 5 * 64))
    assert kernel.shape == (5, 5, 32, 64) and np.abs(kernel).max() <= limit
    assert kernel.std() == pytest.approx(limit / np.sqrt(3.0), rel=0.03)


# --- ops of the new layers, against loops written here and numerical gradients ----------------


def _check_op(backend, dtype, forward, backward, reference, x, **kwargs):
    """forward(x) against reference(x); backward(dy) against the numerical gradient of <reference(x), dy>."""
    xb = B.asarray(x, backend, dtype)
    y = forward(xb)
    expected = reference(x)
    assert_close(y, expected, dtype)
    dy = np.random.default_rng(9).standard_normal(expected.shape)
    dx = backward(B.asarray(dy, backend, dtype), xb, y)
    numeric = ref.numerical_gradient(lambda v: float(np.sum(reference(v) * dy)), x.copy())
    _assert_numeric(dx, numeric, dtype)


def _assert_numeric(got, numeric, dtype):
    """An analytic gradient against central differences (accurate to ~1e-9 in float64)."""
    tol = 1e-4 if dtype == "float32" else 1e-7
    np.testing.assert_allclose(B.to_numpy(got), numeric, rtol=tol, atol=tol * max(1.0, float(np.abs(numeric).max())))


@pytest.mark.parametrize("pads", [((1, 1), (1, 1)), ((0, 2), (3, 0)), ((0, 0), (0, 0))])
def test_zero_pad2d(backend, dtype, pads):
    from xcnn import ops

    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2))
    _check_op(
        backend,
        dtype,
        lambda v: ops.zero_pad2d(v, pads),
        lambda dy, v, y: ops.zero_pad2d_backward(dy, pads),
        lambda v: ref.pad(v, pads),
        x,
    )


@pytest.mark.parametrize("size", [(2, 2), (3, 1), (1, 1)])
def test_upsample_nearest2d(backend, dtype, size):
    from xcnn import ops

    def reference(v):
        out = np.zeros((v.shape[0], v.shape[1] * size[0], v.shape[2] * size[1], v.shape[3]))
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[:, i, j, :] = v[:, i // size[0], j // size[1], :]
        return out

    x = np.random.default_rng(1).standard_normal((2, 3, 4, 2))
    _check_op(
        backend,
        dtype,
        lambda v: ops.upsample_nearest2d(v, size),
        lambda dy, v, y: ops.upsample_nearest2d_backward(dy, size),
        reference,
        x,
    )


@pytest.mark.parametrize("alpha_shape", [(2,), (3, 4, 2), (1, 1, 2), (3, 1, 1)])
def test_prelu_with_keras_alpha_shapes(backend, dtype, alpha_shape):
    from xcnn import ops

    rng = np.random.default_rng(2)
    x, alpha, dy = (
        rng.standard_normal((5, 3, 4, 2)),
        rng.standard_normal(alpha_shape),
        rng.standard_normal((5, 3, 4, 2)),
    )
    xb, ab, dyb = (B.asarray(a, backend, dtype) for a in (x, alpha, dy))
    assert_close(ops.prelu(xb, ab), np.where(x > 0, x, alpha * x), dtype)
    dx, dalpha = ops.prelu_backward(dyb, xb, ab)
    assert_close(dx, np.where(x > 0, dy, alpha * dy), dtype)
    numeric = ref.numerical_gradient(lambda a: float(np.sum(np.where(x > 0, x, a * x) * dy)), alpha.copy())
    _assert_numeric(dalpha, numeric, dtype)


@pytest.mark.parametrize("max_value, negative_slope, threshold", [(None, 0.0, 0.0), (1.0, 0.2, 0.5), (None, 0.1, 1.0)])
def test_thresholded_relu(backend, dtype, max_value, negative_slope, threshold):
    from xcnn import ops

    x = np.random.default_rng(3).uniform(-3, 3, (4, 5))
    x[np.minimum(np.abs(x - threshold), np.abs(x - (max_value or 9.0))) < 0.05] += 0.1  # away from the kinks
    kw = dict(max_value=max_value, negative_slope=negative_slope, threshold=threshold)

    def reference(v):
        y = np.where(v >= threshold, v, negative_slope * (v - threshold))
        return y if max_value is None else np.minimum(y, max_value)

    _check_op(
        backend,
        dtype,
        lambda v: ops.thresholded_relu(v, **kw),
        lambda dy, v, y: ops.thresholded_relu_backward(dy, v, y, **kw),
        reference,
        x,
    )


# --- the new layers in models ----------------------------------------------------------------


def test_random_flip_flips_some_images_in_training_only_and_its_gradient_is_the_adjoint(backend, dtype):
    from xcnn.layers import RandomFlip

    x = np.random.default_rng(4).standard_normal((32, 3, 4, 2))
    layer = RandomFlip("horizontal_and_vertical")
    model = _layer_model(layer, (3, 4, 2), backend, dtype, seed=5)
    assert_close(model.predict(x), x, dtype)
    out = B.to_numpy(layer.forward([B.asarray(x, backend, dtype)], True))
    kinds = set()
    for i in range(32):
        for name, candidate in (("none", x[i]), ("h", x[i, :, ::-1]), ("v", x[i, ::-1]), ("hv", x[i, ::-1, ::-1])):
            if np.allclose(out[i], candidate, atol=1e-6):
                kinds.add(name)
                break
        else:
            raise AssertionError(f"image {i} is not a flip of its input")
    assert kinds == {"none", "h", "v", "hv"}
    dy = np.random.default_rng(5).standard_normal(x.shape)
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    assert np.sum(out * dy) == pytest.approx(np.sum(x * dx), rel=1e-4 if dtype == "float32" else 1e-10)
    with pytest.raises(ValueError, match="mode must be one of"):
        RandomFlip("diagonal")


def test_new_layers_save_and_load(tmp_path):
    from xcnn import layers as L
    from xcnn.models import load_model

    inputs = Input((6, 6, 2))
    h = L.Rescaling(0.5, offset=0.1)(inputs)
    h = L.RandomFlip("horizontal", seed=3)(h)
    h = L.RandomRotation((-0.1, 0.2), fill_mode="wrap", interpolation="nearest", seed=2)(h)
    h = L.ZeroPadding2D(((1, 0), (0, 1)))(h)
    h = L.PReLU(shared_axes=[1, 2], alpha_initializer="ones")(h)
    h = L.UpSampling2D((1, 2))(h)
    h = L.ReLU(max_value=6.0)(h)
    h = L.LeakyReLU(0.1)(L.ELU(0.5)(h))
    h = L.Dropout(0.3, noise_shape=(None, 1, 1, 2), seed=1)(h)
    h = L.Reshape((-1, 2))(h)
    out = L.Softmax(axis=1)(h)
    model = Model(inputs, out, seed=0)
    x = np.random.default_rng(6).standard_normal((3, 6, 6, 2))
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]
    assert np.allclose(model.predict(x).sum(axis=1), 1.0)  # softmax over axis 1


def test_relu_layer_before_a_pool_is_deferred_like_activation_relu():
    from xcnn import layers as L

    inputs = Input((6, 6, 1))
    relu = L.ReLU()
    pool = L.MaxPooling2D(2)
    model = Model(inputs, L.Flatten()(pool(relu(L.Conv2D(2, 3)(inputs)))), seed=0)
    assert model._rewrites[relu].defer_relu and model._rewrites[pool].relu_after_pool
    inputs = Input((6, 6, 1))
    capped = L.ReLU(max_value=1.0)
    model = Model(inputs, L.MaxPooling2D(2)(capped(inputs)), seed=0)
    assert capped not in model._rewrites


# --- dilated, grouped and transposed convolutions ----------------------------------------------


def _ref_conv_general(x, w, b, stride, padding, dilation, groups):
    """Loops: output[n, i, j, f] sums x at taps ``dilation`` apart over f's group of channels."""
    f, kh, kw, cg = w.shape
    (sh, sw), (dh, dw) = ref.pair(stride), dilation
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    xp = ref.pad(x, ref.pads_of(padding, x.shape[1:3], span, (sh, sw)))
    oh, ow = (xp.shape[1] - span[0]) // sh + 1, (xp.shape[2] - span[1]) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, f))
    per_group = f // groups
    for k in range(f):
        g = k // per_group
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, i * sh : i * sh + span[0] : dh, j * sw : j * sw + span[1] : dw, g * cg : (g + 1) * cg]
                y[:, i, j, k] = np.sum(patch * w[k], axis=(1, 2, 3)) + b[k]
    return y


@pytest.mark.parametrize(
    "stride, padding, dilation, groups",
    [
        (1, "valid", (2, 2), 1),
        (1, "same", (2, 3), 2),
        (2, "valid", (1, 1), 2),
        ((1, 2), "same", (1, 1), 4),
        (2, "same", (2, 1), 4),  # depthwise, strided, dilated, padded unevenly
    ],
)
def test_conv2d_general_matches_loops_and_numerical_gradients(
    backend, dtype, stride, padding, dilation, groups, kernels
):
    from xcnn import ops

    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((1, 6, 5, 4)), rng.standard_normal((4, 3, 2, 4 // groups)), rng.standard_normal(4)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    xb, wb, bb = (B.asarray(a, backend, dtype) for a in (x, w, b))
    y = ops.conv2d_general(xb, wb, bb, **kw)
    expected = _ref_conv_general(x, w, b, ref.pair(stride), padding, dilation, groups)
    assert_close(y, expected, dtype)
    dy = rng.standard_normal(expected.shape)
    dx, dw, db = ops.conv2d_general_backward(B.asarray(dy, backend, dtype), xb, wb, **kw)

    def f(xv, wv):
        return float(np.sum(_ref_conv_general(xv, wv, b, ref.pair(stride), padding, dilation, groups) * dy))

    _assert_numeric(dx, ref.numerical_gradient(lambda v: f(v, w), x.copy()), dtype)
    _assert_numeric(dw, ref.numerical_gradient(lambda v: f(x, v), w.copy()), dtype)
    assert_close(db, dy.sum(axis=(0, 1, 2)), dtype)


def _ref_conv_transpose(x, w, b, stride, padding):
    """Loops: each input pixel adds its kernel-weighted copy into the output (then cropped)."""
    from xcnn.ops import conv2d_transpose_padding

    _, kh, kw, f = w.shape
    (oh, (pt, _)), (ow, (pl, _)) = (
        conv2d_transpose_padding(n, k, s, padding) for n, k, s in zip(x.shape[1:3], (kh, kw), stride)
    )
    big = np.zeros((x.shape[0], oh + kh + stride[0], ow + kw + stride[1], f))
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            big[:, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw, :] += np.einsum(
                "nc,cabf->nabf", x[:, i, j, :], w
            )
    return big[:, pt : pt + oh, pl : pl + ow, :] + b


@pytest.mark.parametrize(
    "stride, padding, kernel",
    [((1, 1), "valid", (3, 3)), ((2, 2), "valid", (3, 2)), ((2, 3), "same", (3, 4)), ((3, 3), "same", (2, 2))],
)
def test_conv2d_transpose_matches_loops_and_numerical_gradients(backend, dtype, stride, padding, kernel):
    from xcnn import ops

    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((1, 3, 3, 2)), rng.standard_normal((2, *kernel, 3)), rng.standard_normal(3)
    xb, wb, bb = (B.asarray(a, backend, dtype) for a in (x, w, b))
    expected = _ref_conv_transpose(x, w, b, stride, padding)
    assert_close(ops.conv2d_transpose(xb, wb, bb, stride=stride, padding=padding), expected, dtype)
    dy = rng.standard_normal(expected.shape)
    dx, dw, db = ops.conv2d_transpose_backward(B.asarray(dy, backend, dtype), xb, wb, stride=stride, padding=padding)

    def f(xv, wv):
        return float(np.sum(_ref_conv_transpose(xv, wv, b, stride, padding) * dy))

    _assert_numeric(dx, ref.numerical_gradient(lambda v: f(v, w), x.copy()), dtype)
    _assert_numeric(dw, ref.numerical_gradient(lambda v: f(x, v), w.copy()), dtype)
    assert_close(db, dy.sum(axis=(0, 1, 2)), dtype)


def test_conv_arguments_are_checked():
    from xcnn import layers as L

    with pytest.raises(ValueError, match="groups must be a positive int that divides filters=6, got 4"):
        L.Conv2D(6, 3, groups=4)
    with pytest.raises(ValueError, match="together with dilation_rate"):
        L.Conv2D(6, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="groups=2 must divide the input's 3 channels"):
        _layer_model(L.Conv2D(4, 3, groups=2), (5, 5, 3))
    with pytest.raises(ValueError, match="output_padding must be None"):
        L.Conv2DTranspose(2, 3, output_padding=1)
    with pytest.raises(ValueError, match="depth_multiplier must be a positive int, got 0"):
        L.DepthwiseConv2D(3, depth_multiplier=0)


def test_convolution_layers_save_and_load(tmp_path):
    from xcnn import layers as L
    from xcnn import regularizers
    from xcnn.models import load_model

    inputs = Input((8, 8, 4))
    h = L.Conv2D(4, 3, padding="same", dilation_rate=2, groups=2, kernel_regularizer=regularizers.l2(0.1))(inputs)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu", depthwise_regularizer="l2")(h)
    h = L.SeparableConv2D(3, 2, strides=2, depth_multiplier=2)(h)
    out = L.Conv2DTranspose(2, 3, strides=2, padding="same")(h)
    model = Model(inputs, out, seed=0)
    path = tmp_path / "conv.safetensors"
    model.save(path)
    loaded = load_model(path)
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 4))
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.layers[2].depthwise_regularizer is not None and loaded.layers[1].groups == 2


def test_model_trainable_freezes_every_layer():
    from xcnn import layers as L

    inputs = Input((3,))
    model = Model(inputs, L.Dense(2)(L.Dense(4)(inputs)), seed=0)
    model.trainable = False
    assert not model.trainable and not any(layer.trainable for layer in model.layers[1:])
    model.compile("sgd", "mse")
    before = model.get_weights()
    model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- resampling (RandomRotation) ----------------------------------------------------------------


def _coordinates(kind, on_backend):
    """Source coordinates of a rotation by large angles or a zoom by large factors (many
    corners fall outside the image), on ``on_backend``."""
    from xcnn import ops

    if kind == "rotation":
        angles = B.asarray(np.array([0.4, -2.0, 3.0]), on_backend, "float64")
        return ops.rotation_coordinates(angles, (7, 6), B.namespace(on_backend).float64)
    zooms = B.asarray(np.array([[0.3, 1.7], [1.9, 1.9], [0.55, 0.8]]), on_backend, "float64")
    return ops.zoom_coordinates(zooms, (7, 6), B.namespace(on_backend).float64)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("kind", ["rotation", "zoom"])
def test_resample_backward_is_the_adjoint_and_backends_agree(backend, dtype, fill_mode, interpolation, kind):
    from xcnn import ops

    rng = np.random.default_rng(10)
    x, dy = rng.standard_normal((3, 7, 6, 2)), rng.standard_normal((3, 7, 6, 2))

    def run(on_backend, dt):
        xb = B.asarray(x, on_backend, dt)
        rows, cols = _coordinates(kind, on_backend)
        plan = ops.sampling_plan(x.shape, rows, cols, interpolation, fill_mode)
        y = ops.resample(xb, plan, (7, 6), 0.0)
        return B.to_numpy(y), B.to_numpy(ops.resample_backward(B.asarray(dy, on_backend, dt), plan, x.shape))

    y, dx = run(backend, dtype)
    y64, dx64 = run("numpy", "float64")
    assert_close(y, y64, dtype)
    assert_close(dx, dx64, dtype)
    # <resample(x), dy> == <x, resample_backward(dy)> (fill 0 makes the map linear)
    assert np.sum(y64 * dy) == pytest.approx(np.sum(x * dx64), rel=1e-12)
    # every source pixel's gradient is what the loops give
    rows, cols = _coordinates(kind, "numpy")
    plan = ops.sampling_plan(x.shape, rows, cols, interpolation, fill_mode)
    expected = np.zeros((3 * 7 * 6, 2))
    for flat, weight, inside in plan:
        w = np.ones(flat.shape) if weight is None else weight
        w = w if inside is None else w * inside
        for k in range(flat.shape[0]):
            expected[flat[k]] += w[k] * dy.reshape(-1, 2)[k]
    np.testing.assert_allclose(dx64, expected.reshape(x.shape), rtol=1e-12, atol=1e-12)


def test_random_rotation_rotates_in_training_only(backend):
    from xcnn.layers import RandomRotation

    x = np.random.default_rng(11).standard_normal((4, 8, 8, 1))
    layer = RandomRotation(0.25, fill_mode="constant", seed=4)
    model = _layer_model(layer, (8, 8, 1), backend, "float64", seed=0)
    np.testing.assert_array_equal(model.predict(x), x)
    out = B.to_numpy(layer.forward([B.asarray(x, backend, "float64")], True))
    assert not np.allclose(out, x)
    model._use_step_rng(model._step_rng)  # the seeded layer restarts its own stream
    again = B.to_numpy(layer.forward([B.asarray(x, backend, "float64")], True))
    np.testing.assert_allclose(again, out)
    for bad, message in (
        ({"factor": "x"}, "factor must be"),
        ({"factor": 0.1, "fill_mode": "edge"}, "fill_mode"),
        ({"factor": 0.1, "interpolation": "cubic"}, "interpolation"),
    ):
        with pytest.raises(ValueError, match=message):
            RandomRotation(**bad)


def test_random_zoom_zooms_in_training_only_by_factors_in_its_range(backend):
    from xcnn import ops
    from xcnn.layers import RandomZoom

    x = np.random.default_rng(12).standard_normal((4, 8, 8, 1))
    layer = RandomZoom((-0.3, -0.1), (0.2, 0.4), fill_mode="constant", seed=4)
    model = _layer_model(layer, (8, 8, 1), backend, "float64", seed=0)
    np.testing.assert_array_equal(model.predict(x), x)
    out = B.to_numpy(layer.forward([B.asarray(x, backend, "float64")], True))
    assert not np.allclose(out, x)
    # the same draws, replayed: the output is the resampling at zoom_coordinates of them
    model._use_step_rng(model._step_rng)
    heights = B.to_numpy(layer.rng.uniform((4, 1), 0.7, 0.9, dtype="float64"))
    widths = B.to_numpy(layer.rng.uniform((4, 1), 1.2, 1.4, dtype="float64"))
    assert ((0.7 <= heights) & (heights <= 0.9)).all() and ((1.2 <= widths) & (widths <= 1.4)).all()
    rows, cols = ops.zoom_coordinates(np.concatenate([heights, widths], axis=1), (8, 8), np.float64)
    plan = ops.sampling_plan(x.shape, rows, cols, "bilinear", "constant")
    np.testing.assert_allclose(out, ops.resample(x, plan, (8, 8), 0.0), rtol=1e-12, atol=1e-12)
    for bad, message in (
        ({"height_factor": "x"}, "height_factor must be a number or a pair"),
        ({"height_factor": -1.0}, "must lie in \\(-1, 1\\]"),
        ({"height_factor": 0.1, "width_factor": (0.1, 1.5)}, "width_factor must lie"),
        ({"height_factor": 0.1, "fill_mode": "mirror"}, "fill_mode"),
        ({"height_factor": 0.1, "interpolation": "cubic"}, "interpolation"),
    ):
        with pytest.raises(ValueError, match=message):
            RandomZoom(**bad)


@pytest.mark.parametrize("size", [(3, 4), (6, 3), (8, 9)])  # smaller: a slice; larger along an axis: resized
def test_center_crop_slices_or_resizes_and_backpropagates(backend, dtype, size):
    from xcnn.layers import CenterCrop, Resizing

    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 7, 6, 2))
    layer = CenterCrop(*size)
    model = _layer_model(layer, (7, 6, 2), backend, dtype, seed=0)
    out = model.predict(x)
    top, left, h, w = layer.window((7, 6))
    window = x[:, top : top + h, left : left + w]
    if (h, w) == size:
        assert (top, left) == ((7 - size[0]) // 2, (6 - size[1]) // 2)
        assert_close(out, window, dtype)
    else:  # the largest centred window of the target's aspect ratio, resized
        assert h <= 7 and w <= 6 and (h == 7 or w == 6) and abs(h / w - size[0] / size[1]) < 0.5
        assert_close(out, Resizing(*size)(window), dtype)

    def forward(values):
        return B.to_numpy(layer.forward([B.asarray(values, backend, dtype)], True))

    dy = rng.standard_normal(out.shape)
    forward(x)
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    outside = np.ones(x.shape, bool)
    outside[:, top : top + h, left : left + w] = False
    assert (dx[outside] == 0).all()
    if dtype == "float64":
        numerical = ref.numerical_gradient(lambda v: float(np.sum(forward(v) * dy)), x.copy(), 1e-6)
        np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-7)
    for bad, message in (
        ({"height": 0, "width": 2}, "height must be a positive whole number"),
        ({"height": 2, "width": 2, "data_format": "channels_first"}, "data_format must be 'channels_last' or None"),
    ):
        with pytest.raises(ValueError, match=message):
            CenterCrop(**bad)


def test_random_crop_crops_a_window_of_each_image_in_training_and_the_centre_at_inference(backend, dtype):
    from xcnn.layers import CenterCrop, RandomCrop, Resizing

    rng = np.random.default_rng(16)
    x = rng.standard_normal((12, 7, 6, 2))
    layer = RandomCrop(4, 3, seed=5)
    model = _layer_model(layer, (7, 6, 2), backend, dtype, seed=0)
    top, left, h, w = layer.window((7, 6))
    assert (top, left, h, w) == (0, 0, 7, 5)  # 7 rows by 7 * 3 / 4 = 5 columns
    assert_close(model.predict(x), Resizing(4, 3)(x[:, :, :5]), dtype)  # inference: the window resized

    def forward(values):
        model._use_step_rng(model._step_rng)  # the seeded layer restarts its stream: the same draws
        return B.to_numpy(layer.forward([B.asarray(values, backend, dtype)], True))

    out = forward(x)
    starts = B.to_numpy(layer._starts)
    assert ((0 <= starts) & (starts <= [3, 3])).all() and len({tuple(s) for s in starts}) > 3  # per image
    for image, (row, col) in zip(range(len(x)), starts):
        assert_close(out[image], x[image, row : row + 4, col : col + 3], dtype)
    dy = rng.standard_normal(out.shape)
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    if dtype == "float64":
        numerical = ref.numerical_gradient(lambda v: float(np.sum(forward(v) * dy)), x.copy(), 1e-6)
        np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-7)
    # training on images no larger than the target along an axis: the inference window, as Keras
    small = RandomCrop(8, 3, seed=1)
    assert_close(small(x, training=True), CenterCrop(8, 3)(x), dtype="float32")
    with pytest.raises(ValueError, match="seed must be None or a non-negative int"):
        RandomCrop(2, 2, seed=-1)


def test_random_brightness_shifts_each_image_clips_and_backpropagates(backend, dtype):
    from xcnn.layers import RandomBrightness

    rng = np.random.default_rng(17)
    x = rng.uniform(0.0, 1.0, (6, 3, 4, 2))
    layer = RandomBrightness((-0.3, 0.5), value_range=(1, 0), seed=4)  # Keras sorts value_range
    assert layer.value_range == (0.0, 1.0) and RandomBrightness(-0.2).factor == (-0.2, 0.2)
    model = _layer_model(layer, (3, 4, 2), backend, dtype, seed=0)
    np.testing.assert_array_equal(model.predict(x), x.astype(dtype))  # inference: unchanged

    def forward(values):
        model._use_step_rng(model._step_rng)
        return B.to_numpy(layer.forward([B.asarray(values, backend, dtype)], True))

    out = forward(x)
    inside = B.to_numpy(layer._inside)
    delta = (out - x)[inside]
    assert inside.any() and not inside.all()  # some values were clipped
    shifts = np.where(inside, out - x, np.nan).reshape(6, -1)
    per_image = np.nanmax(shifts, axis=1)
    np.testing.assert_allclose(np.nanmin(shifts, axis=1), per_image, atol=1e-6)  # one shift per image
    assert ((-0.3 - 1e-6 <= delta) & (delta <= 0.5 + 1e-6)).all()
    assert_close(out, np.clip(x + per_image.reshape(-1, 1, 1, 1), 0.0, 1.0), dtype)
    dy = rng.standard_normal(out.shape)
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    np.testing.assert_array_equal(dx, np.where(inside, dy, 0.0).astype(dtype))
    if dtype == "float64":
        numerical = ref.numerical_gradient(lambda v: float(np.sum(forward(v) * dy)), x.copy(), 1e-7)
        np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-6)
    for bad, message in (
        ({"factor": 1.5}, "factor must lie in \\[-1, 1\\]"),
        ({"factor": (0.1, 0.2, 0.3)}, "factor must be a number"),
        ({"factor": 0.2, "value_range": 1}, "value_range must be a pair of numbers"),
    ):
        with pytest.raises(ValueError, match=message):
            RandomBrightness(**bad)


@pytest.mark.parametrize("axis", [-1, None, (1, 3), (-2,)])
def test_normalization_adapts_normalizes_inverts_and_backpropagates(backend, dtype, axis):
    from xcnn.layers import Normalization

    rng = np.random.default_rng(18)
    data = rng.normal(2.0, 3.0, (40, 3, 4, 2))
    x, dy = rng.normal(2.0, 3.0, (5, 3, 4, 2)), rng.standard_normal((5, 3, 4, 2))
    kept = () if axis is None else tuple(sorted(a % 4 for a in np.atleast_1d(axis)))
    reduced = tuple(a for a in range(4) if a not in kept)
    mean, variance = data.mean(axis=reduced, keepdims=True), data.var(axis=reduced, keepdims=True)
    std = np.sqrt(variance)
    for invert in (False, True):
        layer = Normalization(axis=axis, invert=invert)
        layer.adapt([data[:15], (data[15:], None)])  # batches, one of them an (x, y) pair: Keras's combination
        model = _layer_model(layer, (3, 4, 2), backend, dtype, seed=0)
        assert_close(model.predict(x), mean + x * std if invert else (x - mean) / std, dtype)
        assert [w.shape for w in layer.get_weights()] == [mean.squeeze(reduced).shape] * 2 + [()]
        layer.forward([B.asarray(x, backend, dtype)], True)
        dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
        assert_close(dx, dy * std if invert else dy / std, dtype)
    # adapted after the model is built, and given statistics that broadcast from the right
    layer = Normalization(axis=axis)
    model = _layer_model(layer, (3, 4, 2), backend, dtype, seed=0)
    assert_close(model.predict(x), x, dtype)  # zeros and ones before adapt
    layer.adapt(data)
    assert_close(model.predict(x), (x - mean) / std, dtype)
    given = Normalization(axis=axis, mean=mean.squeeze(reduced), variance=variance.squeeze(reduced))
    assert_close(_layer_model(given, (3, 4, 2), backend, dtype).predict(x), (x - mean) / std, dtype)
    assert given.get_weights() == []


def test_normalization_refuses_what_keras_refuses_and_the_batch_axis():
    from xcnn.layers import Normalization

    for bad, message in (
        ({"mean": 1.0}, "mean and variance must be given together"),
        ({"mean": [1.0, 2.0], "variance": [1.0]}, "mean and variance must have one shape"),
        ({"axis": -1, "mean": np.ones((2, 2)), "variance": np.ones((2, 2))}, "mean must have at most as many axes"),
        ({"axis": "x"}, "axis must be an int, a sequence of ints or None"),
    ):
        with pytest.raises(ValueError, match=message):
            Normalization(**bad)
    for axis, message in ((0, "names the batch axis"), (4, r"must lie in \[-4, 4\)")):
        with pytest.raises(ValueError, match=message):
            _layer_model(Normalization(axis=axis), (3, 4, 2))
    layer = Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"was adapted to data of sizes \(3,\) along axis \(-1,\); its input has \(2,\)"
    ):
        _layer_model(layer, (2,))
    with pytest.raises(ValueError, match="was given mean and variance; adapt computes them"):
        Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 2)))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_resizing_agrees_on_every_backend(backend, dtype, interpolation):
    from xcnn.layers import Resizing

    rng = np.random.default_rng(14)
    x, dy = rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((2, 8, 4, 2))
    reference = Resizing(8, 4, interpolation=interpolation)
    expected, expected_dx = reference(x), reference.grad(dy, True)
    layer = Resizing(8, 4, interpolation=interpolation)
    model = _layer_model(layer, (5, 6, 2), backend, dtype, seed=0)
    assert_close(model.predict(x), expected, dtype)
    layer.forward([B.asarray(x, backend, dtype)], True)
    assert_close(B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0]), expected_dx, dtype)


def test_random_contrast_scales_deviations_clips_and_backpropagates(backend, dtype):
    from xcnn.layers import RandomContrast

    rng = np.random.default_rng(13)
    x = rng.uniform(0.0, 1.0, (3, 4, 5, 2))
    x[0, 0, 0, 0] = 0.98  # pushed past 1 by a contrast above 1: clipped, no gradient there
    dy = rng.standard_normal(x.shape)
    layer = RandomContrast((0.2, 0.6), value_range=(0, 1), seed=3)
    model = _layer_model(layer, (4, 5, 2), backend, dtype, seed=0)
    np.testing.assert_array_equal(model.predict(x), x.astype(dtype))  # inference: unchanged

    def forward(values):
        model._use_step_rng(model._step_rng)  # the seeded layer restarts its stream: the same draws
        return B.to_numpy(layer.forward([B.asarray(values, backend, dtype)], True))

    out = forward(x)
    contrast = B.to_numpy(layer._contrast).reshape(-1, 1, 1, 1)
    assert ((0.8 <= contrast) & (contrast <= 1.6)).all()
    mean = x.mean(axis=(1, 2), keepdims=True)
    assert_close(out, np.clip((x - mean) * contrast + mean, 0.0, 1.0), dtype)
    assert out[0, 0, 0, 0] == 1.0 or contrast[0] < 1.02
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    numerical = ref.numerical_gradient(lambda v: float(np.sum(forward(v).astype(np.float64) * dy)), x.copy(), 1e-6)
    if dtype == "float64":
        np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-6)
    for bad, message in (
        ({"factor": 1.5}, "factor must lie in \\[0, 1\\]"),
        ({"factor": (-0.1, 0.2)}, "factor must lie"),
        ({"factor": "x"}, "factor must be a number"),
        ({"factor": 0.2, "value_range": (1, 0)}, "value_range must be an increasing pair"),
    ):
        with pytest.raises(ValueError, match=message):
            RandomContrast(**bad)


@pytest.mark.parametrize("rate", [0.3, 0.8])
def test_dropout_scales_the_kept_inputs_by_one_over_the_keep_probability(backend, dtype, rate):
    # rates other than 0.5, where 1/rate and 1/(1 - rate) differ: the kept inputs are scaled by
    # 1/(1 - rate), about a fraction 1 - rate is kept, the gradient goes through the same mask
    # and scale, and inference passes the inputs unchanged
    from xcnn.layers import Dropout

    layer = Dropout(rate, seed=4)
    _layer_model(layer, (50, 40), backend, dtype)
    x = np.full((4, 50, 40), 3.0)
    y = B.to_numpy(layer.forward([B.asarray(x, backend, dtype)], training=True))
    kept = y != 0
    assert_close(y[kept], np.full(int(kept.sum()), 3.0 / (1.0 - rate)), dtype)
    assert abs(kept.mean() - (1.0 - rate)) < 0.03  # 8,000 draws
    dx = B.to_numpy(layer.backward(B.asarray(np.ones_like(x), backend, dtype))[0])
    assert_close(dx, np.where(kept, 1.0 / (1.0 - rate), 0.0), dtype)
    assert_close(layer.forward([B.asarray(x, backend, dtype)], training=False), x, dtype)


# --- merging layers beyond Add and Concatenate -------------------------------------------------


def _merge_reference(name, xs):
    """float64 NumPy forms of the element-wise merges, lower ranks aligned after the batch axis."""
    rank = max(x.ndim for x in xs)
    xs = [x.reshape((x.shape[0],) + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]
    out = xs[0]
    for x in xs[1:]:
        out = {
            "Multiply": np.multiply,
            "Subtract": np.subtract,
            "Average": np.add,
            "Maximum": np.maximum,
            "Minimum": np.minimum,
        }[name](out, x)
    return out / len(xs) if name == "Average" else out


def _merge_layer(name, shapes, backend, dtype):
    from xcnn import layers as L

    layer = getattr(L, name)()
    layer([Input(s) for s in shapes])
    layer.build(backend, dtype, np.random.default_rng(0))
    return layer


MERGE_SHAPES = [
    [(3, 4, 2), (3, 4, 2)],
    [(3, 4, 2), (1, 1, 2), (3, 4, 2)],  # a per-channel gate, as squeeze-and-excitation multiplies
    [(3, 4, 2), (2,)],  # a lower rank gains axes after the batch axis, as in Keras
    [(3, 1, 2), (1, 4, 1)],  # both broadcast
]


@pytest.mark.parametrize("shapes", MERGE_SHAPES, ids=["same", "gate", "rank", "both"])
@pytest.mark.parametrize("name", ["Multiply", "Subtract", "Average", "Maximum", "Minimum"])
def test_elementwise_merges_match_numpy_and_numerical_gradients(backend, dtype, name, shapes):
    if name == "Subtract":
        shapes = shapes[:2]
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((2, *s)) for s in shapes]  # no ties: the numerical gradient is the true one
    layer = _merge_layer(name, shapes, backend, dtype)
    y = layer.forward([B.asarray(x, backend, dtype) for x in xs], training=True)
    expected = _merge_reference(name, xs)
    assert layer.output.item_shape == expected.shape[1:]
    assert_close(y, expected, dtype)
    dy = rng.standard_normal(expected.shape)
    dxs = layer.backward(B.asarray(dy, backend, dtype))
    for i, (x, dx) in enumerate(zip(xs, dxs)):

        def loss(v, i=i):
            return float(np.sum(_merge_reference(name, [v if j == i else other for j, other in enumerate(xs)]) * dy))

        assert B.to_numpy(dx).shape == x.shape
        _assert_numeric(dx, ref.numerical_gradient(loss, x.copy()), dtype)


def test_maximum_and_minimum_share_ties_as_keras_on_torch(backend):
    # Keras folds max(max(a, b), c) and torch gives each side of a tie half: three equal inputs
    # get 1/4, 1/4 and 1/2 (values measured with Keras 3 on PyTorch, see the oracle test)
    a, b, c = np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.0, 3.0]]), np.array([[1.0, 0.0, 3.0]])
    expected = {
        "Maximum": [[0.25, 1.0, 0.25], [0.25, 0.0, 0.25], [0.5, 0.0, 0.5]],
        "Minimum": [[0.25, 0.0, 0.25], [0.25, 0.0, 0.25], [0.5, 1.0, 0.5]],
    }
    for name, grads in expected.items():
        layer = _merge_layer(name, [(3,)] * 3, backend, "float64")
        layer.forward([B.asarray(v, backend, "float64") for v in (a, b, c)])
        dxs = layer.backward(B.asarray(np.ones((1, 3)), backend, "float64"))
        for dx, want in zip(dxs, grads):
            np.testing.assert_array_equal(B.to_numpy(dx), [want])


def test_merge_function_forms_build_the_layer_or_compute_at_once():
    from xcnn import layers as L

    x = Input((4,))
    for function, cls in [
        (L.add, L.Add),
        (L.multiply, L.Multiply),
        (L.subtract, L.Subtract),
        (L.average, L.Average),
        (L.maximum, L.Maximum),
        (L.minimum, L.Minimum),
        (L.concatenate, L.Concatenate),
    ]:
        out = function([L.Dense(3)(x), L.Dense(3)(x)], name=f"my_{function.__name__}")
        assert type(out.layer) is cls and out.layer.name == f"my_{function.__name__}"
    assert L.concatenate([L.Dense(3)(x), L.Dense(2)(x)], axis=1).shape == (None, 5)
    a, b = np.array([[1.0, 4.0]]), np.array([[3.0, 2.0]])
    np.testing.assert_array_equal(L.multiply([a, b]), [[3.0, 8.0]])
    np.testing.assert_array_equal(L.subtract([a, b]), [[-2.0, 2.0]])
    np.testing.assert_array_equal(L.maximum([a, b, np.zeros((1, 2))]), [[3.0, 4.0]])
    np.testing.assert_array_equal(L.concatenate([a, b], axis=1), [[1.0, 4.0, 3.0, 2.0]])
    with pytest.raises(ValueError, match="axis 0 is the batch axis"):  # it joined the last axis
        L.concatenate([L.Dense(3)(x), L.Dense(2)(x)], axis=0)
    with pytest.raises(ValueError, match="Subtract .* needs exactly 2 inputs, got 3"):
        L.subtract([L.Dense(3)(x), L.Dense(3)(x), L.Dense(3)(x)])
    with pytest.raises(ValueError, match="needs two or more inputs, got 1"):
        L.multiply([L.Dense(3)(x)])
    with pytest.raises(ValueError, match="do not broadcast"):
        L.Maximum()([L.Dense(3)(x), L.Dense(2)(x)])
    with pytest.raises(ValueError, match="do not broadcast"):
        L.average([np.ones((1, 3)), np.ones((1, 2))])


# --- Identity, Cropping2D, Permute -------------------------------------------------------------


@pytest.mark.parametrize("cropping", [1, (2, 1), ((1, 0), (0, 2)), ((0, 0), (0, 0))])
def test_cropping2d_keeps_the_inner_window_and_pads_the_gradient(backend, dtype, cropping):
    from xcnn.layers import Cropping2D

    (t, b), (le, r) = ref.pads_of(cropping, None, None, None)
    x = np.random.default_rng(4).standard_normal((2, 5, 6, 3))
    layer = Cropping2D(cropping)
    _layer_model(layer, (5, 6, 3), backend, dtype)

    def reference(v):
        return v[:, t : v.shape[1] - b, le : v.shape[2] - r, :]

    _check_op(
        backend,
        dtype,
        lambda xb: layer.forward([xb]),
        lambda dy, xb, y: layer.backward(dy)[0],
        reference,
        x,
    )
    assert layer.output.item_shape == reference(x).shape[1:]


def test_cropping2d_arguments_are_checked():
    from xcnn.layers import Cropping2D

    for bad in (-1, (1, -2), ((1, 2), (3,)), "same", 1.5, ((1, 1), (1, 1), (1, 1))):
        with pytest.raises(ValueError, match="cropping must be an int, \\(rows, cols\\) or"):
            Cropping2D(bad)
    with pytest.raises(ValueError, match="must remove fewer rows and columns than the inputs"):
        _layer_model(Cropping2D(((2, 2), (0, 0))), (4, 6, 1))
    with pytest.raises(ValueError, match="must remove fewer rows and columns"):
        _layer_model(Cropping2D((0, 3)), (4, 6, 1))
    _layer_model(Cropping2D(((2, 1), (0, 5))), (4, 6, 1))  # one row and one column left is fine
    with pytest.raises(ValueError, match="expects input of shape \\(N, H, W, C\\)"):
        _layer_model(Cropping2D(1), (6, 6))
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        Cropping2D(1, data_format="channels_first")


@pytest.mark.parametrize("dims, shape", [((2, 1), (3, 4)), ((3, 1, 2), (2, 3, 4)), ((1, 2, 3), (2, 3, 4))])
def test_permute_transposes_and_its_gradient_transposes_back(backend, dtype, dims, shape):
    from xcnn.layers import Permute

    x = np.random.default_rng(5).standard_normal((2, *shape))
    layer = Permute(dims)
    _layer_model(layer, shape, backend, dtype)

    def reference(v):
        return np.transpose(v, (0, *dims))

    _check_op(backend, dtype, lambda xb: layer.forward([xb]), lambda dy, xb, y: layer.backward(dy)[0], reference, x)
    assert layer.output.item_shape == reference(x).shape[1:]


def test_permute_dims_must_be_a_permutation_of_the_axes():
    from xcnn.layers import Permute

    for bad in ((1, 3), (0, 1), (1, 1), (2,), "12", 3, (1.0, 2.0), (True, 2)):
        with pytest.raises(ValueError, match="dims must be a permutation of 1..k"):
            Permute(bad)
    with pytest.raises(ValueError, match="needs inputs with 2 axes after the batch axis, got \\(None, 4, 4, 3\\)"):
        _layer_model(Permute((2, 1)), (4, 4, 3))


def test_identity_passes_values_and_gradients_unchanged(backend, dtype):
    from xcnn.layers import Identity

    x = np.random.default_rng(6).standard_normal((2, 3, 4))
    layer = Identity()
    _layer_model(layer, (3, 4), backend, dtype)
    y, dx = _input_gradient(layer, x, 2 * x, True, backend, dtype)
    assert_close(y, x, dtype)
    assert_close(dx, 2 * x, dtype)


# --- SpatialDropout2D, GaussianNoise ------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.25, 0.7])
def test_spatial_dropout2d_drops_whole_channels_per_sample_and_scales_the_rest(backend, dtype, rate):
    from xcnn.layers import SpatialDropout2D

    layer = SpatialDropout2D(rate, seed=7)
    _layer_model(layer, (5, 4, 40), backend, dtype)
    x = np.random.default_rng(8).uniform(0.5, 1.5, (16, 5, 4, 40))  # no zeros: a zero output means dropped
    y = B.to_numpy(layer.forward([B.asarray(x, backend, dtype)], training=True))
    kept = y[:, :1, :1, :] != 0  # (N, 1, 1, C): one draw per image and channel
    mask = np.broadcast_to(kept, y.shape)
    assert_close(y, np.where(mask, x / (1.0 - rate), 0.0), dtype)  # every pixel of a kept channel, scaled
    assert not (kept == kept[:1]).all()  # each image draws its own channels
    assert abs(kept.mean() - (1.0 - rate)) < 0.06  # 640 draws
    assert 0 < kept.sum() < kept.size
    dy = np.random.default_rng(9).standard_normal(x.shape)
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    assert_close(dx, np.where(mask, dy / (1.0 - rate), 0.0), dtype)  # the same mask and scale
    assert_close(layer.forward([B.asarray(x, backend, dtype)], training=False), x, dtype)
    assert_close(layer.backward(B.asarray(dy, backend, dtype))[0], dy, dtype)


def test_spatial_dropout2d_arguments_are_checked():
    from xcnn.layers import SpatialDropout2D

    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
            SpatialDropout2D(bad)
    with pytest.raises(ValueError, match="seed must be None or a non-negative int"):
        SpatialDropout2D(0.5, seed=-1)
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        SpatialDropout2D(0.5, data_format="channels_first")
    with pytest.raises(ValueError, match="expects input of shape \\(N, H, W, C\\)"):
        _layer_model(SpatialDropout2D(0.5), (4, 3))


def test_gaussian_noise_adds_noise_in_training_only_and_passes_the_gradient(backend, dtype):
    from xcnn.layers import GaussianNoise

    layer = GaussianNoise(0.3, seed=2)
    _layer_model(layer, (100, 50), backend, dtype)
    x = np.random.default_rng(10).standard_normal((4, 100, 50))
    noise = B.to_numpy(layer.forward([B.asarray(x, backend, dtype)], training=True)) - x
    assert abs(noise.std() - 0.3) < 0.01 and abs(noise.mean()) < 0.01  # 20,000 draws
    dy = np.random.default_rng(11).standard_normal(x.shape)
    assert_close(layer.backward(B.asarray(dy, backend, dtype))[0], dy, dtype)
    assert_close(layer.forward([B.asarray(x, backend, dtype)], training=False), x, dtype)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"stddev must be in \[0, 1\]"):
            GaussianNoise(bad)
    with pytest.raises(TypeError, match="stddev must be a number"):
        GaussianNoise("0.1")


# --- LayerNormalization -----------------------------------------------------------------------


def _layer_norm_reference(x, axes, gamma, beta, epsilon):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    out = (x - mean) / np.sqrt(var + epsilon)
    if gamma is not None:
        out = out * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    return out


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
@pytest.mark.parametrize("axis", [-1, [2, 3], [1, 3], 1], ids=["last", "trailing2", "gapped", "first"])
def test_layer_normalization_matches_formula_and_numerical_gradients(backend, dtype, axis, center, scale):
    from xcnn.layers import LayerNormalization

    rng = np.random.default_rng(12)
    x, dy = rng.standard_normal((3, 4, 5, 2)) * 2 + 0.5, rng.standard_normal((3, 4, 5, 2))
    axes = tuple(sorted(a % 4 for a in (axis if isinstance(axis, list) else [axis])))
    layer = LayerNormalization(axis=axis, center=center, scale=scale, epsilon=0.01)
    model = _layer_model(layer, (4, 5, 2), backend, dtype)
    weights = [rng.uniform(0.5, 2.0, w.shape) for w in model.get_weights()]
    model.set_weights(weights)
    gamma = weights[0] if scale else None
    beta = weights[int(scale)] if center else None
    assert [k for _, k in layer._weight_slots] == ["gamma"] * scale + ["beta"] * center  # Keras's order
    assert all(w.shape == tuple(x.shape[a] for a in axes) for w in weights)
    y, dx = _input_gradient(layer, x, dy, True, backend, dtype)
    assert_close(y, _layer_norm_reference(x, axes, gamma, beta, 0.01), dtype)

    def loss(values=x, g=gamma, b=beta):
        return float(np.sum(_layer_norm_reference(values, axes, g, b, 0.01) * dy))

    assert_close_to_numerical(dx, ref.numerical_gradient(loss, x.copy()), dtype)
    assert sorted(layer.grads) == sorted(["gamma"] * scale + ["beta"] * center)
    if scale:
        numerical = ref.numerical_gradient(lambda v: loss(g=v), gamma.copy())
        assert_close_to_numerical(B.to_numpy(layer.grads["gamma"]), numerical, dtype)
    if center:
        numerical = ref.numerical_gradient(lambda v: loss(b=v), beta.copy())
        assert_close_to_numerical(B.to_numpy(layer.grads["beta"]), numerical, dtype)


def test_layer_normalization_arguments_are_checked():
    from xcnn.layers import LayerNormalization

    for bad in (0, 4, -4, [1, 1], [0, 1]):
        with pytest.raises(ValueError, match="must name distinct axes other than the batch axis of inputs of rank 4"):
            _layer_model(LayerNormalization(axis=bad), (4, 5, 2))
    for bad in ("last", 1.0, [], [1, "2"], None):
        with pytest.raises(TypeError, match="axis must be an int or a non-empty list of ints"):
            LayerNormalization(axis=bad)
    for bad in (0.0, -1e-3, "1e-3"):
        with pytest.raises(ValueError, match="epsilon must be a positive number"):
            LayerNormalization(epsilon=bad)


def test_new_keras_layers_save_and_load(tmp_path):
    from xcnn import layers as L
    from xcnn.models import load_model

    inputs = Input((6, 6, 2))
    h = L.GaussianNoise(0.1, seed=1)(L.SpatialDropout2D(0.3, seed=2)(inputs))
    h = L.Cropping2D(((1, 0), (0, 2)))(h)  # (5, 4, 2)
    gate = L.Reshape((1, 1, 2))(L.Dense(2, activation="sigmoid")(L.GlobalAveragePooling2D()(h)))
    h = L.multiply([h, gate])
    h = L.average([L.maximum([h, L.Identity()(h)]), L.minimum([h, gate]), L.subtract([h, gate])])
    norm = L.LayerNormalization(axis=[1, 3], epsilon=0.01, center=False)
    h = L.Permute((3, 1, 2))(norm(h))
    model = Model(inputs, L.Flatten()(h), seed=0)
    norm.set_weights([np.random.default_rng(0).uniform(0.5, 2.0, (5, 2))])
    x = np.random.default_rng(13).standard_normal((3, 6, 6, 2))
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]
    assert [a.get_config() for a in loaded.layers] == [a.get_config() for a in model.layers]


def test_layers_called_on_arrays_draw_reproducibly(backend, monkeypatch):
    import xcnn
    from xcnn.layers import Dense, Dropout, RandomCrop

    monkeypatch.setattr(xcnn.utils, "_model_seeds", None)  # put back afterwards
    x = B.asarray(np.random.default_rng(0).standard_normal((4, 9, 7, 2)), backend, "float32")

    def draws(seed):
        crop = RandomCrop(5, 4, seed=seed)
        crops = [B.to_numpy(crop(x, training=True)) for _ in range(3)]
        mask = B.to_numpy(Dropout(0.5, seed=seed)(x, training=True))
        return crops, mask

    # a layer given seed= draws the same stream each time it is made, as inside a model
    (crops_a, mask_a), (crops_b, mask_b) = draws(7), draws(7)
    for a, b in zip(crops_a, crops_b):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mask_a, mask_b)
    assert not all(np.array_equal(crops_a[0], c) for c in crops_a[1:])  # and moves on between calls

    # without seed=, set_random_seed makes weights and draws reproducible, as for models (and Keras)
    def unseeded():
        xcnn.utils.set_random_seed(3)
        dense = Dense(2)
        out = B.to_numpy(dense(B.asarray(np.ones((1, 3)), backend, "float32")))
        return out, B.to_numpy(Dropout(0.5)(x, training=True))

    (out_a, drop_a), (out_b, drop_b) = unseeded(), unseeded()
    np.testing.assert_array_equal(out_a, out_b)
    np.testing.assert_array_equal(drop_a, drop_b)
