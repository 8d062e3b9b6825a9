"""`xcnn.utils.to_categorical` against Keras 3's: the same arrays, shapes and dtype (float64)."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from xcnn.utils import to_categorical  # noqa: E402

_rng = np.random.default_rng(0)
CASES = [
    ([0, 2, 1], 3),
    ([0, 2, 1], None),
    (np.array([[1], [0], [3]]), 5),
    (_rng.integers(0, 4, (2, 3, 5)), 4),  # segmentation masks (N, H, W)
    (_rng.integers(0, 3, (2, 3, 1)), None),  # (N, H, 1): the trailing axis goes
    (np.array(2), 4),
    (np.array([1.0, 0.0]), 2),
    (np.array([True, False]), None),
]


@pytest.mark.parametrize("y, num_classes", CASES, ids=[str(i) for i in range(len(CASES))])
def test_to_categorical_matches_keras(y, num_classes):
    ours, theirs = to_categorical(y, num_classes), keras.utils.to_categorical(y, num_classes)
    assert ours.dtype == theirs.dtype == np.float64
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
