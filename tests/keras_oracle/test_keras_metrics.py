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
    assert list(before) == ["acc", "loss", "mean_squared_error", "top2"]  # sorted, as Keras 3 returns logs


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


# --- the metrics that are a loss averaged over samples, the confusion counts, F-scores, R2 --------


def _new_batches(kind, seed=0):
    rng = np.random.default_rng(seed)
    for n in (7, 5, 4):
        logits = rng.normal(size=(n, K)) * 2
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        labels = rng.integers(0, K, n)
        labels[0] = 2  # ignore_class=2 has one sample to skip in every batch
        binary = rng.integers(0, 2, (n, K)).astype(np.float64)
        yield {
            "probs": (np.eye(K)[labels], probs),
            "logits": (np.eye(K)[labels], logits),
            "sparse_probs": (labels, probs),
            "sparse_logits": (labels, logits),
            "binary_probs": (binary, 1 / (1 + np.exp(-logits))),
            "binary_logits": (binary, logits),
            "distribution": (probs[::-1].copy(), probs),
            "counts": (rng.integers(0, 4, (n, K)).astype(np.float64), np.exp(logits / 2)),
            "regression": (rng.normal(size=(n, K)), rng.normal(size=(n, K))),
            "regression1": (rng.normal(size=(n, 1)), rng.normal(size=(n, 1))),
            "multi_label": (binary, rng.random((n, K))),
        }[kind]


NEW_CASES = [  # (id, constructor of both, data kind)
    ("bce", lambda m: m.BinaryCrossentropy(), "binary_probs"),
    ("bce_logits_smooth", lambda m: m.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), "binary_logits"),
    ("cce", lambda m: m.CategoricalCrossentropy(), "probs"),
    ("cce_logits_smooth", lambda m: m.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "logits"),
    ("scce", lambda m: m.SparseCategoricalCrossentropy(), "sparse_probs"),
    (
        "scce_logits_ignore",
        lambda m: m.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2),
        "sparse_logits",
    ),
    ("kld", lambda m: m.KLDivergence(), "distribution"),
    ("poisson", lambda m: m.Poisson(), "counts"),
    ("hinge", lambda m: m.Hinge(), "binary_logits"),
    ("squared_hinge", lambda m: m.SquaredHinge(), "binary_logits"),
    ("categorical_hinge", lambda m: m.CategoricalHinge(), "logits"),
    ("logcosh", lambda m: m.LogCoshError(), "regression"),
    ("cosine", lambda m: m.CosineSimilarity(), "regression"),
    ("tp", lambda m: m.TruePositives(), "multi_label"),
    ("fp_0.3", lambda m: m.FalsePositives(thresholds=0.3), "multi_label"),
    ("tn_list", lambda m: m.TrueNegatives(thresholds=[0.2, 0.5, 0.9]), "multi_label"),
    ("fn_evenly", lambda m: m.FalseNegatives(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]), "multi_label"),
    ("f1_none", lambda m: m.F1Score(), "probs"),
    ("f1_micro", lambda m: m.F1Score(average="micro"), "probs"),
    ("f1_macro_0.5", lambda m: m.F1Score(average="macro", threshold=0.5), "multi_label"),
    ("f1_weighted", lambda m: m.F1Score(average="weighted"), "probs"),
    ("fbeta_2_macro", lambda m: m.FBetaScore(average="macro", beta=2.0), "probs"),
    ("fbeta_0.5_none_0.4", lambda m: m.FBetaScore(beta=0.5, threshold=0.4), "multi_label"),
    ("r2", lambda m: m.R2Score(), "regression"),
    ("r2_none", lambda m: m.R2Score(class_aggregation=None), "regression"),
    ("r2_variance", lambda m: m.R2Score(class_aggregation="variance_weighted_average"), "regression"),
    ("r2_adjusted", lambda m: m.R2Score(num_regressors=2), "regression1"),
]


def _assert_same_result(ours, theirs, dtype):
    tol = {"float32": 2e-5, "float64": 1e-5}[dtype]  # Keras keeps float32 state
    np.testing.assert_allclose(np.asarray(ours.result()), np.asarray(theirs.result()), rtol=tol, atol=tol)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("make, kind", [c[1:] for c in NEW_CASES], ids=[c[0] for c in NEW_CASES])
