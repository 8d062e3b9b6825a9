"""The NumPy fast path's threads (xcnn/ops/_parallel.py): a model holds the BLAS at one thread
through its passes once they run the convolutions' image groups, and only then."""

import numpy as np
import pytest

from xcnn import layers, models
from xcnn.ops import _parallel as parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture
def controller(monkeypatch):
    found = parallel._blas_controller()
    if found is None:
        pytest.skip("threadpoolctl finds no BLAS to limit")
    monkeypatch.setenv("XCNN_THREADS", "2")
    with found.limit(limits=2):  # a BLAS of two threads, as on the 2-core VM, whatever this machine has
        yield found


def _net(channels):
    # channels >= GATHER_MIN_CHANNELS with stride 1: the gather convolution and its image groups
    return models.Sequential(
        [
            layers.Input((8, 8, channels)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ],
        seed=0,
    )


def _train(model, steps=2, batch=8):
    rng = np.random.default_rng(0)
    x = rng.random((batch, *model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, 3, batch)
    model.compile("adam", "sparse_categorical_crossentropy")
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model


def test_a_pass_that_runs_groups_makes_the_model_hold_the_blas(controller, monkeypatch):
    from xcnn.ops import conv, conv_gather

    monkeypatch.setattr(conv_gather, "GATHER_CHUNK_BYTES", 1)  # one image per chunk: groups on 8 images
    seen = []
    original = conv.parallel.run

    def spy(xp, task, count):
        seen.append((count, _blas_threads()))
        return original(xp, task, count)

    monkeypatch.setattr(conv.parallel, "run", spy)
    model = _train(_net(16))
    assert model._blas_hold.wanted
    assert seen and all(count == 2 for count, _ in seen)
    # the first pass ran with the BLAS's own threads; from the second on, the model held it at 1
    assert seen[0][1] == [2] * len(seen[0][1]) and seen[-1][1] == [1] * len(seen[-1][1])
    assert _blas_threads() == [2] * len(_blas_threads())  # given back after each pass


def test_a_model_without_groups_keeps_the_blas_threads(controller):
    model = _train(_net(1))  # one input channel: not the gather convolution
    assert not model._blas_hold.wanted


def test_the_hold_is_per_pass_and_nests(controller):
    hold = parallel.BlasHold()
    hold.wanted = True
    with hold.pass_on("numpy", 8):
        assert set(_blas_threads()) == {1}
        with parallel.BlasHold().pass_on("numpy", 8):  # another model's pass inside: still held
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert set(_blas_threads()) == {2}
    with hold.pass_on("torch", 8):  # only NumPy's BLAS is held
        assert set(_blas_threads()) == {2}


def test_groups_run_in_an_inner_pass_count_for_the_outer_one(controller, monkeypatch):
    # an inner pass that is not held itself keeps the outer hold: the groups it runs limit the
    # BLAS no further; and groups run inside a pass are the outer pass's too, whose model then
    # holds the BLAS from its next pass on
    limits = []
    limit = controller.limit
    monkeypatch.setattr(controller, "limit", lambda **kwargs: limits.append(kwargs) or limit(**kwargs))
    held, inner = parallel.BlasHold(), parallel.BlasHold()
    held.wanted = True
    with held.pass_on("numpy", 8), inner.pass_on("numpy", 8):
        parallel.run(np, lambda i: None, 2)
    assert limits == [{"limits": 1}]  # the outer hold's alone
    assert inner.wanted
    outer = parallel.BlasHold()
    with outer.pass_on("numpy", 8), parallel.BlasHold().pass_on("numpy", 8):
        parallel.run(np, lambda i: None, 2)
    assert outer.wanted


def test_an_error_in_a_pass_gives_the_blas_back(controller):
    hold = parallel.BlasHold()
    hold.wanted = True
    with pytest.raises(RuntimeError), hold.pass_on("numpy", 8):
        raise RuntimeError("a layer failed")
    assert set(_blas_threads()) == {2}
    assert not parallel._state.held


def test_a_pass_over_one_image_keeps_the_blas_threads(controller):
    # it cannot run groups: holding would only take its GEMMs' second thread (predict at batch 1
    # after training)
    model = _train(_net(16))
    assert model._blas_hold.wanted
    seen = []
    dense = model.layers[-1]
    forward = dense.forward
    dense.forward = lambda *args: seen.append(_blas_threads()) or forward(*args)
    model.predict(np.zeros((1, 8, 8, 16), "float32"), verbose=0)
    model.predict(np.zeros((2, 8, 8, 16), "float32"), verbose=0)
    assert seen == [[2] * len(seen[0]), [1] * len(seen[1])]
