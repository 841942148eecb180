"""Runs the distribution checks that need a fresh TensorFlow process (logical
CPU devices exist only if they are made before TensorFlow starts).

    python tests/distribute_helper.py two-tower RESULT.json
    python tests/distribute_helper.py mirrored RESULT.json DATA OUT
    python tests/distribute_helper.py worker RESULT.json -- <alexnet train arguments>

Each writes its findings to RESULT.json for tests/test_distribute.py to judge.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def two_tower(result_path):
    """Builds the paper model as two towers on /CPU:0 and /CPU:1, compares it
    with the single-device paper model (same weights), traces a training step
    and lists its ops' devices, then runs one step with TensorFlow logging
    the placement it chose (on stdout)."""
    import keras
    import tensorflow as tf

    from alexnet import towers
    from alexnet.model import AlexNet
    from alexnet.training.distribute import configure_devices

    devices = configure_devices("cpu:2")
    tf.debugging.set_log_device_placement(True)  # applies to functions only if set before TensorFlow starts
    keras.utils.set_random_seed(1)
    plain = AlexNet(variant="paper", classes=1000, classifier_activation=None)
    grouped_lrn = towers.with_tower_lrn(plain)
    with towers.placement(devices):
        tower = towers.TwoTowerAlexNet(classes=1000, classifier_activation=None)
    towers.copy_weights(plain, tower)

    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(0, 255, (2, 227, 227, 3)).astype("float32"))
    y = tf.constant([3, 917], tf.int64)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def reference(model):
        with tf.GradientTape() as tape:
            logits = model(x, training=False)
            loss = loss_fn(y, logits)
        return logits, tape.gradient(loss, model.trainable_variables)

    @tf.function
    def split():
        logits = tower(x, training=False)
        return logits, towers.colocated_gradients(loss_fn(y, logits), tower.trainable_variables)

    ref_logits, ref_grads = reference(grouped_lrn)
    paper_logits, _ = reference(plain)
    tower_logits, tower_grads = split()
    ref = {v.path: g.numpy() for v, g in zip(grouped_lrn.trainable_variables, ref_grads)}
    got = {v.path: g.numpy() for v, g in zip(tower.trainable_variables, tower_grads)}
    gradients = {}
    for path, expected in ref.items():
        layer, kind = path.split("/")
        halves = [got[p] for p in (f"{layer}/tower1_{kind}", f"{layer}/tower2_{kind}") if p in got]
        actual = np.concatenate(halves, axis=-1)
        gradients[path] = [float(np.abs(actual - expected).max()), float(np.abs(expected).max())]

    variable_devices = {v.path: v.value.device for v in tower.weights}

    # The training step as Keras runs it, traced: every op's requested device.
    from alexnet.training.optim import PaperSGD

    tower.compile(optimizer=PaperSGD(0.001, momentum=0.9, l2=5e-4), loss=loss_fn)  # the paper's update
    tower.optimizer.build(tower.trainable_variables)
    step = tf.function(tower.train_step)
    graph = step.get_concrete_function((tf.TensorSpec((2, 227, 227, 3)), tf.TensorSpec((2,), tf.int64))).graph
    ops = [{"name": op.name, "type": op.type, "device": op.device,
            "inputs": [[t.op.name, t.shape.as_list() if t.shape.rank is not None else None] for t in op.inputs]}
           for op in graph.get_operations()]

    # One real step; TensorFlow prints where it placed every op of the step
    # ("name: (Type): device", on stdout) when the function first runs.
    sys.stdout.flush()
    print("=== training step placement ===", flush=True)
    step((x, y))
    sys.stdout.flush()
    print("=== end ===", flush=True)

    with open(result_path, "w") as f:
        json.dump({
            "devices": devices,
            "logits_max_diff": float(np.abs(tower_logits.numpy() - ref_logits.numpy()).max()),
            "logits_max": float(np.abs(ref_logits.numpy()).max()),
            "paper_lrn_logits_max_diff": float(np.abs(tower_logits.numpy() - paper_logits.numpy()).max()),
            "gradients": gradients,
            "variable_devices": variable_devices,
            "ops": ops,
        }, f)


def mirrored(result_path, data, out):
    """Trains the small variant with MirroredStrategy over two logical CPU
    devices and reports every variable's per-replica values."""
    from alexnet.config import Config
    from alexnet.training import run

    captured = {}
    finish = run.finish

    def capture(model, *args, **kwargs):
        captured["model"] = model
        return finish(model, *args, **kwargs)

    run.finish = capture
    metrics = run.train(Config(data=data, out=out, variant="small", epochs=1, batch_size=16, max_steps_per_epoch=3,
                               learning_rate=0.01, warmup_epochs=0.0, precision="float32",
                               strategy="mirrored", devices="cpu:2"))
    model = captured["model"]
    strategy = model.distribute_strategy
    variables = {}
    for v in list(model.weights) + list(model.optimizer.variables):
        replicas = [r.numpy() for r in strategy.experimental_local_results(v.value)]
        variables[v.path] = {
            "replicas": len(replicas),
            "devices": [r.device for r in strategy.experimental_local_results(v.value)],
            "max_diff": float(max(np.abs(r - replicas[0]).max() for r in replicas)),
        }
    with open(result_path, "w") as f:
        json.dump({"replicas": strategy.num_replicas_in_sync, "metrics": metrics, "variables": variables,
                   "kind": type(strategy).__name__}, f)


def worker(result_path, args):
    """Runs ``alexnet train args`` and records the final weights, whether this
    worker was the chief, and the directory it wrote to."""
    from alexnet import cli
    from alexnet.training import distribute, run

    seen = {}
    finish = run.finish
    close = distribute.Distribution.close

    def capture(model, config, *rest, **kwargs):
        seen["weights"] = [np.asarray(w) for w in model.get_weights()]
        seen["write_dir"] = config.out
        return finish(model, config, *rest, **kwargs)

    def record(self):
        seen["chief"] = self.chief
        return close(self)

    run.finish = capture
    distribute.Distribution.close = record
    code = cli.main(["train", *args])
    if "weights" in seen:
        np.savez(result_path + ".npz", *seen.pop("weights"))
    with open(result_path, "w") as f:
        json.dump({"exit": code, "pid": os.getpid(), **seen}, f)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    command, result = sys.argv[1], sys.argv[2]
    if command == "two-tower":
        two_tower(result)
    elif command == "mirrored":
        mirrored(result, *sys.argv[3:5])
    elif command == "worker":
        worker(result, sys.argv[sys.argv.index("--") + 1:])
    else:
        sys.exit(f"unknown command {command!r}")
