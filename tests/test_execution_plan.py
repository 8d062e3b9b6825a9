"""The model's execution plan (ReLU deferred into the pool, conv+pool fused): where it must
not apply, the values and gradients are those of the graph as written."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from xcnn import backend as B
from xcnn.layers import Conv2D, Input, MaxPooling2D
from xcnn.layers.layer import Rewrite
from xcnn.models import Model


def _np_activation(name, z, alpha=None):
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "prelu":
        return np.where(z > 0, z, alpha * z)
    raise AssertionError(name)


@pytest.mark.parametrize("activation", ["softmax", "prelu", "sigmoid"])
def test_no_fusion_under_an_activation_that_must_run_before_the_pool(backend, dtype, activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 8, 2))
    inp = Input((8, 8, 2))
    conv = Conv2D(3, 3, activation=activation)
    model = Model(inp, MaxPooling2D(2)(conv(inp)), backend=backend, dtype=dtype, seed=1)
    weights = model.get_weights()
    if activation == "prelu":
        weights[2] = np.array([-1.5, 0.5, -0.7])  # a negative slope: prelu is not monotonic
        model.set_weights(weights)
    kernel, bias = weights[0], weights[1]  # Keras layout (KH, KW, C, F)
    alpha = weights[2] if activation == "prelu" else None
    assert conv not in model._rewrites  # the plan leaves this conv alone

    def reference(k):
        z = ref.conv2d(x, np.transpose(k, (3, 0, 1, 2)), bias)
        return ref.max_pool2d(_np_activation(activation, z, alpha), 2)

    expected = reference(kernel)
    assert_close(model.predict(x), expected, dtype)
    dy = rng.standard_normal(expected.shape)
    model._forward(B.asarray(x, backend, dtype), training=True)
    model._backward(B.asarray(dy, backend, dtype))
    numeric = ref.numerical_gradient(lambda k: float(np.sum(reference(k) * dy)), kernel.astype(np.float64))
    got = np.transpose(B.to_numpy(conv.grads["kernel"]), (1, 2, 3, 0))
    np.testing.assert_allclose(got, numeric, rtol=1e-4 if dtype == "float32" else 1e-6, atol=1e-4)


# --- a ReLU overwriting its input outside training (Rewrite.relu_in_place) -------------------


def _branchy_model(backend, dtype):
    """BN -> ReLU read by the ReLU alone (in place), a conv's own ReLU (in place), an Add whose
    output feeds a ReLU alone (in place), and never in place: a ReLU right on the input, one on
    a conv output that a Subtract reads too (relu(s) - s: overwriting s would make it 0), one
    after a Flatten (a view of its input). Returns the model and its layers by role."""
    from xcnn.layers import Activation, Add, BatchNormalization, Dense, Flatten, Subtract

    roles = {
        "on_input": Activation("relu"),
        "conv": Conv2D(2, 3, padding="same", activation="relu"),
        "bn": BatchNormalization(),
        "after_bn": Activation("relu"),
        "shared": Conv2D(2, 3, padding="same"),
        "read_twice": Activation("relu"),
        "after_add": Activation("relu"),
        "after_view": Activation("relu"),
    }
    inp = Input((6, 6, 2))
    h = roles["after_bn"](roles["bn"](roles["conv"](roles["on_input"](inp))))
    shared = roles["shared"](h)
    added = Add()([Subtract()([roles["read_twice"](shared), shared]), h])
    out = Dense(3, activation="softmax")(roles["after_view"](Flatten()(roles["after_add"](added))))
    model = Model(inp, out, backend=backend, dtype=dtype, seed=2)
    # moving statistics unlike a fresh layer's, so that BN's output has negative values
    weights = roles["bn"].get_weights()
    weights[2][:] = 0.5
    roles["bn"].set_weights(weights)
    return model, roles


def test_relus_overwrite_only_what_nothing_else_reads(backend, dtype):
    import xcnn.models.graph as graph

    model, roles = _branchy_model(backend, dtype)
    in_place = {name for name, layer in roles.items() if model._rewrites.get(layer, Rewrite()).relu_in_place}
    assert in_place == {"conv", "after_bn", "after_add"}
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 6, 2))
    x_before = x.copy()
    got = model.predict(x)
    np.testing.assert_array_equal(x, x_before)  # the caller's array is left as it was
    plain, _ = _branchy_model(backend, dtype)
    plain._rewrites = graph._work_saving_rewrites(plain._layers, plain._output, enabled=False)
    assert_close(got, plain.predict(x), dtype)
    # the same model trains with fresh arrays (a backward reads them): its loss is the plain one's
    for m in (model, plain):
        m.compile("sgd", "categorical_crossentropy")
    y = np.eye(3)[[0, 1, 2, 0]]
    assert model.train_on_batch(x, y) == pytest.approx(plain.train_on_batch(x, y), rel=1e-5)


def test_the_layers_that_say_their_output_is_private_make_a_fresh_one():
    # Layer.private_output lets the plan overwrite a layer's output: each layer that says so
    # must return an array sharing no memory with its input outside training
    from xcnn.layers import Add, BatchNormalization, Conv2DTranspose, Dense, SeparableConv2D
    from xcnn.layers.layer import Layer

    def leaves(cls):
        return {cls} | {c for sub in cls.__subclasses__() for c in leaves(sub)}

    claimed = {cls for cls in leaves(Layer) if cls.private_output and not cls.__name__.startswith("_")}
    cases = {
        Conv2D: lambda: Conv2D(2, 1),
        Dense: lambda: Dense(4),
        BatchNormalization: lambda: BatchNormalization(center=False, scale=False),
        SeparableConv2D: lambda: SeparableConv2D(2, 1),
        Conv2DTranspose: lambda: Conv2DTranspose(2, 1),
        Add: None,
    }
    from xcnn.layers import DepthwiseConv2D, SyncBatchNormalization

    cases[DepthwiseConv2D] = lambda: DepthwiseConv2D(1)
    cases[SyncBatchNormalization] = lambda: SyncBatchNormalization(center=False, scale=False)
    assert claimed <= set(cases), f"a layer claims private_output without a case here: {claimed - set(cases)}"
    x = np.random.default_rng(4).standard_normal((2, 3, 3, 4))
    for cls in claimed:
        inp = Input((3, 3, 4))
        if cls is Add:
            out = Add()([inp, inp])
        else:
            out = cases[cls]()(inp)
        model = Model(inp, out, dtype="float64", seed=0)
        y = model._forward(x, training=False)
        assert not np.shares_memory(y, x), cls.__name__
