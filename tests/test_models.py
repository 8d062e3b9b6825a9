"""Layers, models, losses and optimizers: gradients, backend parity, learning, errors."""

import os

import numpy as np
import pytest

import reference as ref
from conftest import assert_close, on
from xcnn import backend as B
from xcnn import optimizers, regularizers
from xcnn.callbacks import Callback, EarlyStopping, ModelCheckpoint
from xcnn.layers import (
    Activation,
    Add,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    MaxPooling2D,
)
from xcnn.layers.layer import Rewrite
from xcnn.models import Model, Sequential, load_model
from xcnn.utils import to_categorical


def lecture_model(**kw):
    return Sequential(
        [
            Conv2D(
                9, (3, 3), padding="same", activation="relu", kernel_initializer="he_normal", input_shape=(28, 28, 1)
            ),
            MaxPooling2D(2),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        **kw,
    )


def article_model(**kw):
    return Sequential(
        [
            Conv2D(6, (7, 7), activation="relu", kernel_initializer="he_normal", input_shape=(28, 28, 1)),
            MaxPooling2D(2),
            Flatten(),
            Dense(100, activation="relu"),
            Dense(50, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        **kw,
    )


def every_layer_model(backend="numpy", dtype="float64", seed=0):
    """A small functional net with a branch, Add and Concatenate and every layer and activation kind."""
    inp = Input((6, 6, 2))
    a = Conv2D(4, 3, padding="same", activation="prelu", kernel_regularizer=regularizers.l2(1e-2))(inp)
    a = BatchNormalization()(a)
    b = Conv2D(4, 1, activation="elu", bias_regularizer=regularizers.l1(1e-2))(inp)
    s = Add()([a, b])
    s = Activation("rrelu")(s)
    p = MaxPooling2D(2)(s)
    q = AveragePooling2D(3, strides=2, padding="same")(s)
    c = Concatenate()([p, q])
    c = Activation({"name": "maxout", "pieces": 2})(c)
    f = Flatten()(c)
    f = Dense(8, activation="tanh")(f)
    f = Dropout(0.3)(f)
    f = Dense(6, activation="softplus")(f)
    f = Activation("softsign")(f)
    f = Dense(6, activation="leaky_relu")(f)
    f = BatchNormalization()(f)
    f = Dense(5, activation="sigmoid")(f)
    f = Dense(5, activation={"name": "relun", "n": 0.6})(f)
    out = Dense(3, activation="softmax")(f)
    return Model(inp, out, backend=backend, dtype=dtype, seed=seed)


def _loss_with_fixed_randomness(model, x, y, backend):
    """Training-mode loss with dropout/rrelu draws reset to one seed, so repeated calls agree."""
    rng = B.rng(backend, 123)
    for layer in model.layers:
        layer.rng = rng
    pred = model._forward(x, training=True)
    target = model.loss.targets(y, 3, pred.dtype)
    loss, dout = model._loss_and_gradient(pred, target)
    return loss, dout


def test_whole_model_numerical_gradient():
    backend = "numpy"
    model = every_layer_model(backend)
    model.compile("sgd", "categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 6, 2))
    y = to_categorical([0, 1, 2, 1], 3).astype(np.float64)

    loss, dout = _loss_with_fixed_randomness(model, x, y, backend)
    model._backward(dout, skip_output_activation=model._fused)
    model._regularize()
    assert model._fused
    checked = 0
    for layer in model.layers:
        for name, w in layer.params.items():
            analytic = layer.grads[name].copy()

            def total_loss(values, layer=layer, name=name):
                layer.params[name] = values
                loss, _ = _loss_with_fixed_randomness(model, x, y, backend)
                penalty = sum(
                    float(reg.penalty(lay.params[k])) for lay in model.layers for k, reg in lay.regularizers.items()
                )
                return float(loss) + penalty

            numeric = ref.numerical_gradient(total_loss, w.copy())
            layer.params[name] = w
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7, err_msg=f"{layer.name}/{name}")
            checked += 1
    assert checked >= 20


def test_model_gradient_without_fusion_matches_fused():
    # softmax backward + clipped cross-entropy equals the fused (p - y) / N away from the clip
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 6, 2))
    y = to_categorical([0, 1, 2, 1], 3).astype(np.float64)
    grads = []
    for loss in ("categorical_crossentropy", "mse"):
        model = every_layer_model(seed=3)
        model.compile("sgd", loss)
        fused = model._fused
        pred = model._forward(x, training=False)
        target = model.loss.targets(y, 3, pred.dtype)
        _, dout = model._loss_and_gradient(pred, target)
        model._backward(dout, skip_output_activation=fused)
        grads.append((fused, {k: v.copy() for k, v in model.layers[-1].grads.items()}))
    assert grads[0][0] and not grads[1][0]
    model = every_layer_model(seed=3)
    model.compile("sgd", "categorical_crossentropy")
    pred = model._forward(x, training=False)
    dout = model.loss.gradient(pred, model.loss.targets(y, 3, pred.dtype))
    model._backward(dout, skip_output_activation=False)
    np.testing.assert_allclose(model.layers[-1].grads["kernel"], grads[0][1]["kernel"], rtol=1e-8, atol=1e-12)


def _parity_data():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 8, 8, 1))
    y = rng.integers(0, 4, size=40)
    return x, y


