"""`Variable`: one weight of a layer, as Keras's `layer.kernel` and `model.trainable_weights` give it.

xcnn keeps a layer's weights as plain backend arrays in its own layouts (a conv kernel as
`(F, KH, KW, C)`); a `Variable` is a view of one of them in Keras's terms: Keras's shape and
layout, `numpy()`, `assign()`. It holds no array of its own, so it always shows the weight's
current value, and `assign` checks the shape as `set_weights` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .layer import Layer


class Variable:
    """Weight `key` of `layer`, in Keras's layout.

    Args:
        layer: The layer holding the weight.
        kind: `"params"` (trained) or `"state"` (kept, e.g. a moving mean).
        key: The weight's name in the layer, e.g. `"kernel"`.

    Examples:
        >>> import numpy as np
        >>> from xcnn.layers import Conv2D, Input
        >>> from xcnn.models import Sequential
        >>> layer = Conv2D(4, 3, name="conv")
        >>> model = Sequential([Input((8, 8, 2)), layer])
        >>> layer.kernel
        <Variable path=conv/kernel, shape=(3, 3, 2, 4), dtype=float32>
        >>> layer.bias.assign(np.ones(4))
        >>> layer.bias.numpy().tolist()
        [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, layer: Layer, kind: str, key: str) -> None:
        self._layer, self._kind, self._key = layer, kind, key

    @property
    def name(self) -> str:
        """The weight's name in its layer, e.g. `"kernel"`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)])
            >>> [w.name for w in model.weights]
            ['kernel', 'bias']
        """
        return self._key

    @property
    def path(self) -> str:
        """`"<layer>/<name>"`, as Keras's `Variable.path`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> Sequential([Input((3,)), Dense(2, name="out")]).weights[0].path
            'out/kernel'
        """
        return f"{self._layer.name}/{self._key}"

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates it: a trained weight of a layer that is trainable.

        Examples:
            >>> from xcnn.layers import BatchNormalization, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), BatchNormalization()])
            >>> [w.trainable for w in model.weights]
            [True, True, False, False]
        """
        return self._kind == "params" and bool(self._layer.trainable)

    @property
    def value(self) -> Any:
        """The weight as an array of the model's backend and device, in Keras's layout.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> Sequential([Input((3,)), Dense(2)]).weights[0].value.shape
            (3, 2)
        """
        return self._layer._keras_layout(self._key, getattr(self._layer, self._kind)[self._key])

    @property
    def shape(self) -> tuple[int, ...]:
        """Keras's shape of the weight (a conv kernel is `(KH, KW, C, F)`).

        Examples:
            >>> from xcnn.layers import Conv2D, Input
            >>> from xcnn.models import Sequential
            >>> Sequential([Input((8, 8, 2)), Conv2D(4, 3)]).weights[0].shape
            (3, 3, 2, 4)
        """
        return tuple(int(n) for n in self.value.shape)

    @property
    def ndim(self) -> int:
        """The number of axes.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> Sequential([Input((3,)), Dense(2)]).weights[1].ndim
            1
        """
        return len(self.shape)

    @property
    def dtype(self) -> str:
        """`"float32"` or `"float64"`, the model's dtype.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> Sequential([Input((3,)), Dense(2)], dtype="float64").weights[0].dtype
            'float64'
        """
        return str(self._layer.dtype)

    def numpy(self) -> np.ndarray:
        """A host copy of the weight, in Keras's layout (what `get_weights` gives for it).

        Returns:
            A NumPy array of `shape`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> from xcnn.initializers import Ones
            >>> model = Sequential([Input((3,)), Dense(2, kernel_initializer=Ones())])
            >>> model.weights[0].numpy().sum()
            np.float32(6.0)
        """
        from .. import backend as B

        return self._layer._keras_layout(self._key, B.to_numpy(getattr(self._layer, self._kind)[self._key]))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        value = self.numpy()  # a fresh host copy already
        return value if dtype is None else value.astype(dtype, copy=False)

    def assign(self, value: Any) -> None:
        """Set the weight to `value`, given in Keras's layout.

        Args:
            value: An array (NumPy, a list, or any backend's) of `shape`.

        Raises:
            ValueError: If `value`'s shape is not `shape`.

        Examples:
            >>> import numpy as np
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)])
            >>> model.weights[1].assign([0.5, -0.5])
            >>> model.get_weights()[1].tolist()
            [0.5, -0.5]
        """
        self._layer._set_weight(self._kind, self._key, value)

    def assign_add(self, delta: Any) -> None:
        """Add `delta` (of `shape`, Keras's layout) to the weight.

        Args:
            delta: An array of `shape`.

        Raises:
            ValueError: If `delta`'s shape is not `shape`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)])
            >>> model.weights[1].assign_add([1.0, 2.0])
            >>> model.get_weights()[1].tolist()
            [1.0, 2.0]
        """
        self.assign(self.numpy() + _host_array(delta, self))

    def assign_sub(self, delta: Any) -> None:
        """Subtract `delta` (of `shape`, Keras's layout) from the weight.

        Args:
            delta: An array of `shape`.

        Raises:
            ValueError: If `delta`'s shape is not `shape`.

        Examples:
            >>> from xcnn.layers import Dense, Input
            >>> from xcnn.models import Sequential
            >>> model = Sequential([Input((3,)), Dense(2)])
            >>> model.weights[1].assign_sub([1.0, 2.0])
            >>> model.get_weights()[1].tolist()
            [-1.0, -2.0]
        """
        self.assign(self.numpy() - _host_array(delta, self))

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def _host_array(value, variable):
    array = host_array(value)
    if array.shape != variable.shape:
        raise ValueError(f"weight {variable.path} has shape {variable.shape}, got a value of shape {array.shape}")
    return array


def host_array(value: Any) -> np.ndarray:
    """`value` as a host NumPy array: a backend's array copied from its device, else `np.asarray`.

    Args:
        value: An array of any backend, or anything `np.asarray` takes (a list, a number).

    Returns:
        A NumPy array.

    Examples:
        >>> from xcnn.layers.variable import host_array
        >>> host_array([1.0, 2.0]).tolist()
        [1.0, 2.0]
    """
    from .. import backend as B

    try:
        B.backend_of(value)
    except TypeError:
        return np.asarray(value)
    return B.to_numpy(value)
