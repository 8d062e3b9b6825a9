"""``model.summary()``: Keras's table of layers, shapes and parameter counts."""

from __future__ import annotations


def summary(model, print_fn=print, line_length=None):
    """Print each layer's name, type, output shape and parameter count, and the totals."""
    model._ensure_built()
    functional = not model._sequential
    heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    layers = ([model._input.layer] if functional else []) + model._layers
    table = []
    for layer in layers:
        cells = [f"{layer.name} ({type(layer).__name__})", f"(None, {', '.join(map(str, layer.output.shape))})",
                 f"{layer.count_params():,}"]
        if functional:
            cells.append(", ".join(t.layer.name for t in layer.inbound) or "-")
        table.append(cells)
    # Keras's column widths, widened where a name would not fit
    widths = [max([w] + [len(cells[k]) + 2 for cells in table]) for k, w in enumerate([29, 26, 12, 30][:len(heads)])]
    total_width = sum(widths)

    def row(cells):
        return "".join(f" {str(c):<{w - 1}}" for c, w in zip(cells, widths)).rstrip()

    lines = [f'Model: "{model.name}"', "_" * total_width, row(heads), "=" * total_width]
    for i, cells in enumerate(table):
        lines.append(row(cells))
        lines.append(("=" if i == len(table) - 1 else "_") * total_width)
    total = model.count_params()
    frozen = sum(layer.count_non_trainable() for layer in model._layers)
    lines += [f"Total params: {total:,}", f"Trainable params: {total - frozen:,}",
              f"Non-trainable params: {frozen:,}", "_" * total_width]
    for line in lines:
        print_fn(line)