def _parity_model(backend, dtype):
    inp = Input((8, 8, 1))
    a = Conv2D(3, 3, padding="same", activation="relu")(inp)
    b = Conv2D(3, 1, activation="tanh")(inp)
    h = Concatenate()([a, Add()([a, b])])
    h = MaxPooling2D(2)(h)
    h = BatchNormalization()(h)
    h = Flatten()(h)
    h = Dense(16, activation="relu")(h)
    out = Dense(4, activation="softmax")(h)
    return Model(inp, out, backend=backend, dtype=dtype, seed=7)


def _run_steps(backend, dtype, optimizer):
    x, y = _parity_data()
    model = _parity_model(backend, dtype)
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    xd, yd = B.asarray(x, backend, dtype), B.asarray(y, backend, "int64")
    losses = []
    for step in range(20):
        sl = slice((step * 10) % 40, (step * 10) % 40 + 10)
        loss, _, _ = model._train_step(xd[sl, ...], yd[sl, ...])
        losses.append(float(B.to_numpy(loss)))
    return np.array(losses), model.get_weights()


@pytest.mark.parametrize(
    "optimizer", [lambda: optimizers.SGD(0.05, momentum=0.9), lambda: optimizers.Adam(0.01)], ids=["sgd", "adam"]
)
def test_backend_parity_over_twenty_steps(backend, dtype, optimizer):
    losses_ref, weights_ref = _run_steps("numpy", "float64", optimizer())
    losses, weights = _run_steps(backend, dtype, optimizer())
    rtol = 1e-9 if dtype == "float64" else 2e-3
    np.testing.assert_allclose(losses, losses_ref, rtol=rtol)
    for w, w_ref in zip(weights, weights_ref):
        np.testing.assert_allclose(w, w_ref, rtol=rtol, atol=rtol)
    assert losses[-1] < losses[0]


def test_tiny_synthetic_task_is_learned_perfectly(backend):
    # which quadrant holds the bright pixel: learnable exactly by a conv net
    rng = np.random.default_rng(0)
    n = 64
    x = rng.uniform(0, 0.1, size=(n, 6, 6, 1))
    labels = rng.integers(0, 4, size=n)
    for i, q in enumerate(labels):
        r, c = divmod(int(q), 2)
        x[i, 3 * r + rng.integers(0, 3), 3 * c + rng.integers(0, 3), 0] = 1.0
    model = Sequential(
        [
            Conv2D(4, 3, padding="same", activation="relu", input_shape=(6, 6, 1)),
            MaxPooling2D(3),
            Flatten(),
            Dense(4, activation="softmax"),
        ],
        backend=backend,
        seed=1,
    )
    model.compile(optimizers.Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, labels, batch_size=16, epochs=40, verbose=0, seed=0)
    loss, accuracy = model.evaluate(x, labels)
    assert accuracy == 1.0


