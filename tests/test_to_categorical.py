"""`xcnn.utils.to_categorical`: Keras 3's shapes and float64 result, and its argument checks.
(Keras itself is the oracle in tests/keras_oracle/test_keras_to_categorical.py.)"""

import numpy as np
import pytest

from xcnn.utils import to_categorical


def test_labels_of_any_shape_get_a_class_axis_last_in_float64():
    out = to_categorical([0, 2, 1])
    assert out.dtype == np.float64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert to_categorical(np.array([[1], [0]]), 3).shape == (2, 3)  # a trailing size-1 axis is dropped
    masks = np.random.default_rng(0).integers(0, 4, (2, 5, 6))  # per-pixel labels (N, H, W)
    out = to_categorical(masks, 4)
    assert out.shape == (2, 5, 6, 4)
    np.testing.assert_array_equal(out.argmax(-1), masks)
    np.testing.assert_array_equal(out.sum(-1), 1.0)
    assert to_categorical(masks[..., None], 4).shape == (2, 5, 6, 4)
    assert to_categorical(2, 4).tolist() == [0, 0, 1, 0]  # one label
    assert to_categorical([1.0, 0.0], 2).tolist() == [[0, 1], [1, 0]]  # whole floats
    assert to_categorical([0, 1], 2, dtype="float32").dtype == np.float32
    assert to_categorical([], 3).shape == (0, 3)


def test_bad_labels_are_refused_with_one_sentence():
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="y must hold integer class labels, got an array of dtype <U1"):
        to_categorical(["a"])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got range \[0, 3\]"):
        to_categorical([[0, 3]], 3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\), got range \[-1, 1\]"):
        to_categorical(np.array([[-1, 1], [0, 0]]), 2)
