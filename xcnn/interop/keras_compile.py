"""The compile settings of a Keras 3 ``.keras`` file (``config.json``'s ``"compile_config"``).

Keras writes ``{"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
"run_eagerly", "steps_per_execution", "jit_compile"}``: the optimizer as a serialized object
(``{"module", "class_name", "config", "registered_name"}``, a learning-rate schedule nested the
same way), losses and metrics as names or serialized objects. :func:`keras_compile_config` writes
that for xcnn's optimizers, schedules, losses and metrics; :func:`compile_from_keras_config`
compiles an xcnn model from it. What xcnn cannot mirror (another optimizer, a custom loss, a
Keras-only option set away from its default) is refused by name on load, as Keras refuses an
object it does not know (``load_model(path, compile=False)`` skips the compile settings); on save
such a model is written without compile settings, with a warning.

The optimizer's state (iterations, moments) is not written or read.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..optimizers import schedules as schedules_module

if TYPE_CHECKING:
    from ..models import Model

OPTIMIZERS = {
    cls.__name__: cls
    for cls in (
        optimizers_module.SGD,
        optimizers_module.RMSprop,
        optimizers_module.Adam,
        optimizers_module.AdamW,
        optimizers_module.Nadam,
        optimizers_module.Adamax,
        optimizers_module.Adagrad,
        optimizers_module.Adadelta,
    )
}
SCHEDULES = {cls.__name__: cls for cls in schedules_module.SCHEDULES.values()}
LOSSES = {cls.__name__: cls for cls in losses_module._CLASSES}
METRICS = {cls.__name__: cls for cls in metrics_module._CLASSES}

# Keras-only optimizer options and the values xcnn's update rules amount to
_OPTIMIZER_DEFAULTS = {"use_ema": False, "loss_scale_factor": None, "gradient_accumulation_steps": None}
_EMA_ONLY = ("ema_momentum", "ema_overwrite_frequency")  # read only with use_ema=True, which is refused
_OPTIMIZER_WRITTEN = {
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
# Keras-only loss options and the values xcnn's losses compute
_LOSS_DEFAULTS = {"reduction": "sum_over_batch_size", "axis": -1, "ignore_class": None}
# Keras-only metric options and the values xcnn's metrics compute
_METRIC_DEFAULTS = {"num_labels": None, "label_weights": None}
# the rest of compile_config: the values that mean nothing for xcnn's (eager, per-batch) loop
_COMPILE_IGNORED = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")


class Unmappable(ValueError):
    """A compile setting xcnn has no equivalent for (a `ValueError`, so callers may catch either).

    Examples:
        >>> from xcnn.interop.keras_compile import Unmappable
        >>> issubclass(Unmappable, ValueError)
        True
    """


def _serialized(module, class_name, config):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


# --- writing --------------------------------------------------------------------------------------


def _schedule_to_keras(schedule):
    name = type(schedule).__name__
    if SCHEDULES.get(name) is not type(schedule):
        raise Unmappable(f"the learning-rate schedule {schedule!r} (Keras has {sorted(SCHEDULES)})")
    config = schedule.get_config()
    config.pop("name")
    if name == "CosineDecay":
        config.setdefault("warmup_target", None)
        config.setdefault("warmup_steps", 0)
    return _serialized("keras.optimizers.schedules", name, {**config, "name": name})


def _optimizer_to_keras(optimizer):
    name = type(optimizer).__name__
    if OPTIMIZERS.get(name) is not type(optimizer):
        raise Unmappable(f"the optimizer {optimizer!r} (Keras files hold {sorted(OPTIMIZERS)})")
    config = optimizer.get_config()  # name and constructor arguments
    if optimizer.learning_rate_schedule is not None:
        config["learning_rate"] = _schedule_to_keras(optimizer.learning_rate_schedule)
    config.update(_OPTIMIZER_WRITTEN)
    return _serialized("keras.optimizers", name, config)


def _loss_to_keras(loss):
    name = type(loss).__name__
    if LOSSES.get(name) is not type(loss):
        raise Unmappable(f"the loss {loss!r} (Keras files hold {sorted(LOSSES)})")
    config = loss.get_config()  # {"name": Keras's function name, arguments...}
    return _serialized("keras.losses", name, {**config, "reduction": "sum_over_batch_size"})


def _function_to_keras(function):
    """A loss function given as a metric, as Keras writes one (it reads it back by name)."""
    return {"module": "builtins", "class_name": "function", "config": function.__name__, "registered_name": "function"}


def _metric_to_keras(metric):
    if isinstance(metric, str):
        return metric  # a Keras name ("accuracy", "mae", ...): compile checked it
    if isinstance(metric, type) and METRICS.get(metric.__name__) is metric:
        return metric.__name__
    if (
        type(metric) is metrics_module.MeanMetricWrapper
        and metric._fn in metrics_module._FUNCTIONS
        and not metric._kwargs
        and metric.name == metric._fn.__name__
    ):
        return metric.name  # an xcnn metric function: Keras has one of the same name
    if isinstance(metric, metrics_module.Metric) and METRICS.get(type(metric).__name__) is type(metric):
        config = metric.get_config()
        config["dtype"] = config.get("dtype") or "float32"
        return _serialized("keras.metrics", type(metric).__name__, config)
    if metric in metrics_module._FUNCTIONS:
        return metric.__name__
    loss_function = metric._fn if type(metric) is metrics_module.MeanMetricWrapper and not metric._kwargs else metric
    if loss_function in metrics_module._LOSS_FUNCTIONS and getattr(metric, "name", loss_function.__name__) == (
        loss_function.__name__
    ):
        return _function_to_keras(loss_function)
    raise Unmappable(f"the metric {metric!r} (Keras files hold names and {sorted(METRICS)})")


def keras_compile_config(model: Model) -> dict[str, Any] | None:
    """The model's compile settings as Keras's ``compile_config``, or ``None`` when the model is
    not compiled or compiled with something Keras cannot rebuild (then with a warning naming it).

    Args:
        model: An xcnn model.

    Returns:
        The dict Keras writes as ``"compile_config"`` in a ``.keras`` file's config.json, or `None`.

    Examples:
        >>> from xcnn.interop.keras_compile import keras_compile_config
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((3,)), Dense(2)])
        >>> keras_compile_config(model) is None  # not compiled
        True
        >>> model.compile("adam", "mse", ["mae"])
        >>> config = keras_compile_config(model)
        >>> config["optimizer"]["class_name"], config["loss"]["class_name"], config["metrics"]
        ('Adam', 'MeanSquaredError', ['mae'])
    """
    if model.optimizer is None or model.loss is None:
        return None
    try:
        return {
            "optimizer": _optimizer_to_keras(model.optimizer),
            "loss": _loss_to_keras(model.loss),
            "loss_weights": None,
            "metrics": [_metric_to_keras(m) for m in model.metrics] or None,
            "weighted_metrics": [_metric_to_keras(m) for m in model.weighted_metrics] or None,
            "run_eagerly": False,
            "steps_per_execution": 1,
            "jit_compile": False,
        }
    except Unmappable as exc:
        warnings.warn(
            f"the .keras file is written without its compile settings (it loads uncompiled): "
            f"{exc} has no Keras equivalent",
            stacklevel=4,
        )
        return None


# --- reading ----------------------------------------------------------------------------------------


def _object_parts(value, kind, known, where):
    """``(class_name, config)`` of a serialized Keras object, checked against ``known``."""
    if not isinstance(value, dict) or "class_name" not in value:
        raise Unmappable(f"{where}: its {kind} {value!r} is not a serialized Keras object")
    class_name = value["class_name"]
    if class_name not in known or value.get("registered_name") not in (None, class_name):
        raise Unmappable(
            f"{where}: xcnn has no {kind} {value.get('registered_name') or class_name!r} (it reads {sorted(known)})"
        )
    return class_name, dict(value.get("config") or {})


def _take_defaults(config, defaults, kind, where):
    """Remove Keras-only options from ``config``, refusing any set away from what xcnn computes."""
    for key, expected in defaults.items():
        if key in config:
            value = config.pop(key)
            if value != expected:
                raise Unmappable(
                    f"{where}: its {kind} sets {key}={value!r}, which xcnn does not support (only {expected!r})"
                )


def _construct(cls, config, kind, where):
    code = cls.__init__.__code__
    accepted = code.co_varnames[1 : code.co_argcount]
    unknown = sorted(set(config) - set(accepted))
    if unknown:
        raise Unmappable(
            f"{where}: its {kind} {cls.__name__} has options {unknown} that xcnn's does not (it takes {list(accepted)})"
        )
    try:
        return cls(**config)
    except (TypeError, ValueError) as exc:
        raise Unmappable(f"{where}: its {kind} {cls.__name__}: {exc}") from None


def _schedule_from_keras(value, where):
    class_name, config = _object_parts(value, "learning-rate schedule", SCHEDULES, where)
    config.pop("name", None)
    return _construct(SCHEDULES[class_name], config, "learning-rate schedule", where)


def _optimizer_from_keras(value, where):
    if isinstance(value, str):
        match = {name.lower(): cls for name, cls in OPTIMIZERS.items()}.get(value.lower())
        if match is None:
            raise Unmappable(f"{where}: xcnn has no optimizer {value!r} (it reads {sorted(OPTIMIZERS)})")
        return match()
    class_name, config = _object_parts(value, "optimizer", OPTIMIZERS, where)
    config.pop("name", None)
    _take_defaults(config, _OPTIMIZER_DEFAULTS, "optimizer", where)
    for key in _EMA_ONLY:
        config.pop(key, None)
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = _schedule_from_keras(config["learning_rate"], where)
    return _construct(OPTIMIZERS[class_name], config, "optimizer", where)


def _loss_from_keras(value, where):
    if isinstance(value, str):
        if value not in losses_module._REGISTRY:
            raise Unmappable(f"{where}: xcnn has no loss {value!r} (it reads {list(losses_module.NAMES)})")
        return losses_module.get(value)
    if isinstance(value, (list, dict)) and not (isinstance(value, dict) and "class_name" in value):
        raise Unmappable(f"{where}: its loss {value!r} is one per output (xcnn models have one output)")
    class_name, config = _object_parts(value, "loss", LOSSES, where)
    config.pop("name", None)
    code = LOSSES[class_name].__init__.__code__  # an option the xcnn loss takes (axis) is passed on
    taken = code.co_varnames[1 : code.co_argcount]
    _take_defaults(config, {k: v for k, v in _LOSS_DEFAULTS.items() if k not in taken}, "loss", where)
    if config.pop("dtype", None) not in (None, "float32", "float64"):  # xcnn computes in the model's dtype
        raise Unmappable(f"{where}: its loss computes in a dtype other than float32 or float64")
    return _construct(LOSSES[class_name], config, "loss", where)


def _metric_from_keras(value, where):
    if isinstance(value, str):
        if value not in metrics_module.NAMES:
            raise Unmappable(f"{where}: xcnn has no metric {value!r} (it reads {list(metrics_module.NAMES)})")
        return value
    if isinstance(value, list):
        raise Unmappable(f"{where}: its metrics {value!r} are one list per output (xcnn models have one output)")
    if isinstance(value, dict) and value.get("class_name") == "function":  # a metric function, by name
        functions = {fn.__name__: fn for fn in (*metrics_module._FUNCTIONS, *metrics_module._LOSS_FUNCTIONS)}
        if value.get("config") not in functions:
            raise Unmappable(
                f"{where}: xcnn has no metric function {value.get('config')!r} (it reads {sorted(functions)})"
            )
        return functions[value["config"]]
    class_name, config = _object_parts(value, "metric", METRICS, where)
    _take_defaults(config, _METRIC_DEFAULTS, "metric", where)
    return _construct(METRICS[class_name], config, "metric", where)


def _metrics_from_keras(value, where):
    if value is None:
        return None
    if isinstance(value, dict):
        raise Unmappable(f"{where}: its metrics {value!r} are one list per output (xcnn models have one output)")
    return [_metric_from_keras(m, where) for m in value]


def compile_from_keras_config(model: Model, config: dict[str, Any], where: str = "the Keras model") -> None:
    """Compile ``model`` as Keras's ``compile_config`` says; :class:`Unmappable` (a ValueError)
    names the first setting xcnn cannot mirror, before the model is changed.

    Args:
        model: The xcnn model to compile.
        config: Keras's ``compile_config`` (as `keras_compile_config` writes it).
        where: The file or model, for the error message.

    Raises:
        Unmappable: If a setting (optimizer, loss, metric, or an option of theirs) has no xcnn
            equivalent.

    Examples:
        >>> from xcnn.interop.keras_compile import compile_from_keras_config, keras_compile_config
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> saved = Sequential([Input((3,)), Dense(2)])
        >>> saved.compile("adam", "mse", ["mae"])
        >>> model = Sequential([Input((3,)), Dense(2)])
        >>> compile_from_keras_config(model, keras_compile_config(saved))  # a round trip
        >>> type(model.optimizer).__name__, model.optimizer.learning_rate, model.metrics
        ('Adam', 0.001, ['mae'])
        >>> compile_from_keras_config(model, {"optimizer": "lion", "loss": "mse"}, "model.keras")
        Traceback (most recent call last):
        ...
        xcnn.interop.keras_compile.Unmappable: model.keras: xcnn has no optimizer 'lion' (it reads [...]); ...
    """
    try:
        _compile_from_keras_config(model, config, where)
    except Unmappable as exc:
        raise Unmappable(f"{exc}; load the file with compile=False and compile the model yourself") from None


def _compile_from_keras_config(model, config, where):
    known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", *_COMPILE_IGNORED}
    unknown = sorted(set(config) - known)
    if unknown:
        raise Unmappable(f"{where}: its compile settings {unknown} are not ones xcnn reads ({sorted(known)})")
    loss_weights = config.get("loss_weights")
    if loss_weights not in (None, 1.0, [1.0]):
        raise Unmappable(
            f"{where}: its loss_weights {loss_weights!r} scale the loss, which xcnn does not support (only None)"
        )
    optimizer = _optimizer_from_keras(config.get("optimizer", "rmsprop"), where)
    if config.get("loss") is None:
        raise Unmappable(f"{where}: its compile settings have no loss (xcnn models are compiled with one)")
    loss = _loss_from_keras(config["loss"], where)
    metrics = _metrics_from_keras(config.get("metrics"), where)
    weighted_metrics = _metrics_from_keras(config.get("weighted_metrics"), where)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics)
