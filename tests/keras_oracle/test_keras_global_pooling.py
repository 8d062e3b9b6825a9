"""GlobalAveragePooling2D / GlobalMaxPooling2D against Keras 3: outputs, shapes, config keys."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from xcnn import layers, models  # noqa: E402


@pytest.mark.parametrize("name", ["GlobalAveragePooling2D", "GlobalMaxPooling2D"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras(name, keepdims):
    x = np.random.default_rng(0).standard_normal((3, 5, 4, 6)).astype("float32")
    theirs = getattr(keras.layers, name)(keepdims=keepdims)
    ours = getattr(layers, name)(keepdims=keepdims)
    inputs = layers.Input(x.shape[1:])
    model = models.Model(inputs, ours(inputs))
    expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6, atol=1e-6)
    assert theirs.compute_output_shape((None, *x.shape[1:])) == ours.output.shape
    assert set(ours.get_config()) <= set(theirs.get_config())
    assert ours.get_config()["keepdims"] == theirs.get_config()["keepdims"]
    assert ours.get_config()["data_format"] == theirs.get_config()["data_format"]
