"""The base `Layer`, the functional graph's `SymbolicTensor`, and the argument
helpers every layer shares."""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, cast

import numpy as np

from .. import activations, initializers, ops
from .. import backend as B
from .._typing import ActivationLike, Array, Device, DType, InitializerLike, Shape
from ..ops._workspace import WEIGHTS_FIXED, derived_from_weights
from .variable import Variable, host_array

if TYPE_CHECKING:
    from ..regularizers import Regularizer

_name_counts: Counter[str] = Counter()


def _auto_name(cls_name):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls_name).lower()
    base = re.sub(r"(?<=[a-z])(?=\d)", "", base)
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def _shape(shape, name="shape"):
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints without the batch axis, got {shape!r}") from None
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"{name} must be a tuple of ints without the batch axis, got {shape!r}")
    shape = tuple(int(d) for d in dims)
    if not shape or min(shape) < 1:
        raise ValueError(f"{name} must be a non-empty tuple of positive ints (no batch axis), got {shape!r}")
    return shape


class _FollowsTheModel:
    """The `training` a subclassed model's `call` is traced with (see `xcnn.models.Model.call`):
    true, so that training-only branches are wired in, and a layer called with it runs as the
    model does, in training mode in `fit` and in inference mode in `predict`."""

    def __bool__(self):
        return True

    def __repr__(self):
        return "<training: as the model runs>"


FOLLOWS_THE_MODEL = _FollowsTheModel()


class Rewrite(NamedTuple):
    """How a model's execution plan runs one layer (see `xcnn.models.graph`).

    The layer object itself is never changed, so a layer shared by two models runs each model's way.

    Attributes:
        defer_relu: This layer's ReLU is left to the MaxPooling2D after it.
        pool: (A Conv2D) the MaxPooling2D it computes too, in one fused op.
        relu_after_pool: (A MaxPooling2D) apply the ReLU deferred by the layer before it.
        pooled_by_conv: (A MaxPooling2D) its input is already pooled by the Conv2D before it.
        relu_in_place: Outside training, this layer's ReLU may overwrite the array it is applied
            to: nothing else reads that array (see `xcnn.models.graph`).
        batch_norm: (A layer with a `kernel_output_axis`) the BatchNormalization after it, which
            outside training it applies by folding it into its kernel and bias.
        folded_before: (A BatchNormalization) outside training the layer before it has applied
            it already (`batch_norm`): the identity.
        weights_fixed: Set by the model for a predict or evaluate loop in which no weight
            changes (`Trainer._weights_fixed`), a token of that loop: what the layer and its ops
            derive from the weights alone (the kernel with `batch_norm` folded in, a banded
            filter matrix) is computed once for it (`xcnn.ops._workspace.derived_from_weights`).

    Examples:
        >>> from xcnn.layers.layer import NO_REWRITE, Rewrite
        >>> Rewrite() == NO_REWRITE
        True
        >>> Rewrite(defer_relu=True).defer_relu
        True
    """

    defer_relu: bool = False
    pool: Any = None
    relu_after_pool: bool = False
    pooled_by_conv: bool = False
    relu_in_place: bool = False
    batch_norm: Any = None
    folded_before: bool = False
    weights_fixed: Any = None


NO_REWRITE = Rewrite()


