"""The losses added for Keras parity (MAPE, MSLE, log-cosh, hinge, squared hinge, categorical hinge,
Poisson, cosine similarity, focal cross-entropies): values against float64 NumPy formulas and
gradients against central differences, on every backend and dtype; the Keras function forms'
per-sample values on every backend. Keras itself is the oracle in
tests/keras_oracle/test_keras_losses.py."""

import numpy as np
import pytest

import reference as ref
from conftest import RTOL, assert_close
from xcnn import backend as B
from xcnn import losses
from xcnn.ops import losses as L

EPS = 1e-7


def _hinge_labels(t):
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


# name -> (per-entry NumPy formula of (y_pred, y_true), how y_true is drawn)
FORMULAS = {
    "mean_absolute_percentage_error": (
        lambda p, t: 100.0 * np.abs((t - p) / np.maximum(np.abs(t), EPS)),
        lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape),
    ),
    "mean_squared_logarithmic_error": (
        lambda p, t: (np.log(np.maximum(p, EPS) + 1.0) - np.log(np.maximum(t, EPS) + 1.0)) ** 2,
        lambda rng, shape: rng.uniform(0.0, 3.0, shape),
    ),
    "log_cosh": (lambda p, t: np.log(np.cosh(p - t)), lambda rng, shape: rng.normal(size=shape)),
    "hinge": (
        lambda p, t: np.maximum(1.0 - _hinge_labels(t) * p, 0.0),
        lambda rng, shape: rng.integers(0, 2, shape).astype(np.float64),
    ),
    "squared_hinge": (
        lambda p, t: np.maximum(1.0 - _hinge_labels(t) * p, 0.0) ** 2,
        lambda rng, shape: rng.choice([-1.0, 1.0], shape),
    ),
}


def _weighted_mean(values, w):
    """Keras's "sum_over_batch_size" of per-sample ``values`` ``(N, ...)`` with weights ``w`` ``(N,)``."""
    if w is not None:
        values = values * w.reshape((-1,) + (1,) * (values.ndim - 1))
    return values.sum() / values.size


def _reference(name, p, t, w):
    return _weighted_mean(FORMULAS[name][0](p, t).mean(axis=-1), w)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)], ids=["rows", "images"])
@pytest.mark.parametrize("name", list(FORMULAS))
def test_loss_op_value_and_numerical_gradient(backend, dtype, name, shape, weighted):
    rng = np.random.default_rng(0)
    y_true = FORMULAS[name][1](rng, shape)
    # predictions away from every kink (margins of 0, clips at eps, equal values)
    y_pred = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if name == "mean_squared_logarithmic_error":
        y_pred = np.abs(y_pred)
    w = rng.uniform(0.5, 2.0, shape[0]) if weighted else None
    args = [B.asarray(a, backend, dtype) for a in (y_pred, y_true)]
    wb = None if w is None else B.asarray(w, backend, dtype)
    value = getattr(L, name)(*args, wb)
    assert_close(value, _reference(name, y_pred, y_true, w), dtype)
    grad = B.to_numpy(getattr(L, f"{name}_backward")(*args, wb))
    numerical = ref.numerical_gradient(lambda v: _reference(name, v, y_true, w), y_pred.copy())
    tol = max(RTOL[dtype], 1e-7)
    np.testing.assert_allclose(grad, numerical, rtol=tol, atol=tol * max(1.0, float(np.abs(numerical).max())))


def test_hinge_labels_turn_binary_targets_into_signs_only_when_all_are_binary(backend):
    on = lambda a: B.asarray(np.array(a), backend, "float64")  # noqa: E731
    np.testing.assert_array_equal(B.to_numpy(L.hinge_labels(on([[0.0, 1.0], [1.0, 1.0]]))), [[-1, 1], [1, 1]])
    np.testing.assert_array_equal(B.to_numpy(L.hinge_labels(on([[-1.0, 1.0]]))), [[-1, 1]])
    np.testing.assert_array_equal(B.to_numpy(L.hinge_labels(on([[0.0, 0.5]]))), [[0.0, 0.5]])


