"""xcnn.metrics against Keras 3's metrics: running values over several batches, names in the
logs of a compiled model, and the choice behind "accuracy"."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from xcnn import backend as B
from xcnn import metrics
from xcnn.layers import Dense, Input
from xcnn.models import Model

K = 6


def _batches(kind, seed=0):
    rng = np.random.default_rng(seed)
    for n in (7, 5):
        scores = rng.random((n, K))
        scores[0, 1] = scores[0, 2]  # a tie, where top-k conventions differ
        labels = rng.integers(0, K, n)
        if kind == "sparse":
            yield labels, scores
        elif kind == "categorical":
            yield np.eye(K)[labels], scores
        elif kind == "binary":
            yield rng.integers(0, 2, (n, K)).astype(np.float64), scores
        elif kind == "labels":
            yield labels, rng.integers(0, K, n)
        elif kind == "soft":
            yield rng.integers(0, 3, (n, K)) / 2.0, scores
        else:
            yield rng.normal(size=(n, K)), rng.normal(size=(n, K))


CASES = [
    (lambda m: m.SparseCategoricalAccuracy(), "sparse"),
    (lambda m: m.CategoricalAccuracy(), "categorical"),
    (lambda m: m.BinaryAccuracy(), "binary"),
    (lambda m: m.BinaryAccuracy(threshold=0.3), "binary"),
    (lambda m: m.Accuracy(), "labels"),
    (lambda m: m.TopKCategoricalAccuracy(k=2), "categorical"),
    (lambda m: m.SparseTopKCategoricalAccuracy(k=3), "sparse"),
    (lambda m: m.MeanAbsoluteError(), "regression"),
    (lambda m: m.MeanSquaredError(), "regression"),
    (lambda m: m.AUC(name="auc"), "binary"),
    (lambda m: m.AUC(num_thresholds=13, name="auc"), "binary"),
    # named: Keras numbers unnamed Precision and Recall objects (precision_1, ...), xcnn does not
    (lambda m: m.Precision(name="precision"), "binary"),
    (lambda m: m.Precision(thresholds=0.3, name="p"), "binary"),
    (lambda m: m.Precision(class_id=2, name="precision"), "binary"),
    (lambda m: m.Precision(name="precision"), "categorical"),
    (lambda m: m.Recall(name="recall"), "binary"),
    (lambda m: m.Recall(thresholds=[0.7], name="recall"), "binary"),
    (lambda m: m.Recall(class_id=4, name="recall"), "categorical"),
    (lambda m: m.Recall(name="recall"), "soft"),  # targets positive where non-zero, as Keras casts them to bool
    (lambda m: m.RootMeanSquaredError(), "regression"),
]
IDS = [
    "sparse_acc",
    "cat_acc",
    "bin_acc",
    "bin_acc_0.3",
    "acc",
    "top2",
    "sparse_top3",
    "mae",
    "mse",
    "auc",
    "auc13",
    "precision",
    "precision_0.3",
    "precision_class2",
    "precision_onehot",
    "recall",
    "recall_0.7",
    "recall_class4",
    "recall_soft",
    "rmse",
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("make, kind", CASES, ids=IDS)
def test_running_metric_matches_keras(backend, make, kind, weighted):
    ours, theirs = make(metrics), make(keras.metrics)
    if weighted and isinstance(ours, metrics.AUC):
        pytest.skip("xcnn's AUC takes no sample weights (documented subset)")
    for y_true, y_pred in _batches(kind):
        w = np.linspace(0.5, 2.0, y_true.shape[0]) if weighted else None
        theirs.update_state(y_true, y_pred, sample_weight=w)
        ours.update_state(
            B.asarray(y_true, backend, "float64"),
            B.asarray(y_pred, backend, "float64"),
            None if w is None else B.asarray(w, backend, "float64"),
        )
    assert ours.name == theirs.name
    assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-5, abs=1e-6)
    ours.reset_state()
    assert ours.result() == 0.0


@pytest.mark.parametrize(
    "loss, y_kind, units, expected_kind",
    [
        ("sparse_categorical_crossentropy", "sparse", K, metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", "categorical", K, metrics.CategoricalAccuracy),
        ("binary_crossentropy", "binary1", 1, metrics.BinaryAccuracy),
    ],
)
def test_compiled_metrics_have_keras_names_and_values(loss, y_kind, units, expected_kind):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 4))
    labels = rng.integers(0, K, 10)
    y = {"sparse": labels, "categorical": np.eye(K)[labels], "binary1": rng.integers(0, 2, (10, 1)).astype(float)}[
        y_kind
    ]
    names = {
        "sparse": ["acc", "sparse_top_k_categorical_accuracy"],
        "categorical": ["acc", "mae", "mse", "top_k_categorical_accuracy"],
        "binary1": ["acc", "mae"],
    }[y_kind]
    keras_model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(units, activation="sigmoid" if units == 1 else "softmax")]
    )
    keras_model.compile("sgd", loss, metrics=names + [keras.metrics.AUC(name="auc")] * (units == 1))
    inp = Input((4,))
    model = Model(inp, Dense(units, activation="sigmoid" if units == 1 else "softmax")(inp), dtype="float64")
    model.compile("sgd", loss, metrics=names + [metrics.AUC()] * (units == 1))
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    expected = keras_model.evaluate(x.astype(np.float32), y, verbose=0, return_dict=True)
    got = model.evaluate(x, y, return_dict=True)
    assert set(got) == set(expected)
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-6), key
    assert isinstance(model._metric_objects[0], expected_kind)
    assert model.evaluate(x, y) == pytest.approx(keras_model.evaluate(x.astype(np.float32), y, verbose=0), rel=1e-5)


def test_unknown_metrics_are_refused():
    inp = Input((3,))
    model = Model(inp, Dense(2, activation="softmax")(inp))
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        model.compile("sgd", "categorical_crossentropy", metrics=["acuracy"])
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve='ROC'"):
        metrics.AUC(curve="PR")


def test_metric_objects_survive_save_and_load(tmp_path):
    from xcnn.models import load_model

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 4)), rng.integers(0, K, 12)
    inp = Input((4,))
    model = Model(inp, Dense(K, activation="softmax")(inp), dtype="float64")
    model.compile(
        "sgd",
        "sparse_categorical_crossentropy",
        metrics=["acc", metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"), metrics.mean_squared_error],
    )
    before = model.evaluate(x, np.eye(K)[y].argmax(1), verbose=0, return_dict=True)
    model.save(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(before)
    assert list(before) == ["loss", "acc", "top2", "mean_squared_error"]


@pytest.mark.parametrize(
    "name",
    [
        "precision",
        "recall",
        "root_mean_squared_error",
        "Precision",
        "RootMeanSquaredError",
        "mape",
        "msle",
        "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError",
    ],
)
def test_new_metric_names_compile_and_log_as_keras(name):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 4)), rng.integers(0, 2, (12, 1)).astype(float)
    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    keras_model.compile("sgd", "binary_crossentropy", metrics=[name])
    inp = Input((4,))
    model = Model(inp, Dense(1, activation="sigmoid")(inp), dtype="float64")
    model.compile("sgd", "binary_crossentropy", metrics=[name])
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    expected = keras_model.evaluate(x.astype(np.float32), y, verbose=0, return_dict=True)
    got = model.evaluate(x, y, return_dict=True)
    assert set(got) == set(expected)
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-6), key
    metric = model._metric_objects[0]
    assert type(metric).__name__ == type(keras.metrics.get(name)).__name__


def test_new_metrics_config_and_checks():
    for cls in ("Precision", "Recall", "RootMeanSquaredError"):
        ours, theirs = getattr(metrics, cls)(name="m"), getattr(keras.metrics, cls)(name="m")
        config = theirs.get_config()
        assert {k: v for k, v in ours.get_config().items() if k != "dtype"} == {
            k: v for k, v in config.items() if k in ours.get_config() and k != "dtype"
        }
        again = metrics.get(metrics.serialize(ours))
        assert type(again) is type(ours) and again.get_config() == ours.get_config()
    y_true, y_pred = np.array([1, 0, 1, 1]), np.array([0.9, 0.6, 0.2, 0.7])
    assert metrics.Precision()(y_true, y_pred) == pytest.approx(float(keras.metrics.Precision()(y_true, y_pred)))
    rmse = metrics.RootMeanSquaredError()
    assert rmse(y_true, y_pred) == pytest.approx(float(keras.metrics.RootMeanSquaredError()(y_true, y_pred)))
    for bad, message in (
        ({"thresholds": 1.5}, "thresholds must be a number in \\[0, 1\\]"),
        ({"thresholds": [0.3, 0.6]}, "thresholds must be one number in \\[0, 1\\]"),
        ({"top_k": 2}, "takes top_k=None only"),
        ({"class_id": -1}, "class_id must be None or a class index"),
    ):
        with pytest.raises(ValueError, match=message):
            metrics.Precision(**bad)
    with pytest.raises(ValueError, match="needs one target per prediction"):
        metrics.Recall().update_state(np.ones((3, 2)), np.ones((3, 3)))


def test_keras_files_compiled_with_the_new_metrics_and_losses_load_compiled(tmp_path):
    import xcnn

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(10, 4)), rng.integers(0, 2, (10, 3)).astype(float)
    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")])
    keras_model.compile(
        "adam",
        keras.losses.SquaredHinge(),
        metrics=[
            keras.metrics.Precision(name="p"),
            keras.metrics.Recall(thresholds=0.3, name="r"),
            keras.metrics.RootMeanSquaredError(),
            "precision",
        ],
    )
    keras_model.save(tmp_path / "k.keras")
    model = xcnn.load_model(tmp_path / "k.keras", backend="numpy")
    assert isinstance(model.loss, xcnn.losses.SquaredHinge)
    expected = keras_model.evaluate(x.astype(np.float32), y, verbose=0, return_dict=True)
    got = model.evaluate(x, y, return_dict=True)
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)
    model.save(tmp_path / "x.keras")  # and back: Keras rebuilds xcnn's compile settings
    again = keras.saving.load_model(tmp_path / "x.keras")
    assert again.evaluate(x.astype(np.float32), y, verbose=0, return_dict=True) == pytest.approx(expected, rel=1e-5)
