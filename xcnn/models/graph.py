"""The functional graph: layer order and the work-saving rewrites of a model's plan."""

from __future__ import annotations

from ..activations import is_named
from ..layers import Conv2D, MaxPooling2D


def _topological(output):
    """Layers feeding ``output`` in an order where each comes after all its inputs."""
    order, seen, stack = [], set(), [(output.layer, False)]
    while stack:
        layer, expanded = stack.pop()
        if expanded:
            order.append(layer)
            continue
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        stack.append((layer, True))
        for t in reversed(layer.inbound or []):
            if id(t.layer) not in seen:
                stack.append((t.layer, False))
    return order


def _work_saving_rewrites(layers, output, enabled=True):
    """Graph rewrites that save work and change no result, as ``{layer: {attribute: value}}``.

    The plan names every rewrite attribute of every layer, defaults included, so applying it
    (the model does, before each forward pass) also clears what another model sharing a layer
    set. Each rewrite applies only where a layer's output feeds one MaxPooling2D alone and is
    not the model's output:

    - the pool applies the ReLU of the layer before it (``relu_deferred``, ``relu_before``):
      max(relu(z)) = relu(max(z)), the gradients reach the same cells, on a quarter of the
      elements;
    - a Conv2D with no activation or a ReLU computes the pool too, in one fused op
      (``max_pool_after``, ``pooled_by_conv``), where :meth:`Conv2D.fuses_with` says so.

    ``enabled=False`` gives the plan that rewrites nothing (the tests compare the two).
    """
    plan = {}
    for layer in layers:
        plan[layer] = {"relu_deferred": False}
        if isinstance(layer, Conv2D):
            plan[layer]["max_pool_after"] = None
        if isinstance(layer, MaxPooling2D):
            plan[layer].update(relu_before=False, pooled_by_conv=False)
    consumers = {}
    for layer in layers:
        for t in layer.inbound:
            consumers.setdefault(id(t), []).append(layer)
    for pool in layers if enabled else []:
        source = pool.inbound[0].layer
        if not isinstance(pool, MaxPooling2D) or source not in plan:
            continue
        if source.output is output or consumers.get(id(source.output)) != [pool]:
            continue
        relu = is_named(source.activation, "relu")
        if relu:
            plan[source]["relu_deferred"] = plan[pool]["relu_before"] = True
        if isinstance(source, Conv2D) and (relu or source.activation is None) and source.fuses_with(pool):
            plan[source]["max_pool_after"], plan[pool]["pooled_by_conv"] = pool, True
    return plan
