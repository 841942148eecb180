"""Where one training step of the default job goes, layer by layer.

    python benchmarks/step_profile.py [--variant small] [--batch-size 256]
                                      [--precision mixed_bfloat16] [--steps 15]

Times, on random data of the default job's shape, the forward pass and the
forward plus backward pass of every layer alone at its own input shape (the
gradient of each trained weight and of the layer's input, except where no
layer below it trains: with the default job's fixed conv1, neither conv1
nor the pooling and LRN after it need a gradient, and conv2 needs only
its weights'), the optimizer's update of all weights, one batch of the real
input pipeline (Fashion-MNIST, as ``alexnet train`` builds it) and the whole
compiled training step. Casts of mixed precision happen inside the layers
and are counted there. Each number is the median of ``--steps`` calls after
3 warm-up calls; the shares are of the sum of the parts, which is more than
the whole step because each part pays a call's overhead on its own. Not a
test: nothing else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from measure import time_steps  # noqa: E402
from run import machine_description  # noqa: E402


def median_ms(call, steps, warmup=3):
    return 1000 * time_steps(call, warmup, steps)["median_s"]


def layer_rows(model, batch_size, steps):
    import tensorflow as tf

    rows = []
    for position, layer in enumerate(model.layers[1:], start=1):
        shape = (batch_size, *layer.input.shape[1:])
        inputs = tf.cast(tf.nn.relu(tf.random.normal(shape)) * 50.0, layer.input.dtype)
        # No weight before this layer: training needs no gradient of its input.
        first = not any(earlier.trainable_weights for earlier in model.layers[1:position])

        @tf.function
        def forward(inputs=inputs, layer=layer):
            return layer(inputs, training=True)

        @tf.function
        def forward_backward(inputs=inputs, layer=layer, first=first):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = tf.reduce_sum(tf.cast(layer(inputs, training=True), tf.float32))
            sources = list(layer.trainable_weights) if first else [inputs, *layer.trainable_weights]
            return tape.gradient(loss, sources) if sources else loss

        rows.append((layer.name, tuple(shape[1:]), median_ms(forward, steps), median_ms(forward_backward, steps)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="small")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--precision", default="mixed_bfloat16", choices=("float32", "mixed_bfloat16"))
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from alexnet.config import Config, resolve
    from alexnet.training.optim import make_loss, make_optimizer
    from alexnet.training.run import build_model, compile_model, prepare_data
    from alexnet.training.whitening import whiten_conv1
    from alexnet.data.datasets import train_dataset

    config = resolve(Config(variant=args.variant, batch_size=args.batch_size, precision=args.precision))
    source, spec, _ = prepare_data(config)
    keras.mixed_precision.set_global_policy(args.precision)
    model = build_model(config, source, spec)
    if config.conv1_init == "whitened":  # as `alexnet train` does: conv1 fixed, so nothing below conv2 trains
        whiten_conv1(model, source, spec)
    compile_model(model, make_optimizer(config, 100), make_loss(config))
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (args.batch_size, *spec.input_shape)).astype(np.float32)
    labels = rng.integers(0, source.num_classes, args.batch_size)
    step = median_ms(lambda: model.train_on_batch(images, labels), args.steps)

    rows = layer_rows(model, args.batch_size, args.steps)
    gradients = [tf.zeros_like(w) for w in model.trainable_variables]

    @tf.function
    def update():  # compiled, as inside the training step
        model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))

    rows.append(("optimizer", "all weights", None, median_ms(update, args.steps)))
    batches = iter(train_dataset(source, spec, args.batch_size, seed=0))
    rows.append(("input pipeline", "one batch", None, median_ms(lambda: next(batches), args.steps)))

    total = sum(row[3] for row in rows)
    machine = machine_description()
    print(f"CPU: {machine['cpu']}, {machine['cores']} cores; {args.variant}, batch {args.batch_size}, "
          f"{args.precision}; whole training step {step:.0f} ms (median of {args.steps}); "
          f"parts sum to {total:.0f} ms\n")
    print("| part | input | forward ms | forward + backward ms | share of the parts |")
    print("|---|---|---|---|---|")
    for name, shape, forward, both in rows:
        shape = "x".join(map(str, shape)) if isinstance(shape, tuple) else shape
        forward = "-" if forward is None else f"{forward:.1f}"
        print(f"| {name} | {shape} | {forward} | {both:.1f} | {100 * both / total:.1f}% |")
    groups = {}
    for name, _, _, both in rows:
        kind = name.rstrip("0123456789") if name[-1:].isdigit() else name
        groups[kind] = groups.get(kind, 0.0) + both
    print("\nBy kind: " + ", ".join(f"{kind} {100 * ms / total:.0f}%" for kind, ms in
                                     sorted(groups.items(), key=lambda item: -item[1])))


if __name__ == "__main__":
    main()
