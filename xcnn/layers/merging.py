"""Layers that join several inputs into one."""

from __future__ import annotations

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
