"""`keras.utils.PyDataset` subclasses train as in Keras 3: the same batches, the same weights after."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import xcnn  # noqa: E402


def _batches(k, **kwargs):
    class Batches(k.utils.PyDataset):
        def __init__(self):
            super().__init__(**kwargs)
            rng = np.random.default_rng(0)
            self.x = rng.standard_normal((12, 3)).astype("float32")
            self.y = np.arange(12) % 2

        def __len__(self):
            return 3

        def __getitem__(self, index):
            return self.x[4 * index : 4 * index + 4], self.y[4 * index : 4 * index + 4]

    return Batches()


def test_a_pydataset_subclass_trains_to_keras_weights():
    models = {}
    for k in (keras, xcnn):
        model = k.Sequential([k.Input((3,)), k.layers.Dense(2, activation="softmax")])
        model.compile(k.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        models[k] = model
    models[xcnn].set_weights(models[keras].get_weights())
    for k, model in models.items():
        model.fit(_batches(k), epochs=2, shuffle=False, verbose=0)
    for ours, theirs in zip(models[xcnn].get_weights(), models[keras].get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert xcnn.utils.Sequence is xcnn.utils.PyDataset


def test_loader_arguments_xcnn_does_not_use_are_warned_about_and_bad_ones_refused():
    with pytest.warns(UserWarning, match="workers=4 and use_multiprocessing=True are not used"):
        _batches(xcnn, workers=4, use_multiprocessing=True)
    with pytest.raises(ValueError, match="workers must be a positive whole number"):
        _batches(xcnn, workers=0)
    with pytest.raises(NotImplementedError, match="must define __len__"):
        len(xcnn.utils.PyDataset())
