"""Weights in Keras's layouts and order, ``trainable``, ``model.layers``, ``repr`` and
``summary(line_length=...)``, with Keras 3 (torch backend) as the oracle."""

import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import xcnn  # noqa: E402
from xcnn import layers  # noqa: E402


def _lecture(lib, functional):
    L = lib.layers
    stack = [
        L.Conv2D(9, (3, 3), padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.BatchNormalization(),
        L.Flatten(),
        L.Dense(64, activation="relu"),
        L.Dense(10, activation="softmax"),
    ]
    if not functional:
        return lib.Sequential([lib.Input((28, 28, 1)), *stack])
    h = inputs = lib.Input((28, 28, 1))
    for layer in stack:
        h = layer(h)
    return lib.Model(inputs, h)


@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
def test_weights_copied_from_keras_predict_the_same(functional):
    reference = _lecture(keras, functional)
    rng = np.random.default_rng(0)
    weights = [
        w + rng.uniform(0.1, 0.5, w.shape)
        if "moving" in v.path or "gamma" in v.path
        else rng.standard_normal(w.shape).astype(np.float32) * 0.3
        for w, v in zip(reference.get_weights(), reference.weights)
    ]
    reference.set_weights(weights)
    model = _lecture(xcnn, functional)
    model.set_weights(reference.get_weights())
    x = rng.uniform(size=(16, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), reference.predict(x, verbose=0), atol=1e-5)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert [type(a).__name__ for a in model.layers] == [type(a).__name__ for a in reference.layers]
    for ours, theirs in zip(model.layers, reference.layers):
        assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert repr(model.layers[1]) == f"<{type(model.layers[1]).__name__} name={model.layers[1].name}, built=True>"
    assert repr(model).startswith("<Functional name=" if functional else "<Sequential name=")


def test_set_weights_errors_name_the_layer_and_shape():
    model = _lecture(xcnn, False)
    conv = model.layers[0]
    with pytest.raises(
        ValueError, match=r"weight 'kernel' of layer .* must have shape \(3, 3, 1, 9\), got \(9, 3, 3, 1\)"
    ):
        conv.set_weights([np.zeros((9, 3, 3, 1)), np.zeros(9)])
    with pytest.raises(ValueError, match=r"has 2 weights \(kernel, bias\), got 1 arrays"):
        conv.set_weights([np.zeros((3, 3, 1, 9))])
    with pytest.raises(ValueError, match="has 10 weight arrays, got 3"):
        model.set_weights(model.get_weights()[:3])


def test_frozen_layers_do_not_train_and_count_as_non_trainable():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(size=(64, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 64)
    counts = {}
    for lib in (keras, xcnn):
        model = _lecture(lib, False)
        if lib is xcnn:
            model.set_weights(counts["weights"])
        else:
            counts["weights"] = model.get_weights()
        model.layers[0].trainable = False
        model.layers[2].trainable = False  # BatchNormalization: inference mode, statistics fixed
        model.compile("adam", "sparse_categorical_crossentropy")
        lines = []
        model.summary(print_fn=lambda line, *a, lines=lines, **k: lines.append(line))
        text = "\n".join(lines)
        counts[lib.__name__] = re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text)
        before = model.get_weights()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        after = model.get_weights()
        for k in range(6):  # conv kernel, bias and the four BatchNormalization weights
            np.testing.assert_array_equal(before[k], after[k])
        assert not np.array_equal(before[6], after[6])  # the first Dense trained
    assert counts["xcnn"] == counts["keras"]
    assert counts["xcnn"] == [("Total", "113,736"), ("Trainable", "113,610"), ("Non-trainable", "126")]


def test_summary_line_length_sets_the_width():
    def rules(model, width):
        lines = []
        model.summary(print_fn=lines.append, line_length=width)
        return lines, [line for line in lines if line and set(line) <= {"_", "="}]

    inputs = xcnn.Input((4,), name="in")
    small = xcnn.Model(inputs, layers.Dense(2, name="d")(inputs))
    for width in (80, 120):
        assert {len(line) for line in rules(small, width)[1]} == {width}
    lines, wide = rules(_lecture(xcnn, True), 40)  # the names need more: widened, never cut
    assert all(len(line) > 40 for line in wide) and any("(BatchNormalization)" in line for line in lines)
    with pytest.raises(ValueError, match="line_length must be a positive int, got 0"):
        small.summary(line_length=0)


def _rows(model, **options):
    """``{layer name: the row's other cells}`` of the summary's table, Keras's box drawing or xcnn's.

    Keras wraps a long "name (Type)" onto a second line of the row; that line is skipped."""
    lines = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line), **options)
    rows = {}
    for line in "\n".join(lines).splitlines():  # Keras hands print_fn the whole table at once
        cells = [c.strip() for c in re.split(r"│|\s{2,}", line) if c.strip()]
        if cells and re.fullmatch(r"[a-z]\w*( \(\w+\))?", cells[0]) and len(cells) > 2:
            rows[cells[0].split(" ")[0]] = cells[1:]
    return rows


