"""Layers that join several inputs into one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


from .layer import Layer
from .._typing import Array, Shape


class Add(Layer):
    """Element-wise sum of two or more inputs of one shape (residual connections).

    Args:
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of two or more arrays of one shape `(N, ...)`.

    Output shape:
        That shape, `(N, ...)`.

    Raises:
        ValueError: When called on fewer than two inputs or inputs of different shapes.

    Examples:
        >>> from xcnn.layers import Add, Dense, Input
        >>> from xcnn.models import Model
        >>> x = Input((4,))
        >>> model = Model(x, Add()([Dense(3)(x), Dense(3)(x)]))
        >>> model.output_shape
        (None, 3)
    """

    private_output = True  # a fresh result outside training (see Layer.private_output)

    multi_input = True

    def compute_output_shape(self, input_shapes: list[Shape]) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shapes: The input shapes, each without the batch axis.

        Returns:
            The output shape without the batch axis, `(...)`.

        Raises:
            ValueError: If there are fewer than two inputs or their shapes differ.

        Examples:
            >>> from xcnn.layers import Add
            >>> Add().compute_output_shape([(4, 4, 3), (4, 4, 3)])
            (4, 4, 3)
        """
        if len(input_shapes) < 2 or any(s != input_shapes[0] for s in input_shapes):
            raise ValueError(f"Add {self.name} needs two or more inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def call(self, xs: list[Array], training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            xs: The input batches, a list of arrays `[(N, ...), ...]`, float32 or float64, on the
                layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, ...)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Add, Dense, Input
            >>> from xcnn.models import Model
            >>> x = Input((4,))
            >>> layer = Add()
            >>> y = layer([Dense(3)(x), Dense(3)(x)])
            >>> model = Model(x, y)
            >>> xs = [np.ones((2, 3), "float32"), np.ones((2, 3), "float32")]
            >>> layer.call(xs, training=False).shape
            (2, 3)
        """
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        self._n = len(xs)
        return total

    def grad(self, dy: Array, need_dx: bool) -> list[Array | None]:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, ...)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradients w.r.t. the inputs, a list of arrays `[(N, ...), ...]` (`None` entries when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Add, Dense, Input
            >>> from xcnn.models import Model
            >>> x = Input((4,))
            >>> layer = Add()
            >>> y = layer([Dense(3)(x), Dense(3)(x)])
            >>> model = Model(x, y)
            >>> xs = [np.ones((2, 3), "float32"), np.ones((2, 3), "float32")]
            >>> y = layer.call(xs, training=False)
            >>> [d.shape for d in layer.grad(np.ones_like(y), need_dx=True)]
            [(2, 3), (2, 3)]
        """
        return [dy] * self._n


