"""Checking an ONNX graph against the ``paper`` variant's layer plan: the
node sequence (:data:`LAYOUT`), each convolution's attributes, each pool's
padding as Keras can reproduce it, LRN's Caffe parameters and the number of
classes. Every mismatch is a one-line error naming the node."""

from __future__ import annotations

import math

from alexnet import variants
from alexnet.errors import UserError, first_line
from alexnet.importers.onnx_read import SKIPPED, node_label


def _layout():
    """The ONNX ops of the ``paper`` variant's layer plan, one entry per op
    on the path from the input to the output (Dropout/Identity skipped,
    Reshape/Flatten merged): ``(op_type, layer name or None)``. Caffe's
    ReLU is a node of its own; in Keras it is the conv or dense layer's
    activation."""
    ops = {variants.Conv: "Conv", variants.LRN: "LRN", variants.MaxPool: "MaxPool", variants.Flatten: "Flatten",
           variants.FC: "Gemm", variants.Predictions: "Gemm"}
    layout = []
    for name, step in variants.layer_plan(variants.PAPER, dropout=0):
        layout.append((ops[type(step)], name))
        if isinstance(step, (variants.Conv, variants.FC)):
            layout.append(("Relu", None))
    return tuple(layout)


LAYOUT = _layout()
# The paper variant's convolutions by name: kernel, stride, padding, groups.
CONVS = {name: step for name, step in variants.layer_plan(variants.PAPER, include_top=False) if isinstance(step, variants.Conv)}
FLATTENS = {"Flatten", "Reshape"}


def match_layout(graph, nodes):
    """The nodes standing for the plan's named layers, by layer name, and
    whether the graph ends with a Softmax."""
    ops = []
    for node in nodes:
        if node.op_type in SKIPPED:
            continue
        if node.op_type in FLATTENS and ops and ops[-1].op_type in FLATTENS:
            continue  # e.g. Flatten then Reshape
        ops.append(node)
    softmax = bool(ops) and ops[-1].op_type == "Softmax"
    if softmax:
        ops = ops[:-1]
    layers = {}
    for index, (op, name) in enumerate(LAYOUT):
        if index >= len(ops):
            raise UserError(
                f"{graph.path}: the graph ends after {len(ops)} layers; Caffe's AlexNet layout "
                f"expects {op} ({name or 'activation'}) next."
            )
        node = ops[index]
        found = "Flatten" if node.op_type in FLATTENS else node.op_type
        if found != op:
            raise UserError(
                f"{graph.path}: node {node_label(node)} stands where Caffe's AlexNet layout "
                f"has {op} ({name or 'activation'})."
            )
        if name:
            layers[name] = node
    if len(ops) > len(LAYOUT):
        raise UserError(
            f"{graph.path}: node {node_label(ops[len(LAYOUT)])} follows the last fully connected "
            "layer; only a Softmax may."
        )
    return layers, softmax


def lrn_config(graph, node):
    """The Keras LRN layer's settings for an ONNX LRN node."""
    from alexnet.layers import LocalResponseNormalization

    attrs = graph.attrs(node)
    try:
        layer = LocalResponseNormalization.from_caffe(
            local_size=int(attrs["size"]), alpha=float(attrs.get("alpha", 1e-4)),
            beta=float(attrs.get("beta", 0.75)), k=float(attrs.get("bias", 1.0)),
        )
    except (KeyError, ValueError) as error:
        raise UserError(f"{graph.path}: node {node_label(node)}: {first_line(error)}") from None
    return {k: getattr(layer, k) for k in ("depth_radius", "bias", "alpha", "beta")}


