"""The `Model`: a graph of layers with its weights, optimizer and loss.

How it trains is in `xcnn.models.trainer`, how it prints in `xcnn.models.summary`, how it is
stored in `xcnn.models.saving`.
"""

from __future__ import annotations

import collections
import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend as B
from .. import config
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .. import utils
from ..activations import is_named
from .._checks import whole_number
from .._typing import Array, Device
from ..distribution import chief_writes
from ..layers import Input, InputLayer, Layer, SymbolicTensor
from ..layers.layer import FOLLOWS_THE_MODEL, _auto_name, _shape
from ..layers.variable import Variable
from .graph import _topological, _work_saving_rewrites
from .trainer import Trainer

FORMAT_VERSION = 1


class Model(Trainer):
    """A network from `inputs` (`Input(...)`) to `outputs` (a layer's output): the functional API.

    Args:
        inputs: The model's input, the result of `xcnn.layers.Input(shape)` (one input).
        outputs: The output of the last layer, computed from `inputs` alone (one output).
        backend: A name from `xcnn.backend` (default: the global default).
        dtype: `"float32"` or `"float64"`: the weights' and computations' dtype (default:
            `xcnn.config.floatx()`, `"float32"` unless `set_floatx` changed it).
        seed: Seeds the initial weights (the same on every backend) and the per-step random
            numbers (dropout, shuffling); default: a fresh seed per model.
        name: The model's name (default: `"functional"`, or `"sequential"`, numbered from the
            second on as Keras numbers them: `"functional_1"`, ...).
        device: Where on that backend the weights, data batches and random draws live, in the
            backend's own terms (`"cuda:0"` for torch, a device id for cupy, see
            `xcnn.backend.device_of`); default: the backend's default device.

    Raises:
        ValueError: If `dtype` is not float32 or float64, the backend or device is not available,
            `outputs` is not computed from `inputs` alone, or a layer already holds weights of
            another dtype or backend.
        TypeError: If `inputs` is not an `Input(...)` or `outputs` not a layer's output.

    Examples:
        >>> from xcnn.layers import Conv2D, Dense, Flatten, Input
        >>> from xcnn.models import Model
        >>> x = Input((8, 8, 1))
        >>> y = Dense(3, activation="softmax")(Flatten()(Conv2D(2, 3)(x)))
        >>> model = Model(x, y, seed=0)
        >>> model.output_shape, model.count_params()
        ((None, 3), 239)
    """

    _sequential = False  # Sequential models print and save slightly differently

    def __init__(
        self,
        inputs: SymbolicTensor | None = None,
        outputs: SymbolicTensor | None = None,
        *,
        backend: str | None = None,
        dtype: str | None = None,
        seed: int | None = None,
        name: str | None = None,
        device: Device | None = None,
    ) -> None:
        dtype = dtype or config.floatx()
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        # unique per process as Keras's (sequential, sequential_1, ...; clear_session restarts them)
        self.name = name or _auto_name(
            "Sequential" if self._sequential else type(self).__name__ if self._traces_call() else "Functional"
        )
        self.backend = backend or B.get_backend()
        B.namespace(self.backend)  # fails early with a clear message if unavailable
        self.device = B.device_of(self.backend, device)
        self.dtype = dtype
        self.seed = whole_number(seed, "seed", minimum=0) if seed is not None else utils.next_model_seed()
        self._layers = []  # non-input layers in topological order
        self._rewrites = {}  # see _work_saving_rewrites
        self._input = self._output = None
        self.optimizer = self.loss = None
        self.metrics = []
        self.weighted_metrics = []
        self._metric_objects = None
        self.stop_training = False
        self.history = None
        self._step_rng = B.rng(self.backend, self.seed + 1, self.device)
        self._init_rng = np.random.default_rng(self.seed)  # initial weights, drawn on the host
        self._host_rng = np.random.default_rng(self.seed + 2)  # shuffles data too large for the device
        if inputs is not None or outputs is not None:
            self._set_graph(inputs, outputs)

    # --- graph ------------------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        inputs = inputs[0] if isinstance(inputs, (list, tuple)) and len(inputs) == 1 else inputs
        outputs = outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs
        if not isinstance(inputs, SymbolicTensor) or not isinstance(inputs.layer, InputLayer):
            raise TypeError("inputs must be the result of xcnn.layers.Input(shape) (one input)")
        if not isinstance(outputs, SymbolicTensor):
            raise TypeError("outputs must be the output of a layer (one output)")
        order = _topological(outputs)
        sources = [layer for layer in order if isinstance(layer, InputLayer)]
        if sources != [inputs.layer]:
            raise ValueError("outputs must be computed from the given inputs alone")
        names = collections.Counter(layer.name for layer in order)
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise ValueError(
                f"layer names must be unique in a model (its file keys the weights by them): {twice[0]!r} "
                "names more than one layer; pass each a name of its own"
            )
        self._input, self._output = inputs, outputs
        self._layers = [layer for layer in order if not isinstance(layer, InputLayer)]
        for layer in self._layers:
            if not layer.built:
                layer.device = self.device  # (not an argument: layers that override build keep working)
                layer.build(self.backend, self.dtype, self._init_rng)
            elif layer.dtype != self.dtype:
                # models that share a layer share its weights, which have one dtype
                raise ValueError(
                    f"layer {layer.name} already holds {layer.dtype} weights for another model; "
                    f"a {self.dtype} model needs its own layers (build the graph again)"
                )
        self._use_step_rng(self._step_rng)
        self._rewrites = _work_saving_rewrites(self._layers, self._output)

    def _use_step_rng(self, rng):
        """Draw per-step random numbers (dropout, rrelu, shuffles) from ``rng``."""
        self._step_rng = rng
        for layer in self._layers:
            # a layer given seed= (Dropout, RandomFlip) restarts its own stream instead, on the
            # step stream's backend and device (a host stream would put its draws on the CPU)
            seed = getattr(layer, "seed", None)
            layer.rng = rng if seed is None else B.rng(rng.backend, seed, rng.device)

    @property
    def built(self) -> bool:
        """Whether the model has its graph (and so its weights).

        A `Sequential` model without an `Input` or `input_shape=` is built by its first data.

        Examples:
            >>> from xcnn.layers import Dense
            >>> from xcnn.models import Sequential
            >>> Sequential([Dense(2)]).built
            False
        """
        return self._output is not None

    @property
    def layers(self) -> list[Layer]:
        """The layers in order; a functional model lists its `InputLayer` first, as Keras 3 does (a `Sequential` model does not).

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> [layer.name for layer in model.layers]
            ['out']
        """
        if self._sequential or self._input is None:
            return list(self._layers)
        return [self._input.layer, *self._layers]

    @property
    def trainable(self) -> bool:
        """Whether every layer is trainable; `model.trainable = False` freezes every layer (as Keras does).

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.trainable = False
            >>> model.layers[0].trainable, model.trainable
            (False, False)
        """
        return all(layer.trainable for layer in self._layers)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """`model.trainable = False` freezes every layer (as Keras does)."""
        for layer in self._layers:
            layer.trainable = bool(value)

    def __repr__(self):
        kind = "Functional" if type(self) is Model else type(self).__name__
        return f"<{kind} name={self.name}, built={self.built}>"

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        """The input shape with `None` for the batch axis, or `None` before the model is built.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.input_shape
            (None, 3)
        """
        return None if self._input is None else self._input.shape

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        """The output shape with `None` for the batch axis, or `None` before the model is built.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.output_shape
            (None, 2)
        """
        return None if self._output is None else self._output.shape

    @property
    def input(self) -> SymbolicTensor:
        """The model's input tensor (from `Input`), to build another model on its graph.

        Keras's feature-extractor idiom: `Model(model.input, model.get_layer(name).output)`
        shares the layers, and so the weights, of `model`.

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Model, Sequential
            >>> model = Sequential([Input((3,)), Dense(4, name="hidden"), Dense(2)], seed=0)
            >>> Model(model.input, model.get_layer("hidden").output).output_shape
            (None, 4)
        """
        self._ensure_built()
        return self._input

    @property
    def output(self) -> SymbolicTensor:
        """The model's output tensor, as Keras's `model.output`.

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> Sequential([Input((3,)), Dense(2)]).output.shape
            (None, 2)
        """
        self._ensure_built()
        return self._output

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """`[model.input]`: Keras's list of input tensors (xcnn models have one).

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> [t.shape for t in Sequential([Input((3,)), Dense(2)]).inputs]
            [(None, 3)]
        """
        return [self.input]

    @property
    def outputs(self) -> list[SymbolicTensor]:
        """`[model.output]`: Keras's list of output tensors (xcnn models have one).

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> [t.shape for t in Sequential([Input((3,)), Dense(2)]).outputs]
            [(None, 2)]
        """
        return [self.output]

    def _ensure_built(self):
        if not self.built:
            raise ValueError(f"model {self.name} has no inputs yet; give the first layer input_shape=...")

    # --- subclassed models -------------------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """The model's forward, as Keras's `Model.call`: override it in a subclass.

        A subclass that creates its layers in `__init__` and applies them in `call` (Keras's
        subclassing API) gets its graph from one symbolic run of `call` on an `Input` of the
        first data's shape (or `build(input_shape)`'s): xcnn computes every gradient itself,
        layer by layer, so `call` must compute its output with xcnn layers only (arithmetic on
        tensors as `layers.Add`, `layers.Multiply`, ...; each layer object applied once), and
        the result trains, saves and loads as the equivalent functional model. On the base
        class, `call` runs the model's graph on arrays, as `model(inputs, training)`.

        Args:
            inputs: A batch of arrays (or, while it is traced, the symbolic input).
            training: Run in training mode (dropout, augmentation, batch statistics).

        Returns:
            The output batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn import layers
            >>> from xcnn.models import Model
            >>> class TwoLayers(Model):
            ...     def __init__(self):
            ...         super().__init__(seed=0)
            ...         self.hidden = layers.Dense(4, activation="relu")
            ...         self.out = layers.Dense(2, activation="softmax")
            ...     def call(self, inputs, training=None):
            ...         return self.out(self.hidden(inputs))
            >>> model = TwoLayers()
            >>> model.predict(np.ones((3, 5)), verbose=0).shape, model.count_params()
            ((3, 2), 34)
        """
        return self(inputs, bool(training))

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Build the model for inputs of `input_shape`, batch axis first, as Keras's `build`.

        A `Sequential` without an `Input` and a subclassed model (see `call`) get their graph
        and weights here instead of at the first data; a built model keeps its own.

        Args:
            input_shape: `(None, *sample_shape)` (the batch size is not used).

        Raises:
            ValueError: If the shape is empty, or a built model's input differs.

        Examples:
            >>> from xcnn.layers import Dense
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Dense(2)])
            >>> model.build((None, 5))
            >>> model.count_params()
            12
        """
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ValueError(f"input_shape must be (batch, *sample_shape), e.g. (None, 28, 28, 1), got {shape}")
        sample = _shape(shape[1:], "input_shape[1:]")
        if self.built:
            if sample != self._input.item_shape:
                raise ValueError(f"model {self.name} is built for inputs {self.input_shape}, got {shape}")
            return
        if self._sequential:
            self._build_from_shape(sample)  # type: ignore[attr-defined]  # Sequential's
        elif self._traces_call():
            self._build_by_tracing(sample)
        else:
            self._ensure_built()

    def _traces_call(self) -> bool:
        """Whether this is a subclass with a `call` of its own (Keras's subclassing API)."""
        return not self._sequential and type(self).call is not Model.call

    def _build_by_tracing(self, sample_shape):
        inputs = Input(sample_shape)
        takes_training = "training" in inspect.signature(self.call).parameters
        try:
            outputs = self.call(inputs, training=FOLLOWS_THE_MODEL) if takes_training else self.call(inputs)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"model {self.name}: xcnn runs call() once on a symbolic Input to get the graph, so it must "
                "compute its output with xcnn layers, each applied once (tensor arithmetic as layers.Add, "
                f"layers.Multiply, ...): {exc}"
            ) from exc
        if not isinstance(outputs, SymbolicTensor):
            raise TypeError(f"model {self.name}: call() must return a layer's output, got {type(outputs).__name__}")
        self._set_graph(inputs, outputs)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name`, or the one at `index` in `layers`.

        Args:
            name: A layer's name.
            index: A position in `layers` (used when given).

        Returns:
            The layer.

        Raises:
            ValueError: If no layer has that name.
            IndexError: If `index` is out of range.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> type(model.get_layer("out")).__name__
            'Dense'
            >>> model.get_layer(index=0).name
            'out'
        """
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers: {[layer.name for layer in self.layers]}")

    # --- weights ----------------------------------------------------------------------------
    def count_params(self) -> int:
        """The number of weights of all layers, trainable or not.

        Returns:
            The total.

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.count_params()
            8
        """
        self._ensure_built()
        return sum(layer.count_params() for layer in self._layers)

    def _weight_dicts(self):
        for layer in self._layers:
            yield layer, "params", layer.params
            yield layer, "state", layer.state

    def get_weights(self) -> list[np.ndarray]:
        """All weights as host NumPy arrays, layer by layer, in Keras's order and layouts.

        See `Layer.get_weights`: a Keras model's `get_weights()` sets an xcnn twin unchanged.

        Returns:
            One NumPy array per weight.

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> [w.shape for w in model.get_weights()]
            [(3, 2), (2,)]
        """
        self._ensure_built()
        return [w for layer in self._layers for w in layer.get_weights()]

    @property
    def weights(self) -> list[Variable]:
        """Every weight as a `Variable` (Keras's layout), layer by layer, in `get_weights`'s order.

        Empty until the model is built, as in Keras.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, name="out")])
            >>> [w.path for w in model.weights]
            ['out/kernel', 'out/bias']
        """
        if not self.built:
            return []  # as Keras: no weights yet
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights the optimizer updates, layer by layer (as Keras's `trainable_weights`).

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(4), Dense(2)])
            >>> model.layers[0].trainable = False
            >>> len(model.trainable_weights), len(model.non_trainable_weights)
            (2, 2)
        """
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The weights the optimizer leaves alone (kept state, and those of frozen layers).

        Examples:
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> [w.name for w in Sequential([Input((3,)), BatchNormalization()]).non_trainable_weights]
            ['moving_mean', 'moving_variance']
        """
        return [w for w in self.weights if not w.trainable]

    @property
    def losses(self) -> list[Array]:
        """Every layer's regularization penalties now, layer by layer (Keras's `model.losses`).

        `fit` adds their sum to the loss it minimizes.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(4, kernel_regularizer="l2"), Dense(2)])
            >>> len(model.losses)
            1
        """
        if not self.built:
            return []
        return [penalty for layer in self._layers for penalty in layer.losses]

    # Keras's other names for the same lists (xcnn models hold no metric or seed variables)
    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set all weights from arrays in `get_weights`'s order and layouts.

        Args:
            weights: One array per weight, of Keras's shapes.

        Raises:
            ValueError: If the model is not built yet, or the number of arrays or a shape does not
                match.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> import numpy as np
            >>> model.set_weights([np.zeros((3, 2)), np.ones(2)])
            >>> model.predict(np.ones((1, 3), "float32"), verbose=0).tolist()
            [[0.5, 0.5]]
        """
        self._ensure_built()
        weights = list(weights)
        counts = [len(layer._weight_slots) for layer in self._layers]
        if len(weights) != sum(counts):
            raise ValueError(f"model {self.name} has {sum(counts)} weight arrays, got {len(weights)}")
        start = 0
        for layer, count in zip(self._layers, counts):
            layer.set_weights(weights[start : start + count])
            start += count

    def to(self, backend: str, device: Device | None = None) -> Model:
        """Move weights, optimizer state and random streams to `backend` and its `device`.

        Args:
            backend: A backend name.
            device: A device of it (default: the backend's default device).

        Returns:
            The model itself.

        Raises:
            ValueError: If the backend or device is not available.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.to("numpy") is model
            True
            >>> model.backend
            'numpy'
        """
        B.namespace(backend)
        device = B.device_of(backend, device)
        self.backend, self.device = backend, device
        for layer, _, d in self._weight_dicts():
            for k in d:
                d[k] = B.asarray(d[k], backend, device=device)
            layer.xp = B.namespace(backend)
            layer.device = device
        for layer in self._layers:
            layer.__dict__.pop("_workspace", None)  # scratch arrays on the old device: let them go
        if self.optimizer is not None:
            for slots in self.optimizer.state.values():
                for k in slots:
                    slots[k] = B.asarray(slots[k], backend, device=device)
        self._use_step_rng(B.rng(backend, self.seed + 1, device))
        return self

    # --- compile ----------------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "adam",
        loss: Any = "categorical_crossentropy",
        metrics: Sequence[Any] | None = None,
        weighted_metrics: Sequence[Any] | None = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics, each by Keras name or as an object.

        Args:
            optimizer: A name (`"adam"`, `"sgd"`, ...) or an `xcnn.optimizers` object.
            loss: A name (`"categorical_crossentropy"`, ...) or an `xcnn.losses` object.
            metrics: Names (`"accuracy"`), `xcnn.metrics.Metric` objects or functions, computed
                without the sample weights.
            weighted_metrics: The same, computed with the sample weights (`sample_weight` /
                `class_weight`), as in Keras.

        Raises:
            ValueError: If a name is unknown.
            TypeError: If a metric is neither a name, a `Metric` nor a function.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
            >>> type(model.optimizer).__name__
            'SGD'
        """
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self.metrics = _compile_metrics(metrics)  # the loss is always reported
        self.weighted_metrics = _compile_metrics(weighted_metrics)
        # the Metric objects for names ("accuracy" needs the data's shapes) are made from the first batch
        self._metric_objects = None

    @property
    def compiled(self) -> bool:
        """Whether `compile` has been called (Keras's `model.compiled`).

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)])
            >>> model.compiled
            False
            >>> model.compile("adam", "mse")
            >>> model.compiled
            True
        """
        return self.optimizer is not None and self.loss is not None

    @property
    def metrics_names(self) -> list[str]:
        """The names of `evaluate`'s results, in their order: `"loss"`, then each metric's.

        Empty before `compile`. (Keras 3 lists `["loss", "compile_metrics"]` here, which no longer
        lines up with `evaluate`'s list; these names do, as Keras 2's did.)

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)])
            >>> model.compile("adam", "mse", metrics=["mae"])
            >>> model.metrics_names
            ['loss', 'mae']
        """
        if not self.compiled:
            return []
        if self._metric_objects is not None:
            return ["loss", *(metric.name for metric in self._metric_objects)]
        # before the first batch has made the metric objects: the names they will log under (a
        # name given as a string is its own key, whatever class the batch's shapes choose)
        plain = [m if isinstance(m, str) else metrics_module.get(m).name for m in self.metrics]
        weighted = [m if isinstance(m, str) else metrics_module.get(m).name for m in self.weighted_metrics]
        return ["loss", *plain, *(f"weighted_{name}" if name in plain else name for name in weighted)]

    def _require_compiled(self):
        if self.optimizer is None or self.loss is None:
            raise ValueError("the model must be compiled first: model.compile(optimizer, loss, metrics)")

    @property
    def _fused(self):
        out = self._output.layer
        return self.loss.fuses_with is not None and is_named(out.activation, self.loss.fuses_with)

    # --- one step -----------------------------------------------------------------------------

    # --- summary and saving ---------------------------------------------------------------------
    def summary(
        self,
        line_length: int | None = None,
        positions: Sequence[float] | None = None,
        print_fn: Callable[..., Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Sequence[str] | None = None,
    ) -> None:
        """Print each layer's name, type, output shape and parameter count, and the totals.

        Keras's arguments, in Keras's order (see `xcnn.models.summary.summary`).

        Args:
            line_length: The table's width (default: as Keras).
            positions: Where each column ends (fractions of the width, or characters).
            print_fn: Called with each line (default: `print`).
            expand_nested: Accepted; an xcnn model holds no nested model to expand.
            show_trainable: Add a "Trainable" column (`Y`, `N`, or `-` for no weights).
            layer_range: `(first, last)` layer names (or patterns): the rows printed.

        Raises:
            ValueError: If the model is not built yet, or an argument is out of range.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> lines = []
            >>> model.summary(print_fn=lines.append)
            >>> any("Total params: 8" in line for line in lines)
            True
        """
        from .summary import summary

        summary(
            self,
            print_fn=print_fn or print,
            line_length=line_length,
            positions=positions,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )

    # --- saving -------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The architecture (and compile settings) as a JSON-able dict, as xcnn's files store it.

        Returns:
            A dict with `format`, `class`, `name`, `dtype`, `seed`, `layers` (class, config and
            inbound layers of each), `output` and `compile`.

        Raises:
            ValueError: If the model is not built yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> [layer["class"] for layer in model.get_config()["layers"]]
            ['InputLayer', 'Dense']
        """
        self._ensure_built()
        layers = [self._input.layer] + self._layers
        return {
            "format": "xcnn-model",
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "name": self.name,
            "dtype": self.dtype,
            "seed": self.seed,
            "layers": [
                {
                    "class": type(layer).__name__,
                    "config": layer.get_config(),
                    "inbound": [t.layer.name for t in layer.inbound],
                }
                for layer in layers
            ],
            "output": self._output.layer.name,
            "compile": None
            if self.optimizer is None
            else {
                "optimizer": self.optimizer.get_config(),
                "loss": self.loss.get_config(),
                "metrics": [metrics_module.serialize(m) for m in self.metrics],
                "weighted_metrics": [metrics_module.serialize(m) for m in self.weighted_metrics],
                "iterations": self.optimizer.iterations,
            },
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Model:
        """A new model from a config, with freshly drawn weights and not compiled, as Keras's.

        Args:
            config: xcnn's `model.get_config()`; or Keras's: a Keras model's `get_config()` (read
                as this class, `Sequential` or functional) or its serialized form
                (`{"class_name", "config"}`, e.g. `json.loads(model.to_json())`).
            custom_objects: Must be empty: xcnn builds only its own classes.

        Returns:
            The model.

        Raises:
            ValueError: If the config is malformed, names a layer xcnn has no counterpart of,
                describes another kind of model than this class, or `custom_objects` is given.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, name="d")])
            >>> twin = Sequential.from_config(model.get_config())
            >>> twin.get_layer("d") is model.get_layer("d"), twin.output_shape
            (False, (None, 2))
        """
        from .saving import model_from_config_alone

        if custom_objects:
            raise ValueError(
                f"custom_objects {sorted(custom_objects)} cannot be used: xcnn builds only its own classes"
            )
        if not isinstance(config, dict):
            raise ValueError(f"config must be a dict (a model's get_config()), got {type(config).__name__}")
        if "format" not in config and "class_name" not in config:  # Keras's get_config(): the body alone
            config = {"class_name": "Sequential" if cls._sequential else "Functional", "config": config}
        model = model_from_config_alone(config)
        if not isinstance(model, cls):
            kind = "Sequential" if model._sequential else "functional"
            raise ValueError(f"the config describes a {kind} model, which {cls.__name__}.from_config does not build")
        return model

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as Keras's model JSON (what Keras's `model.to_json()` gives).

        `keras.models.model_from_json` and `xcnn.models.model_from_json` rebuild the model from
        it, with fresh weights.

        Args:
            **kwargs: Passed to `json.dumps` (e.g. `indent=2`).

        Returns:
            JSON text.

        Raises:
            ValueError: If a layer, or the compile settings, have no Keras counterpart, or the
                model is not built.

        Examples:
            >>> import json
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> json.loads(Sequential([Input((3,)), Dense(2)]).to_json())["class_name"]
            'Sequential'
        """
        import json

        from ..interop.keras_format import keras_model_config

        return json.dumps(keras_model_config(self), **kwargs)

    @chief_writes  # [distribution] rank 0 writes, every rank waits for the file
    def save(
        self, path: str | os.PathLike[str], extra: dict[str, Any] | None = None, *, overwrite: bool = True
    ) -> None:
        """Save the model; the file name's ending chooses the format.

        - `.safetensors`: xcnn's own format: architecture (JSON), weights, optimizer state and
          `extra` (a JSON-able dict stored beside the config; the CLI keeps its epoch counter
          there). The one to resume training from.
        - `.keras`: a Keras 3 file (`keras.saving.load_model` opens it): architecture, weights
          and compile settings, not the optimizer's state (see `xcnn.interop.keras_format`).
          Needs h5py.

        The write is atomic (a temporary file renamed into place).

        Args:
            path: The file to write.
            extra: A JSON-able dict stored with an xcnn file.
            overwrite: Whether an existing file is replaced; if false, an existing file is
                refused (Keras would ask at a prompt).

        Raises:
            ValueError: If the ending is neither `.safetensors` nor `.keras`, or the model is not
                built.
            FileExistsError: If `overwrite` is false and the file exists.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.save("model.safetensors")
            >>> from xcnn.models import load_model
            >>> load_model("model.safetensors").output_shape
            (None, 2)
        """
        from .saving import save_by_extension

        save_by_extension(self, path, extra, overwrite)

    @chief_writes  # [distribution]
    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Save the weights alone.

        `.weights.h5` as Keras 3 does (needs h5py), or `.safetensors` (e.g. `m.weights.safetensors`)
        in xcnn's own format.

        Args:
            path: The file to write.

        Raises:
            ValueError: If the file name has neither ending, or the model is not built.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> model.save_weights("m.weights.safetensors")
            >>> model.load_weights("m.weights.safetensors")
        """
        from .saving import save_weights

        save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load weights into this model, whose architecture must match the file's.

        Reads files of `save_weights` (either format), of `save`, or of Keras (`.weights.h5` or the
        weights inside a `.keras` file). Nothing changes unless every weight fits.

        Args:
            path: The file to read.

        Raises:
            ValueError: If the file's weights do not fit the model, or the format is unknown.
            FileNotFoundError: If there is no such file.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> import numpy as np
            >>> before = model.get_weights()
            >>> model.save_weights("m.weights.safetensors")
            >>> model.set_weights([np.zeros_like(w) for w in before])
            >>> model.load_weights("m.weights.safetensors")
            >>> all((a == b).all() for a, b in zip(before, model.get_weights()))
            True
        """
        from .saving import load_weights

        load_weights(self, path)

    @chief_writes  # [distribution]
    def export(self, filepath: str | os.PathLike[str], format: str = "onnx") -> None:
        """Export the model for inference.

        `format="onnx"` (Keras 3's name) writes an ONNX graph (opset 17, needs onnx; see
        `xcnn.interop.onnx_export`) with a dynamic batch axis and NHWC input like the model's.

        Args:
            filepath: The file to write.
            format: Must be `"onnx"`.

        Raises:
            ValueError: If `format` is not `"onnx"`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2, activation="softmax", name="out")], seed=0)
            >>> try:
            ...     model.export("model.tflite", format="tflite")
            ... except ValueError as error:
            ...     print(error)
            format must be 'onnx' (the one export format xcnn has), got 'tflite'
        """
        if format != "onnx":
            raise ValueError(f"format must be 'onnx' (the one export format xcnn has), got {format!r}")
        from ..interop.onnx_export import export_onnx

        export_onnx(self, filepath)


def _compile_metrics(metrics):
    """``compile``'s metrics list, checked: names, Metric objects (or their saved configs), functions."""
    if metrics is not None and not isinstance(metrics, (list, tuple)):
        raise TypeError(f"metrics must be a list or tuple, as in metrics=[{metrics!r}], got {type(metrics).__name__}")
    metrics = [m for m in (metrics or []) if m != "loss"]
    for m in metrics:
        if isinstance(m, str) and m not in metrics_module.NAMES:
            raise ValueError(f"unknown metric {m!r}; expected one of {metrics_module.NAMES} or an xcnn.metrics.Metric")
        if isinstance(m, dict):
            metrics_module.get(m)  # a saved Metric object's config: fails here if malformed
        elif not isinstance(m, str) and not callable(m) and not isinstance(m, metrics_module.Metric):
            raise TypeError(f"metrics must be names, xcnn.metrics.Metric objects or functions, got {m!r}")
    return [metrics_module.get(m) if isinstance(m, dict) else m for m in metrics]
