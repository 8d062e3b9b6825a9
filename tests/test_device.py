"""``device=`` everywhere a model or array is made, proven on the CPU with array_api_strict's
extra devices (arrays on two devices cannot mix) and torch's "meta" device (nothing can be read).

The ``backend`` fixture already runs array_api_strict on ``"device1"``; these tests name the
device explicitly, so they hold whatever ``XCNN_TEST_DEVICES`` says.
"""

import importlib.machinery
import sys
import types

import numpy as np
import pytest

from xcnn import backend as B
from xcnn import zoo
from xcnn.layers import Conv2D, Dense, Dropout, Flatten, Input, RandomTranslation
from xcnn.models import Sequential, load_model
from xcnn.models import trainer as trainer_module

strict = pytest.importorskip("array_api_strict")
DEVICE1 = strict.Device("device1")


def small_model(**kw):
    return Sequential(
        [
            Input((8, 8, 1)),
            RandomTranslation(0.2, 0.2),
            Conv2D(3, 3, activation="relu"),
            Flatten(),
            Dropout(0.3),
            Dense(4, activation="softmax"),
        ],
        seed=0,
        **kw,
    )


def data(n=40):
    rng = np.random.default_rng(0)
    return rng.uniform(size=(n, 8, 8, 1)), rng.integers(0, 4, n)


def weights_devices(model):
    return {str(a.device) for layer in model.layers for d in (layer.params, layer.state) for a in d.values()}


def test_asarray_and_rng_place_arrays_on_the_device():
    a = B.asarray(np.arange(6.0), "array_api_strict", "float32", device="device1")
    assert a.device == DEVICE1 and str(a.dtype).endswith("float32")
    assert B.asarray(a, "array_api_strict", "float64", device=DEVICE1).device == DEVICE1  # stays on device
    back = B.asarray(a, "array_api_strict", device=strict.Device("CPU_DEVICE"))  # device to device
    assert back.device == strict.Device("CPU_DEVICE") and B.to_numpy(back).tolist() == list(range(6))
    gen = B.rng("array_api_strict", 0, device="device1")
    for drawn in (gen.uniform((3,)), gen.normal((3,)), gen.bernoulli((3,), 0.5, "float32"), gen.permutation(5)):
        assert drawn.device == DEVICE1
    assert sorted(B.to_numpy(gen.permutation(5)).tolist()) == [0, 1, 2, 3, 4]


def test_cpu_draws_match_across_backends_and_devices():
    """One seed gives the same numbers on every CPU backend and device (host and device share memory)."""
    draws = [
        B.to_numpy(B.rng(name, 7, device=device).uniform((4,)))
        for name, device in (("numpy", None), ("array_api_strict", "device1"))
    ]
    np.testing.assert_array_equal(draws[0], draws[1])


def test_bad_devices_are_named():
    with pytest.raises(ValueError, match="device for backend 'numpy' must be 'cpu'"):
        B.device_of("numpy", "cuda")
    with pytest.raises(TypeError, match="array_api_strict.Device or its name"):
        B.device_of("array_api_strict", 3)
    if B.is_available("torch"):
        with pytest.raises(ValueError, match="must be a torch device such as 'cpu' or 'cuda:0'"):
            B.device_of("torch", "not-a-device")
    with pytest.raises(ValueError, match="device for backend 'numpy'"):
        Sequential([Input((2,)), Dense(1)], backend="numpy", device="cuda:0")


def test_model_weights_data_and_draws_live_on_the_device(tmp_path):
    model = small_model(backend="array_api_strict", device="device1")
    assert model.device == DEVICE1 and weights_devices(model) == {str(DEVICE1)}
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_split=0.25)
    assert weights_devices(model) == {str(DEVICE1)}
    assert {str(s.device) for slots in model.optimizer.state.values() for s in slots.values()} == {str(DEVICE1)}
    assert model.predict(x[:3], to_numpy=False).device == DEVICE1
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load_model(path, backend="array_api_strict", device="device1")
    assert loaded.device == DEVICE1 and weights_devices(loaded) == {str(DEVICE1)}
    np.testing.assert_allclose(loaded.predict(x[:5]), model.predict(x[:5]), rtol=1e-6)


def test_to_moves_weights_optimizer_state_and_draws():
    model = small_model(backend="array_api_strict")
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = data()
    model.fit(x, y, batch_size=20, epochs=1, verbose=0)
    before = model.predict(x[:4])
    model.to("array_api_strict", device="device1")
    assert model.device == DEVICE1 and weights_devices(model) == {str(DEVICE1)}
    assert model._step_rng.device == DEVICE1
    np.testing.assert_allclose(model.predict(x[:4]), before, rtol=1e-6)
    model.fit(x, y, batch_size=20, epochs=1, verbose=0)  # optimizer state moved too, or this mixes devices


def test_host_data_larger_than_the_device_limit_is_batched(monkeypatch):
    """Past XCNN_DEVICE_DATA_LIMIT, host data is copied batch by batch (device data: see
    test_device_harness.py, on torch "meta" where np.asarray of device data raises)."""
    monkeypatch.setattr(trainer_module, "DEVICE_DATA_LIMIT", 100)
    model = small_model(backend="array_api_strict", device="device1")
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data()
    logs = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert len(logs["loss"]) == 2 and all(np.isfinite(logs["loss"]))


def test_device_key_stands_in_for_unhashable_devices():
    class Device:  # like cupy.cuda.Device: equal by id, not hashable
        __hash__ = None

        def __init__(self, ident):
            self.id = ident

    assert B.device_key(Device(0)) == B.device_key(Device(0)) != B.device_key(Device(1))
    hash(B.device_key(Device(0)))
    assert B.device_key(DEVICE1) == DEVICE1


