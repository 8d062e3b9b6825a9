"""No hidden host syncs and few kernel launches per training step, proven on the CPU.

PyTorch's "meta" device stands in for a GPU: its tensors have shapes and dtypes but no values,
so any read of a value (``float(t)``, ``t.item()``, ``bool(t)``, a copy to NumPy) raises, and
a :class:`~torch.utils._python_dispatch.TorchDispatchMode` sees every op a step runs. With them:

- every zoo model, and a model holding every layer kind, trains on "meta" without reading
  anything back inside a step, and reads the metrics once per epoch at ``verbose=0``;
- the array-api-compat functions that CuPy (only CuPy) gets in their generic, boolean-mask
  form are swapped into the torch namespace, so a sync they would cause on a GPU shows here;
- a step's kernel launches (non-view ops) are counted against the PyTorch twins of
  ``benchmarks/train_step.py``.

A new layer joins by adding a stage to :data:`STAGES`; a new zoo model joins by itself.
"""

import argparse
import collections
import contextlib
import functools
import importlib.util
import os
import sys

import numpy as np
import pytest

from xcnn import backend as B
from xcnn import regularizers, zoo
from xcnn.layers import (
    LAYER_CLASSES,
    Activation,
    Add,
    Average,
    AveragePooling2D,
    BatchNormalization,
    ELU,
    PReLU,
    ReLU,
    Concatenate,
    Conv2D,
    Conv2DTranspose,
    Cropping2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Identity,
    Input,
    LayerNormalization,
    LeakyReLU,
    Maximum,
    MaxPooling2D,
    Minimum,
    Multiply,
    Permute,
    SpatialDropout2D,
    Subtract,
    SyncBatchNormalization,
    RandomFlip,
    RandomRotation,
    RandomZoom,
    RandomContrast,
    Resizing,
    CenterCrop,
    RandomCrop,
    RandomBrightness,
    Normalization,
    RandomTranslation,
    Rescaling,
    Reshape,
    SeparableConv2D,
    Softmax,
    UpSampling2D,
    ZeroPadding2D,
)
from xcnn.models import Model
from xcnn.models import trainer as trainer_module

torch = pytest.importorskip("torch")
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402 - only where torch is installed

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# ops that read a device value back to the host, or whose output size depends on values (so
# the host must learn it): each is a device sync on a GPU
SYNC_OPS = {
    "_local_scalar_dense",
    "item",
    "is_nonzero",
    "equal",
    "nonzero",
    "nonzero_static",
    "masked_select",
    "unique",
    "_unique",
    "_unique2",
    "unique_consecutive",
    "unique_dim",
    "allclose",
}
# ops that launch no kernel: allocation without a fill, in-place changes of a tensor's shape
# metadata, profiler markers, and reads of a CPU scalar (the twin's Adam keeps its step
# counter on the host, also with CUDA)
NOT_LAUNCHES = (
    "empty",
    "squeeze_",
    "unsqueeze_",
    "as_strided_",
    "t_",
    "transpose_",
    "_record_function",
    "_local_scalar_dense",
)


class StepWatch(TorchDispatchMode):
    """Counts the ops a stretch of torch code launches and records those that sync."""

    def __init__(self):
        super().__init__()
        self.launches = collections.Counter()
        self.syncs = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        if name in SYNC_OPS or (name in ("index", "index_put", "index_put_") and _bool_index(args)):
            self.syncs.append(name)
        if not func.is_view and not name.startswith(NOT_LAUNCHES) and not _host_scalar_on_meta(name, kwargs):
            self.launches[name] += 1
        return func(*args, **kwargs)

    @property
    def total(self):
        return sum(self.launches.values())


def _host_scalar_on_meta(name, kwargs):
    """``t[i] = 0`` on a meta tensor dispatches ``scalar_tensor`` on meta, then ``copy_``; on a
    CUDA tensor torch makes that scalar on the host without dispatching anything (and on the
    CPU it is one ``fill_``): only the copy is a launch."""
    device = kwargs.get("device")
    return name == "scalar_tensor" and device is not None and torch.device(device).type == "meta"


