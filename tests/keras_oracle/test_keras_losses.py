"""Losses against Keras 3 (torch backend): values, gradients (torch autograd through Keras's own
loss) and whole training steps of a small model compiled with each loss."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from xcnn import backend as B
from xcnn import losses, optimizers
from xcnn.layers import Dense, Input
from xcnn.models import Model

N, K = 6, 4


def _data(kind, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(N, K)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.integers(0, K, N)
    one_hot = np.eye(K)[labels]
    binary = rng.integers(0, 2, (N, K)).astype(np.float64)
    sigm = 1 / (1 + np.exp(-logits))
    return {
        "categorical": (one_hot, probs),
        "categorical_logits": (one_hot, logits),
        "sparse": (labels, probs),
        "sparse_logits": (labels, logits),
        "binary": (binary, sigm),
        "binary_logits": (binary, logits),
        "regression": (rng.normal(size=(N, K)), rng.normal(size=(N, K)) * 1.5),
        "distribution": (probs[::-1].copy(), probs),
        "positive": (rng.uniform(0, 3, (N, K)), np.abs(rng.normal(size=(N, K))) * 2),  # msle's domain
        "percent": (rng.choice([-1, 1], (N, K)) * rng.uniform(0.5, 3, (N, K)), rng.normal(size=(N, K)) * 2),
        "signed": (2 * binary - 1, logits),  # hinge's -1/1 labels and scores
        "counts": (rng.integers(0, 4, (N, K)).astype(np.float64), np.exp(logits / 2)),  # poisson's domain
    }[kind]


CASES = [  # (xcnn loss, Keras loss, data kind)
    (lambda: losses.CategoricalCrossentropy(), lambda: keras.losses.CategoricalCrossentropy(), "categorical"),
    (
        lambda: losses.CategoricalCrossentropy(label_smoothing=0.2),
        lambda: keras.losses.CategoricalCrossentropy(label_smoothing=0.2),
        "categorical",
    ),
    (
        lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        lambda: keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        "categorical_logits",
    ),
    (lambda: losses.SparseCategoricalCrossentropy(), lambda: keras.losses.SparseCategoricalCrossentropy(), "sparse"),
    (
        lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
        lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "sparse_logits",
    ),
    (lambda: losses.BinaryCrossentropy(), lambda: keras.losses.BinaryCrossentropy(), "binary"),
    (
        lambda: losses.BinaryCrossentropy(label_smoothing=0.3),
        lambda: keras.losses.BinaryCrossentropy(label_smoothing=0.3),
        "binary",
    ),
    (
        lambda: losses.BinaryCrossentropy(from_logits=True),
        lambda: keras.losses.BinaryCrossentropy(from_logits=True),
        "binary_logits",
    ),
    (lambda: losses.get("mse"), lambda: keras.losses.MeanSquaredError(), "regression"),
    (lambda: losses.get("mae"), lambda: keras.losses.MeanAbsoluteError(), "regression"),
    (lambda: losses.Huber(delta=0.7), lambda: keras.losses.Huber(delta=0.7), "regression"),
    (lambda: losses.get("huber"), lambda: keras.losses.Huber(), "regression"),
    (lambda: losses.get("kl_divergence"), lambda: keras.losses.KLDivergence(), "distribution"),
    (lambda: losses.get("mape"), lambda: keras.losses.MeanAbsolutePercentageError(), "percent"),
    (lambda: losses.MeanAbsolutePercentageError(), lambda: keras.losses.MeanAbsolutePercentageError(), "regression"),
    (lambda: losses.get("msle"), lambda: keras.losses.MeanSquaredLogarithmicError(), "positive"),
    (lambda: losses.MeanSquaredLogarithmicError(), lambda: keras.losses.MeanSquaredLogarithmicError(), "regression"),
    (lambda: losses.get("log_cosh"), lambda: keras.losses.LogCosh(), "regression"),
    (lambda: losses.get("hinge"), lambda: keras.losses.Hinge(), "binary_logits"),  # 0/1 labels become -1/1
    (lambda: losses.Hinge(), lambda: keras.losses.Hinge(), "signed"),
    (lambda: losses.Hinge(), lambda: keras.losses.Hinge(), "regression"),  # not binary: used as they are
    (lambda: losses.get("squared_hinge"), lambda: keras.losses.SquaredHinge(), "binary_logits"),
    (lambda: losses.SquaredHinge(), lambda: keras.losses.SquaredHinge(), "signed"),
    (lambda: losses.CategoricalHinge(), lambda: keras.losses.CategoricalHinge(), "categorical_logits"),
    (lambda: losses.get("categorical_hinge"), lambda: keras.losses.CategoricalHinge(), "categorical"),
    (lambda: losses.Poisson(), lambda: keras.losses.Poisson(), "counts"),
    (lambda: losses.get("poisson"), lambda: keras.losses.Poisson(), "positive"),
    (lambda: losses.CosineSimilarity(), lambda: keras.losses.CosineSimilarity(), "regression"),
    (lambda: losses.CosineSimilarity(axis=1), lambda: keras.losses.CosineSimilarity(axis=1), "binary"),
    (lambda: losses.BinaryFocalCrossentropy(), lambda: keras.losses.BinaryFocalCrossentropy(), "binary"),
    (
        lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5, label_smoothing=0.1),
        lambda: keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=True, alpha=0.4, gamma=1.5, label_smoothing=0.1
        ),
        "binary",
    ),
    (
        lambda: losses.BinaryFocalCrossentropy(from_logits=True, gamma=3.0),
        lambda: keras.losses.BinaryFocalCrossentropy(from_logits=True, gamma=3.0),
        "binary_logits",
    ),
    (
        lambda: losses.BinaryFocalCrossentropy(gamma=0.0),
        lambda: keras.losses.BinaryFocalCrossentropy(gamma=0.0),
        "binary",
    ),
    (lambda: losses.CategoricalFocalCrossentropy(), lambda: keras.losses.CategoricalFocalCrossentropy(), "categorical"),
    (
        lambda: losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0, label_smoothing=0.2),
        lambda: keras.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0, label_smoothing=0.2),
        "categorical",
    ),
    (
        lambda: losses.CategoricalFocalCrossentropy(from_logits=True, gamma=2.5),
        lambda: keras.losses.CategoricalFocalCrossentropy(from_logits=True, gamma=2.5),
        "categorical_logits",
    ),
]
IDS = [
    "cce",
    "cce_smooth",
    "cce_logits_smooth",
    "sparse",
    "sparse_logits",
    "bce",
    "bce_smooth",
    "bce_logits",
    "mse",
    "mae",
    "huber_0.7",
    "huber",
    "kld",
    "mape",
    "mape_regression",
    "msle",
    "msle_negative",
    "log_cosh",
    "hinge_01",
    "hinge_signed",
    "hinge_real",
    "squared_hinge_01",
    "squared_hinge_signed",
    "categorical_hinge_scores",
    "categorical_hinge_probs",
    "poisson",
    "poisson_positive",
    "cosine",
    "cosine_axis1",
    "binary_focal",
    "binary_focal_balanced_smooth",
    "binary_focal_logits",
    "binary_focal_gamma0",
    "categorical_focal",
    "categorical_focal_smooth",
    "categorical_focal_logits",
]


class _Float64:
    """Keras computes in its floatx; float64 where it can (parts of its torch paths still round
    to float32, hence the tolerances of about 1e-6 below)."""

    def __enter__(self):
        self.saved = keras.backend.floatx()
        keras.backend.set_floatx("float64")

    def __exit__(self, *exc):
        keras.backend.set_floatx(self.saved)


def _keras_value_and_gradient(make_keras, y_true, y_pred, sample_weight):
    with _Float64():
        pred = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
        args = {} if sample_weight is None else {"sample_weight": torch.tensor(sample_weight)}
        value = make_keras()(torch.tensor(y_true), pred, **args)
        value.backward()
    return float(value.detach()), pred.grad.numpy()


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("make, make_keras, kind", CASES, ids=IDS)
def test_loss_value_and_gradient_match_keras(backend, make, make_keras, kind, weighted):
    y_true, y_pred = _data(kind)
    sample_weight = np.linspace(0.2, 2.0, N) if weighted else None
    expected, expected_grad = _keras_value_and_gradient(make_keras, y_true, y_pred, sample_weight)
    loss = make()
    pred = B.asarray(y_pred, backend, "float64")
    target = loss.targets(B.asarray(y_true, backend, "int64" if loss.sparse else "float64"), K, pred.dtype)
    w = None if sample_weight is None else B.asarray(sample_weight, backend, "float64")
    np.testing.assert_allclose(float(B.to_numpy(loss.value(pred, target, w))), expected, rtol=1e-6)
    np.testing.assert_allclose(B.to_numpy(loss.gradient(pred, target, w)), expected_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize(
    "loss_class, activation",
    [(losses.CategoricalCrossentropy, torch.softmax), (losses.BinaryCrossentropy, torch.sigmoid)],
    ids=["softmax_cce", "sigmoid_bce"],
)
def test_fused_gradients_with_several_outputs_match_autograd_through_the_activation(
    backend, loss_class, activation, weighted
):
    """The fused forms take logits of K = 4 units: their value and gradient must equal autograd
    through the activation and Keras's loss on probabilities (a 1/K slip would show here)."""
    kind = "categorical" if loss_class is losses.CategoricalCrossentropy else "binary"
    y_true, _ = _data(kind)
    logits = np.random.default_rng(3).normal(size=(N, K)) * 2
    sample_weight = np.linspace(0.5, 1.5, N) if weighted else None
    z = torch.tensor(logits, requires_grad=True)
    probs = activation(z, -1) if activation is torch.softmax else activation(z)
    args = {} if sample_weight is None else {"sample_weight": torch.tensor(sample_weight)}
    with _Float64():
        value = getattr(keras.losses, loss_class.__name__)()(torch.tensor(y_true), probs, **args)
        value.backward()
    value = float(value.detach())
    loss = loss_class()
    zd, yd = B.asarray(logits, backend, "float64"), B.asarray(y_true, backend, "float64")
    w = None if sample_weight is None else B.asarray(sample_weight, backend, "float64")
    np.testing.assert_allclose(float(B.to_numpy(loss.value_from_logits(zd, yd, w))), value, rtol=1e-6)
    np.testing.assert_allclose(B.to_numpy(loss.gradient_from_logits(zd, yd, w)), z.grad.numpy(), rtol=1e-5, atol=1e-7)
    # the model passes its output (the activation of the logits) instead of recomputing it
    pd = B.asarray(probs.detach().numpy(), backend, "float64")
    np.testing.assert_allclose(
        B.to_numpy(loss.gradient_from_logits(zd, yd, w, pd)), z.grad.numpy(), rtol=1e-5, atol=1e-7
    )
    if kind == "categorical":  # integer labels: one-hot rows, whose sum (1) the gradient skips
        sparse = losses.SparseCategoricalCrossentropy()
        labels = sparse.targets(B.asarray(np.argmax(y_true, axis=-1), backend, "int64"), K, zd.dtype)
        for given in (None, pd):
            np.testing.assert_allclose(
                B.to_numpy(sparse.gradient_from_logits(zd, labels, w, given)), z.grad.numpy(), rtol=1e-5, atol=1e-7
            )
        np.testing.assert_allclose(float(B.to_numpy(sparse.value_from_logits(zd, labels, w))), value, rtol=1e-6)


