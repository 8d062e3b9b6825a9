"""`model.summary()`: Keras's table of layers, shapes and parameter counts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model


def summary(
    model: Model,
    print_fn: Callable[[str], Any] = print,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
) -> None:
    """Print each layer's name, type, output shape and parameter count, and the totals.

    What `model.summary()` prints, with Keras's options. Once the optimizer has taken a step,
    its state is counted too ("Optimizer params", in the total), as Keras counts it. The columns take Keras's widths,
    or `line_length` shared in their proportions, or `positions`; a column is widened where
    a cell would not fit (nothing is cut).

    Args:
        model: A built model.
        print_fn: Called with each line.
        line_length: The table's width (default: Keras's column widths).
        positions: Where each column ends: fractions of the width (all <= 1) or character
            positions, one per column.
        expand_nested: Accepted for Keras's scripts; an xcnn model holds no nested model to
            expand (a nested `Sequential` is written out as its layers).
        show_trainable: Add a "Trainable" column: `Y`, `N` (frozen), or `-` (no weights).
        layer_range: `(first, last)`: print the rows from the first layer whose name matches
            `first` (a regular expression, matched from the start as Keras does) to the last
            matching `last`, both included. The totals stay the whole model's.

    Raises:
        ValueError: If the model is not built, `line_length` is not a positive int, `positions`
            does not give one increasing end per column, or `layer_range` is not two names
            matching layers in that order.

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
    if not isinstance(expand_nested, bool) or not isinstance(show_trainable, bool):
        raise ValueError(
            f"expand_nested and show_trainable must be True or False, got {expand_nested!r} and {show_trainable!r}"
        )
    functional = not model._sequential
    heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    widths = [29, 26, 12, 30][: len(heads)]  # Keras's column widths
    if show_trainable:
        heads.append("Trainable")
        widths.append(11)
    layers = _in_range(([model._input.layer] if functional else []) + model._layers, layer_range)
    table = []
    for layer in layers:
        cells = [
            f"{layer.name} ({type(layer).__name__})",
            f"(None, {', '.join(map(str, layer.output.item_shape))})",
            f"{layer.count_params():,}",
        ]
        if functional:
            cells.append(", ".join(t.layer.name for t in layer.inbound) or "-")
        if show_trainable:
            cells.append(("Y" if layer.trainable else "N") if layer.count_params() else "-")
        table.append(cells)
    widths = _column_widths(widths, line_length, positions)
    widths = [max([w] + [len(cells[k]) + 2 for cells in table + [heads]]) for k, w in enumerate(widths)]
    total_width = sum(widths)

    def row(cells):
        return "".join(f" {str(c):<{w - 1}}" for c, w in zip(cells, widths)).rstrip()

    lines = [f'Model: "{model.name}"', "_" * total_width, row(heads), "=" * total_width]
    for i, cells in enumerate(table):
        lines.append(row(cells))
        lines.append(("=" if i == len(table) - 1 else "_") * total_width)
    weights = model.count_params()
    frozen = sum(layer.count_non_trainable() for layer in model._layers)  # with the frozen layers' weights
    optimizer = _optimizer_params(model.optimizer)
    lines += [
        f"Total params: {weights + (optimizer or 0):,}",
        f"Trainable params: {weights - frozen:,}",
        f"Non-trainable params: {frozen:,}",
        *([f"Optimizer params: {optimizer:,}"] if optimizer is not None else []),
        "_" * total_width,
    ]
    for line in lines:
        print_fn(line)


def _optimizer_params(optimizer):
    """What Keras counts as "Optimizer params" once the optimizer has taken a step (or holds
    state): its step count and learning rate, and every slot (momentum, moments) of every
    weight; None before."""
    if optimizer is None or not (optimizer.iterations or optimizer.state):
        return None
    slots = sum(math.prod(v.shape) for state in optimizer.state.values() for v in state.values())
    return 2 + slots


def _column_widths(widths, line_length, positions):
    """The columns' widths from Keras's defaults, a total `line_length`, or `positions`."""
    if line_length is not None:
        if isinstance(line_length, bool) or not isinstance(line_length, int) or line_length < 1:
            raise ValueError(f"line_length must be a positive int, got {line_length!r}")
    if positions is None:
        if line_length is None:
            return widths
        ends = [line_length * sum(widths[: k + 1]) / sum(widths) for k in range(len(widths))]
    else:
        ends = list(positions)
        if (
            len(ends) != len(widths)
            or not all(isinstance(e, (int, float)) and not isinstance(e, bool) and e > 0 for e in ends)
            or any(b <= a for a, b in zip(ends, ends[1:]))
        ):
            raise ValueError(
                f"positions must give one increasing end per column ({len(widths)} columns), got {positions!r}"
            )
        if ends[-1] <= 1:  # fractions of the width, as Keras reads them
            ends = [e * (line_length or sum(widths)) for e in ends]
    bounds = [round(e) for e in ends]
    return [max(b - a, 1) for a, b in zip([0, *bounds], bounds)]


def _in_range(layers, layer_range):
    """The layers from the first matching ``layer_range[0]`` to the last matching ``layer_range[1]``."""
    if layer_range is None:
        return layers
    if isinstance(layer_range, str) or len(layer_range) != 2 or not all(isinstance(p, str) for p in layer_range):
        raise ValueError(f"layer_range must be two layer names (or patterns), got {layer_range!r}")
    first = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    last = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not first or not last or last[-1] < first[0]:
        raise ValueError(
            f"layer_range {tuple(layer_range)!r} must match a layer, then the same or a later one, "
            f"among {[layer.name for layer in layers]}"
        )
    return layers[first[0] : last[-1] + 1]
