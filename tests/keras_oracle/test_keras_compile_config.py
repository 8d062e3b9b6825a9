"""The compile settings in Keras 3 `.keras` files, against Keras itself (torch backend): a
Keras-saved compiled model loads compiled in xcnn with the same optimizer, loss and metrics and
evaluates the same; an xcnn-saved compiled model loads compiled in Keras with the same
settings; settings xcnn cannot mirror are refused by name (or, on save, left out with a warning)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

import xcnn
from xcnn import losses, metrics, optimizers
from xcnn.layers import Conv2D, Dense, Flatten, Input
from xcnn.models import Sequential
from xcnn.optimizers import schedules

N, CLASSES = 12, 4
KO, KS = keras.optimizers, keras.optimizers.schedules

# (Keras optimizer, the xcnn optimizer with the same settings); hyper-parameters away from the defaults
OPTIMIZERS = {
    "adam_exponential_clipnorm": (
        lambda: KO.Adam(KS.ExponentialDecay(0.01, 10, 0.9, staircase=True), beta_1=0.8, epsilon=1e-6, clipnorm=1.0),
        lambda: optimizers.Adam(
            schedules.ExponentialDecay(0.01, 10, 0.9, staircase=True), beta_1=0.8, epsilon=1e-6, clipnorm=1.0
        ),
    ),
    "sgd_nesterov_clipvalue": (
        lambda: KO.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
        lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
    ),
    "rmsprop_centered_global_clipnorm": (
        lambda: KO.RMSprop(0.002, rho=0.8, momentum=0.1, epsilon=1e-5, centered=True, global_clipnorm=2.0),
        lambda: optimizers.RMSprop(0.002, rho=0.8, momentum=0.1, epsilon=1e-5, centered=True, global_clipnorm=2.0),
    ),
    "adamw_cosine_warmup": (
        lambda: KO.AdamW(KS.CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.01, warmup_steps=5), weight_decay=0.01),
        lambda: optimizers.AdamW(
            schedules.CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.01, warmup_steps=5), weight_decay=0.01
        ),
    ),
    "adam_amsgrad": (
        lambda: KO.Adam(0.01, amsgrad=True, beta_2=0.99),
        lambda: optimizers.Adam(0.01, amsgrad=True, beta_2=0.99),
    ),
    "adamw_amsgrad_clipvalue": (
        lambda: KO.AdamW(0.005, weight_decay=0.02, amsgrad=True, clipvalue=0.5),
        lambda: optimizers.AdamW(0.005, weight_decay=0.02, amsgrad=True, clipvalue=0.5),
    ),
    "nadam_weight_decay": (
        lambda: KO.Nadam(0.003, beta_2=0.99, weight_decay=0.001),
        lambda: optimizers.Nadam(0.003, beta_2=0.99, weight_decay=0.001),
    ),
    "adamax_inverse_time": (
        lambda: KO.Adamax(KS.InverseTimeDecay(0.01, 20, 0.5)),
        lambda: optimizers.Adamax(schedules.InverseTimeDecay(0.01, 20, 0.5)),
    ),
    "adagrad_polynomial": (
        lambda: KO.Adagrad(
            KS.PolynomialDecay(0.1, 50, end_learning_rate=0.01, power=2.0, cycle=True), initial_accumulator_value=0.2
        ),
        lambda: optimizers.Adagrad(
            schedules.PolynomialDecay(0.1, 50, end_learning_rate=0.01, power=2.0, cycle=True),
            initial_accumulator_value=0.2,
        ),
    ),
    "adadelta_piecewise": (
        lambda: KO.Adadelta(KS.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), rho=0.9),
        lambda: optimizers.Adadelta(schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), rho=0.9),
    ),
}

# (output units, output activation, Keras loss, Keras metrics, xcnn loss, xcnn metrics, labels kind)
LOSSES = {
    "sparse_with_top_k": (
        CLASSES,
        "softmax",
        "sparse_categorical_crossentropy",
        ["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
        "sparse_categorical_crossentropy",
        ["accuracy", metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
        "sparse",
    ),
    "smoothed_categorical": (
        CLASSES,
        "softmax",
        keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        [keras.metrics.CategoricalAccuracy(), "mae"],
        losses.CategoricalCrossentropy(label_smoothing=0.1),
        [metrics.CategoricalAccuracy(), "mae"],
        "onehot",
    ),
    "binary_from_logits_auc": (
        1,
        None,
        keras.losses.BinaryCrossentropy(from_logits=True),
        ["accuracy", keras.metrics.AUC(num_thresholds=50, from_logits=True)],
        losses.BinaryCrossentropy(from_logits=True),
        ["accuracy", metrics.AUC(num_thresholds=50, from_logits=True)],
        "binary",
    ),
    "mse_mae": (
        CLASSES,
        None,
        "mse",
        [keras.metrics.MeanAbsoluteError()],
        "mse",
        [metrics.MeanAbsoluteError()],
        "onehot",
    ),
    "huber_mse": (CLASSES, "softmax", keras.losses.Huber(), ["mse"], losses.Huber(), ["mse"], "onehot"),
    "kl_divergence": (CLASSES, "softmax", keras.losses.KLDivergence(), [], losses.KLDivergence(), [], "onehot"),
    "categorical_focal_f_scores": (
        CLASSES,
        "softmax",
        keras.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.5, label_smoothing=0.1),
        [
            keras.metrics.F1Score(average="macro"),
            keras.metrics.FBetaScore(beta=2.0, name="fb"),  # average=None: one score per class
            "categorical_crossentropy",
            keras.metrics.log_cosh,
            keras.metrics.CategoricalCrossentropy(label_smoothing=0.1, name="cce"),
        ],
        losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.5, label_smoothing=0.1),
        [
            metrics.F1Score(average="macro"),
            metrics.FBetaScore(beta=2.0, name="fb"),
            "categorical_crossentropy",
            metrics.log_cosh,
            metrics.CategoricalCrossentropy(label_smoothing=0.1, name="cce"),
        ],
        "onehot",
    ),
    "binary_focal_counts": (
        1,
        None,
        keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True),
        [
            keras.metrics.TruePositives(name="tp"),
            keras.metrics.FalseNegatives(thresholds=[0.3, 0.6], name="fn"),
            keras.metrics.BinaryCrossentropy(from_logits=True, name="bce"),
            "r2_score",
        ],
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, from_logits=True),
        [
            metrics.TruePositives(name="tp"),
            metrics.FalseNegatives(thresholds=[0.3, 0.6], name="fn"),
            metrics.BinaryCrossentropy(from_logits=True, name="bce"),
            "r2_score",
        ],
        "binary",
    ),
    "poisson_cosine_hinges": (
        CLASSES,
        "softmax",
        keras.losses.Poisson(),
        [keras.metrics.CosineSimilarity(name="cos"), "poisson", keras.metrics.CategoricalHinge(), "kl_divergence"],
        losses.Poisson(),
        [metrics.CosineSimilarity(name="cos"), "poisson", metrics.CategoricalHinge(), "kl_divergence"],
        "onehot",
    ),
    "cosine_categorical_hinge": (
        CLASSES,
        None,
        keras.losses.CosineSimilarity(),
        [keras.metrics.huber, "squared_hinge", keras.metrics.Hinge(), "log_cosh_error"],
        losses.CosineSimilarity(),
        [metrics.huber, "squared_hinge", metrics.Hinge(), "log_cosh_error"],
        "onehot",
    ),
    "categorical_hinge": (
        CLASSES,
        None,
        "categorical_hinge",
        ["true_negatives"],
        "categorical_hinge",
        ["true_negatives"],
        "onehot",
    ),
}

# each optimizer with one loss, each loss with one optimizer (not every pair: keeps the run short)
CASES = [(name, "sparse_with_top_k") for name in OPTIMIZERS] + [
    ("adam_exponential_clipnorm", name) for name in LOSSES if name != "sparse_with_top_k"
]


def _data(kind, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(N, 6, 6, 1)).astype("float32")
    labels = rng.integers(0, CLASSES if kind != "binary" else 2, size=N)
    if kind == "sparse":
        return x, labels
    if kind == "binary":
        return x, labels[:, None].astype("float32")
    return x, np.eye(CLASSES, dtype="float32")[labels]


def _keras_model(units, activation):
    return keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(3, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(units, activation=activation),
        ]
    )


def _xcnn_model(units, activation):
    return Sequential(
        [Input((6, 6, 1)), Conv2D(3, 3, activation="relu"), Flatten(), Dense(units, activation=activation)],
        backend="numpy",
    )


def _keras_hyper_parameters(optimizer):
    """The Keras optimizer's settings in xcnn's terms (its schedule as xcnn's config)."""
    config = optimizer.get_config()
    out = {k: config[k] for k in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")}
    learning_rate = config["learning_rate"]
    if isinstance(learning_rate, dict):
        schedule = {k: v for k, v in learning_rate["config"].items() if k != "name"}
        out["learning_rate"] = (learning_rate["class_name"], schedule)
    else:
        out["learning_rate"] = learning_rate
    for key in ("momentum", "nesterov", "rho", "centered", "beta_1", "beta_2", "epsilon", "initial_accumulator_value"):
        if key in config:
            out[key] = config[key]
    return out


def _xcnn_hyper_parameters(optimizer, keys):
    out = {k: getattr(optimizer, k) for k in keys if k != "learning_rate"}
    rate = optimizer.learning_rate_schedule or optimizer.learning_rate
    if isinstance(rate, schedules.LearningRateSchedule):
        config = {k: v for k, v in rate.get_config().items() if k != "name"}
        if type(rate).__name__ == "CosineDecay":
            config.setdefault("warmup_target", None)
            config.setdefault("warmup_steps", 0)
        out["learning_rate"] = (type(rate).__name__, config)
    else:
        out["learning_rate"] = rate
    return out


def _assert_same_optimizer(koptimizer, optimizer):
    assert type(koptimizer).__name__ == type(optimizer).__name__
    expected = _keras_hyper_parameters(koptimizer)
    got = _xcnn_hyper_parameters(optimizer, expected)
    if not isinstance(expected["learning_rate"], tuple):
        # Keras keeps a constant rate in a float32 variable: 0.05 reads back as 0.0500000007
        assert got.pop("learning_rate") == pytest.approx(expected.pop("learning_rate"), rel=1e-6)
    assert got == expected


def _assert_same_loss(kloss, loss):
    if isinstance(kloss, str):
        assert loss.get_config() == losses.get(kloss).get_config()
        return
    assert type(kloss).__name__ == type(loss).__name__
    kconfig = kloss.get_config()
    for key, value in loss.get_config().items():
        if key in kconfig and key != "name":
            assert kconfig[key] == value, key


def _evaluate_both(kmodel, model, kind):
    x, y = _data(kind, seed=1)
    expected = kmodel.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    got = model.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("optimizer, loss", CASES)
def test_keras_saved_compiled_model_loads_compiled_in_xcnn(tmp_path, optimizer, loss):
    units, activation, kloss, kmetrics, _, _, kind = LOSSES[loss]
    kmodel = _keras_model(units, activation)
    kmodel.compile(optimizer=OPTIMIZERS[optimizer][0](), loss=kloss, metrics=kmetrics)
    kmodel.fit(*_data(kind), epochs=1, batch_size=N, verbose=0)  # a trained model, as ModelCheckpoint saves it
    path = tmp_path / "m.keras"
    kmodel.save(path)
    model = xcnn.load_model(path, backend="numpy")
    assert model.optimizer is not None
    _assert_same_optimizer(kmodel.optimizer, model.optimizer)
    assert model.optimizer.iterations == 0  # the optimizer's state is not read
    _assert_same_loss(kloss, model.loss)
    _evaluate_both(kmodel, model, kind)


@pytest.mark.parametrize("optimizer, loss", CASES)
def test_xcnn_saved_compiled_model_loads_compiled_in_keras(tmp_path, optimizer, loss):
    units, activation, _, _, xloss, xmetrics, kind = LOSSES[loss]
    model = _xcnn_model(units, activation)
    model.compile(optimizer=OPTIMIZERS[optimizer][1](), loss=xloss, metrics=xmetrics)
    model.fit(*_data(kind), epochs=1, batch_size=N, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    kmodel = keras.saving.load_model(path)
    assert kmodel.compiled
    _assert_same_optimizer(kmodel.optimizer, model.optimizer)
    _assert_same_loss(kmodel.loss, model.loss)
    _evaluate_both(kmodel, model, kind)
    again = xcnn.load_model(path, backend="numpy")  # and back into xcnn
    _assert_same_optimizer(kmodel.optimizer, again.optimizer)
    _evaluate_both(kmodel, again, kind)


def _keras_saved(tmp_path, **compile_args):
    kmodel = _keras_model(CLASSES, "softmax")
    kmodel.compile(**{"loss": "categorical_crossentropy", **compile_args})
    path = tmp_path / "m.keras"
    kmodel.save(path)
    return path


@pytest.mark.parametrize(
    "compile_args, message",
    [
        ({"optimizer": KO.Lion()}, "no optimizer 'Lion'"),
        ({"optimizer": KO.Adam(use_ema=True)}, "use_ema=True"),
        ({"optimizer": KO.Adam(KS.CosineDecayRestarts(0.01, 10))}, "no learning-rate schedule 'CosineDecayRestarts'"),
        ({"optimizer": "adam", "loss": keras.losses.Tversky()}, "no loss 'Tversky'"),
        ({"optimizer": "adam", "loss": keras.losses.SparseCategoricalCrossentropy(ignore_class=1)}, "ignore_class=1"),
        ({"optimizer": "adam", "loss": keras.losses.CategoricalCrossentropy(reduction="sum")}, "reduction='sum'"),
        ({"optimizer": "adam", "metrics": [keras.metrics.MeanIoU(num_classes=2)]}, "no metric 'MeanIoU'"),
        ({"optimizer": "adam", "loss_weights": 2.0}, "loss_weights 2.0"),
    ],
)
def test_keras_compile_settings_xcnn_cannot_mirror_are_refused(tmp_path, compile_args, message):
    path = _keras_saved(tmp_path, **compile_args)
    with pytest.raises(ValueError, match="compile=False") as info:
        xcnn.load_model(path, backend="numpy")
    assert message in str(info.value) and str(path) in str(info.value)
    model = xcnn.load_model(path, backend="numpy", compile=False)  # the architecture and weights still load
    assert model.optimizer is None


def test_xcnn_settings_keras_cannot_rebuild_are_left_out_with_a_warning(tmp_path):
    def half_error(y_true, y_pred):
        return 0.5 * ((y_true - y_pred) ** 2).sum(axis=-1)

    model = _xcnn_model(CLASSES, "softmax")
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=[half_error])
    path = tmp_path / "m.keras"
    with pytest.warns(UserWarning, match="without its compile settings.*half_error"):
        model.save(path)
    assert xcnn.load_model(path, backend="numpy").optimizer is None
    assert not keras.saving.load_model(path).compiled


def test_uncompiled_model_has_no_compile_config(tmp_path):
    import json
    import zipfile

    path = tmp_path / "m.keras"
    _xcnn_model(CLASSES, "softmax").save(path)
    assert "compile_config" not in json.loads(zipfile.ZipFile(path).read("config.json"))
    assert xcnn.load_model(path, backend="numpy").optimizer is None