def test_new_running_metrics_match_keras(backend, dtype, make, kind, weighted):
    ours, theirs = make(metrics), make(keras.metrics)
    for y_true, y_pred in _new_batches(kind):
        w = np.linspace(0.5, 2.0, y_true.shape[0]) if weighted else None
        theirs.update_state(y_true, y_pred, sample_weight=w)
        ours.update_state(
            B.asarray(y_true, backend, "int64" if kind.startswith("sparse") else dtype),
            B.asarray(y_pred, backend, dtype),
            None if w is None else B.asarray(w, backend, dtype),
        )
    # Keras numbers further unnamed objects of a class (true_positives_1, ...); xcnn does not
    assert theirs.name in (ours.name, *(f"{ours.name}_{i}" for i in range(1, 1000)))
    _assert_same_result(ours, theirs, dtype)
    state = ours.device_state()
    assert state and all(B.backend_of(a) == backend for a in state)  # the running state stays on the device
    config = theirs.get_config()
    assert {k: v for k, v in ours.get_config().items() if k in config and k not in ("dtype", "name")} == {
        k: v for k, v in config.items() if k in ours.get_config() and k not in ("dtype", "name")
    }
    again = metrics.get(metrics.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    ours.reset_state()
    assert np.all(np.asarray(ours.result()) == 0.0)


def test_mean_and_sum_match_keras(backend, dtype):
    rng = np.random.default_rng(7)
    calls = [
        (rng.normal(size=5), None),
        (rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, 4)),  # per-sample weights on per-entry values
        (rng.normal(size=(3, 2)), rng.uniform(0.5, 2.0, (3, 2))),  # a weight per entry
        (rng.normal(size=(2, 3, 2)), None),
        (np.asarray(1.5), None),  # a scalar
    ]
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        for values, w in calls:
            theirs.update_state(values, sample_weight=w)
            ours.update_state(B.asarray(values, backend, dtype), None if w is None else B.asarray(w, backend, dtype))
        assert ours.name == theirs.name
        _assert_same_result(ours, theirs, dtype)
        ours.update_state([1.0, 2.0])  # host values
        theirs.update_state([1.0, 2.0])
        _assert_same_result(ours, theirs, dtype)
        ours.reset_state()
        assert ours.result() == 0.0


def test_new_metric_and_function_names_exist_as_in_keras():
    names = [c.__name__ for c in metrics._CLASSES] + [f.__name__ for f in metrics._LOSS_FUNCTIONS]
    for name in names:
        assert hasattr(keras.metrics, name), f"keras.metrics.{name} (the list is wrong)"
        assert hasattr(metrics, name), f"xcnn.metrics.{name} is missing"
    from keras.src.metrics import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():  # every Keras string name xcnn has a class for
        if cls.__name__ in {c.__name__ for c in metrics._CLASSES} and name.lower() != "accuracy":
            ours = metrics.get(name)
            # a function's name may be that function's running mean (same values, as before)
            wrapped = type(ours) is metrics.MeanMetricWrapper and ours._fn.__name__ == name
            assert type(ours).__name__ == cls.__name__ or wrapped, name
    for fn in metrics._LOSS_FUNCTIONS:
        assert isinstance(metrics.get(fn), metrics.MeanMetricWrapper)


def test_new_metric_arguments_are_checked():
    for make, message in (
        (lambda: metrics.F1Score(average="samples"), "average must be one of"),
        (lambda: metrics.FBetaScore(beta=0.0), "beta must be a number > 0"),
        (lambda: metrics.FBetaScore(beta="2"), "beta must be a number > 0"),
        (lambda: metrics.F1Score(threshold=0.0), "threshold must be None or a number in \\(0, 1\\]"),
        (lambda: metrics.TruePositives(thresholds=[0.5, 1.5]), "thresholds must be a number in \\[0, 1\\]"),
        (lambda: metrics.FalseNegatives(thresholds=[]), "non-empty list"),
        (lambda: metrics.R2Score(class_aggregation="median"), "class_aggregation must be one of"),
        (lambda: metrics.R2Score(num_regressors=-1), "num_regressors must be an int >= 0"),
        (lambda: metrics.BinaryCrossentropy(label_smoothing=2.0), "label_smoothing must be a number in"),
        (lambda: metrics.CategoricalCrossentropy(axis=1.0), "axis must be an int"),
    ):
        with pytest.raises(ValueError, match=message):
            make()
    with pytest.raises(ValueError, match="needs targets and predictions of one shape \\(N, K\\)"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="needs one target per prediction"):
        metrics.TruePositives().update_state(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="R2Score needs targets and predictions of one shape"):
        metrics.R2Score().update_state(np.ones((3, 2, 2)), np.ones((3, 2, 2)))


def _compiled_pair(units, activation, loss, keras_metrics, xcnn_metrics, keras_weighted=(), xcnn_weighted=()):
    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
    keras_model.compile(
        keras.optimizers.SGD(0.1), loss, metrics=keras_metrics, weighted_metrics=list(keras_weighted) or None
    )
    inp = Input((4,))
    model = Model(inp, Dense(units, activation=activation)(inp), dtype="float64")
    model.compile("sgd", loss, metrics=xcnn_metrics, weighted_metrics=list(xcnn_weighted) or None)
    model.optimizer.learning_rate = 0.1
    model.set_weights([w.astype(np.float64) for w in keras_model.get_weights()])
    return keras_model, model


def _assert_same_logs(got, expected):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(expected[key]), rtol=2e-5, atol=2e-6, err_msg=key)


