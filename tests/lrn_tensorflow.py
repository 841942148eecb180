"""TensorFlow's own LRN op (``tf.nn.local_response_normalization``) on fixed
inputs: outputs and gradients, stored in ``lrn_tensorflow.npz`` beside this
file so that the LRN tests compare against TensorFlow under every Keras
backend (JAX and PyTorch have no LRN op of this convention).

    python tests/lrn_tensorflow.py   # rewrites lrn_tensorflow.npz (needs TensorFlow)

Under TensorFlow, ``tests/test_layers.py`` recomputes these numbers and
checks them against the file, so the file cannot drift from the op.
"""

import os

import numpy as np

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lrn_tensorflow.npz")

# (depth_radius, bias, alpha, beta) of the forward cases.
FORWARD = [
    (0, 1.0, 1e-3, 0.5),
    (1, 2.5, 1e-3, 1.0),
    (3, 1.0, 1e-3, 0.75),
    (2, 2.0, 1e-4, 0.75),  # the paper's k=2, n=5, alpha=1e-4, beta=0.75
    (2, 2.5, 1e-3, 0.5),
    (6, 1.0, 1e-3, 1.0),  # window wider than the 7 channels: every channel cut
]
# (depth_radius, bias, alpha, beta) of the gradient cases.
GRADIENT = [(2, 2.0, 1e-4, 0.75), (1, 2.5, 1e-3, 1.0), (3, 1.0, 1e-3, 0.5)]


def big_input(shape, seed=0, scale=30.0):
    """Large values, so that alpha * sum(a^2) is comparable to the bias."""
    return np.random.default_rng(seed).normal(0.0, scale, shape).astype(np.float32)


def forward_input(radius):
    return big_input((2, 3, 4, 7), seed=radius)


def gradient_inputs():
    """The input and the upstream gradient of the gradient cases."""
    x = big_input((2, 3, 3, 9), seed=5)
    upstream = np.random.default_rng(6).normal(size=(2, 3, 3, 9)).astype(np.float32)
    return x, upstream


def exercise_input():
    """The exercise's integers: tf.nn.lrn(np.arange(60).reshape([5, 2, 2, 3]), 2, 0, 1, 1)."""
    return np.arange(60).reshape([5, 2, 2, 3])


def all_zero_window_input():
    """With bias 0, the first pixel's windows hold only zeros: 0 / 0."""
    x = np.zeros((1, 1, 2, 3), np.float32)
    x[0, 0, 1] = [1.0, 2.0, 3.0]
    return x


def compute():
    """Every stored array, computed with TensorFlow's op now."""
    import tensorflow as tf

    lrn = tf.nn.local_response_normalization
    arrays = {}
    for index, (radius, bias, alpha, beta) in enumerate(FORWARD):
        arrays[f"forward{index}"] = lrn(forward_input(radius), radius, bias, alpha, beta).numpy()
    x, upstream = gradient_inputs()
    for index, (radius, bias, alpha, beta) in enumerate(GRADIENT):
        x_tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            loss = tf.reduce_sum(lrn(x_tensor, radius, bias, alpha, beta) * upstream)
        arrays[f"gradient{index}"] = tape.gradient(loss, x_tensor).numpy()
    arrays["exercise"] = lrn(exercise_input().astype(np.float32), 2, 0.0, 1.0, 1.0).numpy()
    arrays["all_zero_window"] = lrn(all_zero_window_input(), 2, 0.0, 1.0, 1.0).numpy()
    return arrays


def load():
    with np.load(PATH) as stored:
        return dict(stored)


if __name__ == "__main__":
    np.savez_compressed(PATH, **compute())
    print(f"wrote {PATH}")