class Concatenate(Layer):
    """Joins inputs along `axis` (default the last, the channel axis).

    Args:
        axis: The axis to join along, counting the batch axis as 0 (negative from the end).
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of arrays that agree except along `axis`, e.g. `(N, H, W, C_i)`.

    Output shape:
        Their common shape with the sizes along `axis` added, e.g. `(N, H, W, sum of C_i)`.

    Raises:
        ValueError: When called on shapes that differ off `axis`, or `axis` is out of range.

    Examples:
        >>> from xcnn.layers import Concatenate, Dense, Input
        >>> from xcnn.models import Model
        >>> x = Input((4,))
        >>> model = Model(x, Concatenate()([Dense(3)(x), Dense(2)(x)]))
        >>> model.output_shape
        (None, 5)
    """

    multi_input = True

    def __init__(self, axis: int = -1, name: str | None = None) -> None:
        super().__init__(name)
        self.axis = axis

    def _axis(self, rank):
        if self.axis == 0:
            raise ValueError(
                f"Concatenate {self.name}: axis 0 is the batch axis; xcnn joins a sample's axes "
                f"(1 to {rank}, or -1 for the last)"
            )
        axis = self.axis if self.axis < 0 else self.axis - 1  # the user's axis counts the batch axis
        if not -rank <= axis < rank:
            raise ValueError(f"Concatenate {self.name}: axis {self.axis} is out of range for rank {rank + 1}")
        return axis % rank

    def compute_output_shape(self, input_shapes: list[Shape]) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shape.

        Args:
            input_shapes: The input shapes, each without the batch axis.

        Returns:
            The output shape without the batch axis, `(..., sum of C_i)`.

        Raises:
            ValueError: If `axis` is out of range, or the shapes differ off `axis`.

        Examples:
            >>> from xcnn.layers import Concatenate
            >>> Concatenate().compute_output_shape([(4, 4, 3), (4, 4, 5)])
            (4, 4, 8)
        """
        rank = len(input_shapes[0])
        axis = self._axis(rank)
        for s in input_shapes:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, input_shapes[0])) if i != axis):
                raise ValueError(f"Concatenate {self.name}: shapes {input_shapes} differ off axis {self.axis}")
        return tuple(sum(s[i] for s in input_shapes) if i == axis else d for i, d in enumerate(input_shapes[0]))

    def call(self, xs: list[Array], training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            xs: The input batches, a list of arrays `[(N, ..., C_i), ...]`, float32 or float64, on the
                layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, ..., sum of C_i)`, in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Concatenate, Dense, Input
            >>> from xcnn.models import Model
            >>> x = Input((4,))
            >>> layer = Concatenate()
            >>> y = layer([Dense(3)(x), Dense(2)(x)])
            >>> model = Model(x, y)
            >>> xs = [np.ones((2, 3), "float32"), np.ones((2, 2), "float32")]
            >>> layer.call(xs, training=False).shape
            (2, 5)
        """
        self._sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concat(xs, axis=self.axis)

    def grad(self, dy: Array, need_dx: bool) -> list[Array | None]:
        """The backward pass of the layer's core: the gradient w.r.t. its input.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.

        Args:
            dy: The gradient w.r.t. the output, `(N, ..., sum of C_i)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the input is wanted (a model's first layer needs none).

        Returns:
            The gradients w.r.t. the inputs, a list of arrays `[(N, ..., C_i), ...]` (`None` entries when `need_dx` is false).

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Concatenate, Dense, Input
            >>> from xcnn.models import Model
            >>> x = Input((4,))
            >>> layer = Concatenate()
            >>> y = layer([Dense(3)(x), Dense(2)(x)])
            >>> model = Model(x, y)
            >>> xs = [np.ones((2, 3), "float32"), np.ones((2, 2), "float32")]
            >>> y = layer.call(xs, training=False)
            >>> [d.shape for d in layer.grad(np.ones_like(y), need_dx=True)]
            [(2, 3), (2, 2)]
        """
        parts, start = [], 0
        axis = self.axis % dy.ndim
        for size in self._sizes:
            index = tuple(slice(start, start + size) if i == axis else slice(None) for i in range(dy.ndim))
            parts.append(dy[index])
            start += size
        return parts

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments, as a saved model stores them.

        Returns:
            A dict of plain values (`name` included) that the constructor accepts.

        Examples:
            >>> from xcnn.layers import Concatenate
            >>> Concatenate().get_config()['axis']
            -1
        """
        return {**super().get_config(), "axis": self.axis}


# --- element-wise merges with Keras's broadcasting ---------------------------------------------


def _broadcast_shapes(layer: Layer, shapes: list[Shape]) -> Shape:
    """Keras's element-wise merge shape rule over shapes without the batch axis.

    A lower-rank shape gains size-1 axes right after the batch axis (so trailing axes line up);
    then each axis's sizes must agree or be 1.
    """
    rank = max(len(s) for s in shapes)
    out = [1] * rank
    for shape in shapes:
        padded = (1,) * (rank - len(shape)) + tuple(shape)
        for i, size in enumerate(padded):
            if out[i] == 1:
                out[i] = size
            elif size not in (1, out[i]):
                raise ValueError(
                    f"{type(layer).__name__} {layer.name}: input shapes "
                    f"{[(None, *s) for s in shapes]} do not broadcast; each axis's sizes must agree or be 1"
                )
    return tuple(out)


def _sum_to(xp: Any, g: Array, shape: Shape) -> Array:
    """``g`` summed over the axes where ``shape`` (same rank) has size 1 and ``g`` does not."""
    axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
    return xp.sum(g, axis=axes, keepdims=True) if axes else g


class _ElementwiseMerge(Layer):
    """Base of the element-wise merges: Keras's shape rule, rank alignment and the gradient's
    reduction over broadcast axes. Subclasses implement `_combine` and `_combine_grad`."""

    multi_input = True
    _exact_inputs: int | None = None  # Subtract takes exactly two

    def compute_output_shape(self, input_shapes: list[Shape]) -> Shape:
        """The shape of the layer's output (before its activation) for inputs of the given shapes.

        Args:
            input_shapes: The input shapes, each without the batch axis.

        Returns:
            Their broadcast shape without the batch axis (as Keras: trailing axes aligned, each
            axis's sizes equal or 1).

        Raises:
            ValueError: If the number of inputs is wrong or the shapes do not broadcast.

        Examples:
            >>> from xcnn.layers import Multiply
            >>> Multiply().compute_output_shape([(4, 4, 3), (1, 1, 3)])
            (4, 4, 3)
        """
        count = len(input_shapes)
        if self._exact_inputs is not None and count != self._exact_inputs:
            raise ValueError(
                f"{type(self).__name__} {self.name} needs exactly {self._exact_inputs} inputs, got {count}"
            )
        if count < 2:
            raise ValueError(f"{type(self).__name__} {self.name} needs two or more inputs, got {count}")
        return _broadcast_shapes(self, list(input_shapes))

    def call(self, xs: list[Array], training: bool) -> Array:
        """The forward pass of the layer's core (before its activation); keeps what `grad` needs.

        Args:
            xs: The input batches, a list of arrays `[(N, ...), ...]` of shapes that broadcast,
                float32 or float64, on the layer's backend and device.
            training: Whether this is a training step (it makes no difference to this layer).

        Returns:
            The output batch, `(N, ...)` (the broadcast shape), in the input's dtype.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input, Multiply
            >>> from xcnn.models import Model
            >>> x = Input((4,))
            >>> layer = Multiply()
            >>> model = Model(x, layer([Dense(3)(x), Dense(1)(x)]))
            >>> xs = [np.full((2, 3), 2.0, "float32"), np.full((2, 1), 3.0, "float32")]
            >>> layer.call(xs, training=False).tolist()
            [[6.0, 6.0, 6.0], [6.0, 6.0, 6.0]]
        """
        xp = self.xp
        self._shapes = [tuple(x.shape) for x in xs]
        rank = max(len(s) for s in self._shapes)
        aligned = [
            x if x.ndim == rank else xp.reshape(x, (x.shape[0], *(1,) * (rank - x.ndim), *x.shape[1:])) for x in xs
        ]
        return self._combine(aligned)

    def grad(self, dy: Array, need_dx: bool) -> list[Array | None]:
        """The backward pass of the layer's core: the gradient w.r.t. its inputs.

        `dy` is the gradient w.r.t. its output; call `call` first. The layer has no weights.
        An input that was broadcast gets its gradient summed over the broadcast axes.

        Args:
            dy: The gradient w.r.t. the output, `(N, ...)`, in the forward's dtype.
            need_dx: Whether the gradient w.r.t. the inputs is wanted (a model's first layer needs none).

        Returns:
            The gradients w.r.t. the inputs, a list of arrays of the inputs' shapes.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input, Multiply
            >>> from xcnn.models import Model
            >>> x = Input((4,))
            >>> layer = Multiply()
            >>> model = Model(x, layer([Dense(3)(x), Dense(1)(x)]))
            >>> xs = [np.full((1, 3), 2.0, "float32"), np.full((1, 1), 3.0, "float32")]
            >>> y = layer.call(xs, training=False)
            >>> [g.tolist() for g in layer.grad(np.ones_like(y), need_dx=True)]  # the second summed over its broadcast axis
            [[[3.0, 3.0, 3.0]], [[6.0]]]
        """
        xp = self.xp
        rank = dy.ndim
        out = []
        for g, shape in zip(self._combine_grad(dy), self._shapes):
            aligned = (shape[0], *(1,) * (rank - len(shape)), *shape[1:])
            g = _sum_to(xp, g, aligned)
            out.append(g if tuple(g.shape) == shape else xp.reshape(g, shape))
        return out

    def _combine(self, xs):
        raise NotImplementedError

    def _combine_grad(self, dy):
        raise NotImplementedError


class Multiply(_ElementwiseMerge):
    """Element-wise product of two or more inputs, as Keras's `Multiply`.

    Shapes broadcast as in Keras: sizes of 1 stretch, and an input of lower rank gains axes
    right after the batch axis, so `(N, H, W, C)` times `(N, 1, 1, C)` (a squeeze-and-excitation
    gate) or times `(N, C)` works. The gradient of each input is the product of the others,
    summed over the axes it was broadcast along.

    Args:
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of two or more arrays `(N, ...)` whose shapes broadcast.

    Output shape:
        Their broadcast shape, `(N, ...)`.

    Raises:
        ValueError: When called on fewer than two inputs or shapes that do not broadcast.

    Examples:
        >>> from xcnn.layers import Dense, GlobalAveragePooling2D, Input, Multiply, Reshape
        >>> from xcnn.models import Model
        >>> x = Input((4, 4, 3))
        >>> gate = Reshape((1, 1, 3))(Dense(3, activation="sigmoid")(GlobalAveragePooling2D()(x)))
        >>> model = Model(x, Multiply()([x, gate]))  # squeeze-and-excitation
        >>> model.output_shape
        (None, 4, 4, 3)
    """

    def _combine(self, xs):
        self._xs = xs
        total = xs[0]
        for x in xs[1:]:
            total = total * x
        return total

    def _combine_grad(self, dy):
        grads = []
        for i in range(len(self._xs)):
            g = dy
            for j, x in enumerate(self._xs):
                if j != i:
                    g = g * x
            grads.append(g)
        return grads


class Subtract(_ElementwiseMerge):
    """The first input minus the second, as Keras's `Subtract` (exactly two inputs).

    Shapes broadcast as in `Multiply`.

    Args:
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of exactly two arrays `(N, ...)` whose shapes broadcast.

    Output shape:
        Their broadcast shape, `(N, ...)`.

    Raises:
        ValueError: When called on other than two inputs or shapes that do not broadcast.

    Examples:
        >>> from xcnn.layers import Dense, Input, Subtract
        >>> from xcnn.models import Model
        >>> x = Input((4,))
        >>> model = Model(x, Subtract()([Dense(3)(x), Dense(3)(x)]))
        >>> model.output_shape
        (None, 3)
    """

    _exact_inputs = 2

    def _combine(self, xs):
        return xs[0] - xs[1]

    def _combine_grad(self, dy):
        return [dy, -dy]


class Average(_ElementwiseMerge):
    """Element-wise mean of two or more inputs, as Keras's `Average`.

    Shapes broadcast as in `Multiply`.

    Args:
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of two or more arrays `(N, ...)` whose shapes broadcast.

    Output shape:
        Their broadcast shape, `(N, ...)`.

    Raises:
        ValueError: When called on fewer than two inputs or shapes that do not broadcast.

    Examples:
        >>> from xcnn.layers import Average, Dense, Input
        >>> from xcnn.models import Model
        >>> x = Input((4,))
        >>> model = Model(x, Average()([Dense(3)(x), Dense(3)(x), Dense(3)(x)]))
        >>> model.output_shape
        (None, 3)
    """

    def _combine(self, xs):
        self._n = len(xs)
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total / self._n

    def _combine_grad(self, dy):
        g = dy / self._n
        return [g] * self._n


class _Extremum(_ElementwiseMerge):
    """Maximum/Minimum: folded pairwise from the left, as Keras does, so that the gradient at
    ties is what Keras computes (torch splits a tie between the two arguments of each pair)."""

    def _pick(self, a, b):
        raise NotImplementedError

    def _first_wins(self, a, b):
        raise NotImplementedError

    def _combine(self, xs):
        self._xs, self._running = xs, [xs[0]]
        for x in xs[1:]:
            self._running.append(self._pick(self._running[-1], x))
        return self._running[-1]

    def _combine_grad(self, dy):
        xp = self.xp
        grads: list = [None] * len(self._xs)
        g = dy
        for i in range(len(self._xs) - 1, 0, -1):
            a, b = self._running[i - 1], self._xs[i]
            # where a wins: all to a; a tie: half each (torch.maximum/minimum's gradient)
            share = xp.astype(self._first_wins(a, b), dy.dtype) + 0.5 * xp.astype(a == b, dy.dtype)
            grads[i] = g - g * share
            g = _sum_to(xp, g * share, tuple(a.shape))
        grads[0] = g
        return grads


class Maximum(_Extremum):
    """Element-wise maximum of two or more inputs, as Keras's `Maximum`.

    Shapes broadcast as in `Multiply`. The gradient goes to the input that holds the maximum.
    At a tie it is what Keras on PyTorch computes: Keras folds the inputs pairwise from the left,
    `max(max(x0, x1), x2)`, and each pair splits a tie half and half, so three equal inputs get
    1/4, 1/4 and 1/2 of the gradient.

    Args:
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of two or more arrays `(N, ...)` whose shapes broadcast.

    Output shape:
        Their broadcast shape, `(N, ...)`.

    Raises:
        ValueError: When called on fewer than two inputs or shapes that do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Maximum, Input
        >>> a, b = Input((3,)), Input((3,))
        >>> Maximum()([a, b]).shape
        (None, 3)
        >>> from xcnn.layers import maximum
        >>> maximum([np.array([[1.0, 5.0, 2.0]]), np.array([[3.0, 4.0, 2.0]])]).tolist()
        [[3.0, 5.0, 2.0]]
    """

    def _pick(self, a, b):
        return self.xp.maximum(a, b)

    def _first_wins(self, a, b):
        return a > b


class Minimum(_Extremum):
    """Element-wise minimum of two or more inputs, as Keras's `Minimum`.

    Shapes broadcast as in `Multiply`; ties share the gradient as in `Maximum`.

    Args:
        name: The layer's name (default: a unique one from the class name).

    Input shape:
        A list of two or more arrays `(N, ...)` whose shapes broadcast.

    Output shape:
        Their broadcast shape, `(N, ...)`.

    Raises:
        ValueError: When called on fewer than two inputs or shapes that do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import minimum
        >>> minimum([np.array([[1.0, 5.0]]), np.array([[3.0, 4.0]])]).tolist()
        [[1.0, 4.0]]
    """

    def _pick(self, a, b):
        return self.xp.minimum(a, b)

    def _first_wins(self, a, b):
        return a < b


# --- Keras's function forms: build the layer and call it on the inputs -------------------------


def _apply(layer: Layer, inputs: Sequence[Any]) -> Any:
    """``layer`` called on ``inputs``: wired into the graph when they are symbolic, else run at
    once on the arrays (`Layer.__call__`'s eager call, as Keras runs a layer on tensors)."""
    return layer(list(inputs))


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Keras's `layers.add`: an `Add` layer called on `inputs`.

    Args:
        inputs: Two or more symbolic tensors (from `Input` or layers) of one shape, or arrays
            `(N, ...)` of one backend (then the sum is computed at once).
        **kwargs: The layer's arguments (`name`).

    Returns:
        The layer's symbolic output, or the sum as an array.

    Raises:
        ValueError: If there are fewer than two inputs or their shapes differ.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input, add
        >>> x = Input((4,))
        >>> add([Dense(3)(x), Dense(3)(x)]).shape
        (None, 3)
        >>> add([np.ones((1, 2)), np.ones((1, 2))]).tolist()
        [[2.0, 2.0]]
    """
    return _apply(Add(**kwargs), inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Keras's `layers.multiply`: a `Multiply` layer called on `inputs`.

    Args:
        inputs: Two or more symbolic tensors whose shapes broadcast, or arrays `(N, ...)` of one
            backend (then the product is computed at once).
        **kwargs: The layer's arguments (`name`).

    Returns:
        The layer's symbolic output, or the product as an array.

    Raises:
        ValueError: If there are fewer than two inputs or their shapes do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import multiply
        >>> multiply([np.full((1, 2, 2), 2.0), np.array([[0.5, 3.0]])]).tolist()
        [[[1.0, 6.0], [1.0, 6.0]]]
    """
    return _apply(Multiply(**kwargs), inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Keras's `layers.subtract`: a `Subtract` layer called on `inputs`.

    Args:
        inputs: Exactly two symbolic tensors whose shapes broadcast, or two arrays `(N, ...)`.
        **kwargs: The layer's arguments (`name`).

    Returns:
        The layer's symbolic output, or the difference as an array.

    Raises:
        ValueError: If there are not exactly two inputs or their shapes do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import subtract
        >>> subtract([np.array([[3.0, 1.0]]), np.array([[1.0, 1.0]])]).tolist()
        [[2.0, 0.0]]
    """
    return _apply(Subtract(**kwargs), inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Keras's `layers.average`: an `Average` layer called on `inputs`.

    Args:
        inputs: Two or more symbolic tensors whose shapes broadcast, or arrays `(N, ...)`.
        **kwargs: The layer's arguments (`name`).

    Returns:
        The layer's symbolic output, or the mean as an array.

    Raises:
        ValueError: If there are fewer than two inputs or their shapes do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import average
        >>> average([np.array([[3.0, 1.0]]), np.array([[1.0, 1.0]])]).tolist()
        [[2.0, 1.0]]
    """
    return _apply(Average(**kwargs), inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Keras's `layers.maximum`: a `Maximum` layer called on `inputs`.

    Args:
        inputs: Two or more symbolic tensors whose shapes broadcast, or arrays `(N, ...)`.
        **kwargs: The layer's arguments (`name`).

    Returns:
        The layer's symbolic output, or the maximum as an array.

    Raises:
        ValueError: If there are fewer than two inputs or their shapes do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import maximum
        >>> maximum([np.array([[3.0, 1.0]]), np.array([[1.0, 2.0]])]).tolist()
        [[3.0, 2.0]]
    """
    return _apply(Maximum(**kwargs), inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Keras's `layers.minimum`: a `Minimum` layer called on `inputs`.

    Args:
        inputs: Two or more symbolic tensors whose shapes broadcast, or arrays `(N, ...)`.
        **kwargs: The layer's arguments (`name`).

    Returns:
        The layer's symbolic output, or the minimum as an array.

    Raises:
        ValueError: If there are fewer than two inputs or their shapes do not broadcast.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import minimum
        >>> minimum([np.array([[3.0, 1.0]]), np.array([[1.0, 2.0]])]).tolist()
        [[1.0, 1.0]]
    """
    return _apply(Minimum(**kwargs), inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Keras's `layers.concatenate`: a `Concatenate(axis)` layer called on `inputs`.

    Args:
        inputs: Symbolic tensors that agree except along `axis`, or such arrays `(N, ...)`.
        axis: The axis to join along, counting the batch axis as 0 (negative from the end).
        **kwargs: The layer's other arguments (`name`).

    Returns:
        The layer's symbolic output, or the joined array.

    Raises:
        ValueError: If `axis` is out of range or the shapes differ off `axis`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Dense, Input, concatenate
        >>> x = Input((4,))
        >>> concatenate([Dense(3)(x), Dense(2)(x)]).shape
        (None, 5)
        >>> concatenate([np.zeros((1, 2)), np.ones((1, 1))], axis=1).tolist()
        [[0.0, 0.0, 1.0]]
    """
    return _apply(Concatenate(axis=axis, **kwargs), inputs)
