"""Reading an ONNX graph: the file loaded and checked by ``onnx``, its
constants, its single input, the chain of nodes from input to output, and the
leading per-channel arithmetic folded into ``y = scale*x + shift``.

Nothing here knows AlexNet's layout; :mod:`~alexnet.importers.onnx_check`
matches the chain against it.
"""

from __future__ import annotations

import os

import numpy as np

from alexnet.errors import UserError, first_line
from alexnet.importers.common import shape_text

# Caffe's ILSVRC-2012 mean image averaged per channel, in BGR order: what
# Caffe's bvlc_alexnet (and so the zoo's bvlcalexnet) was trained with.
CAFFE_MEAN_BGR = (104.00698793, 116.66876762, 122.67891434)

SKIPPED = {"Dropout", "Identity"}  # nodes that do nothing at inference
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


class Graph:
    """An ONNX model's constants, single input, outputs and who reads what."""

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
            raise UserError(f"{self.path}: {what} {name} of node {node_label(node)} is not a constant.")
        return self.constants[name]

    def path_from_input(self):
        """The nodes on the single path from the input to an output."""
        nodes, current = [], self.input.name
        while current not in self.outputs or self.consumers.get(current):
            consumers = self.consumers.get(current, [])
            if len(consumers) != 1:
                where = f"after node {node_label(nodes[-1])}" if nodes else "at the input"
                raise UserError(
                    f"{self.path}: the graph branches or ends {where} ({len(consumers)} nodes "
                    f"read {current}); Caffe's AlexNet is a single chain."
                )
            node = consumers[0]
            nodes.append(node)
            current = node.output[0]
        return nodes


def node_label(node):
    return f"{node.name!r} ({node.op_type})" if node.name else f"(unnamed {node.op_type})"


def input_size(graph):
    """The graph input's ``(height, width)``."""
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
        f"{graph.path}: node {node_label(node)} applies a constant of shape {shape_text(value.shape)} "
        "to the image; only a scalar or a per-channel (3, 1, 1) constant can be folded into preprocessing."
    )


def fold_preprocessing(graph, nodes):
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
            raise UserError(f"{graph.path}: node {node_label(node)} takes the image as its second operand.")
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
