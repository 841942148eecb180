"""``alexnet.compat.v1``: the TensorFlow 1 style graph (placeholders, Session,
feed_dict) trains, exposes the exercise's tensor names, writes the paper's
towers, and computes exactly what the Keras model computes."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
import tensorflow as tf

from alexnet import AlexNet
from alexnet.compat import v1 as compat

tf1 = tf.compat.v1


def random_batch(n, shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, *shape)).astype(np.float32)
    labels = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]
    return images, labels


def test_build_graph_needs_graph_mode():
    with pytest.raises(RuntimeError, match="graph"):
        compat.build_graph(num_classes=10, input_shape=(28, 28, 1), variant="small")


def banded_batch(n, classes, seed=0):
    """Random noise images (0-60) with a bright band in rows 2k..2k+1 for
    class k, and their fixed one-hot labels. Pure noise would not do: from
    scratch, neither this graph nor the Keras model fits i.i.d. noise labels
    in a few dozen SGD steps (the loss stays near the label entropy)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    rng.shuffle(y)
    images = rng.integers(0, 60, (n, 28, 28, 1)).astype(np.float32)
    for i, k in enumerate(y):
        images[i, 2 * k : 2 * k + 2] = 220.0
    return images, np.eye(classes, dtype=np.float32)[y]


def test_small_graph_trains_with_session_and_feed_dict():
    images, labels = banded_batch(32, 10)
    graph = tf.Graph()
    with graph.as_default():
        tf1.set_random_seed(0)
        net = compat.build_graph(num_classes=10, input_shape=(28, 28, 1), variant="small")
        train_op = tf1.train.AdamOptimizer(1e-3).minimize(net.loss)
        init = tf1.global_variables_initializer()
    assert net.images.shape.as_list() == [None, 28, 28, 1]
    assert net.labels.shape.as_list() == [None, 10]
    assert net.logits.shape.as_list() == [None, 10]
    with tf1.Session(graph=graph) as sess:
        sess.run(init)
        feed = {net.images: images, net.labels: labels}
        first = sess.run(net.loss, feed)
        for _ in range(40):
            sess.run(train_op, {**feed, net.keep_prob: 0.5})
        last, accuracy, probs = sess.run([net.loss, net.accuracy, net.outputs], feed)
    assert np.isfinite(first) and np.isfinite(last)
    assert first > 2.0  # about log(10) at the start
    assert last < 0.5 * first, (first, last)
    assert accuracy > 0.5
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_tensors_retrievable_by_name():
    images, labels = random_batch(3, (28, 28, 1), 10, seed=1)
    graph = tf.Graph()
    with graph.as_default():
        net = compat.build_graph(num_classes=10, input_shape=(28, 28, 1), variant="small")
        init = tf1.global_variables_initializer()
    names = {
        "batchImgInput:0": net.images,
        "dropout_keep_prob:0": net.keep_prob,
        "Labels:0": net.labels,
        "model_outputs:0": net.outputs,
    }
    for name, tensor in names.items():
        assert graph.get_tensor_by_name(name) is tensor
    with tf1.Session(graph=graph) as sess:
        sess.run(init)
        by_name = sess.run("model_outputs:0", {"batchImgInput:0": images, "dropout_keep_prob:0": 1.0})
        logits = sess.run(net.logits, {net.images: images})
    assert by_name.shape == (3, 10)
    np.testing.assert_allclose(by_name, tf.nn.softmax(logits).numpy(), rtol=1e-5, atol=1e-7)
    # keep_prob defaults to 1.0: no dropout unless fed.
    assert graph.get_tensor_by_name("dropout_keep_prob:0").op.type == "PlaceholderWithDefault"


def test_paper_graph_has_two_towers():
    graph = tf.Graph()
    with graph.as_default():
        net = compat.build_graph(num_classes=1000, variant="paper")
    assert net.images.shape.as_list() == [None, 227, 227, 3]
    op_names = [op.name for op in graph.get_operations()]
    for layer in ("conv2", "conv4", "conv5"):
        for tower in ("tower1", "tower2"):
            convs = [n for n in op_names if n.startswith(f"{layer}/{tower}/") and
                     graph.get_operation_by_name(n).type == "Conv2D"]
            assert len(convs) == 1, (layer, tower, convs)
    for layer in ("conv1", "conv3"):
        assert not [n for n in op_names if n.startswith(f"{layer}/tower")]
    shapes = {v.name: v.shape.as_list() for v in graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES)}
    assert shapes["conv2/kernel:0"] == [5, 5, 48, 256]
    assert shapes["conv4/kernel:0"] == [3, 3, 192, 384]
    assert shapes["conv5/kernel:0"] == [3, 3, 192, 256]
    assert sum(int(np.prod(s)) for s in shapes.values()) == 60_965_224