def _bool_index(args):
    indices = args[1] if len(args) > 1 else ()
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in indices or ())


def _cupy_like_sign(x):
    """array-api-compat's ``sign`` as CuPy gets it: NaNs restored through a boolean mask."""
    out = torch.sign(x)
    if x.dtype.is_floating_point:
        out[torch.isnan(x)] = torch.nan
    return out


@contextlib.contextmanager
def cupy_compat_paths(monkeypatch):
    """Give the torch namespace the generic array-api-compat functions that CuPy gets (the
    boolean-mask ``clip`` and ``sign``), so the syncs they cause on CuPy are seen on torch."""
    import array_api_compat.torch as compat_torch
    from array_api_compat._internal import get_xp
    from array_api_compat.common import _aliases

    with monkeypatch.context() as patch:
        patch.setattr(compat_torch, "clip", get_xp(torch)(_aliases.clip))
        patch.setattr(compat_torch, "sign", _cupy_like_sign)
        yield


@pytest.fixture
def host_reads(monkeypatch):
    """Counts device->host reads (``B.to_numpy``); a meta tensor reads as zeros of its shape."""
    reads = []
    real = B.to_numpy

    def counted(x):
        reads.append(tuple(x.shape))
        if B.backend_of(x) == "torch" and x.device.type == "meta":
            return np.zeros(tuple(x.shape), dtype=str(x.dtype).removeprefix("torch."))
        return real(x)

    monkeypatch.setattr(B, "to_numpy", counted)
    return reads


def meta_fit(model, loss, y, monkeypatch, epochs=2, batch_size=4):
    """Fit ``model`` on "meta" with the CuPy compat paths under a :class:`StepWatch`."""
    model.compile("adam", loss, ["accuracy"])
    x = np.random.default_rng(0).uniform(size=(2 * batch_size, *model.input_shape[1:]))
    with cupy_compat_paths(monkeypatch), StepWatch() as watch:
        model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return watch


def zoo_models():
    """Every zoo network once (``seed`` is an alias of ``article``)."""
    seen, names = set(), []
    for name, build in zoo.MODELS.items():
        if build not in seen:
            seen.add(build)
            names.append(name)
    return names


@pytest.mark.parametrize("name", zoo_models())
def test_zoo_model_trains_on_meta_without_host_reads(name, monkeypatch, host_reads):
    model = zoo.get(name, augment=2, backend="torch", device="meta", seed=0)
    watch = meta_fit(model, "sparse_categorical_crossentropy", np.arange(8) % 10, monkeypatch)
    assert watch.syncs == [], f"{name}: a step synced the device: {watch.syncs}"
    assert len(host_reads) == 2, f"{name}: expected one metric read per epoch, got {host_reads}"
    assert {a.device.type for layer in model.layers for a in layer.params.values()} == {"meta"}


