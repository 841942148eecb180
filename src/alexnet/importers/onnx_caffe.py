"""An ONNX graph of Caffe's BVLC AlexNet -> the ``paper`` variant.

The ONNX model zoo's ``bvlcalexnet`` is Caffe's ``bvlc_alexnet`` converted
to ONNX: the paper's two-tower widths (96/256/384/384/256, grouped conv2,
conv4 and conv5), LRN after conv1 and conv2 before pooling, and three fully
connected layers. Three conventions differ from this package's defaults and
are converted here:

- LRN: Caffe's and ONNX's ``alpha`` is divided by the window ``size``;
  :meth:`LocalResponseNormalization.from_caffe` takes the file's own
  ``size``, ``alpha``, ``beta`` and ``bias``.
- Pooling: Caffe rounds pooled sizes up, which the ONNX file states with
  ``ceil_mode=1`` or with extra end padding (``pads``). A pool whose result
  differs from Keras' ``"valid"`` pooling is given ``"same"`` padding when
  that gives the same windows (it does for 3x3 stride-2 pooling of an even
  size: one extra row and column at the end), and refused otherwise.
- Input: the graph takes BGR, channels-first, 0-255 pixels with the mean
  already subtracted (the zoo file has no mean subtraction in it). The
  Keras model takes RGB, channels-last, 0-255 pixels and its ``preprocess``
  layer reverses the channels and subtracts the mean. A graph that starts
  with its own ``Sub``/``Add``/``Mul``/``Div`` by per-channel constants has
  those folded into ``preprocess`` instead.

The graph is read from the file: its input size, every layer's attributes,
its weights. Nothing about the zoo file is assumed beyond the layout; a
node that does not fit is named in a one-line error.
"""

from __future__ import annotations

import math
import os

import numpy as np

from alexnet import variants as net
from alexnet.errors import UserError, first_line
from alexnet.importers.common import check_tensors, conv_kernel, conv_shape, dense_kernel, shape_text

# Caffe's ILSVRC-2012 mean image averaged per channel, in BGR order: what
# Caffe's bvlc_alexnet (and so the zoo's bvlcalexnet) was trained with.
CAFFE_MEAN_BGR = (104.00698793, 116.66876762, 122.67891434)


def _layout():
    """The ONNX ops of the ``paper`` variant's layer plan, one entry per op
    on the path from the input to the output (Dropout/Identity skipped,
    Reshape/Flatten merged): ``(op_type, layer name or None)``. Caffe's
    ReLU is a node of its own; in Keras it is the conv or dense layer's
    activation."""
    ops = {net.Conv: "Conv", net.LRN: "LRN", net.MaxPool: "MaxPool", net.Flatten: "Flatten",
           net.FC: "Gemm", net.Predictions: "Gemm"}
    layout = []
    for name, step in net.layer_plan(net.PAPER, dropout=0):
        layout.append((ops[type(step)], name))
        if isinstance(step, (net.Conv, net.FC)):
            layout.append(("Relu", None))
    return tuple(layout)


LAYOUT = _layout()
# The paper variant's convolutions by name: kernel, stride, padding, groups.
CONVS = {name: step for name, step in net.layer_plan(net.PAPER, include_top=False) if isinstance(step, net.Conv)}
SKIPPED = {"Dropout", "Identity"}
FLATTENS = {"Flatten", "Reshape"}
PREPROCESSING = {"Sub", "Add", "Mul", "Div"}


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise UserError("Importing ONNX files needs the onnx package: pip install \"alexnet[onnx]\"") from None
    return onnx, numpy_helper


def load_graph(path):
    """The checked ``onnx.ModelProto`` in ``path``, or a one-line error."""
    onnx, _ = _onnx()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"No such ONNX file: {path}")
    try:
        model = onnx.load(path)
    except Exception as error:  # protobuf raises DecodeError, RuntimeError, ...
        raise UserError(f"{path} is not an ONNX model: {first_line(error)}") from None
    if not model.graph.node:
        raise UserError(f"{path} is not an ONNX model (its graph has no nodes).")
    return model


