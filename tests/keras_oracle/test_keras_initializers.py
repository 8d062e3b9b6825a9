"""Keras 3's initializers against xcnn's: the same distributions (statistics of large draws,
bounds, orthogonality; Keras's values for a seed come from its backend's generator, so the
draws themselves differ), the same exact values where nothing is drawn, and .keras configs."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import xcnn  # noqa: E402
from xcnn import initializers  # noqa: E402
from xcnn.interop.converters import initializer_from_keras, initializer_to_keras  # noqa: E402

SHAPE = (300, 200)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("TruncatedNormal", {"mean": 0.2, "stddev": 0.1}),
        ("RandomNormal", {"mean": -0.1, "stddev": 0.3}),
        ("RandomUniform", {"minval": -0.2, "maxval": 0.4}),
        ("VarianceScaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "untruncated_normal"}),
        ("VarianceScaling", {"scale": 0.5, "mode": "fan_out", "distribution": "truncated_normal"}),
        ("VarianceScaling", {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}),
        ("GlorotNormal", {}),
        ("HeUniform", {}),
        ("LecunNormal", {}),
    ],
)
def test_the_same_distribution_as_keras(name, kwargs):
    theirs = np.asarray(
        keras.ops.convert_to_numpy(getattr(keras.initializers, name)(seed=0, **kwargs)(SHAPE)), "float64"
    )
    ours = getattr(initializers, name)(**kwargs, seed=0)(SHAPE, None)
    assert ours.shape == theirs.shape == SHAPE
    scale = theirs.std()
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.02 * scale)
    assert ours.std() == pytest.approx(scale, rel=0.02)
    assert ours.min() >= theirs.min() - 0.25 * scale and ours.max() <= theirs.max() + 0.25 * scale
    if name == "TruncatedNormal" or kwargs.get("distribution") in ("truncated_normal", "uniform"):
        # bounded: both within the same bounds (Keras's draws come close to them)
        low, high = theirs.min(), theirs.max()
        width = high - low
        assert ours.min() >= low - 0.01 * width and ours.max() <= high + 0.01 * width


@pytest.mark.parametrize("shape", [(8, 3), (3, 8), (3, 3, 2, 4)])
def test_orthogonal_as_keras(shape):
    theirs = np.asarray(keras.ops.convert_to_numpy(keras.initializers.Orthogonal(gain=2.0, seed=0)(shape)))
    xcnn_shape = (shape[-1], *shape[:-1]) if len(shape) == 4 else shape  # a conv kernel in xcnn's layout
    ours = initializers.Orthogonal(gain=2.0)(xcnn_shape, np.random.default_rng(0))
    if len(shape) == 4:
        ours = ours.transpose(1, 2, 3, 0)  # to Keras's (KH, KW, C, F)
    for w in (theirs, ours):
        m = w.reshape(-1, shape[-1])
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(min(m.shape)), atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2)])
def test_identity_and_constant_are_keras_s_values(shape):
    for ours, theirs in [
        (initializers.Identity(gain=0.5)(shape), keras.initializers.Identity(0.5)(shape)),
        (initializers.constant(0.3)(shape, dtype="float64"), keras.initializers.constant(0.3)(shape, dtype="float64")),
        (initializers.Zeros()(shape), keras.initializers.Zeros()(shape)),
        (initializers.Ones()(shape, "float64"), keras.initializers.Ones()(shape, "float64")),  # dtype positional
    ]:
        theirs = keras.ops.convert_to_numpy(theirs)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_the_lowercase_names_are_keras_s():
    public = {n for n in dir(keras.initializers) if not n.startswith("_")}
    skipped = {"STFT", "STFTInitializer", "stft", "serialize", "deserialize"}  # not in xcnn
    for name in sorted(public - skipped):
        assert hasattr(initializers, name), name
        if name[0].islower() and name != "get":
            assert getattr(keras.initializers, name) is getattr(keras.initializers, _class(name)), name
            assert getattr(initializers, name) is getattr(initializers, _class(name)), name


def _class(alias):
    return "".join(part.capitalize() for part in alias.split("_"))


@pytest.mark.parametrize(
    "init",
    [
        initializers.TruncatedNormal(0.1, 0.2),
        initializers.Orthogonal(2.0),
        initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"),
        initializers.Constant(0.5),
    ],
    ids=lambda i: type(i).__name__,
)
def test_configs_round_trip_through_keras(init):
    config = initializer_to_keras(init)
    keras_init = keras.initializers.deserialize(config)
    assert type(keras_init).__name__ == type(init).__name__
    back = initializer_from_keras(keras.initializers.serialize(keras_init), "a layer")
    assert type(back) is type(init)
    for key, value in config["config"].items():
        if key != "seed":
            assert getattr(back, key) == value


# every weighted layer, built on a 16x16x32 input: its kernels' initial spread must be Keras's,
# which follows from the fans Keras computes on its own kernel layout
_KERNEL_LAYERS = {
    "Dense": lambda L, init: L.Dense(48, kernel_initializer=init),
    "Conv2D": lambda L, init: L.Conv2D(24, 5, kernel_initializer=init),
    "Conv2DTranspose": lambda L, init: L.Conv2DTranspose(24, 5, kernel_initializer=init),
    "DepthwiseConv2D": lambda L, init: L.DepthwiseConv2D(3, depth_multiplier=8, depthwise_initializer=init),
    "SeparableConv2D": lambda L, init: L.SeparableConv2D(
        24, 5, depth_multiplier=2, depthwise_initializer=init, pointwise_initializer=init
    ),
}


@pytest.mark.parametrize("init", ["glorot_uniform", "he_normal", "lecun_uniform"])
@pytest.mark.parametrize("layer", list(_KERNEL_LAYERS))
def test_initial_kernels_have_the_spread_of_keras_s(layer, init):
    shape = (32,) if layer == "Dense" else (16, 16, 32)

    def kernels(lib):
        model = lib.Sequential([lib.Input(shape), _KERNEL_LAYERS[layer](lib.layers, init)])
        return [w for w in model.get_weights() if w.ndim > 1]

    for got, expected in zip(kernels(xcnn), kernels(keras), strict=True):
        assert got.shape == expected.shape
        # the bound of a uniform draw, or the truncation of a normal one, is fixed by the fans
        np.testing.assert_allclose(np.abs(got).max(), np.abs(expected).max(), rtol=0.1)
        np.testing.assert_allclose(got.std(), expected.std(), rtol=0.1)


_DRAWING = ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"]
_DRAWING += ["RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Orthogonal"]


@pytest.mark.parametrize("name", _DRAWING)
def test_called_directly_as_keras(name):
    """`HeNormal(seed=1)((3, 3))`: an array of that shape and Keras's dtype; one instance gives
    the same values at each call, seeded or not, another unseeded instance others (as Keras's;
    the values are xcnn's own)."""
    for dtype in (None, "float32", "float64"):
        kwargs = {} if dtype is None else {"dtype": dtype}
        ours = getattr(initializers, name)(seed=1)((5, 4), **kwargs)
        theirs = keras.ops.convert_to_numpy(getattr(keras.initializers, name)(seed=1)((5, 4), **kwargs))
        assert ours.shape == theirs.shape == (5, 4) and ours.dtype == theirs.dtype, dtype
    for lib in (initializers, keras.initializers):
        seeded, unseeded, other = getattr(lib, name)(seed=3), getattr(lib, name)(), getattr(lib, name)()
        draw = [keras.ops.convert_to_numpy(init((6, 5))) for init in (seeded, seeded, unseeded, unseeded, other)]
        np.testing.assert_array_equal(draw[0], draw[1])
        np.testing.assert_array_equal(draw[2], draw[3])
        assert not np.array_equal(draw[2], draw[4])
    np.testing.assert_array_equal(  # the seeded draws are those a layer gets from the initializer
        getattr(initializers, name)(seed=3)((6, 5), dtype="float64"),
        getattr(initializers, name)(seed=3)((6, 5), np.random.default_rng(0)),
    )


@pytest.mark.parametrize("name", ["GlorotUniform", "HeNormal", "LecunUniform", "Orthogonal"])
def test_a_direct_call_takes_a_conv_kernel_in_keras_s_layout(name):
    """`init((KH, KW, C, F))` as Keras's: its fans (the bound, the spread) are Keras's."""
    shape = (5, 5, 16, 32)
    ours = getattr(initializers, name)(seed=0)(shape)
    theirs = keras.ops.convert_to_numpy(getattr(keras.initializers, name)(seed=0)(shape))
    assert ours.shape == theirs.shape == shape
    np.testing.assert_allclose(np.abs(ours).max(), np.abs(theirs).max(), rtol=0.05)
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.05)
    if name == "Orthogonal":  # Keras's matrix: (KH * KW * C, F) with orthonormal columns
        m = ours.reshape(-1, shape[-1])
        np.testing.assert_allclose(m.T @ m, np.eye(shape[-1]), atol=1e-5)