def _conv_out(graph, node, name, size):
    attrs = graph.attrs(node)
    conv = CONVS[name]
    kernel, stride, pad, groups = conv.kernel, conv.stride, conv.pad, conv.groups
    weight = graph.constant(node, 1, "the weight")
    found_kernel = list(attrs.get("kernel_shape", weight.shape[2:] if weight is not None else []))
    checks = [
        ("kernel_shape", found_kernel, [kernel, kernel]),
        ("strides", list(attrs.get("strides", [1, 1])), [stride, stride]),
        ("pads", list(attrs.get("pads", [0, 0, 0, 0])), [pad] * 4),
        ("group", int(attrs.get("group", 1)), groups),
        ("dilations", list(attrs.get("dilations", [1, 1])), [1, 1]),
    ]
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    if auto_pad not in (b"NOTSET", "NOTSET"):
        raise UserError(
            f"{graph.path}: {name}: node {node_label(node)} uses auto_pad={auto_pad!r}; explicit pads expected."
        )
    for attr, found, expected in checks:
        if found != expected:
            raise UserError(
                f"{graph.path}: {name}: node {node_label(node)} has {attr}={found}, "
                f"expected {expected} for Caffe's AlexNet."
            )
    return (size + 2 * pad - kernel) // stride + 1


def pool_paddings(graph, layers, height, width):
    """For each pool, the Keras padding ("valid" or "same") that gives the
    same windows as the ONNX node."""
    sizes = [height, width]
    paddings = {}
    order = [name for op, name in LAYOUT if op in ("Conv", "MaxPool")]
    for name in order:
        node = layers[name]
        if name.startswith("conv"):
            sizes = [_conv_out(graph, node, name, n) for n in sizes]
            if min(sizes) < 1:
                raise UserError(f"{graph.path}: the input {height}x{width} is too small for {name}.")
            continue
        attrs = graph.attrs(node)
        kernel = list(attrs.get("kernel_shape", []))
        strides = list(attrs.get("strides", [1, 1]))
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        ceil = int(attrs.get("ceil_mode", 0))
        auto_pad = attrs.get("auto_pad", b"NOTSET")
        if kernel != [3, 3] or strides != [2, 2] or list(attrs.get("dilations", [1, 1])) != [1, 1] \
                or auto_pad not in (b"NOTSET", "NOTSET") or len(node.output) > 1 and node.output[1]:
            raise UserError(
                f"{graph.path}: {name}: node {node_label(node)} pools with kernel_shape={kernel}, "
                f"strides={strides}; Caffe's AlexNet pools 3x3 with stride 2."
            )
        choices = []
        new_sizes = []
        for axis, n in enumerate(sizes):
            begin, end = pads[axis], pads[axis + 2]
            span = n + begin + end - 3
            out = (math.ceil(span / 2) if ceil else span // 2) + 1
            if ceil and (out - 1) * 2 >= n + begin:
                out -= 1  # the last window must start inside the image
            valid = (n - 3) // 2 + 1
            same = -(-n // 2)
            same_begin = max((same - 1) * 2 + 3 - n, 0) // 2
            options = set()
            if begin == 0 and out == valid:
                options.add("valid")
            if begin == same_begin and out == same:
                options.add("same")
            if not options:
                raise UserError(
                    f"{graph.path}: {name}: node {node_label(node)} pools {n} -> {out} with pads={pads}"
                    f"{', ceil_mode=1' if ceil else ''}, which Keras pooling cannot reproduce."
                )
            choices.append(options)
            new_sizes.append(out)
        common = choices[0] & choices[1]
        if not common:
            raise UserError(
                f"{graph.path}: {name}: node {node_label(node)} needs different padding for height "
                f"and width ({sizes[0]}x{sizes[1]} input); use a square input."
            )
        paddings[name] = "valid" if "valid" in common else "same"
        sizes = new_sizes
    return paddings


def count_classes(graph, node):
    """The number of classes, from the last Gemm's weight."""
    attrs = graph.attrs(node)
    weight = graph.constant(node, 1, "the weight")
    if weight is None or weight.ndim != 2:
        raise UserError(f"{graph.path}: predictions: node {node_label(node)} has no 2-D weight.")
    return int(weight.shape[0] if attrs.get("transB", 0) else weight.shape[1])
