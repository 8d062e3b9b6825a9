"""New layers against Keras 3 (torch backend): the same layer in both, Keras's weights copied
over, then outputs, input gradients and weight gradients compared."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

import xcnn  # noqa: E402
from xcnn import backend as B  # noqa: E402

# (Keras layer name, arguments, input shape without the batch axis)
CASES = [
    ("ReLU", {}, (5, 4, 3)),
    ("ReLU", {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5}, (5, 4, 3)),
    ("LeakyReLU", {}, (5, 4, 3)),
    ("LeakyReLU", {"negative_slope": 0.05}, (7,)),
    ("ELU", {"alpha": 0.7}, (5, 4, 3)),
    ("PReLU", {"alpha_initializer": "random_normal"}, (5, 4, 3)),
    ("PReLU", {"alpha_initializer": "random_normal", "shared_axes": [1, 2]}, (5, 4, 3)),
    ("Softmax", {}, (5, 4, 3)),
    ("Softmax", {"axis": 1}, (5, 4, 3)),
    ("Reshape", {"target_shape": (-1, 6)}, (5, 4, 3)),
    ("ZeroPadding2D", {}, (5, 4, 3)),
    ("ZeroPadding2D", {"padding": ((1, 2), (0, 3))}, (5, 4, 3)),
    ("ZeroPadding2D", {"padding": (2, 1)}, (5, 4, 3)),
    ("UpSampling2D", {}, (5, 4, 3)),
    ("UpSampling2D", {"size": (3, 1)}, (5, 4, 3)),
    ("Rescaling", {"scale": 1 / 255, "offset": -0.5}, (5, 4, 3)),
    ("BatchNormalization", {}, (5, 4, 3)),
    ("BatchNormalization", {"center": False, "epsilon": 0.1}, (6,)),
    ("BatchNormalization", {"scale": False, "axis": 3}, (5, 4, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (7, 6, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": (3, 2), "dilation_rate": (2, 3), "padding": "same"}, (8, 9, 2)),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 2, "strides": 2}, (7, 8, 4)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2, "dilation_rate": 2}, (9, 8, 4)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (7, 6, 3)),
    (
        "DepthwiseConv2D",
        {"kernel_size": (2, 3), "depth_multiplier": 2, "strides": (2, 1), "padding": "same"},
        (7, 6, 3),
    ),
    ("DepthwiseConv2D", {"kernel_size": 3, "dilation_rate": 2, "activation": "relu"}, (9, 8, 2)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3}, (7, 6, 3)),
    (
        "SeparableConv2D",
        {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"},
        (7, 6, 3),
    ),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3}, (5, 4, 3)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (5, 4, 3)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": (3, 4), "strides": 2, "padding": "same"}, (5, 4, 3)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3}, (4, 3, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3, "padding": "same"}, (4, 3, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 5, "strides": 2, "padding": "same"}, (4, 3, 2)),
    ("Identity", {}, (5, 4, 3)),
    ("Cropping2D", {}, (5, 4, 3)),
    ("Cropping2D", {"cropping": 1}, (5, 4, 3)),
    ("Cropping2D", {"cropping": (2, 1)}, (6, 4, 3)),
    ("Cropping2D", {"cropping": ((1, 2), (0, 3))}, (5, 4, 3)),
    ("Permute", {"dims": (2, 1)}, (5, 4)),
    ("Permute", {"dims": (3, 1, 2)}, (5, 4, 3)),
    ("Permute", {"dims": (2, 3, 1)}, (5, 4, 3)),
    ("SpatialDropout2D", {"rate": 0.4}, (5, 4, 3)),  # inference: the identity
    ("GaussianNoise", {"stddev": 0.3}, (5, 4, 3)),  # inference: the identity
    ("LayerNormalization", {}, (5, 4, 3)),
    ("LayerNormalization", {"epsilon": 0.1, "center": False}, (7,)),
    ("LayerNormalization", {"scale": False, "axis": 3}, (5, 4, 3)),
    ("LayerNormalization", {"axis": [2, 3]}, (5, 4, 3)),
    ("LayerNormalization", {"axis": [1, 3]}, (5, 4, 3)),  # not consecutive: Keras's own formula
    ("LayerNormalization", {"axis": [-1, 1]}, (5, 4, 3)),  # (3, 5) weights reshaped over (5, 3), as Keras
]


def _torch_grads(layer, x, dy):
    xt = torch.tensor(x, requires_grad=True)
    y = layer(xt)
    (y * torch.tensor(dy)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), [v.value.grad.numpy() for v in layer.trainable_weights]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_keras(name, kwargs, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, *shape))
    theirs = getattr(keras.layers, name)(**kwargs, dtype="float64")
    theirs.build((None, *shape))
    rng_w = np.random.default_rng(1)  # biases too, so that a bias in the wrong place shows
    theirs.set_weights(
        [
            np.abs(rng_w.standard_normal(w.shape)) + 0.5 if "variance" in v.path else rng_w.standard_normal(w.shape)
            for w, v in zip(theirs.get_weights(), theirs.weights)
        ]
    )
    expected, dx_expected, dw_expected = None, None, None
    ours = getattr(xcnn.layers, name)(**kwargs)
    inputs = xcnn.Input(shape)
    model = xcnn.Model(inputs, ours(inputs), dtype="float64")
    ours.set_weights(theirs.get_weights())
    y = model.predict(x)
    dy = rng.standard_normal(y.shape)
    expected, dx_expected, dw_expected = _torch_grads(theirs, x, dy)
    # Keras's float64 BatchNormalization is ~1e-7 (relative) off the float64 formula, which
    # tests/test_layers.py holds xcnn's to at 1e-10; its LayerNormalization rounds to float32
    # inside (up to ~2e-6 off the float64 formula)
    tol = {"BatchNormalization": 1e-6, "LayerNormalization": 1e-5}.get(name, 1e-10)
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
    ours.forward([x], training=False)  # as the Keras layer is called (inference mode)
    dx = ours.backward(dy)[0]
    np.testing.assert_allclose(B.to_numpy(dx), dx_expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.count_params(), theirs.count_params())
    for (_, key), want in zip(ours._weight_slots, dw_expected):
        np.testing.assert_allclose(ours._keras_layout(key, B.to_numpy(ours.grads[key])), want, rtol=tol, atol=tol)


def test_dropout_noise_shape_drops_whole_channels_and_seed_repeats():
    def masks(seed):
        inputs = xcnn.Input((6, 6, 8))
        layer = xcnn.layers.Dropout(0.5, noise_shape=(None, 1, 1, 8), seed=seed)
        xcnn.Model(inputs, layer(inputs), seed=np.random.randint(1000))
        out = layer.forward([np.ones((3, 6, 6, 8), np.float32)], training=True)
        return out

    out = masks(3)
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert np.all(out == out[:, :1, :1, :])  # one draw per image and channel
    np.testing.assert_array_equal(out, masks(3))  # seeded: the same draws whatever the model's seed
    with pytest.raises(ValueError, match="noise_shape .* does not fit inputs"):
        inputs = xcnn.Input((6, 6, 8))
        xcnn.layers.Dropout(0.5, noise_shape=(None, 2, 1, 8))(inputs)


@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest", "wrap", "mirror"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_resamples_as_keras(fill_mode, interpolation):
    import math

    from xcnn import ops

    x = np.random.default_rng(0).standard_normal((3, 7, 6, 2))
    angles = np.array([0.3, -1.2, 2.5])
    keras_layer = keras.layers.RandomRotation(0.1)
    batch = torch.zeros(3, dtype=torch.float64)
    matrix = keras_layer._compute_affine_matrix(
        center_x=0.5,
        center_y=0.5,
        angle=torch.tensor(angles * 180 / math.pi),
        translate_x=batch,
        translate_y=batch,
        scale=batch + 1,
        shear_x=batch,
        shear_y=batch,
        height=7,
        width=6,
    )
    expected = keras.ops.image.affine_transform(
        torch.tensor(x), matrix, interpolation=interpolation, fill_mode=fill_mode, fill_value=0.7
    ).numpy()
    rows, cols = ops.rotation_coordinates(angles, (7, 6), np.float64)
    plan = ops.sampling_plan(x.shape, rows, cols, interpolation, fill_mode)
    # Keras's affine_transform is float32 somewhere inside: ~2e-7 from the float64 values
    np.testing.assert_allclose(ops.resample(x, plan, (7, 6), 0.7), expected, atol=1e-6)


@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest", "wrap"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_zoom_resamples_as_keras(fill_mode, interpolation):
    from xcnn import ops

    x = np.random.default_rng(1).standard_normal((3, 7, 6, 2))
    zooms = np.array([[0.6, 1.3], [1.5, 1.5], [0.9, 0.75]])  # (height, width) per image
    keras_layer = keras.layers.RandomZoom(0.5, fill_mode=fill_mode, interpolation=interpolation, fill_value=0.7)
    transformation = {"height_zoom": torch.tensor(zooms[:, :1]), "width_zoom": torch.tensor(zooms[:, 1:])}
    expected = keras_layer._zoom_inputs(torch.tensor(x), transformation, interpolation).numpy()
    rows, cols = ops.zoom_coordinates(zooms, (7, 6), np.float64)
    plan = ops.sampling_plan(x.shape, rows, cols, interpolation, fill_mode)
    # Keras's affine_transform is float32 inside: ~2e-7 from the float64 values
    np.testing.assert_allclose(ops.resample(x, plan, (7, 6), 0.7), expected, atol=2e-6)


def test_random_contrast_computes_and_reads_its_factor_as_keras():
    from xcnn.layers import RandomContrast

    x = np.random.default_rng(2).uniform(0, 255, (3, 5, 4, 2)).astype("float32")
    contrast = np.array([0.7, 1.0, 1.45], dtype="float32").reshape(-1, 1, 1, 1)
    theirs = keras.layers.RandomContrast(0.5)
    expected = theirs.transform_images(torch.tensor(x), {"contrast_factor": torch.tensor(contrast)}).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(np.clip((x - mean) * contrast + mean, 0, 255), expected, rtol=1e-5, atol=1e-3)
    for factor in (0.3, (0.1, 0.4)):  # a number reads as (0, f) in Keras 3: the contrast only grows
        assert RandomContrast(factor).factor == tuple(float(f) for f in keras.layers.RandomContrast(factor).factor)
    config = RandomContrast((0.1, 0.4), value_range=(0, 1)).get_config()
    again = keras.layers.RandomContrast(**{k: v for k, v in config.items() if k != "name"})
    assert tuple(again.factor) == (0.1, 0.4) and tuple(again.value_range) == (0.0, 1.0)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(3, 9), (14, 12), (7, 3), (4, 4)])  # shrink, grow, mixed, halve
def test_resizing_computes_what_keras_computes_and_its_gradient_is_the_adjoint(interpolation, size):
    from xcnn.layers import Resizing

    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 8, 3))
    expected = keras.ops.convert_to_numpy(keras.layers.Resizing(*size, interpolation=interpolation)(x))
    layer = Resizing(*size, interpolation=interpolation)
    out = layer(x)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    dy = rng.standard_normal(out.shape)
    dx = layer.grad(dy, need_dx=True)
    assert np.sum(out * dy) == pytest.approx(np.sum(x * dx), rel=1e-12)  # <R x, dy> = <x, R^T dy>
    config = layer.get_config()
    again = keras.layers.Resizing(**{k: v for k, v in config.items() if k != "name"})
    assert (again.height, again.width, again.interpolation) == (*size, interpolation)
    for bad, message in (
        ({"height": 0, "width": 2}, "height must be a positive whole number"),
        ({"height": 2, "width": 2, "crop_to_aspect_ratio": True}, "crop_to_aspect_ratio=True is not supported"),
        ({"height": 2, "width": 2, "interpolation": "bicubic"}, "interpolation must be one of"),
    ):
        with pytest.raises(ValueError, match=message):
            Resizing(**bad)


def test_random_zoom_config_follows_keras():
    from xcnn.layers import RandomZoom

    for args in ((0.2,), ((-0.3, 0.1), 0.2), ((0.1, -0.2), None)):
        ours, theirs = RandomZoom(*args), keras.layers.RandomZoom(*args)
        assert (ours.height_factor, ours.width_factor is None) == (
            (theirs.height_lower, theirs.height_upper),
            theirs.width_factor is None,
        )
        again = keras.layers.RandomZoom(**{k: v for k, v in ours.get_config().items() if k != "name"})
        assert (again.height_lower, again.height_upper) == ours.height_factor


# --- merging layers: several inputs, Keras's broadcasting, gradients through torch autograd ---

MERGE_CASES = [  # (Keras layer name, input shapes without the batch axis)
    ("Multiply", [(4, 3, 2), (4, 3, 2)]),
    ("Multiply", [(4, 3, 2), (1, 1, 2)]),  # a per-channel gate
    ("Multiply", [(4, 3, 2), (2,), (3, 1)]),  # lower ranks gain axes after the batch axis
    ("Subtract", [(4, 3, 2), (4, 3, 2)]),
    ("Subtract", [(4, 1, 2), (3, 1)]),
    ("Average", [(4, 3, 2), (4, 3, 2), (4, 3, 2)]),
    ("Average", [(4, 3, 2), (1, 3, 1)]),
    ("Maximum", [(4, 3, 2), (4, 3, 2), (4, 3, 2)]),
    ("Maximum", [(4, 3, 2), (4, 1, 2)]),
    ("Minimum", [(4, 3, 2), (4, 3, 2), (4, 3, 2)]),
    ("Minimum", [(4, 3, 2), (2,)]),
]


def _keras_merge(name, xs, dy):
    tensors = [torch.tensor(x, requires_grad=True) for x in xs]
    y = getattr(keras.layers, name)(dtype="float64")(tensors)
    (y * torch.tensor(dy)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("name, shapes", MERGE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MERGE_CASES)])
def test_merging_layer_matches_keras(name, shapes, ties):
    rng = np.random.default_rng(0)
    draw = (lambda s: rng.integers(-1, 2, s).astype(np.float64)) if ties else rng.standard_normal
    xs = [draw((3, *s)) for s in shapes]  # with ties: values in {-1, 0, 1}, many equal
    layer = getattr(xcnn.layers, name)()
    layer([xcnn.Input(s) for s in shapes])
    layer.build("numpy", "float64", np.random.default_rng(0))
    y = layer.forward(xs, training=False)
    dy = rng.standard_normal(y.shape)
    expected, dxs_expected = _keras_merge(name, xs, dy)
    # Keras's Maximum and Minimum compute in float32 even for float64 layers and inputs (its
    # ops.maximum/minimum on PyTorch return float32): float32's rounding there, exact elsewhere
    tol = 1e-6 if name in ("Maximum", "Minimum") else 1e-12
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
    assert layer.output.shape == getattr(keras.layers, name)().compute_output_shape([(None, *s) for s in shapes])
    for dx, want in zip(layer.backward(dy), dxs_expected):
        np.testing.assert_allclose(dx, want, rtol=tol, atol=tol)


def test_merge_function_forms_compute_what_keras_computes():
    rng = np.random.default_rng(1)
    a, b, c = (rng.integers(-2, 3, (2, 3, 4)).astype(np.float64) for _ in range(3))
    for name in ("add", "multiply", "average", "maximum", "minimum", "concatenate"):  # Keras: in float32
        ours = getattr(xcnn.layers, name)([a, b, c])
        theirs = getattr(keras.layers, name)([torch.tensor(a), torch.tensor(b), torch.tensor(c)])
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-7, err_msg=name)
    np.testing.assert_allclose(xcnn.layers.subtract([a, b]), keras.layers.subtract([a, b]).numpy(), rtol=1e-7)
    np.testing.assert_allclose(
        xcnn.layers.concatenate([a, b], axis=1), keras.layers.concatenate([a, b], axis=1).numpy(), rtol=1e-7
    )
    symbolic = keras.layers.multiply([keras.Input((3, 4)), keras.Input((1, 4))])
    ours = xcnn.layers.multiply([xcnn.Input((3, 4)), xcnn.Input((1, 4))])
    assert ours.shape == tuple(symbolic.shape)


def test_layer_normalization_weights_and_config_follow_keras():
    theirs = keras.layers.LayerNormalization(axis=[1, 3], epsilon=0.01, center=True, scale=True)
    theirs.build((None, 5, 4, 3))
    ours = xcnn.layers.LayerNormalization(axis=[1, 3], epsilon=0.01)
    inputs = xcnn.Input((5, 4, 3))
    xcnn.Model(inputs, ours(inputs), dtype="float64")
    assert [v.path.split("/")[-1] for v in theirs.weights] == [k for _, k in ours._weight_slots]  # gamma, beta
    assert [tuple(v.shape) for v in theirs.weights] == [w.shape for w in ours.get_weights()]
    config = ours.get_config()
    for key in ("axis", "epsilon", "center", "scale"):
        assert config[key] == theirs.get_config()[key], key
    for name, kwargs in [("Cropping2D", {"cropping": ((1, 2), (0, 3))}), ("Permute", {"dims": (3, 1, 2)})]:
        k_config, x_config = getattr(keras.layers, name)(**kwargs).get_config(), getattr(xcnn.layers, name)(**kwargs)
        for key, value in x_config.get_config().items():
            if key != "name":
                assert np.array_equal(np.asarray(value), np.asarray(k_config[key])), (name, key)


def test_spatial_dropout2d_and_gaussian_noise_are_the_identity_at_inference_as_keras():
    x = np.random.default_rng(2).standard_normal((3, 5, 4, 6))
    for name, kwargs in [("SpatialDropout2D", {"rate": 0.5}), ("GaussianNoise", {"stddev": 0.5})]:
        expected = getattr(keras.layers, name)(**kwargs, dtype="float64")(torch.tensor(x), training=False).numpy()
        inputs = xcnn.Input((5, 4, 6))
        model = xcnn.Model(inputs, getattr(xcnn.layers, name)(**kwargs)(inputs), dtype="float64")
        np.testing.assert_array_equal(model.predict(x), expected)
    # in training Keras's SpatialDropout2D zeroes whole channels and scales the rest by 1/(1 - rate), as ours
    y = keras.layers.SpatialDropout2D(0.5, seed=1)(torch.tensor(np.ones((8, 5, 4, 6))), training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and np.all(y == y[:, :1, :1, :])