def test_a_direct_call_with_bad_arguments_is_one_clear_value_error():
    with pytest.raises(ValueError, match="shape must be a tuple or list of non-negative ints"):
        initializers.HeNormal()(3)
    with pytest.raises(ValueError, match="shape must be a tuple or list of non-negative ints"):
        initializers.HeNormal()((3, -1))
    with pytest.raises(ValueError, match="dtype must be a float dtype"):
        initializers.HeNormal()((3, 3), dtype="int32")
    with pytest.raises(ValueError, match="dtype must be a float dtype"):
        initializers.Zeros()((3,), dtype="no-such-dtype")


@pytest.mark.parametrize("name", [name for name in initializers.NAMES if name != "constant"])
def test_get_returns_keras_s_class(name):
    ours, theirs = initializers.get(name), keras.initializers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert type(ours) is getattr(initializers, type(theirs).__name__)
    if isinstance(theirs, keras.initializers.VarianceScaling):
        assert isinstance(ours, initializers.VarianceScaling)
        for key in ("scale", "mode", "distribution"):  # the same variance as Keras's class
            assert getattr(ours, key) == getattr(theirs, key), key
    # and through .keras configs: Keras's class there and back
    config = initializer_to_keras(ours)
    assert type(keras.initializers.deserialize(config)) is type(theirs)
    back = initializer_from_keras(keras.initializers.serialize(theirs), "a layer")
    back = initializers.get(back)
    assert type(back) is type(ours) and back.name == ours.name


@pytest.mark.parametrize(
    "make",
    [
        lambda r: r.l1(0.01),
        lambda r: r.l2(0.03),
        lambda r: r.l1_l2(0.02, 0.05),
        lambda r: r.L1(0.2),
        lambda r: r.L2(),
        lambda r: r.L1L2(l1=0.1),
    ],
    ids=["l1", "l2", "l1_l2", "L1", "L2", "L1L2"],
)
def test_regularizers_called_directly_as_keras(backend, dtype, make):
    from xcnn import backend as B
    from xcnn import regularizers

    w = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype(dtype)
    theirs = keras.ops.convert_to_numpy(make(keras.regularizers)(keras.ops.convert_to_tensor(w)))
    ours = make(regularizers)(B.asarray(w, backend, dtype))
    assert B.backend_of(ours) == backend and tuple(ours.shape) == () and str(ours.dtype).endswith(dtype)
    # Keras's L1 keeps its factor as a float32 tensor: 1e-7 apart in float64
    np.testing.assert_allclose(B.to_numpy(ours), theirs, rtol=1e-6 if dtype == "float32" else 1e-7)