class SymbolicTensor:
    """A placeholder for a layer's output in the functional API.

    Its `shape` has the batch axis first, as `None` (Keras's `KerasTensor.shape`);
    `item_shape` is one sample's shape, what layers compute with.

    Args:
        shape: One sample's shape (without the batch axis).
        layer: The layer whose output it stands for.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> y = Dense(4, name="out")(Input((3,)))
        >>> y
        <SymbolicTensor shape=(None, 4) from out>
        >>> y.shape, y.item_shape
        ((None, 4), (4,))
    """

    def __init__(self, shape: Sequence[int], layer: Layer) -> None:
        self.item_shape = tuple(shape)
        self.layer = layer

    @property
    def shape(self) -> tuple:
        """`(None, *item_shape)`: the batch axis, of any size, then one sample's shape.

        Examples:
            >>> from xcnn.layers import Input
            >>> Input((28, 28, 1)).shape
            (None, 28, 28, 1)
        """
        return (None, *self.item_shape)

    def __repr__(self):
        return f"<SymbolicTensor shape={_shape_text(self.shape)} from {self.layer.name}>"

    def _merged(self, layer_name, other):
        """`layer_name()([self, other])`: Keras's `a + b` on its symbolic tensors, as a layer."""
        if not isinstance(other, SymbolicTensor):
            raise TypeError(
                f"a symbolic tensor combines only with another layer's output (a + b is layers.Add()([a, b])), "
                f"got {type(other).__name__}; scale or shift by a number with layers.Rescaling(scale, offset)"
            )
        from . import merging

        return getattr(merging, layer_name)()([self, other])

    def __add__(self, other: SymbolicTensor) -> SymbolicTensor:
        """`a + b`: `layers.Add()([a, b])`, as on Keras's symbolic tensors.

        Args:
            other: Another layer's output, of a shape that broadcasts with this one.

        Returns:
            The sum's symbolic output.

        Raises:
            TypeError: If `other` is not a symbolic tensor.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> x = Input((3,))
            >>> (Dense(2)(x) + Dense(2)(x)).layer.__class__.__name__
            'Add'
        """
        return self._merged("Add", other)

    def __sub__(self, other: SymbolicTensor) -> SymbolicTensor:
        """`a - b`: `layers.Subtract()([a, b])`.

        Args:
            other: Another layer's output.

        Returns:
            The difference's symbolic output.

        Raises:
            TypeError: If `other` is not a symbolic tensor.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> x = Input((3,))
            >>> (Dense(2)(x) - Dense(2)(x)).shape
            (None, 2)
        """
        return self._merged("Subtract", other)

    def __mul__(self, other: SymbolicTensor) -> SymbolicTensor:
        """`a * b`: `layers.Multiply()([a, b])` (element-wise, broadcasting as Keras).

        Args:
            other: Another layer's output.

        Returns:
            The product's symbolic output.

        Raises:
            TypeError: If `other` is not a symbolic tensor.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> x = Input((3,))
            >>> (Dense(2)(x) * Dense(2)(x)).shape
            (None, 2)
        """
        return self._merged("Multiply", other)


def _shape_text(shape):
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