# One stage per layer kind: ``stage(tensor) -> tensor`` wires it into the test model. Several
# activations ride along (relun and the unfused cross-entropies take the clip path; the l1
# regularizer takes sign). A new layer kind joins the harness by being added here. Shapes
# (H, W, C) after each stage are noted where they change.
STAGES = [
    lambda t: Rescaling(1 / 127.5, offset=-1.0)(t),
    lambda t: RandomTranslation(0.1, 0.1)(t),
    lambda t: RandomFlip()(t),  # the model's per-step stream
    lambda t: RandomRotation(0.1, seed=3)(t),  # its own stream; bilinear, reflect
    lambda t: RandomRotation((-0.2, 0.1), fill_mode="constant", interpolation="nearest")(t),
    lambda t: RandomZoom((-0.2, 0.3), (0.1, 0.2), fill_mode="wrap", seed=5)(t),
    lambda t: RandomContrast((0.1, 0.4), value_range=(-1, 1))(t),
    lambda t: Resizing(13, 11)(t),  # 13x11
    lambda t: Resizing(10, 10, interpolation="nearest")(t),  # 10x10 again
    lambda t: RandomCrop(8, 9)(CenterCrop(9, 10)(t)),  # 8x9: a window of each image, drawn on the device
    lambda t: Resizing(10, 10)(RandomBrightness((-0.2, 0.1), value_range=(-1, 1), seed=2)(t)),  # 10x10 again
    lambda t: Normalization(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 3.0], invert=True)(Normalization(axis=(1, 3))(t)),
    lambda t: Conv2D(4, 3, padding="same", activation="relun", kernel_regularizer=regularizers.l1_l2(1e-4, 1e-4))(
        t
    ),  # 10x10x4
    lambda t: BatchNormalization()(t),
    lambda t: SyncBatchNormalization(momentum=0.9)(t),  # in one process: BatchNormalization
    lambda t: Add()([t, Conv2D(4, 1, activation="elu")(t)]),
    # the element-wise merges broadcast: a (1, 1, C) gate, a (C,) vector; three inputs
    lambda t: Multiply()([t, Reshape((1, 1, 4))(Dense(4, activation="sigmoid")(GlobalAveragePooling2D()(t)))]),
    lambda t: Subtract()([t, Conv2D(4, 1)(t)]),
    lambda t: Average()([t, Activation("sigmoid")(t), Dense(4)(GlobalMaxPooling2D()(t))]),
    lambda t: Maximum()([t, Activation("tanh")(t)]),
    lambda t: Minimum()([t, Activation("relu")(t), Activation("sigmoid")(t)]),
    lambda t: LayerNormalization(axis=[1, 2])(t),  # per channel over the image: the weights reshaped
    lambda t: GaussianNoise(0.1)(Identity()(t)),  # the model's per-step stream
    lambda t: Permute((2, 1, 3))(t),  # 10x10x4 still
    lambda t: Concatenate()([t, Activation("tanh")(t)]),  # 10x10x8
    lambda t: ZeroPadding2D(((1, 0), (0, 1)))(t),  # 11x11x8
    lambda t: Cropping2D(((1, 1), (0, 2)))(ZeroPadding2D(1)(t)),  # 11x11x8 still
    lambda t: DepthwiseConv2D(2, depth_multiplier=2, activation="relu")(t),  # 10x10x16
    lambda t: ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5)(t),
    lambda t: MaxPooling2D(2)(t),  # 5x5x16
    lambda t: UpSampling2D(2)(t),  # 10x10x16
    lambda t: SeparableConv2D(8, 3, strides=2, padding="same", pointwise_regularizer=regularizers.l2(1e-4))(t),  # 5x5x8
    lambda t: Conv2DTranspose(4, 2, strides=2)(t),  # 10x10x4
    lambda t: LeakyReLU(0.2)(t),
    lambda t: AveragePooling2D(2, padding="same")(t),  # 5x5x4
    lambda t: Conv2D(6, 2, activation="prelu")(t),  # 4x4x6
    lambda t: PReLU(shared_axes=[1, 2])(t),
    # each channel's mean and max spread back over the 4x4 image, beside it
    lambda t: Concatenate()(
        [
            t,
            UpSampling2D(4)(GlobalAveragePooling2D(keepdims=True)(t)),
            UpSampling2D(4)(Reshape((1, 1, 6))(GlobalMaxPooling2D()(t))),
        ]
    ),  # 4x4x18
    lambda t: Dropout(0.25)(t),
    lambda t: SpatialDropout2D(0.25, seed=4)(t),  # its own stream
    lambda t: Reshape((16, 18))(t),
    lambda t: Softmax(axis=1)(t),
    lambda t: Flatten()(t),  # 288
    lambda t: Dense(8, activation="rrelu")(t),
    lambda t: ELU(0.5)(t),
    lambda t: LayerNormalization()(t),  # the last axis
    lambda t: Dense(8, activation="maxout")(t),
    lambda t: Activation("leaky_relu")(t),
]


def every_layer_kind_model(head, device="meta"):
    inputs = Input((10, 10, 3))
    t = inputs
    for stage in STAGES:
        t = stage(t)
    return Model(inputs, Dense(3, activation=head)(t), backend="torch", device=device, seed=0)