def test_keras_argument_order_and_names():
    y_true, y_pred = _data("categorical")
    assert float(losses.get("categorical_crossentropy")(y_true, y_pred)) == pytest.approx(
        float(keras.losses.CategoricalCrossentropy()(y_true, y_pred)), rel=1e-6
    )
    for name in (
        "mae",
        "mean_absolute_error",
        "MeanAbsoluteError",
        "huber",
        "kld",
        "kl_divergence",
        "KLDivergence",
        "mse",
        "MeanSquaredError",
        "SparseCategoricalCrossentropy",
    ):
        assert isinstance(losses.get(name), losses.Loss)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    config = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1).get_config()
    again = losses.get(config)
    assert (again.from_logits, again.label_smoothing) == (True, 0.1)


MODEL_CASES = [  # (loss for xcnn, loss for Keras, output activation, target kind)
    ("categorical_crossentropy", "categorical_crossentropy", "softmax", "categorical"),
    (
        lambda: losses.CategoricalCrossentropy(label_smoothing=0.1),
        lambda: keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        "softmax",
        "categorical",
    ),
    (
        lambda: losses.CategoricalCrossentropy(from_logits=True),
        lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
        "linear",
        "categorical",
    ),
    (
        lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
        lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "linear",
        "sparse",
    ),
    ("binary_crossentropy", "binary_crossentropy", "sigmoid", "binary"),
    (
        lambda: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2),
        lambda: keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2),
        "linear",
        "binary",
    ),
    ("mae", "mae", "linear", "regression"),
    (lambda: losses.Huber(0.5), lambda: keras.losses.Huber(0.5), "linear", "regression"),
    ("kl_divergence", "kl_divergence", "softmax", "distribution"),
    ("mape", "mape", "linear", "percent"),
    ("msle", "msle", "softplus", "positive"),
    ("log_cosh", "log_cosh", "linear", "regression"),
    ("hinge", "hinge", "tanh", "binary"),
    (lambda: losses.SquaredHinge(), lambda: keras.losses.SquaredHinge(), "linear", "signed"),
    ("categorical_hinge", "categorical_hinge", "linear", "categorical"),
    ("poisson", "poisson", "softplus", "counts"),
    (lambda: losses.CosineSimilarity(), lambda: keras.losses.CosineSimilarity(), "linear", "regression"),
    (
        lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True, label_smoothing=0.1),
        lambda: keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, label_smoothing=0.1),
        "sigmoid",
        "binary",
    ),
    (
        lambda: losses.BinaryFocalCrossentropy(from_logits=True),
        lambda: keras.losses.BinaryFocalCrossentropy(from_logits=True),
        "linear",
        "binary",
    ),
    ("categorical_focal_crossentropy", "categorical_focal_crossentropy", "softmax", "categorical"),
    (
        lambda: losses.CategoricalFocalCrossentropy(from_logits=True, gamma=1.0),
        lambda: keras.losses.CategoricalFocalCrossentropy(from_logits=True, gamma=1.0),
        "linear",
        "categorical",
    ),
]


