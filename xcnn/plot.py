"""Pictures: learning curves, misclassified digits, learned filters, a layer diagram.

matplotlib is an optional dependency (``pip install "xcnn[plot]"``). Every function returns
the matplotlib Figure and, given ``to_file``, also writes it (PNG by the file's suffix).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backend as B
from ._typing import Array

if TYPE_CHECKING:
    from .callbacks import History
    from .layers import Layer
    from .models import Model

Figure = Any
"""A `matplotlib.figure.Figure` (matplotlib is optional, so not imported for the annotation)."""


def _pyplot():
    try:
        import matplotlib

        if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
            matplotlib.use("Agg")  # no screen: draw to files
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('xcnn.plot needs matplotlib: pip install "xcnn[plot]"') from None
    return plt


def _save(fig, to_file):
    if to_file is not None:
        from .models import atomic_write

        fmt = os.path.splitext(to_file)[1].lstrip(".") or "png"
        picture = io.BytesIO()
        fig.savefig(picture, format=fmt, dpi=100, bbox_inches="tight")
        atomic_write(to_file, picture.getvalue())  # never a half-written picture, the umask's mode
    return fig


def plot_history(history: History | dict[str, list[float]], to_file: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training vs validation.

    Args:
        history: A `History` (what `fit` returns) or its `.history` dict of per-epoch lists
            (`"loss"`, `"accuracy"`, and their `"val_"` twins where present).
        to_file: If given, the picture is also written there (PNG, or the format its suffix names).

    Returns:
        The matplotlib Figure, one panel per metric.

    Raises:
        ImportError: If matplotlib is not installed.
        ValueError: If `history` has neither `"loss"` nor `"accuracy"`.

    Examples:
        >>> from xcnn.plot import plot_history
        >>> logs = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.5]}
        >>> figure = plot_history(logs, to_file="history.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    logs: Any = getattr(history, "history", history)
    metrics = [m for m in ("loss", "accuracy") if m in logs]
    if not metrics:
        raise ValueError(f"history has no 'loss' or 'accuracy' entries, got {sorted(logs)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", label="training")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s-", label="validation")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save(fig, to_file)


def plot_misclassified(
    model: Model,
    x: Array,
    y: Array,
    max_images: int = 25,
    to_file: str | None = None,
    class_names: Sequence[str] | None = None,
    batch_size: int = 256,
) -> Figure:
    """A grid of the images `model` gets wrong, titled with true and predicted labels.

    Args:
        model: A model that classifies images.
        x: Images `(N, H, W, C)` as the model takes them (a host or backend array).
        y: Integer labels `(N,)` or one-hot `(N, classes)`.
        max_images: The most images shown (the first ones wrong).
        to_file: As in `plot_history`.
        class_names: A name per class for the titles (default the class numbers).
        batch_size: The batch size of the predictions.

    Returns:
        The matplotlib Figure, titled with how many of the N are misclassified.

    Raises:
        ImportError: If matplotlib is not installed.

    Examples:
        >>> import numpy as np
        >>> from xcnn import zoo
        >>> from xcnn.plot import plot_misclassified
        >>> model = zoo.lenet(seed=0)
        >>> x, y = np.zeros((8, 28, 28, 1), "float32"), np.arange(8)
        >>> figure = plot_misclassified(model, x, y, to_file="wrong.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    predicted = model.predict(x, batch_size=batch_size).argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)[:max_images]
    cols = max(1, min(5, len(wrong)))
    rows = max(1, -(-len(wrong) // cols))
    # no ticks at all (not just hidden): laying out 25 axes' unused ticks took most of a second
    fig, axes = plt.subplots(
        rows, cols, figsize=(2 * cols, 2.3 * rows), squeeze=False, subplot_kw={"xticks": [], "yticks": []}
    )
    name = (lambda i: class_names[i]) if class_names else str
    images = B.to_numpy(x) if B.backend_of_or_none(x) else np.asarray(x)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        img = images[i]
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None)
        ax.set_title(f"true {name(int(labels[i]))}\npred {name(int(predicted[i]))}", fontsize=9)
    fig.suptitle(
        f"{len(np.flatnonzero(predicted != labels))} of {len(labels)} misclassified"
        + (f" (first {len(wrong)} shown)" if len(wrong) else "")
    )
    fig.tight_layout()
    return _save(fig, to_file)


def plot_filters(layer: Layer, to_file: str | None = None, channel: int = 0) -> Figure:
    """The kernels of a Conv2D layer as images (one channel of each filter).

    Args:
        layer: A built Conv2D layer (kernel `(F, KH, KW, C)`).
        to_file: As in `plot_history`.
        channel: The input channel shown.

    Returns:
        The matplotlib Figure, one image per filter, up to 8 a row.

    Raises:
        ImportError: If matplotlib is not installed.
        TypeError: If `layer` has no 4-D `kernel` (not a built Conv2D layer).

    Examples:
        >>> from xcnn import zoo
        >>> from xcnn.plot import plot_filters
        >>> model = zoo.article(seed=0)
        >>> figure = plot_filters(model.layers[0], to_file="filters.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    if "kernel" not in getattr(layer, "params", {}) or len(layer.params["kernel"].shape) != 4:
        raise TypeError(f"plot_filters needs a built Conv2D layer, got {layer!r}")
    kernels = B.to_numpy(layer.params["kernel"])[..., channel]
    n = kernels.shape[0]
    cols = min(8, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.4 * cols, 1.5 * rows), squeeze=False, subplot_kw={"xticks": [], "yticks": []}
    )
    for ax in axes.ravel():
        ax.axis("off")
    for i, ax in enumerate(axes.ravel()[:n]):
        ax.imshow(kernels[i], cmap="gray")
        ax.set_title(f"filter {i}", fontsize=8)
    fig.suptitle(f"{layer.name}: {n} filters {kernels.shape[1]}x{kernels.shape[2]}")
    fig.tight_layout()
    return _save(fig, to_file)


def _describe(layer):
    shape = lambda s: "(None, " + ", ".join(map(str, s)) + ")"  # noqa: E731
    ins = ", ".join(shape(t.item_shape) for t in layer.inbound) or shape(layer.output.item_shape)
    return f"{layer.name}: {type(layer).__name__}", ins, shape(layer.output.item_shape)


def plot_model(model: Model, to_file: str = "model.png", show_shapes: bool = True) -> str:
    """A layer diagram with shapes, like Keras's.

    Uses graphviz's `dot` when installed, otherwise draws the boxes with matplotlib.

    Args:
        model: A built model.
        to_file: The picture to write (its suffix names the format).
        show_shapes: Whether each box shows its input and output shapes `(None, ...)`.

    Returns:
        `to_file`.

    Raises:
        ImportError: If neither `dot` nor matplotlib is installed.
        subprocess.CalledProcessError: If `dot` fails.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.plot import plot_model
        >>> plot_model(Sequential([Input((3,)), Dense(2)], seed=0), to_file="model.png")  # doctest: +SKIP
        'model.png'
    """
    layers = [model._input.layer] + model._layers
    if shutil.which("dot"):
        lines = ["digraph model {", "  node [shape=record, fontname=Helvetica];"]
        for layer in layers:
            title, ins, out = _describe(layer)
            label = f"{{{title}|{{input: {ins}|output: {out}}}}}" if show_shapes else title
            lines.append(f'  "{layer.name}" [label="{label}"];')
            lines.extend(f'  "{t.layer.name}" -> "{layer.name}";' for t in layer.inbound)
        lines.append("}")
        fmt = os.path.splitext(to_file)[1].lstrip(".") or "png"
        out = subprocess.run(["dot", f"-T{fmt}"], input="\n".join(lines).encode(), capture_output=True, check=True)
        from .models import atomic_write

        atomic_write(to_file, out.stdout)
        return to_file
    plt = _pyplot()
    depth: dict[str, int] = {}
    for layer in layers:
        depth[layer.name] = 1 + max((depth[t.layer.name] for t in layer.inbound), default=-1)
    columns: dict[int, int] = {}
    position: dict[str, tuple[int, int]] = {}
    for layer in layers:
        d = depth[layer.name]
        position[layer.name] = (columns.get(d, 0), d)
        columns[d] = columns.get(d, 0) + 1
    width = max(columns.values())
    fig, ax = plt.subplots(figsize=(4.2 * width, 1.1 * (max(depth.values()) + 1)))
    for layer in layers:
        col, row = position[layer.name]
        title, ins, out = _describe(layer)
        text = f"{title}\nin {ins}  out {out}" if show_shapes else title
        ax.text(
            col,
            -row,
            text,
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(boxstyle="round", facecolor="#e8f0fe", edgecolor="#3367d6"),
        )
        for t in layer.inbound:
            c0, r0 = position[t.layer.name]
            ax.annotate("", xy=(col, -row + 0.25), xytext=(c0, -r0 - 0.25), arrowprops=dict(arrowstyle="->"))
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-max(depth.values()) - 0.6, 0.6)
    ax.axis("off")
    _save(fig, to_file)
    plt.close(fig)
    return to_file
