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
    ("CenterCrop", {"height": 3, "width": 2}, (6, 5, 3)),  # odd margins: rows 1.., columns 1..
    ("CenterCrop", {"height": 7, "width": 3}, (5, 4, 3)),  # taller than the input: a window resized
    ("CenterCrop", {"height": 8, "width": 9}, (5, 4, 2)),  # larger both ways
    ("Normalization", {}, (5, 4, 3)),  # mean and variance weights over the channels (and count)
    ("Normalization", {"axis": (1, 3)}, (5, 4, 3)),
    ("Normalization", {"axis": None, "invert": True}, (5, 4, 3)),
    ("Normalization", {"axis": -2, "mean": [1.0, 2.0, 3.0, 4.0], "variance": [0.5, 1.0, 2.0, 1e-16]}, (5, 4, 3)),
    ("Normalization", {"axis": (1, 2), "mean": [1.0, 2.0, 3.0, 4.0], "variance": [0.5, 1.0, 2.0, 3.0]}, (5, 4, 3)),
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
    # inside (up to ~2e-6 off the float64 formula); its Normalization holds its statistics in
    # float32 (~4e-8 relative)
    tol = {"BatchNormalization": 1e-6, "LayerNormalization": 1e-5, "Normalization": 1e-6}.get(name, 1e-10)
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


def test_random_crop_crops_as_keras_and_resizes_at_inference_as_keras_documents():
    from xcnn.layers import RandomCrop

    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 9, 7, 2)).astype("float32")
    theirs = keras.layers.RandomCrop(5, 4)
    ours = RandomCrop(5, 4, seed=2)
    ours(x)  # built, with its stream
    for starts in ([[0, 0], [4, 3], [2, 1]], [[1, 2], [1, 2], [1, 2]]):
        ours._starts = B.asarray(np.asarray(starts), "numpy", "int64")
        out = xcnn.ops.crop_windows(x, ours._starts, (5, 4))
        for image, (row, col) in enumerate(starts):  # Keras's crop at the same corner (it takes one per batch)
            expected = theirs.transform_images(torch.tensor(x[image : image + 1]), (row, col), training=True)
            np.testing.assert_array_equal(out[image : image + 1], expected.numpy())
    # each image's own window, uniform over the corners that fit (Keras 3: one corner per batch)
    starts = []
    for _ in range(60):
        ours(x, training=True)
        starts.append(B.to_numpy(ours._starts))
    starts = np.concatenate(starts)
    assert starts.min(axis=0).tolist() == [0, 0] and starts.max(axis=0).tolist() == [4, 3]
    # each row's share is 1/5 within 4 standard deviations of a binomial share (0.12 at 180 draws;
    # 0.08, under 3, failed one CI run in its 10 comparisons' worth of chances)
    assert np.abs(np.bincount(starts[:, 0]) / len(starts) - 1 / 5).max() < 4 * np.sqrt(0.2 * 0.8 / len(starts))
    # inference (and images too small in training): Keras's smart_resize, the documented behaviour
    # (Keras 3.15 itself returns the input unchanged, keras-team/keras#21868)
    for shape, size in (((9, 7), (5, 4)), ((3, 7), (5, 4)), ((6, 6), (4, 6))):
        images = rng.standard_normal((2, *shape, 2)).astype("float32")
        expected = keras.preprocessing.image.smart_resize(images, size)
        np.testing.assert_allclose(RandomCrop(*size)(images, training=False), expected, atol=2e-6)
        if shape[0] < size[0]:
            np.testing.assert_allclose(RandomCrop(*size)(images, training=True), expected, atol=2e-6)
    config = RandomCrop(5, 4, seed=3).get_config()
    again = keras.layers.RandomCrop(**{k: v for k, v in config.items() if k != "name"})
    assert (again.height, again.width, again.seed) == (5, 4, 3)