def _mnist_subset(n_train=2000, n_test=1000):
    folder = os.environ.get("XCNN_DATA_DIR")
    path = os.path.join(folder, "mnist.npz") if folder else None
    if not path or not os.path.exists(path):
        pytest.skip("MNIST not found: set XCNN_DATA_DIR to a folder holding mnist.npz")
    with np.load(path) as d:
        x, y = d["x_train"][:n_train], d["y_train"][:n_train]
        xt, yt = d["x_test"][:n_test], d["y_test"][:n_test]
    return (x / 255.0)[..., None].astype("float32"), y, (xt / 255.0)[..., None].astype("float32"), yt


@pytest.mark.slow
@pytest.mark.parametrize("make", [lecture_model, article_model], ids=["lecture", "article"])
def test_mnist_subset_is_learned(make):
    """>= 95 % on the 2,000 training images it learned from, and well above chance on unseen
    test images (2,000 images are too few for 95 % on unseen digits; PyTorch gets ~90 % too)."""
    x, y, xt, yt = _mnist_subset()
    model = make(seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, batch_size=32, epochs=6, verbose=0, seed=0)
    assert model.evaluate(x, y)[1] >= 0.95
    assert model.evaluate(xt, yt)[1] >= 0.85


# --- optimizers by hand ----------------------------------------------------------------------


def _two_steps(opt):
    w = np.array([1.0, -2.0])
    grads = [np.array([0.5, -1.0]), np.array([-0.25, 2.0])]
    for g in grads:
        (w,) = opt.apply([("w", w, g)])
    return w, grads


def test_optimizers_match_hand_computed_updates():
    w0 = np.array([1.0, -2.0])
    g1, g2 = np.array([0.5, -1.0]), np.array([-0.25, 2.0])

    w, _ = _two_steps(optimizers.SGD(0.1))
    np.testing.assert_allclose(w, w0 - 0.1 * g1 - 0.1 * g2)

    w, _ = _two_steps(optimizers.SGD(0.1, momentum=0.9))
    v1 = -0.1 * g1
    v2 = 0.9 * v1 - 0.1 * g2
    np.testing.assert_allclose(w, w0 + v1 + v2)

    w, _ = _two_steps(optimizers.SGD(0.1, momentum=0.9, nesterov=True))
    w1 = w0 + 0.9 * v1 - 0.1 * g1
    np.testing.assert_allclose(w, w1 + 0.9 * v2 - 0.1 * g2)

    w, _ = _two_steps(optimizers.Adagrad(0.1))
    a1 = 0.1 + g1**2
    w1 = w0 - 0.1 * g1 / (np.sqrt(a1) + 1e-7)
    a2 = a1 + g2**2
    np.testing.assert_allclose(w, w1 - 0.1 * g2 / (np.sqrt(a2) + 1e-7))

    w, _ = _two_steps(optimizers.RMSprop(0.1))  # Keras: epsilon inside the square root
    m1 = 0.1 * g1**2
    w1 = w0 - 0.1 * g1 / np.sqrt(m1 + 1e-7)
    m2 = 0.9 * m1 + 0.1 * g2**2
    np.testing.assert_allclose(w, w1 - 0.1 * g2 / np.sqrt(m2 + 1e-7))

    w, _ = _two_steps(optimizers.Adadelta(1.0))
    ag, ad, wx = np.zeros(2), np.zeros(2), w0.copy()
    for g in (g1, g2):
        ag = 0.95 * ag + 0.05 * g**2
        d = np.sqrt(ad + 1e-7) / np.sqrt(ag + 1e-7) * g
        ad = 0.95 * ad + 0.05 * d**2
        wx = wx - d
    np.testing.assert_allclose(w, wx)

    w, _ = _two_steps(optimizers.Adam(0.1))
    m, v, wx = np.zeros(2), np.zeros(2), w0.copy()
    for t, g in enumerate((g1, g2), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        mhat, vhat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        wx = wx - 0.1 * mhat / (np.sqrt(vhat) + 1e-7 / np.sqrt(1 - 0.999**t))
    np.testing.assert_allclose(w, wx, rtol=1e-12)

    w, _ = _two_steps(optimizers.SGD(0.1, weight_decay=0.5))
    w1 = w0 * (1 - 0.05) - 0.1 * g1
    np.testing.assert_allclose(w, w1 * (1 - 0.05) - 0.1 * g2)


def test_optimizer_state_lives_on_the_backend(backend):
    opt = optimizers.Adam()
    w, g = on(backend, np.ones(3), np.ones(3))
    (w,) = opt.apply([("w", w, g)])
    assert B.backend_of(w) == backend
    assert all(B.backend_of(s) == backend for s in opt.state["w"].values())


# --- summary and parameter counts ----------------------------------------------------------


def test_summary_matches_keras_for_the_lecture_model():
    model = lecture_model(seed=0)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    counts = [layer.count_params() for layer in model.layers]
    assert counts == [90, 0, 0, 112_960, 650]
    assert model.count_params() == 113_700
    assert "Total params: 113,700" in text and "Trainable params: 113,700" in text
    assert "Non-trainable params: 0" in text
    assert "(None, 28, 28, 9)" in text and "(None, 14, 14, 9)" in text and "(None, 1764)" in text
    assert "112,960" in text and "(Conv2D)" in text and "(MaxPooling2D)" in text


def test_functional_and_sequential_give_the_same_model():
    seq = lecture_model(seed=4)
    inp = Input((28, 28, 1))
    h = Conv2D(9, (3, 3), padding="same", activation="relu", kernel_initializer="he_normal")(inp)
    h = Dense(10, activation="softmax")(Dense(64, activation="relu")(Flatten()(MaxPooling2D(2)(h))))
    fun = Model(inp, h, seed=4)
    x = np.random.default_rng(0).uniform(size=(3, 28, 28, 1))
    np.testing.assert_allclose(seq.predict(x), fun.predict(x), rtol=1e-6)
    lines = []
    fun.summary(print_fn=lines.append)
    assert "Connected to" in lines[2] and "Total params: 113,700" in lines


def test_batchnorm_counts_and_inference_statistics():
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization()], seed=0, dtype="float64")
    assert model.count_params() == 16 + 16
    lines = []
    model.summary(print_fn=lines.append)
    assert "Non-trainable params: 8" in lines
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((64, 3)) * 3 + 1
    model.fit(x, np.zeros((64, 4)), batch_size=64, epochs=1, verbose=0)
    bn = model.layers[1]
    assert not np.allclose(B.to_numpy(bn.state["moving_mean"]), 0.0)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 2)])