def test_log_cosh_does_not_overflow(backend, dtype):
    y_pred = B.asarray(np.array([[1e4, -1e4]]), backend, dtype)
    value = float(B.to_numpy(L.log_cosh(y_pred, y_pred * 0.0)))
    assert value == pytest.approx(1e4 - np.log(2.0), rel=RTOL[dtype])


FUNCTIONS = [
    ("mean_squared_error", lambda p, t: (p - t) ** 2),
    ("mean_absolute_error", lambda p, t: np.abs(p - t)),
    ("log_cosh", FORMULAS["log_cosh"][0]),
    ("mean_absolute_percentage_error", FORMULAS["mean_absolute_percentage_error"][0]),
    ("hinge", FORMULAS["hinge"][0]),
]


@pytest.mark.parametrize("name, formula", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_loss_functions_give_one_value_per_sample_on_every_backend(backend, dtype, name, formula):
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, (4, 3)).astype(np.float64)
    y_pred = rng.normal(size=(4, 3))
    got = getattr(losses, name)(B.asarray(y_true, backend, dtype), B.asarray(y_pred, backend, dtype))
    assert B.backend_of(got) == backend
    assert_close(got, formula(y_pred, y_true).mean(axis=-1), dtype)
    # host targets (a list) with device predictions: moved to the predictions' backend
    assert_close(getattr(losses, name)(y_true.tolist(), B.asarray(y_pred, backend, dtype)), B.to_numpy(got), dtype)


def test_sparse_and_categorical_functions_agree_on_every_backend(backend):
    rng = np.random.default_rng(2)
    labels, logits = rng.integers(0, 4, (3, 5)), rng.normal(size=(3, 5, 4))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    one_hot = np.eye(4)[labels]
    for from_logits, pred in ((False, probs), (True, logits)):
        sparse = losses.sparse_categorical_crossentropy(
            B.asarray(labels, backend, "int64"), B.asarray(pred, backend, "float64"), from_logits=from_logits
        )
        dense = losses.categorical_crossentropy(one_hot, B.asarray(pred, backend, "float64"), from_logits=from_logits)
        assert B.to_numpy(sparse).shape == (3, 5)
        assert_close(sparse, -np.log((probs * one_hot).sum(-1)), "float64")
        assert_close(dense, B.to_numpy(sparse), "float64")
    ignored = losses.sparse_categorical_crossentropy(labels, probs, ignore_class=int(labels[0, 0]))
    np.testing.assert_array_equal(ignored[labels == labels[0, 0]], 0.0)


# --- the losses whose value and gradient xcnn.losses writes itself (Keras is their oracle in
# tests/keras_oracle/test_keras_losses.py): each gradient against central differences of its value


def _draw(kind, rng, shape):
    logits = rng.normal(size=shape) * 1.5
    one_hot = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return {
        "one_hot_probs": (one_hot, np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)),
        "one_hot_logits": (one_hot, logits),
        "binary_probs": (rng.integers(0, 2, shape).astype(np.float64), rng.uniform(0.05, 0.95, shape)),
        "binary_logits": (rng.integers(0, 2, shape).astype(np.float64), logits),
        "counts": (rng.integers(0, 4, shape).astype(np.float64), rng.uniform(0.2, 3.0, shape)),
        "vectors": (rng.normal(size=shape), logits),
    }[kind]


NEW_LOSSES = [
    ("categorical_hinge", lambda: losses.CategoricalHinge(), "one_hot_logits"),
    ("poisson", lambda: losses.Poisson(), "counts"),
    ("cosine", lambda: losses.CosineSimilarity(), "vectors"),
    ("cosine_axis1", lambda: losses.CosineSimilarity(axis=1), "vectors"),
    ("binary_focal", lambda: losses.BinaryFocalCrossentropy(), "binary_probs"),
    (
        "binary_focal_balanced",
        lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5, label_smoothing=0.1),
        "binary_probs",
    ),
    ("binary_focal_logits", lambda: losses.BinaryFocalCrossentropy(from_logits=True, gamma=0.0), "binary_logits"),
    ("categorical_focal", lambda: losses.CategoricalFocalCrossentropy(), "one_hot_probs"),
    (
        "categorical_focal_logits_smooth",
        lambda: losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.2, gamma=3.0),
        "one_hot_logits",
    ),
    ("categorical_focal_axis1", lambda: losses.CategoricalFocalCrossentropy(axis=1, alpha=0.5), "one_hot_probs"),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)], ids=["rows", "images"])