def test_summary_takes_keras_s_options_and_shows_what_keras_shows():
    models = {}
    for lib in (keras, xcnn):
        lib.backend.clear_session()  # the same automatic layer names in both
        models[lib] = _lecture(lib, False)
        models[lib].layers[0].trainable = False
    # show_trainable: the last cell of each row is Y, N or - (a layer without weights) in both
    got, expected = (_rows(models[lib], show_trainable=True) for lib in (xcnn, keras))
    assert sorted(got) == sorted(expected)
    assert {name: cells[-1] for name, cells in got.items()} == {name: cells[-1] for name, cells in expected.items()}
    names = [layer.name for layer in models[xcnn].layers]
    assert [layer.name for layer in models[keras].layers] == names
    # layer_range: the rows from the first name to the second, both included; patterns match from the start
    for layer_range in [(names[1], names[3]), (names[2], names[2]), ("max_pool.*", "dens.*")]:
        assert list(_rows(models[xcnn], layer_range=layer_range)) == list(
            _rows(models[keras], layer_range=layer_range)
        ), layer_range
    # positions (fractions or characters) and expand_nested are taken; the rows stay the same
    for options in [{"positions": [0.5, 0.8, 1.0]}, {"line_length": 90, "positions": [40, 70, 90]}]:
        assert _rows(models[xcnn], **options) == _rows(models[xcnn])
    models[xcnn].summary(print_fn=lambda line: None, expand_nested=True)
    with pytest.raises(ValueError, match=r"layer_range \('dense', 'conv2d.*'\) must match a layer, then"):
        models[xcnn].summary(layer_range=("dense", "conv2d.*"))
    with pytest.raises(ValueError, match="positions must give one increasing end per column"):
        models[xcnn].summary(positions=[0.5, 0.4, 1.0])


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adamw"])
def test_summary_counts_the_optimizer_s_state_once_it_has_stepped_as_keras(optimizer):
    rng = np.random.default_rng(2)
    x, y = rng.uniform(size=(16, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 16)
    counts = {}
    for lib in (keras, xcnn):
        model = _lecture(lib, False)
        model.compile(optimizer, "sparse_categorical_crossentropy")
        for when in ("compiled", "stepped"):
            lines = []
            model.summary(print_fn=lambda line, *a, lines=lines, **k: lines.append(line))
            counts[lib, when] = re.findall(
                r"(Total|Trainable|Non-trainable|Optimizer) params: ([\d,]+)", "\n".join(lines)
            )
            model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert counts[xcnn, "compiled"] == counts[keras, "compiled"]  # no optimizer line before a step
    assert counts[xcnn, "stepped"] == counts[keras, "stepped"]
    assert counts[xcnn, "stepped"][-1][0] == "Optimizer"