def test_batchnorm_normalizes_with_batch_statistics_and_updates_moving_ones(backend, dtype, shape, kernels):
    x = np.random.default_rng(1).standard_normal(shape) * 2.5 + 0.7
    model = Sequential(
        [BatchNormalization(momentum=0.9, epsilon=1e-3, input_shape=shape[1:])], backend=backend, dtype=dtype, seed=0
    )
    y = model._forward(B.asarray(x, backend, dtype), training=True)
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    assert_close(y, (x - mean) / np.sqrt(var + 1e-3), dtype, scale=10.0)
    bn = model.layers[0]
    assert_close(bn.state["moving_mean"], 0.1 * mean, dtype)
    assert_close(bn.state["moving_variance"], 0.9 + 0.1 * var, dtype)


# --- fit, callbacks, history ----------------------------------------------------------------


def test_fit_history_validation_split_and_callbacks(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 4, 4, 1))
    y = to_categorical(rng.integers(0, 3, 50), 3)
    model = Sequential([Flatten(input_shape=(4, 4, 1)), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy", ["accuracy"])

    class Counter(Callback):
        def __init__(self):
            self.batches, self.epochs = 0, []

        def on_batch_end(self, batch, logs=None):
            self.batches += 1
            assert B.backend_of(logs["loss"]) == "numpy" and set(logs) == {"loss", "accuracy"}

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(epoch)

    counter = Counter()
    ckpt = tmp_path / "best.safetensors"
    history = model.fit(
        x,
        y,
        batch_size=10,
        epochs=3,
        validation_split=0.2,
        verbose=0,
        callbacks=[counter, ModelCheckpoint(ckpt, save_best_only=True)],
    )
    assert history.epoch == [0, 1, 2] and counter.epochs == [0, 1, 2]
    assert counter.batches == 3 * 4  # 40 training samples in batches of 10
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["val_loss"]) == 3 and model.history is history
    assert ckpt.exists()


def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((30, 5)), rng.standard_normal((30, 1))
    model = Sequential([Dense(1, input_shape=(5,))], seed=0)
    model.compile(optimizers.SGD(5.0), "mse")  # diverges: val_loss gets worse every epoch
    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, batch_size=30, epochs=20, validation_data=(x, y), callbacks=[stop], verbose=0)
    assert len(history.epoch) < 20
    best = min(history.history["val_loss"])
    assert model.evaluate(x, y) == pytest.approx(best, rel=1e-5)


