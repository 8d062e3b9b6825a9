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


# --- a BatchNormalization folded into the layer before it outside training (Rewrite.batch_norm) ---


def _normalized_model(backend, dtype):
    """Conv2D -> BN (folds), a bias-less DepthwiseConv2D -> BN (folds), Dense -> BN (folds),
    and never folded: a BN after a conv with its own ReLU, after a conv another layer reads
    too, after a SeparableConv2D (no `kernel_output_axis`), after a Flatten (no kernel). Each
    BN has moving statistics, gamma and beta of its own. Returns the model and its BNs by role."""
    from xcnn.layers import (
        Activation,
        Add,
        BatchNormalization,
        Dense,
        DepthwiseConv2D,
        Flatten,
        SeparableConv2D,
    )

    norms = {
        role: BatchNormalization(name=f"bn_{role}")
        for role in ("conv", "depthwise", "dense", "after_relu", "read_twice", "separable", "flatten")
    }
    inp = Input((6, 6, 2))
    h = Activation("relu")(norms["conv"](Conv2D(3, 3, padding="same")(inp)))
    h = norms["depthwise"](DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False)(h))
    h = norms["after_relu"](Conv2D(4, 1, activation="relu")(h))
    shared = Conv2D(4, 1)(h)
    h = Add()([norms["read_twice"](shared), shared])
    h = norms["separable"](SeparableConv2D(3, 3)(h))
    h = norms["flatten"](Flatten()(h))
    out = Dense(3, activation="softmax")(norms["dense"](Dense(5)(h)))
    model = Model(inp, out, backend=backend, dtype=dtype, seed=5)
    rng = np.random.default_rng(6)
    for norm in norms.values():
        channels = norm.get_weights()[0].shape
        norm.set_weights(
            [
                rng.uniform(0.5, 2.0, channels),  # gamma
                rng.standard_normal(channels),  # beta
                rng.standard_normal(channels),  # moving mean
                rng.uniform(0.2, 3.0, channels),  # moving variance
            ]
        )
    return model, norms


def _plain(model):
    import xcnn.models.graph as graph

    model._rewrites = graph._work_saving_rewrites(model._layers, model._output, enabled=False)
    return model