def test_every_layer_kind_is_in_the_harness():
    model = every_layer_kind_model("softmax", device="cpu")
    missing = set(LAYER_CLASSES) - {"InputLayer"} - {type(layer).__name__ for layer in model.layers}
    assert not missing, f"add a stage for {sorted(missing)} to STAGES in tests/test_device_harness.py"


HEADS = [
    ("softmax", "sparse_categorical_crossentropy"),
    ("sigmoid", "categorical_crossentropy"),
    ("softmax", "binary_crossentropy"),
    ("linear", "mse"),
]


@pytest.mark.parametrize("head,loss", HEADS, ids=[loss for _, loss in HEADS])
def test_every_layer_kind_trains_on_meta_without_host_reads(head, loss, monkeypatch, host_reads):
    labels = np.arange(8) % 3
    y = labels if loss.startswith("sparse") else np.eye(3)[labels]
    watch = meta_fit(every_layer_kind_model(head), loss, y, monkeypatch)
    assert watch.syncs == [], f"a step synced the device: {watch.syncs}"
    assert len(host_reads) == 2, f"expected one metric read per epoch, got {host_reads}"


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_the_watch_counts_a_scalar_assignment_as_one_launch(device):
    """``t[i] = scalar``: one fill on the CPU; on meta torch also dispatches the scalar's
    tensor, which on CUDA it makes on the host: the watch counts one launch either way, and
    a real kernel on meta (a multiply) still counts."""
    t = torch.zeros(10, device=device)
    with StepWatch() as watch:
        t[1:3] = 0
        t = t * 2.0
    assert watch.total == 2, watch.launches


def test_the_watch_catches_the_compat_syncs(monkeypatch):
    """The harness itself: the generic compat clip and sign do sync on meta, and a read raises."""
    x = torch.zeros(5, device="meta")
    import array_api_compat.torch as xp

    with cupy_compat_paths(monkeypatch), StepWatch() as watch:
        with pytest.raises(NotImplementedError):
            xp.clip(x, 0.0, 6.0)  # a[mask] needs the mask's count: nonzero, which meta refuses
        xp.sign(x)
    assert "index_put_" in watch.syncs or "index_put" in watch.syncs
    with pytest.raises(RuntimeError):
        float(x.sum())