def test_predict_returns_numpy_or_device_arrays(backend):
    model = Sequential([Flatten(input_shape=(2, 2, 1)), Dense(3, activation="softmax")], backend=backend, seed=0)
    x = np.ones((5, 2, 2, 1))
    p = model.predict(x, batch_size=2)
    assert isinstance(p, np.ndarray) and p.shape == (5, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    d = model.predict(x, to_numpy=False)
    assert B.backend_of(d) == backend


def test_model_to_moves_weights_and_optimizer_state(backend):
    model = lecture_model(seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(size=(4, 28, 28, 1))
    model.fit(x, np.array([1, 2, 3, 4]), epochs=1, verbose=0)
    before = model.predict(x)
    model.to(backend)
    assert all(B.backend_of(w) == backend for layer in model.layers for w in layer.params.values())
    assert all(B.backend_of(s) == backend for slots in model.optimizer.state.values() for s in slots.values())
    assert not any(getattr(layer, "_workspace", None) for layer in model.layers)  # no scratch left on the old device
    np.testing.assert_allclose(model.predict(x), before, rtol=1e-5)
    model.fit(x, np.array([1, 2, 3, 4]), epochs=1, verbose=0)
    assert all(B.backend_of(a) == backend for layer in model.layers for a in getattr(layer, "_workspace", {}).values())


# --- save and load --------------------------------------------------------------------------


def test_save_load_round_trip_across_backends(tmp_path, backend):
    model = every_layer_model("numpy", "float64", seed=2)
    model.compile("adam", "categorical_crossentropy", ["accuracy"])
    x = np.random.default_rng(0).standard_normal((6, 6, 6, 2))
    model.fit(x, to_categorical([0, 1, 2, 0, 1, 2], 3), epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load_model(path, backend=backend)
    assert loaded.backend == backend and loaded.optimizer.iterations == model.optimizer.iterations
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-10)
    assert [type(a).__name__ for a in loaded.layers] == [type(a).__name__ for a in model.layers]


def test_damaged_or_foreign_files_are_clear_errors(tmp_path):
    model = lecture_model(seed=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    data = path.read_bytes()
    (tmp_path / "short").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable xcnn model file"):
        load_model(tmp_path / "short")
    tampered = bytearray(data)
    tampered[-5] ^= 0xFF
    (tmp_path / "tampered").write_bytes(bytes(tampered))
    with pytest.raises(ValueError, match="integrity check"):
        load_model(tmp_path / "tampered")
    (tmp_path / "junk").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a readable xcnn model file"):
        load_model(tmp_path / "junk")


# --- bad input ------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    model = lecture_model(seed=0)
    x = np.zeros((4, 28, 28, 1))
    with pytest.raises(ValueError, match="must be compiled first"):
        model.fit(x, np.zeros(4, dtype=int))
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 28, 28, 1\)"):
        model.fit(np.zeros((4, 28, 28)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="one label per sample: x has 4 samples, y has 3"):
        model.fit(x, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="unknown loss 'dice'"):
        model.compile("adam", "dice")
    with pytest.raises(ValueError, match="unknown optimizer 'lamb'"):
        model.compile("lamb", "mse")
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        Dense(3, activation="swishy")
    with pytest.raises(TypeError, match="has no backward"):
        Dense(3, activation=lambda v: v)
    with pytest.raises(ValueError, match="unknown initializer"):
        Dense(3, kernel_initializer="orthogonalish")
    with pytest.raises(ValueError, match="is not built yet"):
        Sequential([Dense(3)]).summary()
    with pytest.raises(ValueError, match="larger than the padded input"):
        Sequential([Conv2D(2, 5, input_shape=(3, 3, 1))])
    with pytest.raises(ValueError, match="Add .* needs two or more inputs of one shape"):
        inp = Input((4,))
        Add()([Dense(2)(inp), Dense(3)(inp)])


def test_optimizer_config_round_trips():
    for opt in (
        optimizers.SGD(0.1, 0.9, True),
        optimizers.Adagrad(epsilon=1e-5),
        optimizers.RMSprop(rho=0.8),
        optimizers.Adadelta(),
        optimizers.Adam(beta_2=0.99, weight_decay=0.1),
        optimizers.Adam(optimizers.CosineDecay(0.01, 100, alpha=0.1), weight_decay=0.05),
        optimizers.SGD(optimizers.ExponentialDecay(0.1, 10, 0.5, staircase=True)),
    ):
        config = opt.get_config()
        assert optimizers.get(config).get_config() == config


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adadelta", "adam"])
def test_a_schedule_that_reaches_zero_stops_the_weights(name):
    opt = optimizers.get(
        {"name": name, "learning_rate": {"name": "cosine_decay", "initial_learning_rate": 0.01, "decay_steps": 1}}
    )
    w, g = np.ones(3), np.full(3, 0.5)
    (w,) = opt.apply([("k", w, g)])
    assert np.all(w < 1.0)
    for _ in range(2):  # the rate is 0 from the second step on
        (after,) = opt.apply([("k", w, g)])
        np.testing.assert_array_equal(after, w)


def test_learning_rate_schedules_follow_keras_formulas():
    cosine = optimizers.CosineDecay(0.1, 100, alpha=0.2)
    for step in (0, 25, 50, 100, 150):
        expected = 0.1 * (0.8 * 0.5 * (1 + np.cos(np.pi * min(step, 100) / 100)) + 0.2)
        assert cosine(step) == pytest.approx(expected, rel=1e-12)
    assert cosine(0) == pytest.approx(0.1) and cosine(100) == pytest.approx(0.02) == cosine(500)
    smooth, stairs = optimizers.ExponentialDecay(0.1, 10, 0.5), optimizers.ExponentialDecay(0.1, 10, 0.5, True)
    assert smooth(15) == pytest.approx(0.1 * 0.5**1.5) and stairs(15) == pytest.approx(0.05)

    # the optimizer uses schedule(0) for its first step, schedule(1) for its second, ...
    w, _ = _two_steps(optimizers.SGD(optimizers.ExponentialDecay(0.1, 1, 0.5)))
    np.testing.assert_allclose(w, np.array([1.0, -2.0]) - 0.1 * np.array([0.5, -1.0]) - 0.05 * np.array([-0.25, 2.0]))
    # decoupled weight decay scales with the scheduled rate too
    w, _ = _two_steps(optimizers.SGD(optimizers.ExponentialDecay(0.1, 1, 0.5), weight_decay=0.5))
    w1 = np.array([1.0, -2.0]) * (1 - 0.05) - 0.1 * np.array([0.5, -1.0])
    np.testing.assert_allclose(w, w1 * (1 - 0.025) - 0.05 * np.array([-0.25, 2.0]))

    for bad, match in (
        (lambda: optimizers.Adam(0.0), "learning_rate must be a positive number"),
        (lambda: optimizers.Adam(-1), "learning_rate must be a positive number"),
        (lambda: optimizers.CosineDecay(0.1, 0), "decay_steps must be a positive number"),
        (lambda: optimizers.CosineDecay(0.1, 10, alpha=2), r"alpha must be in \[0, 1\]"),
        (lambda: optimizers.Adam(weight_decay=-1), "weight_decay must be >= 0"),
        (
            lambda: optimizers.get({"name": "adam", "learning_rate": {"name": "step"}}),
            "unknown learning-rate schedule 'step'",
        ),
    ):
        with pytest.raises(ValueError, match=match):
            bad()


def test_binary_crossentropy_learns_and_fuses_with_sigmoid(backend):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float64)
    model = Sequential(
        [Dense(8, activation="tanh", input_shape=(3,)), Dense(1, activation="sigmoid")], backend=backend, seed=0
    )
    model.compile(optimizers.Adam(0.05), "binary_crossentropy", ["accuracy"])
    assert model._fused
    model.fit(x, y, batch_size=16, epochs=30, verbose=0, seed=0)
    assert model.evaluate(x, y)[1] >= 0.95


def test_large_data_is_copied_batch_by_batch(monkeypatch):
    import xcnn.models.trainer as models_module

    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((40, 4)), rng.integers(0, 2, 40)
    runs = []
    for limit in (10**12, 16):  # everything on the device at once / batch by batch from the host
        monkeypatch.setattr(models_module, "DEVICE_DATA_LIMIT", limit)
        model = Sequential([Dense(2, activation="softmax", input_shape=(4,))], seed=0, dtype="float64")
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
        history = model.fit(x, labels, batch_size=8, epochs=2, shuffle=False, verbose=0)
        runs.append((history.history["loss"], model.predict(x, batch_size=7)))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-12)


def test_a_file_whose_weights_do_not_fit_its_architecture_is_refused():
    from xcnn.models import model_from_config

    small = Sequential([Dense(3, input_shape=(4,))], seed=0)
    big = Sequential([Dense(5, input_shape=(4,))], seed=0)
    tensors = {
        f"params/{small.layers[0].name}/kernel": np.zeros((4, 5), np.float32),
        f"params/{small.layers[0].name}/bias": np.zeros(5, np.float32),
    }
    with pytest.raises(ValueError, match=r"kernel has shape \(4, 5\), the model needs \(4, 3\)"):
        model_from_config(small.get_config(), tensors)
    with pytest.raises(ValueError, match="is missing"):
        model_from_config(big.get_config(), {})


@pytest.mark.parametrize(
    "name, shape, expected_std",
    [
        ("he_normal", (200, 300), np.sqrt(2 / 200)),
        ("he_uniform", (200, 300), np.sqrt(2 / 200)),
        ("glorot_normal", (200, 300), np.sqrt(2 / 500)),
        ("glorot_uniform", (200, 300), np.sqrt(2 / 500)),
        ("lecun_normal", (16, 5, 5, 8), np.sqrt(1 / 200)),
        ("lecun_uniform", (200, 300), np.sqrt(1 / 200)),
        ("normal", (200, 300), 0.05),
        ("uniform", (200, 300), 0.1 / np.sqrt(12)),
    ],
)
def test_initializer_statistics(name, shape, expected_std):
    from xcnn import initializers

    values = initializers.get(name)(shape, np.random.default_rng(0))
    assert values.shape == shape and abs(values.mean()) < 0.1 * expected_std + 1e-3
    assert values.std() == pytest.approx(expected_std, rel=0.05)
    assert initializers.get("zeros")((2,), None).tolist() == [0, 0]
    assert initializers.get("ones")((2,), None).tolist() == [1, 1]


@pytest.mark.parametrize("make", [article_model, lecture_model], ids=["article", "lecture"])
def test_work_saving_rewrites_change_nothing(make):
    # the ReLU moved into the pool and the conv computing the pool, against the plain graph
    import xcnn.models.graph as models_module

    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 28, 28, 1))
    x[:, :, :14, :] = -1.0  # whole windows at or below zero: ties and a dead ReLU
    labels = np.arange(6) % 10
    results = []
    for rewrite in (True, False):
        model = make(seed=3, dtype="float64")
        conv, pool = model.layers[0], model.layers[1]
        if rewrite:
            assert model._rewrites[conv] == Rewrite(defer_relu=True, pool=pool)
            assert model._rewrites[pool] == Rewrite(relu_after_pool=True, pooled_by_conv=True)
        else:
            model._rewrites = models_module._work_saving_rewrites(model._layers, model._output, enabled=False)
            assert model._rewrites == {}
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        model._train_step(x[:1], labels[:1])
        loss, _, _ = model._train_step(x, labels)
        results.append((float(loss), model.get_weights(), model.predict(x)))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-11)