class _Graph:
    def __init__(self, model, path):
        onnx, numpy_helper = _onnx()
        self.path = path
        self.opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=1)
        graph = model.graph
        self.constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant" and node.output:
                value = next((a for a in node.attribute if a.name == "value"), None)
                if value is not None:
                    self.constants[node.output[0]] = numpy_helper.to_array(value.t)
        inputs = [i for i in graph.input if i.name not in self.constants]
        if len(inputs) != 1:
            raise UserError(
                f"{path}: expected one image input, found {len(inputs)} "
                f"({', '.join(i.name for i in inputs) or 'none'})."
            )
        self.input = inputs[0]
        self.outputs = [o.name for o in graph.output]
        self.consumers = {}
        for node in graph.node:
            if node.op_type == "Constant":
                continue
            for name in node.input:
                if name and name not in self.constants:
                    self.consumers.setdefault(name, []).append(node)

    def attrs(self, node):
        import onnx

        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def constant(self, node, index, what):
        if index >= len(node.input) or not node.input[index]:
            return None
        name = node.input[index]
        if name not in self.constants:
            raise UserError(f"{self.path}: {what} {name} of node {_label(node)} is not a constant.")
        return self.constants[name]

    def path_from_input(self):
        """The nodes on the single path from the input to an output."""
        nodes, current = [], self.input.name
        while current not in self.outputs or self.consumers.get(current):
            consumers = self.consumers.get(current, [])
            if len(consumers) != 1:
                where = f"after node {_label(nodes[-1])}" if nodes else "at the input"
                raise UserError(
                    f"{self.path}: the graph branches or ends {where} ({len(consumers)} nodes "
                    f"read {current}); Caffe's AlexNet is a single chain."
                )
            node = consumers[0]
            nodes.append(node)
            current = node.output[0]
        return nodes


def _label(node):
    return f"{node.name!r} ({node.op_type})" if node.name else f"(unnamed {node.op_type})"


def import_onnx(path, *, mean=CAFFE_MEAN_BGR, channel_order="bgr", classifier_activation="auto"):
    """A Keras ``paper`` AlexNet with the weights and conventions of an ONNX
    graph in Caffe's AlexNet layout (the zoo's ``bvlcalexnet``).

    Args:
        path: the ``.onnx`` file.
        mean: per-channel mean in the graph's channel order (BGR), used when
            the graph does not subtract a mean itself; default Caffe's
            ILSVRC-2012 mean.
        channel_order: the channel order the graph takes, ``"bgr"`` (Caffe)
            or ``"rgb"``. The Keras model always takes RGB.
        classifier_activation: ``"auto"`` (softmax if the graph ends with
            one, else logits), ``"softmax"`` or ``None``.
    """
    path = os.fspath(path)
    if channel_order not in ("rgb", "bgr"):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}.")
    graph = _Graph(load_graph(path), path)
    height, width = _input_size(graph)
    nodes = graph.path_from_input()

    scale, shift, nodes = _preprocessing(graph, nodes)
    if scale is None:
        mean = [float(m) for m in mean]
        if len(mean) not in (1, 3):
            raise ValueError(f"mean must have 1 or 3 values, got {mean!r}.")
        scale, shift = np.ones(3), -np.broadcast_to(np.asarray(mean, np.float64), (3,))
    if np.any(scale <= 0):
        raise UserError(f"{path}: the graph's input scaling {scale.tolist()} is not positive.")

    layers, softmax = _match_layout(graph, nodes)
    if classifier_activation == "auto":
        classifier_activation = "softmax" if softmax else None
    lrn = {name: _lrn_config(graph, node) for name, node in layers.items() if node.op_type == "LRN"}
    pools = _pool_paddings(graph, layers, height, width)

    preprocessing = dict(
        mean=[float(v) for v in -shift / scale], std=[float(v) for v in 1.0 / scale],
        scale=1.0, channel_order=channel_order,
    )
    classes = _classes(graph, layers["predictions"])
    model = _build(height, width, classes, classifier_activation, preprocessing, lrn, pools, path)
    _set_weights(graph, layers, model)
    return model


