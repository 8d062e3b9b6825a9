"""Layers that join several inputs into one."""

from __future__ import annotations

from .layer import Layer


class Add(Layer):
    """Element-wise sum of inputs of one shape (residual connections)."""

    multi_input = True

    def compute_output_shape(self, input_shapes):
        if len(input_shapes) < 2 or any(s != input_shapes[0] for s in input_shapes):
            raise ValueError(f"Add {self.name} needs two or more inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def call(self, xs, training):
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        self._n = len(xs)
        return total

    def grad(self, dy, need_dx):
        return [dy] * self._n


class Concatenate(Layer):
    """Joins inputs along ``axis`` (default the channel axis)."""

    multi_input = True

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        self.axis = axis

    def _axis(self, rank):
        axis = self.axis if self.axis < 0 else self.axis - 1  # the user's axis counts the batch axis
        if not -rank <= axis < rank:
            raise ValueError(f"Concatenate {self.name}: axis {self.axis} is out of range for rank {rank + 1}")
        return axis % rank

    def compute_output_shape(self, input_shapes):
        rank = len(input_shapes[0])
        axis = self._axis(rank)
        for s in input_shapes:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, input_shapes[0])) if i != axis):
                raise ValueError(f"Concatenate {self.name}: shapes {input_shapes} differ off axis {self.axis}")
        return tuple(sum(s[i] for s in input_shapes) if i == axis else d for i, d in enumerate(input_shapes[0]))

    def call(self, xs, training):
        self._sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concat(xs, axis=self.axis)

    def grad(self, dy, need_dx):
        parts, start = [], 0
        axis = self.axis % dy.ndim
        for size in self._sizes:
            index = tuple(slice(start, start + size) if i == axis else slice(None) for i in range(dy.ndim))
            parts.append(dy[index])
            start += size
        return parts

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
