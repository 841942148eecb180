"""An ONNX graph of Caffe's BVLC AlexNet -> the ``paper`` variant.

The ONNX model zoo's ``bvlcalexnet`` is Caffe's ``bvlc_alexnet`` converted
to ONNX: the paper's two-tower widths (96/256/384/384/256, grouped conv2,
conv4 and conv5), LRN after conv1 and conv2 before pooling, and three fully
connected layers. Three conventions differ from this package's defaults and
are converted on import:

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

:func:`import_onnx` runs the three steps, one module each:
:mod:`~alexnet.importers.onnx_read` (the graph, its input and node chain),
:mod:`~alexnet.importers.onnx_check` (the chain against the ``paper``
variant's plan) and :mod:`~alexnet.importers.onnx_build` (the Keras model,
its weights, and the comparison with onnxruntime).
"""

from __future__ import annotations

import os

import numpy as np

from alexnet.errors import UserError
from alexnet.importers.onnx_build import build_model, compare_with_onnxruntime, input_from_rgb, set_weights
from alexnet.importers.onnx_check import CONVS, LAYOUT, count_classes, lrn_config, match_layout, pool_paddings
from alexnet.importers.onnx_read import CAFFE_MEAN_BGR, Graph, fold_preprocessing, input_size, load_graph

__all__ = [
    "CAFFE_MEAN_BGR", "CONVS", "LAYOUT", "compare_with_onnxruntime", "import_onnx", "input_from_rgb", "load_graph",
]


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
    graph = Graph(load_graph(path), path)
    height, width = input_size(graph)
    nodes = graph.path_from_input()

    scale, shift, nodes = fold_preprocessing(graph, nodes)
    if scale is None:
        mean = [float(m) for m in mean]
        if len(mean) not in (1, 3):
            raise ValueError(f"mean must have 1 or 3 values, got {mean!r}.")
        scale, shift = np.ones(3), -np.broadcast_to(np.asarray(mean, np.float64), (3,))
    if np.any(scale <= 0):
        raise UserError(f"{path}: the graph's input scaling {scale.tolist()} is not positive.")

    layers, softmax = match_layout(graph, nodes)
    if classifier_activation == "auto":
        classifier_activation = "softmax" if softmax else None
    lrn = {name: lrn_config(graph, node) for name, node in layers.items() if node.op_type == "LRN"}
    pools = pool_paddings(graph, layers, height, width)

    preprocessing = dict(
        mean=[float(v) for v in -shift / scale], std=[float(v) for v in 1.0 / scale],
        scale=1.0, channel_order=channel_order,
    )
    classes = count_classes(graph, layers["predictions"])
    model = build_model(height, width, classes, classifier_activation, preprocessing, lrn, pools, path)
    set_weights(graph, layers, model)
    return model