def test_band_index_cache_hits_on_every_call():
    """Item 4: the banded conv's index arrays are built once per geometry and device."""
    from xcnn.ops import conv

    conv._cached_band_index.cache_clear()
    model = zoo.article(backend="array_api_strict", device="device1", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = data(8)
    x = np.random.default_rng(0).uniform(size=(8, 28, 28, 1))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    info = conv._cached_band_index.cache_info()
    assert info.misses <= 2 and info.hits >= 2, info


def fake_cupy(monkeypatch, kernel_error=None, devices=1):
    """A stand-in ``cupy`` module whose device count and test kernel behave as told."""
    cupy = types.ModuleType("cupy")
    cupy.__spec__ = importlib.machinery.ModuleSpec("cupy", None)
    runtime = types.SimpleNamespace(getDeviceCount=lambda: devices)
    cupy.cuda = types.SimpleNamespace(runtime=runtime)
    cupy.float32 = np.float32

    def arange(*args, **kwargs):
        if kernel_error is not None:
            raise kernel_error
        return np.arange(*args, **kwargs)

    cupy.arange = arange
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(B, "_cuda_state", None)


def test_cupy_is_available_only_when_a_kernel_runs(monkeypatch):
    """Item 5: a driver that answers is not enough; a tiny kernel must compile and run."""
    fake_cupy(monkeypatch, kernel_error=RuntimeError("CUDA_ERROR_FILE_NOT_FOUND: libnvrtc.so.13"))
    assert not B.is_available("cupy")
    assert "libnvrtc" in B.cuda_status()[1]
    fake_cupy(monkeypatch, devices=0)
    assert not B.is_available("cupy") and B.cuda_status()[1] == "no CUDA device answers"
    fake_cupy(monkeypatch)
    assert B.is_available("cupy") and B.cuda_status() == (True, "a test kernel ran")


def test_torch_model_on_a_device_draws_there():
    torch = pytest.importorskip("torch")
    model = small_model(backend="torch", device="meta")
    assert model.device == torch.device("meta") and weights_devices(model) == {"meta"}
    gen = model._step_rng
    for drawn in (gen.uniform((3,), dtype="float32"), gen.bernoulli((3,), 0.5, "float32"), gen.permutation(4)):
        assert drawn.device.type == "meta"  # drawn there, not on the host and copied
    assert gen.uniform((3,), dtype="float32").dtype == torch.float32


def test_cli_passes_the_device(tmp_path, capsys):
    pytest.importorskip("torch")
    from xcnn import cli

    assert cli.main(["info"]) == 0
    assert "cupy" in capsys.readouterr().out
    args = cli.build_parser().parse_args(["train", "--backend", "torch", "--device", "meta"])
    assert args.device == "meta"


OFF_HOST_USERS = ("xcnn.ops.conv", "xcnn.ops.conv_gather", "xcnn.ops.reductions")


@pytest.fixture
def as_if_on_a_gpu(monkeypatch):
    """Every op takes its accelerator branch (gather in one chunk, one-kernel channel sums, a
    broadcast bias) on whatever backend the test runs: the values those branches compute are
    checked here, where "meta" (the GPU stand-in of the launch counts) has none to check."""
    for module in OFF_HOST_USERS:
        monkeypatch.setattr(sys.modules[module], "off_host", lambda x: True)


def test_the_accelerator_branches_compute_what_the_host_ones_do(backend, as_if_on_a_gpu):
    import reference as ref
    from conftest import assert_close, on

    from xcnn import ops
    from xcnn.ops._workspace import add_bias

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 7, 6, 2)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    xb, wb, bb = on(backend, x, w, b, dtype="float64")
    y = ops.conv2d(xb, wb, bb, stride=(2, 1), padding="same")  # "auto" picks gather here
    assert_close(y, ref.conv2d(x, w, b, (2, 1), "same"), "float64")
    dy = rng.standard_normal(y.shape)
    for got, want in zip(
        ops.conv2d_backward(on(backend, dy, dtype="float64"), xb, wb, stride=(2, 1), padding="same"),
        ref.conv2d_backward(dy, x, w, (2, 1), "same"),
    ):
        assert_close(got, want, "float64")
    assert_close(ops.channel_sum(xb), x.sum(axis=(0, 1, 2)), "float64")
    assert_close(ops.channel_mean(xb), x.mean(axis=(0, 1, 2)), "float64")
    assert_close(xb - ops.spread_channels(ops.channel_mean(xb), xb), x - x.mean(axis=(0, 1, 2)), "float64")
    z = rng.standard_normal((5, 3 * 4))  # K = 3 copies of F = 4 channels per row, as the banded GEMM emits
    assert_close(
        add_bias(B.namespace(backend), on(backend, z.copy(), dtype="float64"), bb), z + np.tile(b, 3), "float64"
    )


def test_a_resnet_trains_the_same_on_the_accelerator_branches(backend, monkeypatch):
    rng = np.random.default_rng(1)
    x, y = rng.uniform(size=(6, 8, 8, 3)), rng.integers(0, 10, 6)

    def losses():
        model = zoo.resnet(input_shape=(8, 8, 3), widths=(8, 16), blocks=1, backend=backend, dtype="float64", seed=0)
        model.compile("adam", "sparse_categorical_crossentropy")
        return [model.train_on_batch(x, y) for _ in range(3)], model.get_weights()

    host_losses, host_weights = losses()
    with monkeypatch.context() as patch:
        for module in OFF_HOST_USERS:
            patch.setattr(sys.modules[module], "off_host", lambda x: True)
        gpu_losses, gpu_weights = losses()
    np.testing.assert_allclose(gpu_losses, host_losses, rtol=1e-10)
    for got, want in zip(gpu_weights, host_weights):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