def test_rewrites_follow_the_model_that_runs_when_layers_are_shared():
    # a second model ending at the conv (to look at its feature maps) needs the conv's own
    # output; the first model, run again afterwards, must still get its fused pooling
    inp = Input((12, 12, 1))
    conv = Conv2D(3, 3, activation="relu")
    features = conv(inp)
    out = Dense(2, activation="softmax")(Flatten()(MaxPooling2D(2)(features)))
    model = Model(inp, out, seed=0, dtype="float64")
    probe = Model(inp, features, seed=0, dtype="float64")
    x = np.random.default_rng(1).standard_normal((4, 12, 12, 1))
    attributes = dict(vars(conv))
    before = model.predict(x)
    maps = probe.predict(x)
    assert maps.shape == (4, 10, 10, 3) and maps.min() >= 0.0  # the ReLU applied, nothing pooled
    # the probe neither pools nor defers the ReLU (its own fresh output may take it in place)
    assert probe._rewrites.get(conv, Rewrite()) in (Rewrite(), Rewrite(relu_in_place=True))
    assert model._rewrites[conv].pool is not None
    np.testing.assert_allclose(model.predict(x), before, rtol=1e-12)
    # the plan lives in the models: the layer's own settings are what the user made
    assert {k: v for k, v in vars(conv).items() if not k.startswith("_")} == {
        k: v for k, v in attributes.items() if not k.startswith("_")
    }