def test_device_data_past_the_limit_is_batched_on_the_device(monkeypatch, host_reads):
    """Item 2: past XCNN_DEVICE_DATA_LIMIT device data is gathered on its device, batch by
    batch; ``np.asarray`` of a meta tensor would raise (as CuPy arrays and CUDA tensors do).
    Each call reads two things: the label check at the edge (one 0-d flag, reduced on the
    device, never the labels themselves) and the metrics at the end (loss and accuracy in one copy)."""
    monkeypatch.setattr(trainer_module, "DEVICE_DATA_LIMIT", 100)
    model = zoo.lecture(backend="torch", device="meta", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = torch.zeros((12, 28, 28, 1), device="meta")
    y = torch.zeros((12,), dtype=torch.int64, device="meta")
    with StepWatch() as watch:
        model.fit(x, y, batch_size=5, epochs=1, verbose=0)
        model.evaluate(x, y, batch_size=5)
    assert watch.syncs == [] and host_reads == [(), (2,), (), (2,)]


# --- kernel launches per training step, against PyTorch's twin --------------------------------
def _train_step_module():
    path = os.path.join(ROOT, "benchmarks", "train_step.py")
    spec = importlib.util.spec_from_file_location("xcnn_bench_train_step", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def launches_per_step(step, warmup=2):
    for _ in range(warmup):  # caches (band indices, workspaces, optimizer slots) filled
        step()
    with StepWatch() as watch:
        step()
    return watch


# The goal (issue 16): at most 1.5x the twin's launches. Where xcnn is not there yet, the
# ratchet is today's count: the test fails on any increase, and the xfail below turns into a
# failure (strict) the day the goal is met, to be moved here.
GOAL = 1.5
# History: 190/177/273/922/5328 at the start of issue 16; the flat optimizer step, one copy
# per kernel offset, in-place scatter-adds and the shift convolution in one chunk on a GPU:
# 105/91/134/353/1252. Then every convolution on a GPU (and "meta") as the gather algorithm
# (5 launches forward, 7 backward, whatever the kernel), torch's take as index_select alone,
# and channel sums and means as one reduction off the host: all five within the goal.
RATCHET = {"seed": 97, "lecture": 89, "lenet": 97, "vgg": 166, "resnet": 724}
BATCH = {"vgg": 16}


@functools.cache  # both launch tests read the same counts
def step_launches(name):
    bench = _train_step_module()
    # xcnn counted on "meta", the stand-in for a GPU: ops size their work for the device they
    # run on (every convolution is gather there, the whole batch in one chunk, where on the CPU
    # it takes L2-sized chunks, each with its own launches), and a GPU's launches are the goal
    args = argparse.Namespace(model=name, batch_size=BATCH.get(name, 100), dtype="float32", backend="torch")
    _, _, _, step = bench.xcnn_stepper(argparse.Namespace(**vars(args), device="meta"))
    ours = launches_per_step(step)
    twins = bench.torch_steppers(args)
    theirs = launches_per_step(next(iter(twins.values()))) if twins else None
    return ours, theirs


def bench_models():
    if not os.path.exists(os.path.join(ROOT, "benchmarks", "train_step.py")):
        return []
    return sorted(_train_step_module().SHAPES)


@pytest.mark.parametrize("name", bench_models())
def test_launches_per_step_do_not_grow(name):
    ours, theirs = step_launches(name)
    assert not ours.syncs, f"{name}: a step synced: {ours.syncs}"
    twin = f", PyTorch's twin {theirs.total} ({ours.total / theirs.total:.2f}x)" if theirs else ""
    budget = RATCHET.get(name)
    assert budget is not None, f"{name}: {ours.total} launches{twin}; add it to RATCHET"
    assert ours.total <= budget, f"{name}: {ours.total} launches per step > {budget}{twin}: {ours.launches}"


@pytest.mark.parametrize("name", bench_models())
def test_launches_within_goal_of_the_twin(name, request):
    ours, theirs = step_launches(name)
    if theirs is None:
        pytest.skip(f"no PyTorch twin for {name} in benchmarks/train_step.py")
    if ours.total > GOAL * theirs.total:
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason=(
                    f"{name}: {ours.total} launches per step, {ours.total / theirs.total:.2f}x PyTorch's twin "
                    f"({theirs.total}); goal {GOAL}x"
                ),
            )
        )
    assert ours.total <= GOAL * theirs.total


def test_weighted_metrics_and_auc_are_read_with_the_loss(monkeypatch, host_reads):
    """Weighted metrics keep a device count and AUC four device vectors: all are read in the
    epoch's one copy, with the loss, and updated without a sync."""
    from xcnn import metrics

    model = every_layer_kind_model("sigmoid")
    model.compile(
        "adam", "binary_crossentropy", ["accuracy", metrics.AUC(num_thresholds=5)], weighted_metrics=["accuracy"]
    )
    x = np.random.default_rng(0).uniform(size=(8, *model.input_shape[1:]))
    y = np.eye(3)[np.arange(8) % 3]
    with cupy_compat_paths(monkeypatch), StepWatch() as watch:
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, sample_weight=np.linspace(0.5, 1.5, 8))
    assert watch.syncs == [], f"a step synced the device: {watch.syncs}"
    # loss, accuracy's total, weighted accuracy's total and count, AUC's 4 x 5 counts
    assert host_reads == [(24,), (24,)]
    assert set(history.history) == {"loss", "accuracy", "auc", "weighted_accuracy"}


def test_progress_bar_reads_the_metrics_once_per_refresh(monkeypatch, host_reads):
    """verbose=1: each refresh of the bar reads loss and accuracy together, in one copy."""
    pytest.importorskip("tqdm")
    model = zoo.lecture(backend="torch", device="meta", seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = np.zeros((8, 28, 28, 1))
    with StepWatch() as watch:
        model.fit(x, np.arange(8) % 10, batch_size=4, epochs=1, verbose=1)
    # 2 steps, a refresh after each (fewer than 10 steps), then the epoch's own read
    assert watch.syncs == [] and host_reads == [(2,), (2,), (2,)]