@pytest.mark.parametrize("make, kind", [c[1:] for c in NEW_LOSSES], ids=[c[0] for c in NEW_LOSSES])
def test_new_loss_value_and_numerical_gradient(backend, dtype, make, kind, shape, weighted):
    loss = make()
    rng = np.random.default_rng(3)
    y_true, y_pred = _draw(kind, rng, shape)
    w = rng.uniform(0.5, 2.0, shape[0]) if weighted else None
    reference = lambda p: float(loss.value(p, y_true, w))  # noqa: E731 - float64 NumPy
    pred, target = B.asarray(y_pred, backend, dtype), B.asarray(y_true, backend, dtype)
    wb = None if w is None else B.asarray(w, backend, dtype)
    value = loss.value(pred, target, wb)
    assert B.backend_of(value) == backend and value.shape == ()
    assert_close(value, reference(y_pred), dtype)
    grad = loss.gradient(pred, target, wb)
    assert B.backend_of(grad) == backend and tuple(grad.shape) == shape
    numerical = ref.numerical_gradient(reference, y_pred.copy())
    tol = max(RTOL[dtype], 1e-7)
    np.testing.assert_allclose(
        B.to_numpy(grad), numerical, rtol=tol, atol=tol * max(1.0, float(np.abs(numerical).max()))
    )


NEW_FUNCTIONS = [
    ("categorical_hinge", {}, "one_hot_logits"),
    ("poisson", {}, "counts"),
    ("cosine_similarity", {}, "vectors"),
    ("binary_focal_crossentropy", {"from_logits": True}, "binary_logits"),
    ("categorical_focal_crossentropy", {"label_smoothing": 0.1}, "one_hot_probs"),
]


@pytest.mark.parametrize("name, kwargs, kind", NEW_FUNCTIONS, ids=[f[0] for f in NEW_FUNCTIONS])
def test_new_loss_functions_agree_with_their_class_on_every_backend(backend, dtype, name, kwargs, kind):
    rng = np.random.default_rng(4)
    y_true, y_pred = _draw(kind, rng, (4, 3))
    got = getattr(losses, name)(B.asarray(y_true, backend, dtype), B.asarray(y_pred, backend, dtype), **kwargs)
    assert B.backend_of(got) == backend and tuple(got.shape) == (4,)
    loss = losses.get(getattr(losses, name)) if not kwargs else type(losses.get(name))(**kwargs)
    assert_close(B.to_numpy(got).mean(), float(loss.value(y_pred, y_true)), dtype)


# --- the ops behind those losses (xcnn.ops.losses): values against float64 NumPy formulas of
# Keras's definitions, written here independently of the ops, and gradients against central
# differences of those formulas


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS)


