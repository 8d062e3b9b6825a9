"""The ready-made networks build, train a step and keep their documented shapes."""

import numpy as np
import pytest

from xcnn import layers, zoo


def test_resnet_is_a_residual_network_with_global_average_pooling(backend):
    model = zoo.resnet(backend=backend, dtype="float64", seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Add") == 6 and kinds.count("GlobalAveragePooling2D") == 1
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    # stem + 6 blocks of 2 convs + 2 projections (at the stride-2 blocks)
    assert len(convs) == 15
    assert sorted({c.strides for c in convs}) == [(1, 1), (2, 2)]
    assert [c.kernel_size for c in convs if c.kernel_size == (1, 1)] == [(1, 1), (1, 1)]
    assert model.layers[-1].output.shape == (None, 10)
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(4, 32, 32, 3)), rng.integers(0, 10, 4)
    losses = [model.train_on_batch(x, y) for _ in range(4)]
    assert losses[-1] < losses[0]  # the gradients reach every weight through the skips


def test_zoo_get_knows_resnet_and_rejects_unknown_names():
    assert isinstance(zoo.get("resnet", widths=(4, 8), blocks=1), type(zoo.resnet(widths=(4, 8), blocks=1)))
    with pytest.raises(ValueError, match="unknown model 'resnet50'"):
        zoo.get("resnet50")
    with pytest.raises(ValueError, match="augment must be a whole number"):
        zoo.resnet(augment=-1)