@pytest.mark.parametrize(
    "xcnn_loss, keras_loss, activation, kind",
    MODEL_CASES,
    ids=[
        "cce",
        "cce_smooth",
        "cce_logits",
        "sparse_logits",
        "bce",
        "bce_logits_smooth",
        "mae",
        "huber",
        "kld",
        "mape",
        "msle",
        "log_cosh",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "poisson",
        "cosine",
        "binary_focal_balanced",
        "binary_focal_logits",
        "categorical_focal",
        "categorical_focal_logits",
    ],
)
def test_training_steps_with_each_loss_match_keras(xcnn_loss, keras_loss, activation, kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, 5))
    y, _ = _data(kind, seed=2)
    keras_model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(K, activation=activation)]
    )
    keras_model.compile(keras.optimizers.SGD(0.5), keras_loss() if callable(keras_loss) else keras_loss)
    inp = Input((5,))
    model = Model(inp, Dense(K, activation=activation)(Dense(8, activation="tanh")(inp)), dtype="float64")
    model.compile(optimizers.SGD(0.5), xcnn_loss() if callable(xcnn_loss) else xcnn_loss)
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    for _ in range(3):
        expected = keras_model.train_on_batch(x.astype(np.float32), y)
        got = model.train_on_batch(x, y)
        assert got == pytest.approx(expected, rel=2e-5, abs=1e-6)
    for w, w_keras in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(w, w_keras, rtol=1e-4, atol=1e-5)