def test_random_brightness_computes_and_reads_its_factor_as_keras():
    from xcnn.layers import RandomBrightness

    x = np.random.default_rng(6).uniform(0, 255, (3, 4, 5, 2)).astype("float32")
    theirs = keras.layers.RandomBrightness(0.5)
    delta = np.array([-100.0, 3.0, 90.0], dtype="float32").reshape(-1, 1, 1, 1)
    expected = theirs.transform_images(torch.tensor(x), {"rgb_delta": torch.tensor(delta)}, training=True).numpy()
    np.testing.assert_allclose(np.clip(x + delta, 0, 255), expected, rtol=1e-6)
    for factor in (0.3, -0.3, 1.0, (0.1, 0.4), (0.4, -0.2)):
        ours, keras_layer = RandomBrightness(factor, value_range=(1, 0)), keras.layers.RandomBrightness(factor, (1, 0))
        assert ours.factor == tuple(float(f) for f in keras_layer.factor)
        assert ours.value_range == tuple(float(v) for v in keras_layer.value_range)
    for factor in (1.5, (0.1, 0.2, 0.3)):
        with pytest.raises(ValueError):
            keras.layers.RandomBrightness(factor)
        with pytest.raises(ValueError, match="factor must"):
            RandomBrightness(factor)
    # training: one amount per image, drawn in factor * (highest - lowest)
    layer = RandomBrightness((-0.2, 0.4), value_range=(0, 255), seed=1)
    flat = np.full((400, 1, 1, 1), 100.0, "float32")
    shifts = (layer(flat, training=True) - flat).ravel()
    assert -51 <= shifts.min() < -45 and 96 < shifts.max() <= 102 and abs(shifts.mean() - 25.5) < 5
    config = layer.get_config()
    again = keras.layers.RandomBrightness(**{k: v for k, v in config.items() if k != "name"})
    assert tuple(again.factor) == (-0.2, 0.4) and tuple(again.value_range) == (0.0, 255.0) and again.seed == 1


@pytest.mark.parametrize("axis", [-1, None, (1, 2), [-1, 1]])
def test_normalization_adapts_as_keras(axis):
    from xcnn.layers import Normalization

    rng = np.random.default_rng(7)
    data = rng.normal(3.0, 2.0, (30, 5, 4, 3))
    x = rng.normal(3.0, 2.0, (4, 5, 4, 3)).astype("float32")
    # one array, or batches combined as Keras combines them (Keras's adapt of a list needs TensorFlow
    # here: it adapts to the whole array, which the combination must give)
    for source in (data, [data[:7], data[7:19], data[19:]]):
        theirs, ours = keras.layers.Normalization(axis=axis), Normalization(axis=axis)
        theirs.adapt(data)
        ours.adapt(source)
        np.testing.assert_allclose(ours(x), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)
        inverted = Normalization(axis=axis, invert=True)
        inverted.adapt(source)
        expected = keras.layers.Normalization(axis=axis, invert=True)
        expected.adapt(data)
        np.testing.assert_allclose(inverted(x), keras.ops.convert_to_numpy(expected(x)), rtol=1e-5, atol=1e-4)
        for w_ours, w_theirs in zip(ours.get_weights(), theirs.get_weights()):
            assert w_ours.shape == w_theirs.shape
            np.testing.assert_allclose(w_ours, w_theirs, rtol=1e-5, atol=1e-6)
    config = ours.get_config()
    again = keras.layers.Normalization(**{k: v for k, v in config.items() if k != "name"})
    assert again.get_config()["axis"] == theirs.get_config()["axis"]


def _preprocessing_models():
    """The same model in Keras and xcnn: every new preprocessing layer (RandomCrop at the size of
    its input, where Keras 3.15 and the documented inference agree)."""
    rng = np.random.default_rng(8)
    data = rng.normal(0.5, 2.0, (20, 10, 9, 3))

    def build(lib):
        layers = lib.layers
        norm = layers.Normalization(axis=(1, 3))
        norm.adapt(data[:, 1:9, 1:8])
        inputs = lib.Input((10, 9, 3))
        x = layers.CenterCrop(8, 7)(inputs)
        x = norm(layers.RandomBrightness((-0.1, 0.2), value_range=(-1, 1), seed=4)(x))
        x = layers.Normalization(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 0.5], invert=True)(x)
        x = layers.CenterCrop(9, 6)(layers.RandomCrop(8, 7, seed=5)(x))  # 9 rows: a window resized
        return lib.Model(inputs, layers.Dense(2)(layers.Flatten()(x)))

    kmodel, model = build(keras), build(xcnn)
    model.set_weights(kmodel.get_weights())
    return kmodel, model, rng.normal(0.5, 2.0, (4, 10, 9, 3)).astype("float32")