def _input_size(graph):
    dims = [d.dim_value if d.HasField("dim_value") else None
            for d in graph.input.type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[1] != 3 or dims[2] is None or dims[3] is None:
        shown = "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"
        raise UserError(
            f"{graph.path}: input {graph.input.name} has shape {shown}; expected "
            "(batch, 3, height, width) with a known height and width."
        )
    return dims[2], dims[3]


def _per_channel(graph, node, value):
    value = np.asarray(value, np.float64)
    if value.size == 1:
        return np.full(3, float(value.reshape(())))
    if value.shape in ((3, 1, 1), (1, 3, 1, 1)):
        return value.reshape(3)
    raise UserError(
        f"{graph.path}: node {_label(node)} applies a constant of shape {shape_text(value.shape)} "
        "to the image; only a scalar or a per-channel (3, 1, 1) constant can be folded into preprocessing."
    )


def _preprocessing(graph, nodes):
    """Folds leading Sub/Add/Mul/Div by constants into ``y = scale*x + shift``."""
    scale, shift = np.ones(3), np.zeros(3)
    seen = False
    index = 0
    while index < len(nodes) and nodes[index].op_type in PREPROCESSING | SKIPPED:
        node = nodes[index]
        index += 1
        if node.op_type in SKIPPED:
            continue
        if node.input[0] in graph.constants:
            raise UserError(f"{graph.path}: node {_label(node)} takes the image as its second operand.")
        value = _per_channel(graph, node, graph.constant(node, 1, "the operand"))
        if node.op_type == "Sub":
            shift = shift - value
        elif node.op_type == "Add":
            shift = shift + value
        elif node.op_type == "Mul":
            scale, shift = scale * value, shift * value
        else:
            scale, shift = scale / value, shift / value
        seen = True
    return (scale, shift, nodes[index:]) if seen else (None, None, nodes[index:])


def _match_layout(graph, nodes):
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
                f"{graph.path}: node {_label(node)} stands where Caffe's AlexNet layout "
                f"has {op} ({name or 'activation'})."
            )
        if name:
            layers[name] = node
    if len(ops) > len(LAYOUT):
        raise UserError(
            f"{graph.path}: node {_label(ops[len(LAYOUT)])} follows the last fully connected "
            "layer; only a Softmax may."
        )
    return layers, softmax


def _lrn_config(graph, node):
    from alexnet.layers import LocalResponseNormalization

    attrs = graph.attrs(node)
    try:
        layer = LocalResponseNormalization.from_caffe(
            local_size=int(attrs["size"]), alpha=float(attrs.get("alpha", 1e-4)),
            beta=float(attrs.get("beta", 0.75)), k=float(attrs.get("bias", 1.0)),
        )
    except (KeyError, ValueError) as error:
        raise UserError(f"{graph.path}: node {_label(node)}: {first_line(error)}") from None
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
        raise UserError(f"{graph.path}: {name}: node {_label(node)} uses auto_pad={auto_pad!r}; explicit pads expected.")
    for attr, found, expected in checks:
        if found != expected:
            raise UserError(
                f"{graph.path}: {name}: node {_label(node)} has {attr}={found}, "
                f"expected {expected} for Caffe's AlexNet."
            )
    return (size + 2 * pad - kernel) // stride + 1


def _pool_paddings(graph, layers, height, width):
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
                f"{graph.path}: {name}: node {_label(node)} pools with kernel_shape={kernel}, "
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
                    f"{graph.path}: {name}: node {_label(node)} pools {n} -> {out} with pads={pads}"
                    f"{', ceil_mode=1' if ceil else ''}, which Keras pooling cannot reproduce."
                )
            choices.append(options)
            new_sizes.append(out)
        common = choices[0] & choices[1]
        if not common:
            raise UserError(
                f"{graph.path}: {name}: node {_label(node)} needs different padding for height "
                f"and width ({sizes[0]}x{sizes[1]} input); use a square input."
            )
        paddings[name] = "valid" if "valid" in common else "same"
        sizes = new_sizes
    return paddings


def _classes(graph, node):
    attrs = graph.attrs(node)
    weight = graph.constant(node, 1, "the weight")
    if weight is None or weight.ndim != 2:
        raise UserError(f"{graph.path}: predictions: node {_label(node)} has no 2-D weight.")
    return int(weight.shape[0] if attrs.get("transB", 0) else weight.shape[1])


def _build(height, width, classes, activation, preprocessing, lrn, pools, path):
    import keras

    from alexnet.model import AlexNet

    try:
        base = AlexNet(variant="paper", input_shape=(height, width, 3), classes=classes,
                       classifier_activation=activation, preprocessing=preprocessing)
    except ValueError as error:
        raise UserError(f"{path}: {error}") from None
    # LRN parameters and pool padding are layer settings, not weights: they
    # are changed in the model's config and the model is rebuilt from it.
    config = base.get_config()
    for layer in config["layers"]:
        layer.pop("build_config", None)  # shapes change after the first pool
        name = layer["config"]["name"]
        if name in lrn:
            layer["config"].update(lrn[name])
        if name in pools:
            layer["config"]["padding"] = pools[name]
    return keras.Model.from_config(config)


