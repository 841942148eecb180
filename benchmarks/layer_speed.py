"""LRN and GroupedConv2D under TensorFlow: forward + backward time, and
whether another version of ``alexnet/layers.py`` computes the same numbers.

    python benchmarks/layer_speed.py [--steps 10] [--compare OLD_LAYERS.py]

Times each layer at the shapes the models give it (``paper`` at batch 8,
``small`` at the default job's batch 256), inside ``tf.function``: the
output and the gradients of the input and of every weight. With
``--compare``, the other file's layers (e.g. ``git show
main:src/alexnet/layers.py > /tmp/old.py``) run on the same inputs and
weights, alternating with this package's, and the largest differences of
outputs and gradients are printed (0.0 means bit-identical). Each number is
the median of ``--steps`` calls after 3 warm-up calls. Not a test: nothing
else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import machine_description  # noqa: E402

# (name, batch, height, width, channels, layer arguments)
CASES = [
    ("paper lrn1", 8, 55, 55, 96, dict(kind="lrn")),
    ("paper lrn2", 8, 27, 27, 256, dict(kind="lrn")),
    ("small lrn1", 256, 14, 14, 32, dict(kind="lrn")),
    ("small lrn2", 256, 7, 7, 96, dict(kind="lrn")),
    ("paper conv2 (g=2)", 8, 27, 27, 96, dict(kind="conv", filters=256, kernel=5)),
    ("paper conv4 (g=2)", 8, 13, 13, 384, dict(kind="conv", filters=384, kernel=3)),
    ("paper conv5 (g=2)", 8, 13, 13, 384, dict(kind="conv", filters=256, kernel=3)),
]


def load_layers(path, package):
    spec = importlib.util.spec_from_file_location(package, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_layer(module, args, shape):
    if args["kind"] == "lrn":
        layer = module.LocalResponseNormalization()
    else:
        layer = module.GroupedConv2D(args["filters"], args["kernel"], padding="same", groups=2,
                                     activation="relu", bias_initializer="random_normal")
    layer.build(shape)
    return layer


def step_function(layer, x):
    import tensorflow as tf

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * y)
        return y, tape.gradient(loss, [x, *layer.trainable_weights])

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compare", help="another layers.py to time and compare against")
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    import alexnet.layers as current

    if keras.backend.backend() != "tensorflow":
        sys.exit("layer_speed.py times the layers under TensorFlow: set KERAS_BACKEND=tensorflow.")
    other = load_layers(args.compare, "alexnet_compared") if args.compare else None
    print(f"CPU: {machine_description()['cpu']}, {os.cpu_count()} cores; "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}")
    header = f"{'layer':20} {'input':>18} {'this ms':>8}"
    print(header + (f" {'other ms':>9} {'max |dy|':>9} {'max |dgrad|':>11}" if other else ""))
    rng = np.random.default_rng(0)
    for name, batch, height, width, channels, layer_args in CASES:
        shape = (batch, height, width, channels)
        x = tf.constant(np.maximum(rng.normal(0, 20, shape), 0).astype(np.float32))
        layer = make_layer(current, layer_args, shape)
        step = step_function(layer, x)
        timed = [(step, [])]
        if other:
            twin = make_layer(other, layer_args, shape)
            twin.set_weights(layer.get_weights())
            timed.append((step_function(twin, x), []))
        for _ in range(3):  # warm-up (and tracing)
            for call, _times in timed:
                call()
        for _ in range(args.steps):  # alternate, so that load on the machine hits both alike
            for call, times in timed:
                start = time.perf_counter()
                [t.numpy() for t in tf.nest.flatten(call())]  # blocks until done
                times.append(time.perf_counter() - start)
        medians = [1000 * float(np.median(times)) for _, times in timed]
        line = f"{name:20} {'x'.join(map(str, shape)):>18} {medians[0]:8.2f}"
        if other:
            (y0, g0), (y1, g1) = step(), timed[1][0]()
            dy = float(np.max(np.abs(y0.numpy() - y1.numpy())))
            dg = max(float(np.max(np.abs(a.numpy() - b.numpy()))) for a, b in zip(g0, g1))
            line += f" {medians[1]:9.2f} {dy:9.3g} {dg:11.3g}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
