"""The losses and metrics added for Keras parity (mape, msle, log_cosh, hinge, squared_hinge;
precision, recall, RMSE) train on PyTorch's "meta" device without reading anything back inside a
step, with the harness of tests/test_device_harness.py (which see: a read of a value raises on
meta, and its StepWatch records every op that would sync), on a model of the layers added with
them (each layer kind alone is a stage of that file's `STAGES`)."""

import numpy as np
import pytest

pytest.importorskip("torch")

from test_device_harness import StepWatch, cupy_compat_paths, host_reads  # noqa: E402,F401 - the fixture
from xcnn import layers as L  # noqa: E402
from xcnn.models import Model  # noqa: E402


def _model():
    inputs = L.Input((8, 8, 3))
    t = L.GaussianNoise(0.1)(L.SpatialDropout2D(0.3, seed=1)(L.Conv2D(4, 3, padding="same")(inputs)))
    t = L.Cropping2D(((1, 0), (0, 1)))(t)  # 7x7x4
    gate = L.Reshape((1, 1, 4))(L.Dense(4, activation="sigmoid")(L.GlobalAveragePooling2D()(t)))
    t = L.multiply([t, gate])
    t = L.average([L.maximum([t, L.Identity()(t), gate]), L.minimum([t, gate]), L.subtract([t, gate])])
    t = L.LayerNormalization(axis=[1, 3])(L.LayerNormalization()(t))
    t = L.Permute((3, 1, 2))(t)
    return Model(inputs, L.Dense(3)(L.Flatten()(t)), backend="torch", device="meta", seed=0)


LOSSES = [
    ("mape", ["root_mean_squared_error"]),
    ("msle", ["mae"]),
    ("log_cosh", ["root_mean_squared_error"]),
    ("hinge", ["precision", "recall"]),
    ("squared_hinge", ["precision", "recall", "root_mean_squared_error"]),
]


@pytest.mark.parametrize("loss, metrics", LOSSES, ids=[loss for loss, _ in LOSSES])
def test_new_layers_losses_and_metrics_train_on_meta_without_host_reads(loss, metrics, monkeypatch, host_reads):  # noqa: F811
    model = _model()
    model.compile("adam", loss, metrics)
    x = np.random.default_rng(0).uniform(size=(8, 8, 8, 3))
    y = (np.arange(24).reshape(8, 3) % 2).astype(np.float64)
    with cupy_compat_paths(monkeypatch), StepWatch() as watch:
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert watch.syncs == [], f"a step synced the device: {watch.syncs}"
    assert len(host_reads) == 2, f"expected one metric read per epoch, got {host_reads}"
