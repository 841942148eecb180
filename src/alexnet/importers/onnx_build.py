"""Building the Keras ``paper`` model an ONNX graph describes (layer
settings from :mod:`~alexnet.importers.onnx_check`, weights from the graph's
constants), and running both on the same images with onnxruntime to compare
them."""

from __future__ import annotations

import os

import numpy as np

from alexnet.errors import UserError
from alexnet.importers.common import check_tensors, conv_kernel, conv_shape, dense_kernel
from alexnet.importers.onnx_check import match_layout
from alexnet.importers.onnx_read import CAFFE_MEAN_BGR, Graph, fold_preprocessing, load_graph, node_label


def build_model(height, width, classes, activation, preprocessing, lrn, pools, path):
    """The ``paper`` AlexNet for this input size and class count, with the
    graph's LRN parameters and pool paddings."""
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


def set_weights(graph, layers, model):
    """Copies the graph's conv and Gemm weights into ``model``, after
    checking every tensor's shape."""
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
                raise UserError(f"{graph.path}: {name}: node {node_label(node)} has transA=1.")
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
    graph = Graph(load_graph(graph_path), graph_path)
    scale, _, _ = fold_preprocessing(graph, graph.path_from_input())
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
    graph = Graph(load_graph(graph_path), graph_path)
    nodes = graph.path_from_input()
    scale, _, rest = fold_preprocessing(graph, nodes)
    _, graph_softmax = match_layout(graph, rest)
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
