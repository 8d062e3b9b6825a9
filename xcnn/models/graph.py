"""The functional graph: layer order and the work-saving rewrites of a model's plan."""

from __future__ import annotations

from ..activations import is_named
from ..layers import Activation, BatchNormalization, Conv2D, MaxPooling2D
from ..layers.layer import NO_REWRITE, Rewrite


def _topological(output):
    """Layers feeding ``output``, each after all its inputs, in Keras's order (its
    ``map_graph``): by depth, the longest path to the output, deepest first, and at one depth
    in the order a depth-first walk from the output first meets them. `model.layers` and the
    order of `get_weights` then match Keras's for any graph (a plain post-order put one branch
    of a fork before the other, so equal-shaped weights of two branches swapped)."""
    first_met, post_order, seen, stack = {}, [], set(), [(output.layer, False)]
    while stack:
        layer, expanded = stack.pop()
        if expanded:
            post_order.append(layer)
            continue
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        first_met[id(layer)] = len(first_met)
        stack.append((layer, True))
        for t in reversed(layer.inbound or []):
            if id(t.layer) not in seen:
                stack.append((t.layer, False))
    depth = {}
    for layer in reversed(post_order):  # consumers before the layers they read
        here = depth.setdefault(id(layer), 0)
        for t in layer.inbound or []:
            depth[id(t.layer)] = max(depth.get(id(t.layer), 0), here + 1)
    return sorted(post_order, key=lambda layer: (-depth[id(layer)], first_met[id(layer)]))


def _work_saving_rewrites(layers, output, enabled=True):
    """Graph rewrites that save work and change no result: the model's execution plan, as
    ``{layer: Rewrite}`` for the layers it runs differently (the others run as written).

    The plan belongs to the model: the model passes each layer its :class:`Rewrite` at every
    forward and backward, and no attribute of a layer is changed, so a layer shared by two
    models runs each model's way. Each rewrite applies only where a layer's output feeds one
    MaxPooling2D alone and is not the model's output:

    - the pool applies the ReLU of the layer before it (``defer_relu``, ``relu_after_pool``):
      max(relu(z)) = relu(max(z)), the gradients reach the same cells, on a quarter of the
      elements;
    - a Conv2D with no activation or a ReLU computes the pool too, in one fused op
      (``pool``, ``pooled_by_conv``), where :meth:`Conv2D.fuses_with` says so. Any other
      activation (softmax over channels, a PReLU slope that may turn negative) would have to
      run before the pooling, so those convolutions are left alone.

    Outside training a BatchNormalization is folded into the kernel and bias of the layer
    before it (``batch_norm``, ``folded_before``) where that layer has a ``kernel_output_axis``
    (a convolution, a dense layer), no activation, and its output feeds the normalization
    alone and is not the model's output: the normalization is then no pass over the
    activations at all (:func:`xcnn.ops.fold_channel_affine`).

    And outside training a ReLU overwrites the array it is applied to (``relu_in_place``)
    where nothing else reads that array: the core's own output of a layer whose
    ``private_output`` says it makes a fresh one, or, for an ``Activation`` layer, its input
    when that is such a layer's output, read by this layer alone and not the model's output.
    On a large batch each fresh array costs a page fault per 4 KiB (docs/performance.md).

    ``enabled=False`` gives the plan that rewrites nothing (the tests compare the two).
    """
    plan = {}
    consumers = {}
    for layer in layers:
        for t in layer.inbound:
            consumers.setdefault(id(t), []).append(layer)
    members = set(map(id, layers))
    for pool in layers if enabled else []:
        if not isinstance(pool, MaxPooling2D):
            continue
        source = pool.inbound[0].layer
        if id(source) not in members or source.output is output or consumers.get(id(source.output)) != [pool]:
            continue
        relu = is_named(source.activation, "relu")
        fused = isinstance(source, Conv2D) and (relu or source.activation is None) and source.fuses_with(pool)
        if relu or fused:
            plan[source] = Rewrite(defer_relu=relu, pool=pool if fused else None)
            plan[pool] = Rewrite(relu_after_pool=relu, pooled_by_conv=fused)
    for norm in layers if enabled else []:
        if not isinstance(norm, BatchNormalization):
            continue
        source = norm.inbound[0].layer
        if (
            id(source) in members
            and source.kernel_output_axis is not None
            and (source.activation is None or is_named(source.activation, "linear"))
            and source.output is not output
            and consumers.get(id(source.output)) == [norm]
            and plan.get(source, NO_REWRITE).pool is None
        ):
            plan[source] = plan.get(source, NO_REWRITE)._replace(batch_norm=norm)
            plan[norm] = plan.get(norm, NO_REWRITE)._replace(folded_before=True)
    for layer in layers if enabled else []:
        if not is_named(layer.activation, "relu") or plan.get(layer, NO_REWRITE).defer_relu:
            continue
        if _reads_alone(layer, consumers, members, output):
            plan[layer] = plan.get(layer, NO_REWRITE)._replace(relu_in_place=True)
    return plan


def _reads_alone(layer, consumers, members, output):
    """Whether the array `layer`'s activation is applied to is read by nothing else (see
    :func:`_work_saving_rewrites`, ``relu_in_place``)."""
    if layer.private_output:  # the activation takes the core's own fresh output
        return True
    if not isinstance(layer, Activation) or len(layer.inbound) != 1:
        return False
    tensor = layer.inbound[0]  # the identity core hands the activation its input
    source = tensor.layer
    return (
        id(source) in members
        and source.private_output
        and tensor is not output
        and consumers.get(id(tensor)) == [layer]
    )
