"""Runs the distribution checks that need a fresh TensorFlow process (logical
CPU devices exist only if they are made before TensorFlow starts).

    python tests/distribute_helper.py two-tower RESULT.json
    python tests/distribute_helper.py mirrored RESULT.json DATA OUT
    python tests/distribute_helper.py mirrored-vs-one RESULT.json DATA OUT
    python tests/distribute_helper.py two-tower-steps RESULT.json
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
            "optimizer_scope": tower.optimizer.name + "/",  # paper_sgd/ (Keras 3.15), SGD/ (3.8)
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


def mirrored_vs_one(result_path, data, out, conv1_init="random"):
    """Trains the small variant for 6 steps of global batch 64 on one device,
    then again with MirroredStrategy over two logical CPU devices (same
    seed, so the same initial weights and data order; dropout and flips off),
    and records both runs' initial and final weights."""
    from alexnet.config import Config
    from alexnet.training import run
    from alexnet.training.distribute import configure_devices

    configure_devices("cpu:2")  # both runs in this process: the single-device one runs on /CPU:0
    seen = {}
    compile_model, finish = run.compile_model, run.finish

    def capture_initial(model, optimizer, loss):
        seen["initial"] = {w.path: np.array(w) for w in model.weights}
        return compile_model(model, optimizer, loss)

    def capture_final(model, *args, **kwargs):
        seen["final"] = {w.path: np.array(w) for w in model.weights}
        seen["replicas"] = model.distribute_strategy.num_replicas_in_sync
        return {}

    run.compile_model, run.finish = capture_initial, capture_final
    runs = {}
    for name, settings in (("one", {}), ("mirrored", dict(strategy="mirrored", devices="cpu:2"))):
        run.train(Config(data=data, out=os.path.join(out, name), variant="small", epochs=1, max_steps_per_epoch=6,
                         batch_size=64, dropout=0.0, flip=False, precision="float32", seed=3, deterministic=True,
                         learning_rate=0.02, schedule="constant", weight_decay=0.01, conv1_init=conv1_init,
                         **settings))
        runs[name] = dict(seen)
    np.savez(result_path + ".npz", **{f"{name}|{when}|{path}": value for name, r in runs.items()
                                      for when in ("initial", "final") for path, value in r[when].items()})
    with open(result_path, "w") as f:
        json.dump({name: {"replicas": r["replicas"]} for name, r in runs.items()}, f)


PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def two_tower_steps(result_path):
    """Three training steps (the paper's SGD, dropout off) of the paper model
    at 67x67 as two towers on /CPU:0 and /CPU:1 and as its single-device
    equivalent from the same weights and batches, in float32,
    mixed_bfloat16 and mixed_float16 (loss scaling); records the weights
    and, for each precision, the traced step's all-reduce ops."""
    import keras
    import tensorflow as tf

    from alexnet import towers
    from alexnet.model import AlexNet
    from alexnet.training.distribute import configure_devices
    from alexnet.training.optim import PaperSGD

    devices = configure_devices("cpu:2")
    rng = np.random.default_rng(0)
    batches = [(rng.uniform(0, 255, (8, 67, 67, 3)).astype("float32"), rng.integers(0, 10, 8)) for _ in range(3)]
    arrays, report = {}, {}
    for precision in PRECISIONS:
        keras.mixed_precision.set_global_policy(precision)
        keras.utils.set_random_seed(1)
        one = towers.with_tower_lrn(AlexNet(variant="paper", input_shape=(67, 67, 3), classes=10, dropout=0.0))
        with towers.placement(devices):
            two = towers.TwoTowerAlexNet(input_shape=(67, 67, 3), classes=10, dropout=0.0)
        towers.copy_weights(one, two)
        arrays[f"{precision}|initial"] = towers.single_device_weights(one)
        for model in (one, two):
            model.compile(optimizer=PaperSGD(0.001, momentum=0.9, l2=5e-4),
                          loss=keras.losses.SparseCategoricalCrossentropy())
            model.optimizer.build(model.trainable_variables)
        step = tf.function(two.train_step)
        graph = step.get_concrete_function((tf.TensorSpec((8, 67, 67, 3)), tf.TensorSpec((8,), tf.int64))).graph
        # Keras' all-reduce of the gradients: one IdentityN over all of them, in
        # the step or in a branch of the loss-scale optimizer's tf.cond.
        graph_def = graph.as_graph_def()
        nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
        all_reduce = [n.name for n in nodes if n.op == "IdentityN" and len(n.input) >= 16]
        losses = {}
        for name, model in (("one", one), ("two", two)):
            history = [model.train_on_batch(x, y) for x, y in batches]
            losses[name] = [float(np.asarray(h).reshape(-1)[0]) for h in history]
            arrays[f"{precision}|{name}"] = towers.single_device_weights(model)
        report[precision] = {
            "optimizer": type(two.optimizer).__name__, "all_reduce_ops": all_reduce, "losses": losses,
            "variable_devices": {v.path: v.value.device for v in two.trainable_variables},
        }
    keras.mixed_precision.set_global_policy("float32")
    np.savez(result_path + ".npz", **{f"{key}|{layer}|{i}": w for key, layers in arrays.items()
                                      for layer, ws in layers.items() for i, w in enumerate(ws)})
    with open(result_path, "w") as f:
        json.dump(report, f)


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
    elif command == "mirrored-vs-one":
        mirrored_vs_one(result, *sys.argv[3:6])
    elif command == "two-tower-steps":
        two_tower_steps(result)
    elif command == "worker":
        worker(result, sys.argv[sys.argv.index("--") + 1:])
    else:
        sys.exit(f"unknown command {command!r}")
