"""Training steps per second with one and with two (logical) devices.

    python examples/measure_devices.py                  # all settings, 3 runs each
    python examples/measure_devices.py --runs 5 --steps 30 small-mirrored-2

Settings (each run in a fresh process, because logical CPU devices must be
made before TensorFlow starts):

- ``small-default``: the small variant (28x28x1, global batch 128), one device;
- ``small-mirrored-1`` / ``small-mirrored-2``: the same under MirroredStrategy
  over 1 / 2 logical CPU devices (``--devices cpu:1`` / ``cpu:2``);
- ``paper-default``: the paper model (227x227x3, batch 16), one device;
- ``paper-two-tower``: the same as two towers on two logical CPU devices;
- ``paper-towers-unplaced``: the two-tower model with no placement (one
  device), to tell the cost of the formulation from that of the split.

Each run times ``--steps`` training steps after 3 warm-up steps, on one
synthetic batch repeated (no input pipeline in the way), in float32, and
reports the median step time. The summary gives, per setting, the median over
the runs of those medians, and the range.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {
    "small-default": dict(variant="small", strategy="default", devices=None, batch=128),
    "small-mirrored-1": dict(variant="small", strategy="mirrored", devices="cpu:1", batch=128),
    "small-mirrored-2": dict(variant="small", strategy="mirrored", devices="cpu:2", batch=128),
    "paper-default": dict(variant="paper", strategy="default", devices=None, batch=16),
    "paper-two-tower": dict(variant="paper", strategy="two-tower", devices="cpu:2", batch=16),
    # Diagnostic: the two-tower model with no placement, on one device.
    "paper-towers-unplaced": dict(variant="paper", strategy="default", devices=None, batch=16, towers=True),
}
WARMUP = 3


def child(name, steps):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    setting = SETTINGS[name]
    from alexnet.config import Config, resolve
    from alexnet.training.distribute import setup

    dist = setup(resolve(Config(variant=setting["variant"], strategy=setting["strategy"],
                                devices=setting["devices"])))
    import keras
    import numpy as np
    import tensorflow as tf

    from alexnet.model import AlexNet
    from alexnet.towers import TwoTowerAlexNet

    keras.utils.set_random_seed(0)
    shape, classes = ((28, 28, 1), 10) if setting["variant"] == "small" else ((227, 227, 3), 1000)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (setting["batch"], *shape)).astype("float32")
    y = rng.integers(0, classes, setting["batch"])
    with dist.scope():
        make = TwoTowerAlexNet if setting["strategy"] == "two-tower" or setting.get("towers") else AlexNet
        model = make(variant=setting["variant"], input_shape=shape, classes=classes)
        model.compile(optimizer=keras.optimizers.SGD(0.001, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy())
    times = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    data = tf.data.Dataset.from_tensors((x, y)).repeat()
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=WARMUP + steps, verbose=0, callbacks=[Clock()])
    durations = [b - a for a, b in zip([start, *times], times)][WARMUP:]
    print(json.dumps({"setting": name, "median_step_s": statistics.median(durations),
                      "replicas": getattr(dist.strategy, "num_replicas_in_sync", 1)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", nargs="*", help=f"some of {', '.join(SETTINGS)} (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.steps)
    unknown = set(args.settings) - set(SETTINGS)
    if unknown:
        parser.error(f"unknown setting(s) {sorted(unknown)}; choose from {', '.join(SETTINGS)}")
    names = args.settings or list(SETTINGS)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rates = {name: [] for name in names}
    for run in range(args.runs):  # round-robin, so that load changes hit every setting alike
        for name in names:
            out = subprocess.run([sys.executable, __file__, "--child", name, "--steps", str(args.steps)],
                                 capture_output=True, text=True, env=env, check=True).stdout
            rates[name].append(1 / json.loads(out.strip().splitlines()[-1])["median_step_s"])
            print(f"run {run + 1}: {name}: {rates[name][-1]:.3f} steps/s", file=sys.stderr, flush=True)
    print(f"{'setting':<22} {'batch':>5} {'median steps/s':>15} {'range over runs':>17} {'images/s':>9}")
    for name in names:
        median, batch = statistics.median(rates[name]), SETTINGS[name]["batch"]
        print(f"{name:<22} {batch:>5} {median:>15.3f} {min(rates[name]):>8.3f}-{max(rates[name]):<8.3f} "
              f"{median * batch:>9.1f}")


if __name__ == "__main__":
    main()