# --- Keras's function forms: one value per sample ----------------------------------------------

FUNCTION_CASES = [  # (function name, keyword arguments, data kind)
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "percent"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("huber", {}, "regression"),
    ("huber", {"delta": 0.4}, "regression"),
    ("log_cosh", {}, "regression"),
    ("kl_divergence", {}, "distribution"),
    ("hinge", {}, "binary_logits"),
    ("hinge", {}, "signed"),
    ("squared_hinge", {}, "binary_logits"),
    ("categorical_crossentropy", {}, "categorical"),
    ("categorical_crossentropy", {"label_smoothing": 0.2}, "categorical"),
    ("categorical_crossentropy", {"from_logits": True}, "categorical_logits"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse_logits"),
    ("sparse_categorical_crossentropy", {"ignore_class": 2}, "sparse"),
    ("binary_crossentropy", {}, "binary"),
    ("binary_crossentropy", {"label_smoothing": 0.3}, "binary"),
    ("binary_crossentropy", {"from_logits": True}, "binary_logits"),
    ("categorical_hinge", {}, "categorical_logits"),
    ("poisson", {}, "counts"),
    ("cosine_similarity", {}, "regression"),
    ("binary_focal_crossentropy", {}, "binary"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "alpha": 0.3, "from_logits": True}, "binary_logits"),
    ("categorical_focal_crossentropy", {}, "categorical"),
    (
        "categorical_focal_crossentropy",
        {"from_logits": True, "label_smoothing": 0.1, "gamma": 1.0},
        "categorical_logits",
    ),
]


