"""The optimizers' flat step (all weights in one update) against the same rules one weight at a
time, and the optimizer state staying readable and replaceable per weight around it."""

import copy

import numpy as np
import pytest

from conftest import on
from xcnn import backend as B
from xcnn import optimizers
from xcnn.layers import Conv2D, Dense, Flatten
from xcnn.models import Sequential, load_model
from xcnn.optimizers.schedules import ExponentialDecay

# each optimizer and option the flat step must reproduce; the learning rates are large enough
# that every term of a rule moves the weights visibly within a few steps
CONFIGS = {
    "sgd": lambda: optimizers.SGD(0.1),
    "sgd-momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "sgd-nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "sgd-weight-decay": lambda: optimizers.SGD(0.1, momentum=0.5, weight_decay=0.3),
    "sgd-schedule": lambda: optimizers.SGD(ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5), momentum=0.9),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop-centered-momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adam": lambda: optimizers.Adam(0.01),
    "adam-schedule": lambda: optimizers.Adam(ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    "adam-amsgrad": lambda: optimizers.Adam(0.01, beta_2=0.9, amsgrad=True),
    "adamw-amsgrad-clipnorm": lambda: optimizers.AdamW(0.01, weight_decay=0.1, amsgrad=True, clipnorm=0.5),
    "adamax": lambda: optimizers.Adamax(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "adam-clipnorm": lambda: optimizers.Adam(0.01, clipnorm=0.5),
    "sgd-clipvalue": lambda: optimizers.SGD(0.1, momentum=0.9, clipvalue=0.2),
    "sgd-global-clipnorm": lambda: optimizers.SGD(0.1, global_clipnorm=0.5),
    "adam-global-clipnorm": lambda: optimizers.Adam(0.01, global_clipnorm=0.5),
}
# shapes of a small net's weights: segments of uneven lengths (the flat buffers pad them to
# aligned offsets), a 4-d kernel, a scalar
SHAPES = {"conv/kernel": (3, 3, 2, 4), "conv/bias": (4,), "dense/kernel": (5, 7), "dense/bias": (7,), "scale": ()}


class PerWeight:
    """Runs an optimizer's rule one weight at a time, the reference for the flat step."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def apply(self, items):
        self.optimizer._lr = self.optimizer.current_learning_rate
        return self.optimizer._apply_per_weight(list(items))


def _gradients(rng, steps):
    return [{key: rng.standard_normal(shape) for key, shape in SHAPES.items()} for _ in range(steps)]


def _numpy_state(optimizer):
    return {key: {slot: B.to_numpy(v) for slot, v in slots.items()} for key, slots in optimizer.state.items()}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_flat_step_equals_the_rule_one_weight_at_a_time(backend, dtype, config):
    rng = np.random.default_rng(0)
    start = {key: rng.standard_normal(shape) for key, shape in SHAPES.items()}
    grads = _gradients(rng, 4)
    flat, reference = CONFIGS[config](), CONFIGS[config]()
    weights = {key: on(backend, w, dtype=dtype) for key, w in start.items()}
    expected = dict(weights)
    for step in grads:
        g = {key: on(backend, v, dtype=dtype) for key, v in step.items()}
        weights = dict(zip(SHAPES, flat.apply([(k, weights[k], g[k]) for k in SHAPES])))
        expected = dict(zip(SHAPES, PerWeight(reference).apply([(k, expected[k], g[k]) for k in SHAPES])))
        for key in SHAPES:
            assert B.backend_of(weights[key]) == backend and str(weights[key].dtype).endswith(dtype)
            actual, wanted = B.to_numpy(weights[key]), B.to_numpy(expected[key])
            assert actual.shape == SHAPES[key]
            if "global-clipnorm" in config:  # the joint norm sums in another order
                np.testing.assert_allclose(actual, wanted, rtol=1e-5 if dtype == "float32" else 1e-12)
            else:  # the same element-wise operations on the same numbers
                np.testing.assert_array_equal(actual, wanted)
        assert not np.allclose(B.to_numpy(weights["conv/kernel"]), start["conv/kernel"])
        state, wanted_state = _numpy_state(flat), _numpy_state(reference)
        assert state.keys() == wanted_state.keys() == set(SHAPES)
        for key in wanted_state:
            assert state[key].keys() == wanted_state[key].keys()
            for slot in wanted_state[key]:
                np.testing.assert_allclose(state[key][slot], wanted_state[key][slot], rtol=1e-5, atol=1e-12)
    assert flat.iterations == reference.iterations == 4


def test_flat_step_updates_the_state_views_in_place(backend):
    """The slots in ``state`` are views of the flat buffers: an in-place rule (Adam) moves them."""
    optimizer = optimizers.Adam(0.1)
    w, g = on(backend, np.ones((2, 3)), np.full((2, 3), 0.5))
    (w,) = optimizer.apply([("w", w, g)])
    view = optimizer.state["w"]["m"]
    (w,) = optimizer.apply([("w", w, g)])
    assert optimizer.state["w"]["m"] is view  # not replaced ...
    np.testing.assert_allclose(B.to_numpy(view), np.full((2, 3), 0.5 * (1 - 0.9**2)))  # ... but moved


def test_state_and_weights_replaced_between_steps_are_used(backend):
    """Arrays put into ``state`` or passed as weights (not the views handed out) are packed again."""
    rng = np.random.default_rng(1)
    g = {key: on(backend, rng.standard_normal(shape)) for key, shape in SHAPES.items()}
    flat, reference = optimizers.Adam(0.1), optimizers.Adam(0.1)
    weights = {key: on(backend, rng.standard_normal(shape)) for key, shape in SHAPES.items()}
    expected = dict(weights)
    for step in range(3):
        if step == 1:  # as a loaded checkpoint or Model.to: fresh arrays in the state, in both
            for optimizer in (flat, reference):
                optimizer.state["dense/kernel"]["m"] = on(backend, np.full(SHAPES["dense/kernel"], 0.25))
                optimizer.state["scale"] = {"m": on(backend, np.array(2.0)), "v": on(backend, np.array(3.0))}
        if step == 2:  # as set_weights: new weights for some keys
            weights["conv/bias"] = expected["conv/bias"] = on(backend, np.arange(4.0))
            replaced = flat.state = copy.deepcopy(reference.state)  # as BackupAndRestore
        weights = dict(zip(SHAPES, flat.apply([(k, weights[k], g[k]) for k in SHAPES])))
        expected = dict(zip(SHAPES, PerWeight(reference).apply([(k, expected[k], g[k]) for k in SHAPES])))
        for key in SHAPES:
            np.testing.assert_array_equal(B.to_numpy(weights[key]), B.to_numpy(expected[key]))
    assert replaced is flat.state


def test_a_key_leaving_and_coming_back_keeps_its_slots(backend):
    """A frozen weight (not passed for some steps) keeps its slots, and resumes from them."""
    rng = np.random.default_rng(2)
    keys = list(SHAPES)
    flat, reference = optimizers.Adam(0.1), optimizers.Adam(0.1)
    weights = {key: on(backend, rng.standard_normal(shape)) for key, shape in SHAPES.items()}
    expected = dict(weights)
    for step in range(5):
        active = [k for k in keys if k != "dense/kernel"] if step in (1, 2) else keys
        g = {key: on(backend, rng.standard_normal(SHAPES[key])) for key in active}
        weights.update(zip(active, flat.apply([(k, weights[k], g[k]) for k in active])))
        expected.update(zip(active, PerWeight(reference).apply([(k, expected[k], g[k]) for k in active])))
        for key in keys:
            np.testing.assert_array_equal(B.to_numpy(weights[key]), B.to_numpy(expected[key]))


def test_two_optimizers_keep_their_state_apart():
    a, b = optimizers.Adam(0.1), optimizers.Adam(0.1)
    wa, wb = np.ones(3), np.ones(3)
    for _ in range(3):
        (wa,) = a.apply([("w", wa, np.full(3, 1.0))])
        (wb,) = b.apply([("w", wb, np.full(3, -2.0))])
    alone = optimizers.Adam(0.1)
    w = np.ones(3)
    for _ in range(3):
        (w,) = alone.apply([("w", w, np.full(3, 1.0))])
    np.testing.assert_array_equal(wa, w)
    np.testing.assert_array_equal(a.state["w"]["m"], alone.state["w"]["m"])
    assert (wb > 1).all()


def test_a_copied_optimizer_continues_on_its_own():
    """A deep copy (as a pickled optimizer) does not share the flat buffers with the original."""
    optimizer = optimizers.Adam(0.1)
    w = np.ones((2, 2))
    (w,) = optimizer.apply([("w", w, np.ones((2, 2)))])
    twin = copy.deepcopy(optimizer)
    (w1,) = optimizer.apply([("w", w, np.ones((2, 2)))])
    (w2,) = twin.apply([("w", w, np.ones((2, 2)))])
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(optimizer.state["w"]["v"], twin.state["w"]["v"])


def test_mixed_dtypes_take_the_rule_one_weight_at_a_time():
    optimizer = optimizers.SGD(0.5, momentum=0.5)
    items = [("a", np.ones(2, np.float32), np.ones(2, np.float32)), ("b", np.ones(3), np.ones(3))]
    a, b = optimizer.apply(items)
    assert a.dtype == np.float32 and b.dtype == np.float64
    np.testing.assert_array_equal(b, [0.5, 0.5, 0.5])
    a, b = optimizer.apply([("a", a, items[0][2]), ("b", b, items[1][2])])
    np.testing.assert_array_equal(b, [-0.25, -0.25, -0.25])


def test_bad_shapes_and_repeated_keys_are_refused():
    optimizer = optimizers.Adam()
    with pytest.raises(ValueError, match=r"gradient of 'w' has shape \(3,\), its weight \(2,\)"):
        optimizer.apply([("w", np.ones(2), np.ones(3))])
    with pytest.raises(ValueError, match="'w' more than once"):
        optimizer.apply([("w", np.ones(2), np.ones(2)), ("w", np.ones(2), np.ones(2))])
    optimizer.state["v"] = {"m": np.ones(5)}
    with pytest.raises(ValueError, match=r"'m' slot of 'v' has shape \(5,\), its weight \(2,\)"):
        optimizer.apply([("v", np.ones(2), np.ones(2))])


# --- whole models: the flat step against a model whose optimizer runs per weight ----------------


class PerWeightAdam(optimizers.Adam):
    def apply(self, items):
        self._lr = self.current_learning_rate
        return self._apply_per_weight(list(items))


def _model(backend, seed=0):
    model = Sequential(
        [Conv2D(3, 3, activation="relu", input_shape=(6, 6, 2)), Flatten(), Dense(4, activation="softmax")],
        backend=backend,
        seed=seed,
    )
    return model


def _batches(backend, steps):
    rng = np.random.default_rng(3)
    return [
        (
            B.asarray(rng.standard_normal((8, 6, 6, 2)), backend, "float32"),
            B.asarray(rng.integers(0, 4, 8), backend, "int64"),
        )
        for _ in range(steps)
    ]


def _weights_equal(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("event", ["set_weights", "freeze", "save_and_load", "model_to"])
def test_model_training_with_events_between_steps_matches_per_weight_steps(backend, event, tmp_path):
    flat, reference = _model(backend), _model(backend)
    flat.compile(optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    reference.compile(PerWeightAdam(0.05), "sparse_categorical_crossentropy")
    for step, (x, y) in enumerate(_batches(backend, 6)):
        if step == 3:
            if event == "set_weights":
                new = [w * 0.5 for w in reference.get_weights()]
                flat.set_weights(new)
                reference.set_weights(new)
            elif event == "freeze":
                flat.layers[0].trainable = reference.layers[0].trainable = False
            elif event == "save_and_load":
                path = str(tmp_path / "mid.safetensors")
                flat.save(path)
                flat = load_model(path, backend=backend)
                assert flat.optimizer.iterations == 3
            elif event == "model_to":
                flat.to("numpy").to(backend)
        if step == 5 and event == "freeze":
            flat.layers[0].trainable = reference.layers[0].trainable = True
        flat._train_step(x, y)
        reference._train_step(x, y)
        _weights_equal(flat, reference)
    # the layers' automatic names differ between the two models: compare in layer order
    state, wanted = (
        [_numpy_state(model.optimizer)[f"{layer.name}/{k}"] for layer in model.layers for k in layer.params]
        for model in (flat, reference)
    )
    assert len(state) == len(wanted) == 4
    for slots, wanted_slots in zip(state, wanted):
        assert slots.keys() == wanted_slots.keys() == {"m", "v"}
        for slot in wanted_slots:
            np.testing.assert_array_equal(slots[slot], wanted_slots[slot])


def test_two_models_train_apart(backend):
    """Two models with their own optimizers, stepped in turns, as each stepped alone."""
    batches = _batches(backend, 3)
    models = [_model(backend, seed) for seed in (0, 1)]
    alone = [_model(backend, seed) for seed in (0, 1)]
    for model in models + alone:
        model.compile(optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    for x, y in batches:
        for model in models:
            model._train_step(x, y)
    for model in alone:
        for x, y in batches:
            model._train_step(x, y)
    for model, other in zip(models, alone):
        _weights_equal(model, other)


def test_amsgrad_takes_a_state_without_its_max_slot(backend):
    """A state from an Adam without AMSGrad (a checkpoint, a replaced entry) gets its v_hat."""
    for flat in (True, False):
        optimizer = optimizers.Adam(0.1, amsgrad=True)
        optimizer.state["w"] = {"m": on(backend, np.zeros(2)), "v": on(backend, np.array([1.0, 0.0]))}
        items = [("w", on(backend, np.ones(2)), on(backend, np.array([0.5, 0.5])))]
        optimizer._lr = optimizer.current_learning_rate
        [w] = optimizer._apply_flat(items) if flat else optimizer._apply_per_weight(items)
        expected_v = np.array([1.0, 0.0]) * 0.999 + 0.001 * 0.25
        np.testing.assert_allclose(B.to_numpy(optimizer.state["w"]["v_hat"]), expected_v)