def test_batch_norm_folds_into_the_layer_before_it_only_where_nothing_else_reads_that_layer(backend, dtype):
    model, norms = _normalized_model(backend, dtype)
    folded = {role for role, norm in norms.items() if model._rewrites.get(norm, Rewrite()).folded_before}
    assert folded == {"conv", "depthwise", "dense"}
    for role in folded:  # the layer before each folded BN carries it
        source = norms[role].inbound[0].layer
        assert model._rewrites[source].batch_norm is norms[role]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 6, 6, 2))
    got = model.predict(x, batch_size=2)  # three batches, the folded weights computed once
    plain, _ = _normalized_model(backend, dtype)
    expected = _plain(plain).predict(x, batch_size=2)
    assert_close(got, expected, dtype)
    # a call outside such a loop folds only where the kernel is no larger than the output: the
    # convolutions fold, the Dense layer (a kernel of 5 x 27 for 5 x 5 outputs) normalizes its
    # output itself, its BatchNormalization being the identity either way
    batch = B.asarray(x, backend, dtype)
    pays = {
        role: norms[role].inbound[0].layer._fold_pays(batch, model._rewrites[norms[role].inbound[0].layer])
        for role in folded
    }
    assert pays == {"conv": True, "depthwise": True, "dense": False}
    assert_close(B.to_numpy(model(batch)), expected, dtype)
    y = np.eye(3)[[0, 1, 2, 0, 1]]
    for m in (model, plain):
        m.compile("sgd", "categorical_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x, y, verbose=0), rel=1e-5)
    # training normalizes with the batch's statistics: nothing folded, the plain model's loss
    assert model.train_on_batch(x, y) == pytest.approx(plain.train_on_batch(x, y), rel=1e-5)
    # the moving statistics have moved: the next predict folds the new ones
    assert_close(model.predict(x), plain.predict(x), dtype)


def test_folded_weights_follow_a_callback_that_changes_them_between_batches():
    from xcnn.callbacks import LambdaCallback

    model, norms = _normalized_model("numpy", "float64")
    x = np.random.default_rng(8).standard_normal((4, 6, 6, 2))
    norm = norms["conv"]

    def shift_beta(batch, logs):  # after the first batch, a different beta
        weights = norm.get_weights()
        weights[1] = weights[1] + 1.0
        norm.set_weights(weights)

    got = model.predict(x, batch_size=2, callbacks=[LambdaCallback(on_predict_batch_end=shift_beta)])
    plain, plain_norms = _normalized_model("numpy", "float64")
    _plain(plain)
    first, unchanged = plain.predict(x[:2]), plain.predict(x[2:])
    weights = plain_norms["conv"].get_weights()
    weights[1] = weights[1] + 1.0
    plain_norms["conv"].set_weights(weights)
    changed = plain.predict(x[2:])
    assert not np.allclose(changed, unchanged, rtol=1e-3)  # the change shows in the outputs
    np.testing.assert_allclose(got, np.concatenate([first, changed]), rtol=1e-10)


def test_fold_channel_affine_against_the_layers_applied_one_after_the_other(backend, dtype):
    from xcnn import ops

    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    scale, shift = rng.uniform(0.5, 2.0, 4), rng.standard_normal(4)
    expected = ref.conv2d(x, w, b) * scale + shift
    arrays = [B.asarray(a, backend, dtype) for a in (w, b, scale, shift)]
    kernel, bias = ops.fold_channel_affine(*arrays, out_axis=0)
    assert_close(ops.conv2d(B.asarray(x, backend, dtype), kernel, bias), expected, dtype)
    kernel, bias = ops.fold_channel_affine(arrays[0], None, *arrays[2:], out_axis=0)
    assert_close(ops.conv2d(B.asarray(x, backend, dtype), kernel, bias), ref.conv2d(x, w, None) * scale + shift, dtype)
    dense = rng.standard_normal((3, 4))
    kernel, bias = ops.fold_channel_affine(B.asarray(dense, backend, dtype), *arrays[1:], out_axis=-1)
    assert_close(
        B.asarray(x[:, 0, 0, :], backend, dtype) @ kernel + bias, (x[:, 0, 0, :] @ dense + b) * scale + shift, dtype
    )
    with pytest.raises(ValueError, match=r"scale and shift must have shape \(4,\)"):
        ops.fold_channel_affine(arrays[0], None, arrays[2][:3], arrays[3], out_axis=0)


# --- what is derived from the weights, computed once per predict loop (Rewrite.weights_fixed) ---


def test_a_predict_after_training_uses_the_weights_the_optimizer_changed_in_place():
    # the seed's conv + pool runs the banded GEMM, whose filter matrix predict derives once
    # per loop; the optimizer then updates the kernel in place (the same array object), and
    # the next predict must derive it again
    from xcnn import ops
    from xcnn.layers import Dense, Flatten
    from xcnn.ops.conv import _geometry

    inp = Input((28, 28, 1))
    conv = Conv2D(6, 7, activation="relu")
    out = Dense(10, activation="softmax")(Flatten()(MaxPooling2D(2)(conv(inp))))
    model = Model(inp, out, dtype="float64", seed=0)
    x = np.random.default_rng(10).standard_normal((6, 28, 28, 1))
    win = _geometry(x, np.zeros((6, 7, 7, 1)), 1, "valid")
    assert ops.conv_algorithm((None, 28, 28, 1), (6, 7, 7, 1), win) == "banded"  # what the test is about
    before = model.predict(x, batch_size=2)
    model.compile("sgd", "categorical_crossentropy")
    model.fit(x, np.eye(10)[np.arange(6)], batch_size=6, epochs=1, verbose=0)
    after = model.predict(x, batch_size=2)
    plain = _plain(Model(inp, out, dtype="float64", seed=0))
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(after, plain.predict(x, batch_size=2), rtol=1e-10)
    assert not np.allclose(after, before, rtol=1e-6)  # training changed the outputs


def test_derived_from_weights_computes_once_per_token():
    from xcnn.ops._workspace import WEIGHTS_FIXED, derived_from_weights, forget_derived

    calls = []

    def make():
        calls.append(1)
        return len(calls)

    workspace = {}
    assert [derived_from_weights(workspace, "m", make) for _ in range(2)] == [1, 2]  # no token: each call
    workspace[WEIGHTS_FIXED] = token = object()
    assert [derived_from_weights(workspace, "m", make) for _ in range(2)] == [3, 3]
    workspace[WEIGHTS_FIXED] = object()  # a new loop: derived again
    assert derived_from_weights(workspace, "m", make) == 4
    workspace[WEIGHTS_FIXED] = token  # an older token is no key to what the newer one kept
    assert derived_from_weights(workspace, "m", make) == 5
    forget_derived(workspace)
    assert workspace == {} and derived_from_weights(workspace, "m", make) == 6
    assert derived_from_weights(None, "m", make) == 7