@pytest.mark.parametrize(
    "name, kwargs, kind", FUNCTION_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(FUNCTION_CASES)]
)
def test_loss_functions_return_keras_per_sample_values(backend, name, kwargs, kind):
    y_true, y_pred = _data(kind)
    with _Float64():
        expected = getattr(keras.losses, name)(torch.tensor(y_true), torch.tensor(y_pred), **kwargs).numpy()
    pred = B.asarray(y_pred, backend, "float64")
    true = B.asarray(y_true, backend, "int64" if name.startswith("sparse") else "float64")
    got = B.to_numpy(getattr(losses, name)(true, pred, **kwargs))
    assert got.shape == expected.shape == (N,)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert isinstance(losses.get(getattr(losses, name)), losses.Loss)  # compile takes the function too


def test_loss_functions_take_keras_shapes():
    rng = np.random.default_rng(4)
    # images of per-pixel values or classes: one loss per pixel, as Keras
    y_true, y_pred = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))
    for name in ("mean_squared_error", "log_cosh", "hinge", "huber"):
        expected = getattr(keras.losses, name)(torch.tensor(y_true), torch.tensor(y_pred)).numpy()
        np.testing.assert_allclose(getattr(losses, name)(y_true, y_pred), expected, rtol=1e-6, err_msg=name)
    labels, probs = rng.integers(0, 5, (2, 3, 4)), rng.uniform(0.1, 1.0, (2, 3, 4, 5))
    for given in (labels, labels[..., None]):  # (N, H, W) or (N, H, W, 1) labels
        with _Float64():
            expected = keras.losses.sparse_categorical_crossentropy(torch.tensor(given), torch.tensor(probs)).numpy()
        np.testing.assert_allclose(losses.sparse_categorical_crossentropy(given, probs), expected, rtol=1e-6)
    # (N,) targets for (N, 1) predictions, and the class axis elsewhere
    targets, outputs = rng.normal(size=6), rng.normal(size=(6, 1))
    for name in ("mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error"):
        with _Float64():  # Keras's msle is float32 inside (its maximum on PyTorch returns float32)
            expected = getattr(keras.losses, name)(torch.tensor(targets), torch.tensor(outputs)).numpy()
        got = getattr(losses, name)(targets, outputs)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=name)
    one_hot = np.eye(5)[rng.integers(0, 5, (2, 3))].transpose(0, 2, 1)  # (N, K, W): classes on axis 1
    probs = rng.uniform(0.1, 1.0, (2, 5, 3))
    for name in ("categorical_crossentropy", "binary_crossentropy"):
        with _Float64():
            expected = getattr(keras.losses, name)(torch.tensor(one_hot), torch.tensor(probs), axis=1).numpy()
        np.testing.assert_allclose(getattr(losses, name)(one_hot, probs, axis=1), expected, rtol=1e-6, err_msg=name)


