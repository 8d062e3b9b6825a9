"""Dense and Activation: the layers every network has."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import constraints, initializers, ops, regularizers
from .._checks import positive_int
from .layer import NO_REWRITE, Layer, Rewrite, _reg_config
from .._typing import ActivationLike, Array, ConstraintLike, InitializerLike, RegularizerLike, Shape


class Dense(Layer):
    """Fully connected layer on the last axis; the kernel is `(in, units)`, as in Keras.

    Args:
        units: The number of outputs.
        activation: The activation applied after the affine map (default: none).
        use_bias: Whether to add a learnt bias of shape `(units,)`.
        kernel_initializer: How the kernel is initialised.
        bias_initializer: How the bias is initialised.
        kernel_regularizer: A penalty on the kernel.
        bias_regularizer: A penalty on the bias.
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.
        name: The layer's name (default: a unique one from the class name).
        kernel_constraint: A constraint the optimizer applies to the kernel `(in, units)` after
            each update (`xcnn.constraints`, e.g. `MaxNorm(3)`: each unit's incoming weights).
        bias_constraint: A constraint applied to the bias after each update.

    Input shape:
        `(N, ..., in)`, float32 or float64.

    Output shape:
        `(N, ..., units)`.

    Raises:
        ValueError: If `units` is not a positive int, or an initializer, regularizer or
            constraint is unknown.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((5,)), Dense(3)])
        >>> model.output_shape
        (None, 3)
    """

    private_output = True  # a fresh result outside training (see Layer.private_output)
    kernel_output_axis = -1  # (in, units): a BatchNormalization after it folds in

    def __init__(
        self,
        units: int,
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: RegularizerLike = None,
        bias_regularizer: RegularizerLike = None,
        input_shape: Sequence[int] | None = None,
        name: str | None = None,
        kernel_constraint: ConstraintLike = None,
        bias_constraint: ConstraintLike = None,
    ) -> None:
        super().__init__(name, activation, input_shape)
        self.units, self.use_bias = positive_int(units, "units"), use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shape: The input shape without the batch axis, `(..., in)`.

        Returns:
            The output shape without the batch axis, `(..., units)`.

        Examples:
            >>> from xcnn.layers import Dense
            >>> Dense(3).compute_output_shape((5,))
            (3,)
        """
        return (*input_shape[:-1], self.units)

    def build_weights(self, input_shape: Shape) -> None:
        """Create the layer's weights for inputs of `input_shape`; `build` calls it.

        Args:
            input_shape: The input shape without the batch axis, `(..., in)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(3)
            >>> model = Sequential([Input((5,)), layer])
            >>> {k: tuple(w.shape) for k, w in {**layer.params, **layer.state}.items()}
            {'kernel': (5, 3), 'bias': (3,)}
        """
        self.add_weight(
            "kernel",
            (input_shape[-1], self.units),
            self.kernel_initializer,
            self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.add_weight(
                "bias", (self.units,), self.bias_initializer, self.bias_regularizer, constraint=self.bias_constraint
            )

    def call(self, x: Array, training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            x: The input batch, `(N, ..., in)`, float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, ..., units)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(3)
            >>> model = Sequential([Input((5,)), layer])
            >>> x = np.ones((2, 5), "float32")
            >>> layer.call(x, training=False).shape
            (2, 3)
        """
        return self.call_rewritten(x, training, NO_REWRITE)

    def call_rewritten(self, x: Array, training: bool, rewrite: Rewrite) -> Array:
        """`call` under the model plan's `rewrite`: with `rewrite.batch_norm`, outside training, that BN folded in.

        Args:
            x: The input batch, `(N, ..., in)`, float32 or float64.
            training: Whether this is a training step (then nothing is folded).
            rewrite: The plan's `Rewrite` for this layer.

        Returns:
            The output batch, `(N, ..., units)`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import BatchNormalization, Dense, Input
            >>> from xcnn.layers.layer import Rewrite
            >>> from xcnn.models import Sequential
            >>> dense, bn = Dense(3), BatchNormalization()
            >>> model = Sequential([Input((5,)), dense, bn])
            >>> dense.call_rewritten(np.ones((2, 5), "float32"), False, Rewrite(batch_norm=bn)).shape
            (2, 3)
        """
        self._x = x
        kernel, bias = self.kernel_and_bias(training, rewrite)
        y = x @ kernel
        return y if bias is None else y + bias

    def grad(self, dy: Array, need_dx: bool) -> Array | None:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. Fills `self.grads` with the gradients of the weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, ..., units)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradient w.r.t. the input, `(N, ..., in)`, (may be `None` when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> layer = Dense(3)
            >>> model = Sequential([Input((5,)), layer])
            >>> x = np.ones((2, 5), "float32")
            >>> y = layer.call(x, training=False)
            >>> layer.grad(np.ones_like(y), need_dx=True).shape
            (2, 5)
            >>> sorted(layer.grads)
            ['bias', 'kernel']
        """
        xp, kernel = self.xp, self.params["kernel"]
        x2 = xp.reshape(self._x, (-1, kernel.shape[0]))
        dy2 = xp.reshape(dy, (-1, self.units))
        self.grads["kernel"] = x2.T @ dy2
        if self.use_bias:
            self.grads["bias"] = ops.channel_sum(dy2)
        return dy @ kernel.T if need_dx else None

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Dense
            >>> Dense(3).get_config()['units']
            3
        """
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_regularizer": _reg_config(self.kernel_regularizer),
            "bias_regularizer": _reg_config(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Activation(Layer):
    """An activation as its own layer: `Activation("relu")`, `Activation("prelu")`, ...

    Args:
        activation: The activation, by name or as an `xcnn.activations.ActivationFunction`.
        name: The layer's name (default: a unique one from the class name).
        input_shape: The input shape without the batch axis, to build a `Sequential` without an
            `Input`.

    Input shape:
        Any, `(N, ...)`, float32 or float64.

    Output shape:
        The input's (for `"maxout"`, the last axis divided by its pieces).

    Raises:
        ValueError: If `activation` is unknown.
        TypeError: If `activation` is a callable without a backward.

    Examples:
        >>> from xcnn.layers import Activation, Input
        >>> from xcnn.models import Sequential
        >>> model = Sequential([Input((5,)), Activation("relu")])
        >>> model.output_shape
        (None, 5)
    """

    def __init__(
        self, activation: ActivationLike, name: str | None = None, input_shape: Sequence[int] | None = None
    ) -> None:
        super().__init__(name, activation, input_shape)