def _set_weights(graph, layers, model):
    tensors, expected, targets = {}, {}, []
    _, h, w, c = model.get_layer("flatten").input.shape
    for name, node in layers.items():
        if node.op_type not in ("Conv", "Gemm"):
            continue
        kernel, bias = model.get_layer(name).get_weights()
        weight_name = node.input[1]
        weight = graph.constant(node, 1, "the weight")
        bias_value = graph.constant(node, 2, "the bias")
        if node.op_type == "Conv":
            expected[weight_name] = conv_shape(kernel.shape)
            tensors[weight_name] = weight
            values = [lambda wt=weight: conv_kernel(wt)]
        else:
            attrs = graph.attrs(node)
            if attrs.get("transA", 0):
                raise UserError(f"{graph.path}: {name}: node {_label(node)} has transA=1.")
            trans_b = attrs.get("transB", 0)
            alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
            expected[weight_name] = kernel.shape[::-1] if trans_b else kernel.shape
            tensors[weight_name] = weight
            chw = (c, h, w) if name == "fc6" else None
            values = [lambda wt=weight, t=trans_b, a=alpha, chw=chw:
                      dense_kernel((wt if t else np.transpose(wt)) * a, chw)]
            if bias_value is not None:
                bias_value = np.asarray(bias_value) * beta
                if bias_value.ndim == 2 and bias_value.shape[0] == 1:
                    bias_value = bias_value[0]
        if bias_value is None:
            bias_value = np.zeros(bias.shape, np.float32)
        else:
            bias_name = node.input[2]
            expected[bias_name] = bias.shape
            tensors[bias_name] = bias_value
        values.append(lambda b=bias_value: np.asarray(b, np.float32))
        targets.append((name, values))
    check_tensors(graph.path, tensors, expected)
    for name, values in targets:
        model.get_layer(name).set_weights([make() for make in values])


def input_from_rgb(images, graph_path, *, mean=CAFFE_MEAN_BGR, channel_order="bgr"):
    """What the ONNX graph takes for RGB, channels-last, 0-255 ``images``:
    channels reordered, the mean subtracted unless the graph does that
    itself, channels first."""
    graph = _Graph(load_graph(graph_path), graph_path)
    scale, _, _ = _preprocessing(graph, graph.path_from_input())
    return _feed(images, scale is None, mean, channel_order)


def _feed(images, subtract_mean, mean, channel_order):
    x = np.asarray(images, np.float32)
    if channel_order == "bgr":
        x = x[..., ::-1]
    if subtract_mean:
        x = x - np.asarray(mean, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), np.float32)


def _softmax(x):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def compare_with_onnxruntime(model, graph_path, images, *, mean=CAFFE_MEAN_BGR, channel_order="bgr"):
    """Largest absolute difference between ``model(images)`` and the ONNX
    graph run by onnxruntime on the same (RGB, 0-255) images. Where one ends
    in probabilities and the other in logits, both are compared as
    probabilities. ``None`` without onnxruntime."""
    try:
        import onnxruntime
    except ImportError:
        return None
    graph_path = os.fspath(graph_path)
    graph = _Graph(load_graph(graph_path), graph_path)
    nodes = graph.path_from_input()
    scale, _, rest = _preprocessing(graph, nodes)
    _, graph_softmax = _match_layout(graph, rest)
    feed = _feed(images, scale is None, mean, channel_order)

    session = onnxruntime.InferenceSession(graph_path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    batch = session.get_inputs()[0].shape[0]
    step = batch if isinstance(batch, int) and batch >= 1 else len(feed)
    outputs = np.concatenate([session.run(None, {name: feed[i:i + step]})[0] for i in range(0, len(feed), step)])

    expected = np.asarray(model(np.asarray(images, np.float32), training=False))
    outputs = outputs.reshape(expected.shape)
    activation = getattr(model.layers[-1], "activation", None)
    model_softmax = getattr(activation, "__name__", "") == "softmax"
    if model_softmax and not graph_softmax:
        outputs = _softmax(outputs)
    elif graph_softmax and not model_softmax:
        expected = _softmax(expected)
    return float(np.max(np.abs(expected - outputs)))