def test_new_loss_names_and_configs_follow_keras():
    y_true, y_pred = _data("positive")
    for name in (
        "mape",
        "MAPE",
        "msle",
        "MSLE",
        "log_cosh",
        "hinge",
        "squared_hinge",
        "bce",
        "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError",
        "LogCosh",
        "Hinge",
        "SquaredHinge",
        "categorical_hinge",
        "poisson",
        "cosine_similarity",
        "binary_focal_crossentropy",
        "categorical_focal_crossentropy",
        "CategoricalHinge",
        "Poisson",
        "CosineSimilarity",
        "BinaryFocalCrossentropy",
        "CategoricalFocalCrossentropy",
    ):
        ours, theirs = losses.get(name), keras.losses.get(name)  # Keras: a function or a Loss object
        if isinstance(theirs, keras.losses.Loss):
            assert type(ours).__name__ == type(theirs).__name__, name
            assert ours.get_config()["name"] == theirs.get_config()["name"], name
        else:
            assert ours.name == theirs.__name__, name  # the class of that function
        t, p = _data("binary") if name == "bce" or "focal" in name.lower() else (y_true, y_pred)
        with _Float64():
            expected = float(np.mean(theirs(torch.tensor(t), torch.tensor(p)).numpy()))
        assert float(ours(t, p)) == pytest.approx(expected, rel=1e-6), name
        assert losses.get(ours.get_config()).get_config() == ours.get_config()
    with pytest.raises(ValueError, match="unknown loss 'logcosh_error'"):
        losses.get("logcosh_error")
    with pytest.raises(ValueError, match="label_smoothing must be a number in"):
        losses.categorical_crossentropy(np.eye(2), np.eye(2), label_smoothing=2.0)


def test_compile_takes_a_loss_function_as_keras_does():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(N, 5)), rng.integers(0, K, N)
    keras_model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(K, activation="softmax")])
    keras_model.compile(keras.optimizers.SGD(0.5), keras.losses.sparse_categorical_crossentropy)
    inp = Input((5,))
    model = Model(inp, Dense(K, activation="softmax")(inp), dtype="float64")
    model.compile(optimizers.SGD(0.5), losses.sparse_categorical_crossentropy)
    assert isinstance(model.loss, losses.SparseCategoricalCrossentropy)
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    for _ in range(2):
        assert model.train_on_batch(x, y) == pytest.approx(
            keras_model.train_on_batch(x.astype(np.float32), y), rel=2e-5
        )


