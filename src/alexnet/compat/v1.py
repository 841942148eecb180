"""AlexNet in the TensorFlow 1 style: placeholders, ``Session``, ``feed_dict``.

Builds the same architectures as :func:`alexnet.AlexNet` (from the same
:func:`alexnet.variants.layer_plan`) with ``tf.compat.v1`` variables and raw ops,
inside whatever graph is the default::

    import tensorflow as tf
    from alexnet.compat import v1

    graph = tf.Graph()
    with graph.as_default():
        net = v1.build_graph(num_classes=10, input_shape=(28, 28, 1), variant="small")
        train_op = tf.compat.v1.train.MomentumOptimizer(0.01, 0.9).minimize(net.loss)
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(train_op, {net.images: x, net.labels: y_one_hot, net.keep_prob: 0.5})

The grouped layers are written out as the paper's two towers (``tower1``,
``tower2`` name scopes), and the graph's tensors carry the names such
exercises export: ``batchImgInput``, ``dropout_keep_prob``, ``Labels`` and
``model_outputs`` (softmax probabilities).
"""

from __future__ import annotations

from typing import NamedTuple

from alexnet.backend import require_tensorflow

require_tensorflow("alexnet.compat.v1 (TensorFlow 1-style graphs)")  # before importing TensorFlow

import tensorflow as tf  # noqa: E402

from alexnet import variants  # noqa: E402
from alexnet.variants import get_variant, layer_plan  # noqa: E402

v1 = tf.compat.v1


def _weights(name, shape, init):
    if init == "paper":
        initializer = v1.random_normal_initializer(stddev=0.01)
    else:
        initializer = v1.glorot_uniform_initializer()
    return v1.get_variable(name, shape, tf.float32, initializer)


def _bias(units, value):
    return v1.get_variable("bias", [units], tf.float32, v1.constant_initializer(value))


def _conv(x, conv, init, act):
    if isinstance(conv.padding, int):
        x = tf.pad(x, [[0, 0], [conv.padding] * 2, [conv.padding] * 2, [0, 0]])
        padding = "VALID"
    else:
        padding = conv.padding.upper()
    in_channels = x.shape[-1]
    kernel = _weights("kernel", [conv.kernel, conv.kernel, in_channels // conv.groups, conv.filters], init)
    strides = [1, conv.stride, conv.stride, 1]
    if conv.groups == 1:
        y = tf.nn.conv2d(x, kernel, strides, padding)
    else:  # the paper's towers: each sees half the channels and owns half the kernels
        towers = []
        for i, (xs, ks) in enumerate(zip(tf.split(x, conv.groups, 3), tf.split(kernel, conv.groups, 3)), 1):
            with tf.name_scope(f"tower{i}"):
                towers.append(tf.nn.conv2d(xs, ks, strides, padding))
        y = tf.concat(towers, 3)
    return act(tf.nn.bias_add(y, _bias(conv.filters, conv.bias_init)))


def inference(images, num_classes, keep_prob, variant="paper", activation="relu", lrn=None,
              overlapping_pooling=True, preprocessing=None):
    """Logits of AlexNet for ``images`` (NHWC, raw pixels 0-255).

    ``keep_prob`` is the dropout keep probability (a float or a scalar
    placeholder: 0.5 to train as the paper, 1.0 to test).
    """
    net = get_variant(variant)
    activations = {"relu": tf.nn.relu, "tanh": tf.nn.tanh}
    if activation not in activations:
        raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}.")
    act = activations[activation]
    pre = dict(net.preprocessing if preprocessing is None else preprocessing)
    x = tf.cast(images, tf.float32)
    if pre.get("channel_order", "rgb") == "bgr":  # as alexnet.layers.Preprocess
        x = tf.reverse(x, axis=[-1])
    x = (x * pre.get("scale", 1.0) - pre.get("mean", (0.0,))) / pre.get("std", (1.0,))
    # Every dropout step is kept: its rate, 1 - keep_prob, is fed at run time.
    plan = layer_plan(net, lrn=lrn, overlapping_pooling=overlapping_pooling, dropout=0.5, classes=num_classes)
    for name, step in plan:
        match step:
            case variants.Conv():
                with v1.variable_scope(name):
                    x = _conv(x, step, net.init, act)
            case variants.LRN():  # the paper's k=2, n=5, alpha=1e-4, beta=0.75 in TensorFlow's convention
                x = tf.nn.local_response_normalization(x, 2, 2.0, 1e-4, 0.75, name=name)
            case variants.MaxPool():
                x = tf.nn.max_pool2d(x, step.size, step.stride, step.padding.upper(), name=name)
            case variants.AdaptiveAvgPool():
                if tuple(x.shape[1:3]) != step.size:
                    raise ValueError(f"the v1 graph of {variant!r} needs a 224x224 input, "
                                     f"got {tuple(images.shape[1:])!r}")
            case variants.Flatten():
                x = tf.reshape(x, [-1, x.shape[1] * x.shape[2] * x.shape[3]])
            case variants.Dropout():
                x = tf.nn.dropout(x, rate=1 - keep_prob)
            case variants.FC():
                with v1.variable_scope(name):
                    w = _weights("kernel", [x.shape[-1], step.units], net.init)
                    x = act(tf.matmul(x, w) + _bias(step.units, step.bias_init))
            case variants.Predictions():
                with v1.variable_scope(name):
                    w = _weights("kernel", [x.shape[-1], step.units], net.init)
                    return tf.matmul(x, w) + _bias(step.units, 0.0)
    raise ValueError(f"the plan of {variant!r} has no predictions step")


def loss(logits, labels):
    """Mean softmax cross-entropy against one-hot ``labels``."""
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits), name="loss")


class Graph(NamedTuple):
    images: tf.Tensor
    labels: tf.Tensor
    keep_prob: tf.Tensor
    logits: tf.Tensor
    outputs: tf.Tensor
    loss: tf.Tensor
    accuracy: tf.Tensor


def build_graph(num_classes, input_shape=None, variant="paper", **kwargs) -> Graph:
    """Placeholders named as the exercise exports them, the network, the
    loss and accuracy, in the default graph (call it inside
    ``tf.Graph().as_default()``)."""
    if tf.executing_eagerly():
        raise RuntimeError("build_graph needs graph mode: call it inside `with tf.Graph().as_default():`.")
    shape = tuple(input_shape or get_variant(variant).default_input_shape)
    images = v1.placeholder(tf.float32, (None, *shape), name="batchImgInput")
    labels = v1.placeholder(tf.float32, (None, num_classes), name="Labels")
    keep_prob = v1.placeholder_with_default(1.0, (), name="dropout_keep_prob")
    logits = inference(images, num_classes, keep_prob, variant=variant, **kwargs)
    outputs = tf.nn.softmax(logits, name="model_outputs")
    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
    return Graph(images, labels, keep_prob, logits, outputs, loss(logits, labels), accuracy)