def test_relu_stays_when_its_output_is_used_twice():
    inp = Input((6, 6, 1))
    a = Conv2D(2, 3, activation="relu")(inp)
    out = Concatenate()([Flatten()(MaxPooling2D(2)(a)), Flatten()(a)])
    model = Model(inp, out, seed=0)
    # neither deferred nor fused: the conv applies its ReLU (on its own fresh output, in place)
    assert list(model._rewrites.values()) == [Rewrite(relu_in_place=True)]


def test_random_translation_shifts_each_training_image_and_its_gradient_is_the_adjoint(backend, dtype):
    from xcnn.layers import RandomTranslation

    x = np.random.default_rng(0).standard_normal((16, 6, 7, 2))
    inp = Input((6, 7, 2))
    model = Model(inp, RandomTranslation(2 / 6, 1 / 7, fill_value=-1.0)(inp), backend=backend, dtype=dtype, seed=3)
    layer = model.layers[-1]
    xb = B.asarray(x, backend, dtype)
    assert_close(model.predict(x, batch_size=16), x, dtype)  # inference: unchanged
    out = B.to_numpy(layer.forward([xb], True))
    dy_off, dx_off = (B.to_numpy(o) for o in layer._offsets)
    assert set(dy_off.tolist()) <= {-2, -1, 0, 1, 2} and set(dx_off.tolist()) <= {-1, 0, 1}
    assert len(set(zip(dy_off.tolist(), dx_off.tolist()))) > 3  # images get different shifts

    def shifted(images):
        result = np.full(images.shape, -1.0)
        for i in range(16):
            sy, sx = int(dy_off[i]), int(dx_off[i])
            src = images[i, max(0, -sy) : 6 - max(0, sy), max(0, -sx) : 7 - max(0, sx)]
            result[i, max(0, sy) : max(0, sy) + src.shape[0], max(0, sx) : max(0, sx) + src.shape[1]] = src
        return result

    assert_close(out, shifted(x), dtype)
    # <shift(x) - border, dy> == <x, grad(dy)>: the gradient is the exact adjoint
    dy = np.random.default_rng(1).standard_normal(out.shape)
    dx = B.to_numpy(layer.backward(B.asarray(dy, backend, dtype))[0])
    border = shifted(np.zeros_like(x))
    assert np.sum((out - border) * dy) == pytest.approx(np.sum(x * dx), rel=1e-4 if dtype == "float32" else 1e-10)
    config = layer.get_config()
    assert config["height_factor"] == pytest.approx(1 / 3) and config["fill_value"] == -1.0
    with pytest.raises(ValueError, match=r"width_factor must be a number in \[0, 1\), got 1.5"):
        RandomTranslation(0.1, 1.5)


@pytest.mark.parametrize("with_input", [True, False])
def test_calling_a_model_on_no_samples_gives_no_outputs(backend, with_input):
    # as predict does, and Keras's model(x): (0, *output_shape), on the model's backend; an
    # unbuilt Sequential learns its input shape from the empty batch's (it failed to unpack)
    layers = [Flatten(), Dense(2)]
    model = Sequential([Input((3, 3, 1)), *layers] if with_input else layers, backend=backend, seed=0)
    out = model(B.asarray(np.zeros((0, 3, 3, 1)), backend, "float32"))
    assert tuple(out.shape) == (0, 2) and B.backend_of(out) == backend
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3, 3, 1\)"):
        model(np.zeros((0, 3, 4, 1), "float32"))