COMPILE_CASES = {
    "multi_label_sigmoid": (
        3,
        "sigmoid",
        "binary_crossentropy",
        lambda m: [
            "binary_crossentropy",
            "true_positives",
            m.FalseNegatives(thresholds=[0.3, 0.7], name="fn"),
            "hinge",
            "squared_hinge",
            "poisson",
            "kl_divergence",
            "cosine_similarity",
            "log_cosh_error",
            m.F1Score(average="macro", threshold=0.5),
            "r2_score",
            m.BinaryCrossentropy(label_smoothing=0.1, name="bce_smooth"),
            m.binary_focal_crossentropy,
            m.huber,
            "bce",
        ],
        lambda m: [m.TrueNegatives(name="tn"), "binary_crossentropy"],
        "multi_label",
    ),
    "softmax": (
        K,
        "softmax",
        "categorical_crossentropy",
        lambda m: [
            "categorical_crossentropy",
            "categorical_hinge",
            m.F1Score(name="f1_per_class"),  # Keras renames a second "f1_score" f1_score_1; xcnn does not
            "f1_score",
            m.FBetaScore(average="weighted", beta=2.0),
            "mean_absolute_percentage_error",
            "mean_squared_logarithmic_error",
            m.log_cosh,
            m.categorical_focal_crossentropy,
            m.CategoricalCrossentropy(from_logits=False, label_smoothing=0.2, name="cce_smooth"),
        ],
        lambda m: [m.FBetaScore(average="micro", beta=0.5, name="fb"), "categorical_crossentropy"],
        "onehot",
    ),
    "sparse": (
        K,
        "softmax",
        "sparse_categorical_crossentropy",
        lambda m: ["sparse_categorical_crossentropy", m.SparseCategoricalCrossentropy(name="scce", ignore_class=1)],
        lambda m: ["sparse_categorical_crossentropy"],
        "sparse",
    ),
}


@pytest.mark.parametrize("case", list(COMPILE_CASES))
def test_new_metrics_compiled_log_as_keras_in_fit_and_evaluate(case):
    units, activation, loss, make, make_weighted, kind = COMPILE_CASES[case]
    rng = np.random.default_rng(11)
    x = rng.normal(size=(16, 4))
    labels = rng.integers(0, K, 16)
    y = {
        "multi_label": rng.integers(0, 2, (16, units)).astype(np.float64),
        "onehot": np.eye(K)[labels],
        "sparse": labels,
    }[kind]
    w = rng.uniform(0.5, 2.0, 16)
    keras_model, model = _compiled_pair(
        units,
        activation,
        loss,
        make(keras.metrics),
        make(metrics),
        make_weighted(keras.metrics),
        make_weighted(metrics),
    )
    expected = keras_model.evaluate(x.astype(np.float32), y, sample_weight=w, verbose=0, return_dict=True)
    got = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    _assert_same_logs(got, expected)
    expected = keras_model.fit(x.astype(np.float32), y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    got = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    _assert_same_logs({k: np.stack(v) for k, v in got.items()}, {k: np.stack(v) for k, v in expected.items()})


@pytest.mark.parametrize(
    "make, y_true, y_pred",
    [
        (lambda m: m.Precision(), [0, 1, 1, 1], [1, 0, 1, 1]),
        (lambda m: m.Recall(thresholds=0.3), [0, 1, 1, 1], [0.2, 0.4, 0.9, 0.1]),
        (lambda m: m.AUC(num_thresholds=20), [0, 0, 1, 1], [0.1, 0.6, 0.4, 0.8]),
        (lambda m: m.Accuracy(), [[1], [2], [3], [4]], [[0], [2], [3], [4]]),
        (lambda m: m.BinaryAccuracy(), [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]),
        (lambda m: m.SparseCategoricalAccuracy(), [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]),
        (lambda m: m.CategoricalAccuracy(), [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]),
        (lambda m: m.MeanSquaredError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]]),
    ],
)
def test_metrics_take_python_lists_as_keras_s_do(make, y_true, y_pred):
    expected, got = make(keras.metrics), make(metrics)
    # a second batch with weights, but for AUC (xcnn's AUC takes no sample_weight): twice unweighted
    weights = None if isinstance(got, metrics.AUC) else [1.0] * (len(y_true) - 1) + [0.0]
    for metric in (expected, got):
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=weights)
    assert float(got.result()) == pytest.approx(float(expected.result()), rel=1e-6)


def test_a_list_goes_to_the_backend_of_the_arrays_given_with_it(backend):
    metric = metrics.Precision()
    metric.update_state(B.asarray(np.array([0, 1, 1, 1]), backend), [1.0, 0.0, 1.0, 1.0])
    assert metric.result() == pytest.approx(2 / 3)
    mean = metrics.Mean()
    mean.update_state([1, 3, 5, 7])
    assert mean.result() == pytest.approx(4.0)
    with pytest.raises(TypeError, match="takes arrays of numbers"):
        metrics.Precision().update_state(["a", "b"], [1.0, 0.0])