def v1_logits_with_keras_weights(model, images, variant, input_shape, classes, **kwargs):
    """Builds the v1 graph, copies every Keras weight into the variable of the
    same scope (conv1/kernel <- conv1.kernel, ...), and runs the logits."""
    graph = tf.Graph()
    with graph.as_default():
        net = compat.build_graph(num_classes=classes, input_shape=input_shape, variant=variant, **kwargs)
        variables = graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES)
        init = tf1.global_variables_initializer()
    keras_weights = {w.path: w.numpy() for w in model.weights}
    assert sorted(v.name[: -len(":0")] for v in variables) == sorted(keras_weights)
    with tf1.Session(graph=graph) as sess:
        sess.run(init)
        for variable in variables:
            value = keras_weights[variable.name[: -len(":0")]]
            assert variable.shape.as_list() == list(value.shape), variable.name
            variable.load(value, sess)
        logits, probs = sess.run([net.logits, net.outputs], {net.images: images})
        dropped = sess.run(net.logits, {net.images: images, net.keep_prob: 0.5})
    return logits, probs, dropped


@pytest.mark.parametrize(
    "variant,input_shape,preprocessing,activation",
    [
        ("small", (28, 28, 1), dict(mean=(127.5,), std=(127.5,), scale=1.0), "relu"),
        ("small", (28, 28, 1), dict(mean=(33.0,), std=(80.0,), scale=1.0), "tanh"),
        ("small", (32, 32, 3), dict(mean=(120.0, 110.0, 100.0), std=(60.0, 50.0, 40.0), scale=1.0), "relu"),
        ("small", (32, 32, 3), dict(mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3), scale=1 / 255,
                                     channel_order="bgr"), "relu"),
        # The paper's grouped layers, at a small input to keep fc6 small.
        ("paper", (67, 67, 3), None, "relu"),
    ],
)
def test_v1_graph_equals_keras_model(variant, input_shape, preprocessing, activation):
    classes = 10
    model = AlexNet(variant=variant, classes=classes, input_shape=input_shape, classifier_activation=None,
                    preprocessing=preprocessing, activation=activation)
    if variant == "paper":  # N(0, 0.01) leaves the logits tiny; use larger weights
        rng = np.random.default_rng(0)
        for w in model.weights:
            if w.path.endswith("kernel"):
                fan_in = int(np.prod(w.shape[:-1]))
                w.assign(rng.normal(0, np.sqrt(2.0 / fan_in), w.shape).astype(np.float32))
    images, _ = random_batch(4, input_shape, classes, seed=3)
    expected = model(images, training=False).numpy()
    assert np.std(expected) > 1e-3  # the comparison is not between constants
    logits, probs, dropped = v1_logits_with_keras_weights(
        model, images, variant, input_shape, classes, preprocessing=preprocessing, activation=activation)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(probs, tf.nn.softmax(expected).numpy(), rtol=1e-3, atol=1e-6)
    assert not np.allclose(dropped, expected, rtol=1e-3, atol=1e-3 * scale)  # keep_prob is wired to dropout


def test_v1_loss_is_softmax_cross_entropy():
    images, labels = random_batch(5, (28, 28, 1), 10, seed=4)
    graph = tf.Graph()
    with graph.as_default():
        net = compat.build_graph(num_classes=10, input_shape=(28, 28, 1), variant="small")
        init = tf1.global_variables_initializer()
    with tf1.Session(graph=graph) as sess:
        sess.run(init)
        logits, loss = sess.run([net.logits, net.loss], {net.images: images, net.labels: labels})
    log_probs = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) - logits.max(1, keepdims=True)
    np.testing.assert_allclose(loss, -(labels * log_probs).sum(1).mean(), rtol=1e-5)