class Layer:
    """Base layer: a *core* (`call`/`grad`) and an optional activation applied after it.

    Subclasses implement `compute_output_shape`, `build_weights`, `call` and `grad` (and
    `get_config` when they take arguments). Weights live in `params` (trainable) and `state`
    (not trained, e.g. moving averages), their gradients in `grads`, all arrays of the model's
    backend.

    Args:
        name: The layer's name (default: a unique one from the class name, `dense`, `dense_1`...).
        activation: The activation applied after the core (default: none).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Raises:
        ValueError: If `activation` is unknown, or `input_shape` has a non-positive entry.
        TypeError: If `input_shape` is not a tuple of ints.

    Examples:
        >>> from xcnn.layers import Layer
        >>> Layer(name="identity").compute_output_shape((3,))
        (3,)
    """

    multi_input = False
    # whether `call` returns an array of its own outside training, made by that call and shared
    # with no other tensor (not the input, not a view of it): the model's plan may then let a
    # ReLU overwrite it (`Rewrite.relu_in_place`); the layers that say so are checked by a test
    private_output = False
    # the mode of a call on arrays without training= (and of model(x)): Keras's default of
    # `call`, True for the random augmentation layers (a plot of `augment(images)` augments)
    eager_training = False
    # for a layer whose core is `x @ kernel + bias` per output channel (a convolution, a dense
    # layer): the kernel's axis of output channels, along which a BatchNormalization after it
    # can be folded into the kernel outside training (`Rewrite.batch_norm`); None for others
    kernel_output_axis: int | None = None

    # set in __init__ and build; declared here for the type checker
    params: dict[str, Array]
    grads: dict[str, Array]
    state: dict[str, Array]
    regularizers: dict[str, Regularizer]
    constraints: dict[str, Any]  # weight key -> its constraint (a callable w -> w in Keras's layout)
    _weight_slots: list[tuple[str, str]]
    input_shape: Any  # tuple[int, ...] | None
    inbound: Any  # list[SymbolicTensor] | None
    output: Any  # SymbolicTensor | None
    rng: Any  # xcnn.backend.Generator | None
    xp: Any  # the array-API namespace, once built
    device: Device
    dtype: DType
    _init_rng: Any  # np.random.Generator | None

    def __init__(
        self, name: str | None = None, activation: ActivationLike = None, input_shape: Sequence[int] | None = None
    ) -> None:
        self.name = name or _auto_name(type(self).__name__)
        self.activation = activations.get(activation) if activation is not None else None
        self.input_shape = _shape(input_shape, "input_shape") if input_shape is not None else None
        self.params, self.grads, self.state, self.regularizers = {}, {}, {}, {}
        self.constraints = {}
        self._weight_slots = []  # ("params" or "state", key) of each weight in creation order: Keras's order
        self.inbound = None  # the SymbolicTensors this layer was called on
        self.output = None
        self.rng = None  # per-step random numbers (dropout, rrelu), set by the model
        self.xp = None
        self.device = None  # the backend's device the weights live on, set by build
        self.dtype = None
        self.built = False
        self.trainable = True  # False freezes the weights (and runs BatchNormalization in inference mode)

    # --- the functional graph -----------------------------------------------------------------
    def __call__(self, inputs: Any, training: bool | None = None) -> Any:
        """Wire this layer into a functional graph on `inputs`, or run it on arrays.

        On symbolic tensors (the output of `Input(...)` or of another layer) it returns the
        layer's symbolic output. On arrays `(N, ...)` (NumPy or a backend's) it runs the layer
        once, as Keras's eager call does, e.g. to look at what an augmentation layer makes of a
        few images: a layer not built yet is built for the arrays' shape, backend, device and
        dtype (integer arrays are taken as float32), and the result is an array of the same
        backend. A layer run that way can still be wired into a model; the model then builds
        its weights afresh.

        Args:
            inputs: Symbolic tensors, or arrays (a list of them for merging layers).
            training: For arrays: run in training mode (dropout drops, augmentation augments,
                batch normalization uses the batch's statistics); default as Keras's: inference,
                but training for the random augmentation layers. Symbolic calls take none: in a
                model a layer follows `fit` (training) and `predict`.

        Returns:
            The layer's symbolic output, or its output array.

        Raises:
            TypeError: If `inputs` mix symbolic tensors and arrays, or are neither, or
                `training` is given for a symbolic call.
            ValueError: If the layer is already used in a model, or gets several inputs but takes one.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input, Rescaling
            >>> Dense(4)(Input((3,))).shape
            (None, 4)
            >>> Rescaling(1 / 255)(np.full((2, 2), 255, dtype=np.uint8)).tolist()
            [[1.0, 1.0], [1.0, 1.0]]
        """
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        symbolic = [isinstance(t, SymbolicTensor) for t in tensors]
        if tensors and not any(symbolic):
            return self._call_on_arrays(tensors, training)
        if not all(symbolic):
            raise TypeError(
                f"layer {self.name} must be called on the outputs of Input(...) or other layers, or on "
                "arrays, not a mix of them"
            )
        if training is not None and training is not FOLLOWS_THE_MODEL:
            raise TypeError(
                f"layer {self.name}: training= is for calls on arrays; in a model a layer runs in training "
                "mode in fit and in inference mode in predict and evaluate"
            )
        if self.output is not None:
            raise ValueError(f"layer {self.name} is already used in a model; create a new layer instead")
        if not self.multi_input and len(tensors) != 1:
            raise ValueError(f"layer {self.name} takes one input, got {len(tensors)}")
        shapes = [t.item_shape for t in tensors]
        shape = self.compute_output_shape(shapes if self.multi_input else shapes[0])
        if self.activation is not None:
            shape = self.activation.output_shape(shape)
        self.inbound = tensors
        self.output = SymbolicTensor(shape, self)
        return self.output

    def _call_on_arrays(self, arrays, training):
        """The eager call of `__call__`: build for these arrays if need be, then run `forward`."""
        arrays = [B.asarray(np.asarray(a)) if B.backend_of_or_none(a) is None else a for a in arrays]
        if not self.multi_input and len(arrays) != 1:
            raise ValueError(f"layer {self.name} takes one input, got {len(arrays)}")
        backend = B.backend_of(arrays[0])
        xp = B.namespace(backend)
        if any(B.backend_of(a) != backend for a in arrays):
            raise TypeError(f"layer {self.name}: the arrays must all be of one backend")
        if any(len(a.shape) < 2 for a in arrays):
            raise ValueError(f"layer {self.name} takes a batch (N, ...) of samples, got shape {tuple(arrays[0].shape)}")
        if not xp.isdtype(arrays[0].dtype, "real floating"):
            arrays = [xp.astype(a, xp.float32) for a in arrays]
        shapes = [tuple(a.shape[1:]) for a in arrays]
        self.compute_output_shape(shapes if self.multi_input else shapes[0])  # the checks of a symbolic call
        if self.built and backend != self._backend:
            raise TypeError(
                f"layer {self.name} holds {self._backend} weights; call it on {self._backend} arrays, got {backend}"
            )
        from ..utils import next_model_seed

        if not self.built:
            self._build_outside_a_model(backend, arrays[0].dtype, arrays[0].device, [a.shape[1:] for a in arrays])
        if self.rng is None:
            # a layer given seed= (RandomCrop, Dropout) draws its own reproducible stream, as in a model
            seed = getattr(self, "seed", None)
            self.rng = B.rng(backend, next_model_seed() if seed is None else seed, arrays[0].device)
        return self.forward(arrays, self.eager_training if training is None else bool(training))

    def _build_outside_a_model(self, backend, dtype, device, item_shapes):
        """Build for inputs of ``item_shapes`` (one per input, without the batch axis) with no
        model around: the weights drawn from `set_random_seed`'s stream, as a model without
        ``seed=`` draws them. The layer keeps its place in a graph, if it has one."""
        from ..utils import next_model_seed

        wired = self.inbound
        self.inbound = [SymbolicTensor(tuple(shape), self) for shape in item_shapes]
        try:
            self.build(backend, dtype, np.random.default_rng(next_model_seed()), device=device)
        finally:
            self.inbound = wired

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """The shape of the core's output for inputs of `input_shape` (the identity here).

        Args:
            input_shape: The input shape without the batch axis (a list of them for merging layers).

        Returns:
            The output shape without the batch axis.

        Examples:
            >>> from xcnn.layers import Layer
            >>> Layer().compute_output_shape((4, 4, 2))
            (4, 4, 2)
        """
        return input_shape

    # --- weights ------------------------------------------------------------------------------
    def build(self, backend: str, dtype: DType, init_rng: np.random.Generator, device: Device | None = None) -> None:
        """Create the weights on `backend` in `dtype`; the model calls it.

        Args:
            backend: A backend name.
            dtype: The weights' float dtype (a namespace dtype or its name).
            init_rng: The host generator the initializers draw from.
            device: The device (default: `self.device`, which the model sets, else the backend's
                default).

        Raises:
            ValueError: If `backend` or `device` is not available.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> layer = Dense(2)
            >>> _ = layer(Input((3,)))
            >>> layer.build("numpy", "float64", np.random.default_rng(0))
            >>> layer.params['kernel'].shape, str(layer.params['kernel'].dtype)
            ((3, 2), 'float64')
        """
        self.xp = B.namespace(backend)
        self.dtype = dtype
        self.device = B.device_of(backend, device if device is not None else self.device)
        self._backend, self._init_rng = backend, init_rng
        shapes = [t.item_shape for t in self.inbound]
        self.build_weights(shapes if self.multi_input else shapes[0])
        if self.activation is not None:
            core_shape = self.compute_output_shape(shapes if self.multi_input else shapes[0])
            self.activation.build(self, core_shape, self.xp, dtype)
        self._init_rng = None
        self.built = True

    def build_weights(self, input_shape: Any) -> None:
        """Create the layer's weights with `add_weight` (none here); `build` calls it.

        Args:
            input_shape: The input shape without the batch axis (a list of them for merging layers).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> sorted(layer.params)
            ['bias', 'kernel']
        """
        pass

    def add_weight(
        self,
        name: str,
        shape: Shape,
        initializer: InitializerLike | float,
        regularizer: Regularizer | None = None,
        trainable: bool = True,
        constraint: Any = None,
    ) -> None:
        """Create weight `name` of `shape` on the layer's backend, device and dtype.

        Call it from `build_weights`: trainable weights go to `params`, the others to `state`.

        Args:
            name: The weight's key, e.g. `"kernel"`.
            shape: Its shape, in xcnn's layout.
            initializer: A name, an `Initializer` or a number (a constant).
            regularizer: A penalty added to the loss, or `None`.
            trainable: Whether the optimizer updates it.
            constraint: A function `w -> w` (an `xcnn.constraints.Constraint`) the optimizer
                applies after each update of the weight, in Keras's layout, or `None`.

        Raises:
            ValueError: If `initializer` is unknown.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> layer._init_rng = np.random.default_rng(0)
            >>> layer.add_weight("scale", (2,), 1.0, trainable=False)
            >>> layer.state['scale'].tolist()
            [1.0, 1.0]
        """
        if isinstance(initializer, (int, float)):
            initializer = initializers.Constant(float(initializer), "constant")
        values = initializers.get(initializer)(shape, self._init_rng)
        kind = "params" if trainable else "state"
        getattr(self, kind)[name] = B.asarray(values, self._backend, self.dtype, device=self.device)
        self._weight_slots.append((kind, name))
        if regularizer is not None:
            self.regularizers[name] = regularizer
        if constraint is not None:
            self.constraints[name] = constraint

    def count_params(self) -> int:
        """The number of weights, trainable or not.

        Returns:
            The total size of `params` and `state`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> layer.count_params()
            8
        """
        return sum(math.prod(w.shape) for d in (self.params, self.state) for w in d.values())

    def count_non_trainable(self) -> int:
        """Weights the optimizer does not change: the state, and every weight of a frozen layer.

        Returns:
            Their total size.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> layer.count_non_trainable()
            0
            >>> layer.trainable = False
            >>> layer.count_non_trainable()
            8
        """
        frozen = 0 if self.trainable else sum(math.prod(p.shape) for p in self.params.values())
        return frozen + sum(math.prod(p.shape) for p in self.state.values())

    def get_weights(self) -> list[np.ndarray]:
        """The weights as host NumPy arrays in Keras's order and layouts.

        A conv kernel is `(KH, KW, C, F)`, so that Keras's `layer.get_weights()` can be set here
        unchanged.

        Returns:
            One NumPy array per weight.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> [w.shape for w in layer.get_weights()]
            [(3, 2), (2,)]
        """
        return [self._keras_layout(key, B.to_numpy(getattr(self, kind)[key])) for kind, key in self._weight_slots]

    # --- the weights as Keras's variables (views in Keras's layouts) -----------------------------
    @property
    def weights(self) -> list[Variable]:
        """Every weight as a `Variable`, in `get_weights`'s order.

        Examples:
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((3,)), layer])
            >>> [w.name for w in layer.weights]
            ['gamma', 'beta', 'moving_mean', 'moving_variance']
        """
        return [Variable(self, kind, key) for kind, key in self._weight_slots]

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights the optimizer updates (none while `trainable` is false), as Keras's.

        Examples:
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((3,)), layer])
            >>> [w.name for w in layer.trainable_weights]
            ['gamma', 'beta']
        """
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The weights the optimizer leaves alone: kept state, and all of them while `trainable` is false.

        Examples:
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> layer = BatchNormalization()
            >>> model = Sequential([Input((3,)), layer])
            >>> [w.name for w in layer.non_trainable_weights]
            ['moving_mean', 'moving_variance']
        """
        return [w for w in self.weights if not w.trainable]

    @property
    def losses(self) -> list[Array]:
        """The weights' regularization penalties now, one per regularized weight (Keras's `losses`).

        A frozen layer's weights add none, as in Keras and in `fit`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> from xcnn.initializers import Ones
            >>> layer = Dense(2, kernel_initializer=Ones(), kernel_regularizer="l2")
            >>> model = Sequential([Input((3,)), layer])
            >>> [round(float(p), 4) for p in layer.losses]  # 0.01 * sum of 6 ones squared
            [0.06]
        """
        if not self.trainable:
            return []
        return [reg.penalty(self.params[key]) for key, reg in self.regularizers.items()]

    # Keras's other names for the same lists (xcnn layers hold no metric or seed variables)
    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    # weights a constructor flag drops (`use_bias=False`, `center=False`, `scale=False`): as in
    # Keras, a built layer without one reads it as None; the map holds for every layer whose
    # constructor keeps the flag as the attribute of that name
    _optional_weights: ClassVar[dict[str, str]] = {"bias": "use_bias", "beta": "center", "gamma": "scale"}

    if not TYPE_CHECKING:  # hidden from mypy, which would otherwise take any misspelt attribute for a weight

        def __getattr__(self, name: str) -> Variable | None:
            """A weight by its name, as Keras's `layer.kernel`, `layer.bias`, `layer.moving_mean`.

            Called only for a name the layer has no attribute of. A weight its constructor
            flag dropped (`bias` with `use_bias=False`, `beta` with `center=False`, `gamma` with
            `scale=False`) is `None` once the layer is built, as in Keras.

            Args:
                name: The weight's name.

            Returns:
                The weight as a `Variable`, or `None` for a dropped optional weight.

            Raises:
                AttributeError: If the layer has no weight of that name.

            Examples:
                >>> from xcnn.layers import Dense, Input
                >>> from xcnn.models import Sequential
                >>> layer, no_bias = Dense(2), Dense(2, use_bias=False)
                >>> model = Sequential([Input((3,)), layer, no_bias])
                >>> layer.kernel.shape
                (3, 2)
                >>> no_bias.bias is None
                True
            """
            attributes = self.__dict__
            for kind, key in attributes.get("_weight_slots", ()):
                if key == name:
                    return Variable(self, kind, key)
            flag = type(self)._optional_weights.get(name)
            if flag is not None and attributes.get("built") and flag in attributes and not attributes[flag]:
                return None
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def input(self) -> Any:
        """What the layer was called on: a `SymbolicTensor` (a list of them for merging layers).

        Raises:
            AttributeError: If the layer has not been called yet.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> layer = Dense(2)
            >>> y = layer(Input((3,)))
            >>> layer.input.shape
            (None, 3)
        """
        if self.inbound is None:
            raise AttributeError(f"layer {self.name} has not been called yet, so it has no input")
        return list(self.inbound) if self.multi_input else self.inbound[0]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the weights from arrays in `get_weights`'s order and layouts.

        Args:
            weights: One array (NumPy or array-like) per weight, of Keras's shapes.

        Raises:
            ValueError: If the number of arrays or a shape does not match.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> layer.set_weights([np.ones((3, 2)), np.zeros(2)])
            >>> layer.call(np.ones((1, 3), "float32"), False).tolist()
            [[3.0, 3.0]]
        """
        weights = list(weights)
        if len(weights) != len(self._weight_slots):
            raise ValueError(
                f"layer {self.name} has {len(self._weight_slots)} weights "
                f"({', '.join(k for _, k in self._weight_slots) or 'none'}), got {len(weights)} arrays"
            )
        # every array is checked and converted before any weight changes
        converted = [self._converted_weight(kind, key, w) for (kind, key), w in zip(self._weight_slots, weights)]
        for (kind, key), value in zip(self._weight_slots, converted):
            getattr(self, kind)[key] = value

    def _converted_weight(self, kind, key, w):
        """``w`` (Keras's layout, any array) checked against weight ``key``'s shape and made an
        array of the weight's backend, device, dtype and xcnn layout."""
        current = getattr(self, kind)[key]
        w = host_array(w)
        # the shape Keras uses, from a view of one number (nothing of the weight's size is allocated)
        expected = self._keras_layout(key, np.broadcast_to(np.empty(()), tuple(current.shape))).shape
        if tuple(w.shape) != expected:
            raise ValueError(f"weight {key!r} of layer {self.name} must have shape {expected}, got {tuple(w.shape)}")
        return B.asarray(self._xcnn_layout(key, w), B.backend_of(current), self.dtype, device=self.device)

    def _set_weight(self, kind, key, w):
        """Set one weight from ``w`` in Keras's layout (`Variable.assign`)."""
        getattr(self, kind)[key] = self._converted_weight(kind, key, w)

    def _keras_layout(self, key, array):
        """Weight ``key`` from xcnn's layout to Keras's (the same, except for conv kernels); any
        backend's array (array-API operations)."""
        return array

    def constrain(self, key: str, w: Array) -> Array:
        """Weight `key`'s constraint applied to `w` (the weight's new value), in Keras's layout.

        The optimizer calls it after each update of a constrained weight: `w` goes to Keras's
        layout, through the constraint, and back, so that a constraint's `axis` means what it
        means in Keras. On the weight's backend and device: no host copy.

        Args:
            key: The weight's key, e.g. `"kernel"`, one in `self.constraints`.
            w: Its new value, in xcnn's layout.

        Returns:
            The constrained value, in xcnn's layout, `w`'s shape and dtype.

        Raises:
            KeyError: If the weight has no constraint.

        Examples:
            >>> import numpy as np
            >>> from xcnn.constraints import NonNeg
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2, kernel_constraint=NonNeg())
            >>> model = Sequential([Input((1,)), layer])
            >>> layer.constrain("kernel", np.array([[-1.0, 2.0]])).tolist()
            [[0.0, 2.0]]
        """
        return self._xcnn_layout(key, self.constraints[key](self._keras_layout(key, w)))

    def _xcnn_layout(self, key, array):
        return array

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # --- running ------------------------------------------------------------------------------
    def forward(self, inputs: list[Array], training: bool = False, rewrite: Rewrite = NO_REWRITE) -> Array:
        """Run the layer (core, then activation) on a list of input arrays, as the model's plan says.

        Keeps what `backward` needs.

        Args:
            inputs: The input batches, a list of one array (several for merging layers), float32 or
                float64.
            training: Whether this is a training step.
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            The output batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> layer.forward([np.ones((5, 3), "float32")]).shape
            (5, 2)
        """
        x = inputs if self.multi_input else inputs[0]
        norm = rewrite.batch_norm
        if norm is not None and not training and not self._fold_pays(x, rewrite):
            # this call normalizes its output instead (the plan has made the normalization
            # layer itself the identity), and the core runs with its own weights
            z = norm.call(self.call_rewritten(x, training, rewrite._replace(batch_norm=None)), False)
        elif rewrite is NO_REWRITE:
            z = self.call(x, training)
        else:
            z = self.call_rewritten(x, training, rewrite)
        if self.activation is None or rewrite.defer_relu:
            return z
        if rewrite.relu_in_place and not training:  # no backward will read z: no fresh array
            relu = cast(activations.Elementwise, self.activation)  # the plan checked (is_named)
            return relu.forward(self, z, training, overwrite=True)
        return self.activation.forward(self, z, training)

    def backward(
        self, dy: Array, need_dx: bool = True, skip_activation: bool = False, rewrite: Rewrite = NO_REWRITE
    ) -> list[Array | None]:
        """Gradient w.r.t. each input; fills `self.grads`.

        Args:
            dy: The gradient w.r.t. the layer's output.
            need_dx: Whether the gradient w.r.t. the inputs is wanted.
            skip_activation: `dy` is already the gradient before the activation (the model fuses
                softmax with cross-entropy that way).
            rewrite: The `Rewrite` the forward ran with.

        Returns:
            One gradient per input (entries may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(2)
            >>> model = Sequential([Input((3,)), layer])
            >>> y = layer.forward([np.ones((5, 3), "float32")], training=True)
            >>> [d.shape for d in layer.backward(np.ones_like(y))]
            [(5, 3)]
            >>> sorted(layer.grads)
            ['bias', 'kernel']
        """
        if self.activation is not None and not skip_activation and not rewrite.defer_relu:
            dy = self.activation.backward(self, dy)
        dx = self.grad(dy, need_dx) if rewrite is NO_REWRITE else self.grad_rewritten(dy, need_dx, rewrite)
        return dx if self.multi_input else [dx]

    def call(self, x: Any, training: bool) -> Array:
        """The core's forward pass (the identity here); subclasses override it.

        Args:
            x: The input batch (a list of them for merging layers).
            training: Whether this is a training step.

        Returns:
            The output batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Layer
            >>> Layer().call(np.ones(2), training=False).tolist()
            [1.0, 1.0]
        """
        return x

    def grad(self, dy: Array, need_dx: bool) -> Any:
        """The core's backward pass (the identity here); subclasses override it.

        Args:
            dy: The gradient w.r.t. the output.
            need_dx: Whether the gradient w.r.t. the input is wanted.

        Returns:
            The gradient w.r.t. the input (a list for merging layers).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Layer
            >>> Layer().grad(np.ones(2), need_dx=True).tolist()
            [1.0, 1.0]
        """
        return dy

    def call_rewritten(self, x: Any, training: bool, rewrite: Rewrite) -> Array:
        """`call` under a plan's rewrite; layers the plan changes override it.

        Args:
            x: The input batch.
            training: Whether this is a training step.
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            The output batch.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Layer
            >>> from xcnn.layers.layer import NO_REWRITE
            >>> Layer().call_rewritten(np.ones(2), False, NO_REWRITE).tolist()
            [1.0, 1.0]
        """
        return self.call(x, training)

    def grad_rewritten(self, dy: Array, need_dx: bool, rewrite: Rewrite) -> Any:
        """`grad` under a plan's rewrite; layers the plan changes override it.

        Args:
            dy: The gradient w.r.t. the output.
            need_dx: Whether the gradient w.r.t. the input is wanted.
            rewrite: The `Rewrite` the forward ran with.

        Returns:
            The gradient w.r.t. the input.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Layer
            >>> from xcnn.layers.layer import NO_REWRITE
            >>> Layer().grad_rewritten(np.ones(2), True, NO_REWRITE).tolist()
            [1.0, 1.0]
        """
        return self.grad(dy, need_dx)

    def _fold_pays(self, x, rewrite):
        """Whether folding ``rewrite.batch_norm`` into the kernel costs less than normalizing
        this call's output: always in a loop that folds once (``weights_fixed``); otherwise
        when the kernel has no more elements than the output (a fold reads and writes the
        kernel once, the normalization the output twice). One image through ResNet-14 by
        ``model(x)``, folding at each call, took 1.08x the time; a Dense(1024) layer's
        kernel is a million values, its output a thousand per sample."""
        if rewrite.weights_fixed is not None:
            return True
        return math.prod(self.params["kernel"].shape) <= x.shape[0] * math.prod(self.output.item_shape)

    def kernel_and_bias(self, training: bool, rewrite: Rewrite) -> tuple[Array, Array | None]:
        """The kernel and bias a layer with a `kernel_output_axis` computes with under `rewrite`.

        Its own `params["kernel"]` and `params.get("bias")`, or outside training under
        `rewrite.batch_norm`, the two with that BatchNormalization folded in
        (`xcnn.ops.fold_channel_affine`, once per predict loop under `rewrite.weights_fixed`):
        its output is then already normalized.

        Args:
            training: Whether this is a training step (then nothing is folded).
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            `(kernel, bias)`, the bias `None` for a layer without one and nothing folded.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import BatchNormalization, Dense, Input
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> dense, bn = Dense(2, kernel_initializer="ones"), BatchNormalization(epsilon=3.0)
            >>> model = Sequential([Input((1,)), dense, bn])
            >>> kernel, bias = dense.kernel_and_bias(False, Rewrite(batch_norm=bn))
            >>> kernel.tolist(), bias.tolist()  # gamma / sqrt(1 + 3) folded in
            ([[0.5, 0.5]], [0.0, 0.0])
        """
        kernel, bias = self.params["kernel"], self.params.get("bias")
        norm = rewrite.batch_norm
        if norm is None or training:
            return kernel, bias
        axis = self.kernel_output_axis
        assert axis is not None  # the plan folds only into such layers

        def fold():
            return ops.fold_channel_affine(kernel, bias, *norm.inference_affine(), axis)

        return derived_from_weights(self.workspace(training, rewrite), "folded", fold)

    def workspace(self, training: bool, rewrite: Rewrite) -> dict[str, Any]:
        """The dict the layer hands its ops to keep buffers in between calls (`xcnn.ops._workspace`).

        Marked with the plan's `rewrite.weights_fixed` token outside training, so that what is
        derived from the weights is computed once per predict or evaluate loop.

        Args:
            training: Whether this is a training step (no token then).
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            The layer's own dict, the same one at every call.

        Examples:
            >>> from xcnn.layers import Dense
            >>> from xcnn.layers.layer import Rewrite
            >>> layer = Dense(2)
            >>> layer.workspace(False, Rewrite()) is layer.workspace(True, Rewrite())
            True
        """
        held = self.__dict__.setdefault("_workspace", {})
        token = None if training else rewrite.weights_fixed
        if token is None:  # outside such a loop the workspace holds the ops' arrays alone
            held.pop(WEIGHTS_FIXED, None)
        else:
            held[WEIGHTS_FIXED] = token
        return held

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict with `name` (and `activation` when set); subclasses add their arguments.

        Examples:
            >>> from xcnn.layers import Layer
            >>> Layer(name="identity").get_config()
            {'name': 'identity'}
        """
        config = {"name": self.name}
        if self.activation is not None:
            config["activation"] = self.activation.get_config()
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new layer from `get_config()`'s dict, as Keras's `Layer.from_config`.

        Args:
            config: The constructor arguments (a layer's `get_config()`).

        Returns:
            The layer, not built.

        Raises:
            TypeError: If `config` names an argument the class does not take.

        Examples:
            >>> from xcnn.layers import Dense
            >>> layer = Dense(4, activation="relu", name="hidden")
            >>> twin = Dense.from_config(layer.get_config())
            >>> twin.name, twin.units, twin is layer
            ('hidden', 4, False)
        """
        return cls(**config)


def _require_rank(layer, shape, rank, what):
    if len(shape) != rank:
        raise ValueError(f"{type(layer).__name__} {layer.name} expects input of shape {what}, got (None, {shape})")


def _padding_arg(padding):
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def _reg_config(reg):
    return None if reg is None else reg.get_config()


def _permute(array, axes):
    """``array`` with its axes permuted (array-API: any backend, NumPy included)."""
    return B.array_namespace(array).permute_dims(array, axes)
