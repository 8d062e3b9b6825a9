"""`model.summary()`: Keras's table of layers, shapes and parameter counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model


def summary(model: Model, print_fn: Callable[[str], Any] = print, line_length: int | None = None) -> None:
    """Print each layer's name, type, output shape and parameter count, and the totals.

    What `model.summary()` prints.

    `line_length` is the table's width in characters, shared among the columns in Keras's
    proportions; a column is widened where a cell would not fit (nothing is cut).

    Args:
        model: A built model.
        print_fn: Called with each line.
        line_length: The table's width (default: Keras's column widths).

    Raises:
        ValueError: If the model is not built, or `line_length` is not a positive int.

    Examples:
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> from xcnn.models.summary import summary
        >>> summary(Sequential([Input((3,)), Dense(2, name="dense")], name="tiny"))
        Model: "tiny"
        ___________________________________________________________________
         Layer (type)                 Output Shape              Param #
        ===================================================================
         dense (Dense)                (None, 2)                 8
        ===================================================================
        Total params: 8
        Trainable params: 8
        Non-trainable params: 0
        ___________________________________________________________________
    """
    model._ensure_built()
    functional = not model._sequential
    heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    layers = ([model._input.layer] if functional else []) + model._layers
    table = []
    for layer in layers:
        cells = [
            f"{layer.name} ({type(layer).__name__})",
            f"(None, {', '.join(map(str, layer.output.item_shape))})",
            f"{layer.count_params():,}",
        ]
        if functional:
            cells.append(", ".join(t.layer.name for t in layer.inbound) or "-")
        table.append(cells)
    # Keras's column widths (or line_length shared in their proportions), widened where a cell would not fit
    widths = [29, 26, 12, 30][: len(heads)]
    if line_length is not None:
        if isinstance(line_length, bool) or not isinstance(line_length, int) or line_length < 1:
            raise ValueError(f"line_length must be a positive int, got {line_length!r}")
        bounds = [round(line_length * sum(widths[: k + 1]) / sum(widths)) for k in range(len(widths))]
        widths = [b - a for a, b in zip([0, *bounds], bounds)]
    widths = [max([w] + [len(cells[k]) + 2 for cells in table + [heads]]) for k, w in enumerate(widths)]
    total_width = sum(widths)

    def row(cells):
        return "".join(f" {str(c):<{w - 1}}" for c, w in zip(cells, widths)).rstrip()

    lines = [f'Model: "{model.name}"', "_" * total_width, row(heads), "=" * total_width]
    for i, cells in enumerate(table):
        lines.append(row(cells))
        lines.append(("=" if i == len(table) - 1 else "_") * total_width)
    total = model.count_params()
    frozen = sum(layer.count_non_trainable() for layer in model._layers)  # with the frozen layers' weights
    lines += [
        f"Total params: {total:,}",
        f"Trainable params: {total - frozen:,}",
        f"Non-trainable params: {frozen:,}",
        "_" * total_width,
    ]
    for line in lines:
        print_fn(line)