def _binary_focal(p, t, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = 1.0 / (1.0 + np.exp(-p)) if from_logits else p
    q = np.clip(p, EPS, 1.0 - EPS)
    per_entry = (1.0 - (t * p + (1.0 - t) * (1.0 - p))) ** gamma * -(t * np.log(q) + (1.0 - t) * np.log(1.0 - q))
    if apply_class_balancing:
        per_entry = per_entry * (t * alpha + (1.0 - t) * (1.0 - alpha))
    return per_entry.mean(axis=-1)


def _categorical_focal(p, t, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    p = np.exp(p) / np.exp(p).sum(axis=-1, keepdims=True) if from_logits else p
    o = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1.0 - EPS)
    return (-alpha * t * (1.0 - o) ** gamma * np.log(o)).sum(axis=-1)


# op -> per-sample NumPy formula of (y_pred, y_true, **arguments but axis), class axis last
PER_SAMPLE = {
    "categorical_hinge": lambda p, t: np.maximum(((1.0 - t) * p).max(axis=-1) - (t * p).sum(axis=-1) + 1.0, 0.0),
    "poisson": lambda p, t: (p - t * np.log(p + EPS)).mean(axis=-1),
    "cosine_similarity": lambda p, t: -(_unit(t) * _unit(p)).sum(axis=-1),
    "binary_focal_crossentropy": _binary_focal,
    "categorical_focal_crossentropy": _categorical_focal,
}
OP_CASES = [  # (id, op, its arguments, how the data is drawn: see _draw)
    ("categorical_hinge", "categorical_hinge", {}, "one_hot_logits"),
    ("poisson", "poisson", {}, "counts"),
    ("cosine", "cosine_similarity", {}, "vectors"),
    ("cosine_axis1", "cosine_similarity", {"axis": 1}, "vectors"),
    ("binary_focal", "binary_focal_crossentropy", {}, "binary_probs"),
    (
        "binary_focal_balanced_smooth_axis1",
        "binary_focal_crossentropy",
        {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5, "label_smoothing": 0.1, "axis": 1},
        "binary_probs",
    ),
    ("binary_focal_logits_gamma0", "binary_focal_crossentropy", {"from_logits": True, "gamma": 0.0}, "binary_logits"),
    ("categorical_focal", "categorical_focal_crossentropy", {}, "one_hot_probs"),
    (
        "categorical_focal_logits_smooth",
        "categorical_focal_crossentropy",
        {"from_logits": True, "label_smoothing": 0.2, "gamma": 3.0, "alpha": 0.5},
        "one_hot_logits",
    ),
    ("categorical_focal_gamma0_axis1", "categorical_focal_crossentropy", {"gamma": 0.0, "axis": 1}, "one_hot_probs"),
]


def _op_reference(name, kwargs, p, t, w):
    arguments = dict(kwargs)
    axis = arguments.pop("axis", -1)
    return _weighted_mean(PER_SAMPLE[name](np.moveaxis(p, axis, -1), np.moveaxis(t, axis, -1), **arguments), w)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)], ids=["rows", "images"])
@pytest.mark.parametrize("name, kwargs, kind", [c[1:] for c in OP_CASES], ids=[c[0] for c in OP_CASES])
def test_keras_loss_op_value_and_numerical_gradient(backend, dtype, name, kwargs, kind, shape, weighted):
    rng = np.random.default_rng(5)
    y_true, y_pred = _draw(kind, rng, shape)
    w = rng.uniform(0.5, 2.0, shape[0]) if weighted else None
    args = [B.asarray(a, backend, dtype) for a in (y_pred, y_true)]
    wb = None if w is None else B.asarray(w, backend, dtype)
    value = getattr(L, name)(*args, **kwargs, sample_weight=wb)
    assert B.backend_of(value) == backend and value.shape == ()
    assert_close(value, _op_reference(name, kwargs, y_pred, y_true, w), dtype)
    grad = getattr(L, f"{name}_backward")(*args, **kwargs, sample_weight=wb)
    assert B.backend_of(grad) == backend and tuple(grad.shape) == shape
    numerical = ref.numerical_gradient(lambda v: _op_reference(name, kwargs, v, y_true, w), y_pred.copy())
    tol = max(RTOL[dtype], 1e-7)
    np.testing.assert_allclose(
        B.to_numpy(grad), numerical, rtol=tol, atol=tol * max(1.0, float(np.abs(numerical).max()))
    )


@pytest.mark.parametrize("name", ["cosine_similarity", "binary_focal_crossentropy", "categorical_focal_crossentropy"])
def test_keras_loss_ops_refuse_the_batch_axis(backend, name):
    y = B.asarray(np.full((2, 3), 0.5), backend, "float64")
    for op in (getattr(L, name), getattr(L, f"{name}_backward")):
        for args, axis in (((y, y), 0), ((y, y), -2), ((y[0, :], y[0, :]), -1)):
            with pytest.raises(ValueError, match="must name a class axis of y_pred"):
                op(*args, axis=axis)