def test_preprocessing_layers_go_both_ways_in_keras_files(tmp_path):
    pytest.importorskip("h5py")
    kmodel, model, x = _preprocessing_models()
    expected = kmodel.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)
    kmodel.save(tmp_path / "k.keras")  # Keras -> xcnn
    loaded = xcnn.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "x.keras")  # xcnn -> Keras
    again = keras.saving.load_model(tmp_path / "x.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    fresh_k, fresh, _ = _preprocessing_models()
    for layer in [*fresh_k.layers, *fresh.layers]:  # the adapted Normalization: other statistics
        if type(layer).__name__ == "Normalization" and layer.get_weights():
            layer.set_weights([w + 1 if w.ndim else w for w in layer.get_weights()])
    assert np.abs(fresh.predict(x) - expected).max() > 1e-2
    assert np.abs(fresh_k.predict(x, verbose=0) - expected).max() > 1e-2
    model.save_weights(tmp_path / "x.weights.h5")
    fresh_k.load_weights(tmp_path / "x.weights.h5")
    np.testing.assert_allclose(fresh_k.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    kmodel.save_weights(tmp_path / "k.weights.h5")
    fresh.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(fresh.predict(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
@pytest.mark.parametrize(
    "target_size, interpolation, keep_aspect_ratio",
    [
        (None, "nearest", False),
        ((14, 14), "nearest", False),
        ((20, 12), "bilinear", False),
        ((10, 16), "bicubic", True),
    ],
)
def test_image_files_load_as_in_keras(tmp_path, color_mode, target_size, interpolation, keep_aspect_ratio):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(9)
    digit = np.zeros((28, 28, 1))
    digit[6:22, 12:16] = rng.uniform(150, 255, (16, 4, 1))  # an MNIST-like stroke
    colour = rng.uniform(0, 255, (21, 17, 3))
    for name, x in (("digit.png", digit), ("colour.jpg", colour), ("colour.png", colour)):
        path = tmp_path / name
        xcnn.utils.save_img(path, x, scale=False)
        kwargs = dict(color_mode=color_mode, target_size=target_size, interpolation=interpolation)
        kwargs["keep_aspect_ratio"] = keep_aspect_ratio
        ours, theirs = xcnn.utils.load_img(path, **kwargs), keras.utils.load_img(path, **kwargs)
        assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
        array = xcnn.utils.img_to_array(ours)
        np.testing.assert_array_equal(array, keras.utils.img_to_array(theirs))
        assert array.dtype == np.float32 and array.shape[-1] == {"rgb": 3, "grayscale": 1, "rgba": 4}[color_mode]
        for scale in (True, False):
            back, expected = xcnn.utils.array_to_img(array, scale=scale), keras.utils.array_to_img(array, scale=scale)
            assert back.mode == expected.mode
            np.testing.assert_array_equal(np.asarray(back), np.asarray(expected))
    np.testing.assert_array_equal(
        xcnn.utils.img_to_array(xcnn.utils.load_img(tmp_path / "digit.png"))[..., :1], digit.astype(np.uint8)
    )
    keras.utils.save_img(tmp_path / "k.png", colour, scale=True)  # Keras's file, read by both
    np.testing.assert_array_equal(
        xcnn.utils.img_to_array(xcnn.utils.load_img(tmp_path / "k.png")),
        keras.utils.img_to_array(keras.utils.load_img(tmp_path / "k.png")),
    )
    xcnn.utils.save_img(tmp_path / "x.png", colour, scale=True)
    assert (tmp_path / "x.png").read_bytes() == (tmp_path / "k.png").read_bytes() or np.array_equal(
        np.asarray(keras.utils.load_img(tmp_path / "x.png")), np.asarray(keras.utils.load_img(tmp_path / "k.png"))
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["digit.png", "colour.jpg", "colour.png", "k.png", "x.png"]
    )


def test_image_utils_refuse_as_keras_and_name_pillow_when_missing(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    xcnn.utils.save_img(tmp_path / "a.png", np.ones((4, 4, 3)))
    with pytest.raises(ValueError, match="color_mode must be 'grayscale', 'rgb' or 'rgba'"):
        xcnn.utils.load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        xcnn.utils.load_img(tmp_path / "a.png", target_size=(2, 2), interpolation="area")
    with pytest.raises(ValueError, match="an image must have 1, 3 or 4 channels, got 2"):
        xcnn.utils.array_to_img(np.ones((4, 4, 2)))
    with pytest.raises(ValueError, match="save_img cannot tell the image format"):
        xcnn.utils.save_img(tmp_path / "noending", np.ones((4, 4, 3)))
    assert not (tmp_path / "noending").exists()
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # Pillow not installed
    for call in (lambda: xcnn.utils.load_img(tmp_path / "a.png"), lambda: xcnn.utils.array_to_img(np.ones((2, 2, 1)))):
        with pytest.raises(ImportError, match=r'needs Pillow, which is not installed: pip install "xcnn\[plot\]"'):
            call()


@pytest.mark.parametrize("axis", [-1, None, (1, 3)])
def test_normalization_adapted_alone_is_built_as_keras(backend, dtype, axis):
    """`n.adapt(x)` outside a model builds the layer, as Keras's: its weights are the
    statistics, `n.mean`/`n.variance` the broadcast ones; a model then uses them on its own
    backend and dtype."""
    from xcnn.layers import Input, Normalization
    from xcnn.models import Sequential

    rng = np.random.default_rng(3)
    data = rng.normal(2.0, 3.0, (16, 5, 4, 3)).astype("float32")
    x = rng.normal(2.0, 3.0, (2, 5, 4, 3)).astype("float32")
    theirs, ours = keras.layers.Normalization(axis=axis), Normalization(axis=axis)
    assert ours.mean is None and ours.variance is None and not ours.built
    theirs.adapt(data)
    ours.adapt(data)
    assert ours.built and theirs.built
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights] == ["mean", "variance", "count"]
    for got, expected in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert got.shape == expected.shape and got.dtype.kind == expected.dtype.kind
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    for got, expected in ((ours.mean, theirs.mean), (ours.variance, theirs.variance)):
        expected = keras.ops.convert_to_numpy(expected)
        assert tuple(got.shape) == expected.shape and str(got.dtype).endswith(str(expected.dtype))
        np.testing.assert_allclose(B.to_numpy(got), expected, rtol=1e-5, atol=1e-6)
    model = Sequential([Input((5, 4, 3)), ours], backend=backend, dtype=dtype)
    kmodel = keras.Sequential([keras.Input((5, 4, 3)), theirs])
    assert B.backend_of(ours.mean) == backend and str(ours.mean.dtype).endswith(dtype)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    np.testing.assert_allclose(
        model.predict(x.astype(dtype), verbose=0), kmodel.predict(x, verbose=0), rtol=1e-5, atol=1e-5
    )


def test_normalization_given_statistics_read_as_keras():
    from xcnn.layers import Normalization

    x = np.ones((2, 5, 4, 3), dtype="float32")
    for kwargs in ({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}, {"mean": 2.0, "variance": 4.0}):
        theirs, ours = keras.layers.Normalization(**kwargs), Normalization(**kwargs)
        assert getattr(theirs, "mean", None) is None and ours.mean is None
        theirs(x), ours(x)
        assert ours.get_weights() == theirs.get_weights() == []
        for got, expected in ((ours.mean, theirs.mean), (ours.variance, theirs.variance)):
            expected = keras.ops.convert_to_numpy(expected)
            assert tuple(got.shape) == expected.shape == (1, 1, 1, 3)
            np.testing.assert_array_equal(B.to_numpy(got), expected)


def test_normalization_adapted_alone_then_called_on_other_arrays_builds_for_them():
    from xcnn.layers import Normalization

    data = np.random.default_rng(0).normal(size=(10, 3))
    layer = Normalization()
    layer.adapt(data)
    y = layer(B.asarray(data, "torch", "float64"))  # another backend and dtype than adapt's build
    assert B.backend_of(y) == "torch" and str(y.dtype) == "torch.float64"
    np.testing.assert_allclose(B.to_numpy(y).mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(B.to_numpy(layer.mean), data.mean(axis=0, keepdims=True))


_OPTIONAL_WEIGHTS = [
    ("Dense", lambda L, **k: L.Dense(2, **k), (3,), "bias", "use_bias"),
    ("Conv2D", lambda L, **k: L.Conv2D(2, 3, **k), (5, 5, 2), "bias", "use_bias"),
    ("Conv2DTranspose", lambda L, **k: L.Conv2DTranspose(2, 3, **k), (5, 5, 2), "bias", "use_bias"),
    ("DepthwiseConv2D", lambda L, **k: L.DepthwiseConv2D(3, **k), (5, 5, 2), "bias", "use_bias"),
    ("SeparableConv2D", lambda L, **k: L.SeparableConv2D(2, 3, **k), (5, 5, 2), "bias", "use_bias"),
    ("BatchNormalization_beta", lambda L, **k: L.BatchNormalization(**k), (5, 5, 2), "beta", "center"),
    ("BatchNormalization_gamma", lambda L, **k: L.BatchNormalization(**k), (5, 5, 2), "gamma", "scale"),
    ("LayerNormalization_beta", lambda L, **k: L.LayerNormalization(**k), (5, 5, 2), "beta", "center"),
    ("LayerNormalization_gamma", lambda L, **k: L.LayerNormalization(**k), (5, 5, 2), "gamma", "scale"),
]


@pytest.mark.parametrize(
    "make, shape, weight, flag", [c[1:] for c in _OPTIONAL_WEIGHTS], ids=[c[0] for c in _OPTIONAL_WEIGHTS]
)
def test_a_weight_its_flag_drops_reads_as_none_as_keras(make, shape, weight, flag):
    for lib in (keras, xcnn):
        dropped, kept = make(lib.layers, **{flag: False}), make(lib.layers)
        lib.Sequential([lib.Input(shape), dropped])
        lib.Sequential([lib.Input(shape), kept])
        assert getattr(dropped, weight) is None, lib.__name__
        assert getattr(kept, weight) is not None, lib.__name__
        with pytest.raises(AttributeError):
            dropped.no_such_weight  # noqa: B018
    ours, theirs = make(xcnn.layers), make(keras.layers)
    xcnn.Sequential([xcnn.Input(shape), ours])
    keras.Sequential([keras.Input(shape), theirs])
    assert tuple(getattr(ours, weight).shape) == tuple(getattr(theirs, weight).shape)
    assert not hasattr(make(xcnn.layers, **{flag: False}), "kernel")  # unbuilt: no weights yet, as Keras


def test_normalization_adapted_alone_keeps_weights_set_before_a_model_builds_it():
    from xcnn.layers import Input, Normalization
    from xcnn.models import Sequential

    layer = Normalization()
    layer.adapt(np.random.default_rng(0).normal(size=(10, 3)))
    layer.set_weights([np.array([1.0, 2.0, 3.0]), np.array([4.0, 4.0, 4.0]), np.array(0)])
    model = Sequential([Input((3,)), layer], dtype="float64")
    np.testing.assert_allclose(model.predict(np.array([[3.0, 4.0, 5.0]]), verbose=0), [[1.0, 1.0, 1.0]])