def test_gradients_at_kinks_split_as_keras_on_torch():
    """Where a clip or hinge meets its kink exactly, torch.maximum gives each side half the
    gradient; Keras's losses inherit that, and so do xcnn's."""
    cases = [
        (losses.Hinge(), keras.losses.Hinge(), [[1.0, 0.0, 1.0, 0.0]], [[1.0, -1.0, 0.5, 2.0]]),
        (losses.SquaredHinge(), keras.losses.SquaredHinge(), [[1.0, 0.0, 1.0, 0.0]], [[1.0, -1.0, 0.5, 2.0]]),
        (
            losses.MeanSquaredLogarithmicError(),
            keras.losses.MeanSquaredLogarithmicError(),
            [[0.5, 0.5, 0.5, 1.0]],
            [[1e-7, 0.0, -1.0, 1.0]],
        ),
        (losses.MeanAbsoluteError(), keras.losses.MeanAbsoluteError(), [[0.5, 1.0]], [[0.5, 2.0]]),
        (losses.MeanAbsolutePercentageError(), keras.losses.MeanAbsolutePercentageError(), [[0.5, 1.0]], [[0.5, 2.0]]),
    ]
    for ours, theirs, y_true, y_pred in cases:
        y_true, y_pred = np.array(y_true), np.array(y_pred)
        _, expected = _keras_value_and_gradient(lambda theirs=theirs: theirs, y_true, y_pred, None)
        got = ours.gradient(y_pred, ours.targets(y_true, y_pred.shape[-1], y_pred.dtype))
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12, err_msg=type(ours).__name__)


def test_new_loss_configs_and_checks_follow_keras():
    for ours, theirs in (
        (losses.CosineSimilarity(axis=1), keras.losses.CosineSimilarity(axis=1)),
        (
            losses.BinaryFocalCrossentropy(True, 0.3, 1.5, True, 0.1, -1),
            keras.losses.BinaryFocalCrossentropy(True, 0.3, 1.5, True, 0.1, -1),
        ),
        (
            losses.CategoricalFocalCrossentropy(0.5, 3.0, True, 0.2, -1),
            keras.losses.CategoricalFocalCrossentropy(0.5, 3.0, True, 0.2, -1),
        ),
    ):
        config = theirs.get_config()
        mine = ours.get_config()
        assert {k: v for k, v in mine.items() if k in config} == {k: v for k, v in config.items() if k in mine}
        assert losses.get(mine).get_config() == mine
    for make, message in (
        (lambda: losses.BinaryFocalCrossentropy(gamma=-1.0), "gamma must be a number >= 0"),
        (lambda: losses.CategoricalFocalCrossentropy(alpha="0.25"), "alpha must be a number"),
        (lambda: losses.CategoricalFocalCrossentropy(label_smoothing=-0.1), "label_smoothing must be a number in"),
        (lambda: losses.CosineSimilarity(axis=None), "axis must be an int"),
    ):
        with pytest.raises(ValueError, match=message):
            make()
    with pytest.raises(ValueError, match="must name a class axis of y_pred"):
        losses.CosineSimilarity(axis=0)(np.ones((2, 3)), np.ones((2, 3)))
    # the class axis elsewhere than last: as Keras, and the gradient moved back to that axis
    rng = np.random.default_rng(9)
    one_hot = np.eye(5)[rng.integers(0, 5, (2, 3))].transpose(0, 2, 1)  # (N, K, W): classes on axis 1
    probs = rng.uniform(0.1, 1.0, (2, 5, 3))
    for ours, theirs in (
        (losses.CategoricalFocalCrossentropy(axis=1), keras.losses.CategoricalFocalCrossentropy(axis=1)),
        (losses.BinaryFocalCrossentropy(axis=1), keras.losses.BinaryFocalCrossentropy(axis=1)),
        (losses.CosineSimilarity(axis=1), keras.losses.CosineSimilarity(axis=1)),
    ):
        expected, expected_grad = _keras_value_and_gradient(lambda theirs=theirs: theirs, one_hot, probs, None)
        assert float(ours.value(probs, one_hot)) == pytest.approx(expected, rel=1e-6)
        np.testing.assert_allclose(ours.gradient(probs, one_hot), expected_grad, rtol=1e-5, atol=1e-8)
