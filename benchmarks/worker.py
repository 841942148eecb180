"""One benchmark task, run in its own process by ``measure.run_isolated``.

Usage: ``python benchmarks/worker.py '<task json>' <result path>``. Writes
``{"result": ...}`` or ``{"error": "..."}`` to the result path. Each task
imports only the framework it needs, so its peak memory is its own.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from measure import time_steps  # noqa: E402

TASKS = {}


def task(name):
    def register(function):
        TASKS[name] = function
        return function
    return register


def classes_for(variant):
    return 10 if variant == "small" else 1000


# --------------------------------------------------------------- TensorFlow

def _pin_tf_threads(t):
    """``--threads N``: N intra-op threads (and 1 inter-op) in TensorFlow."""
    if t.get("threads"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(t["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(1)


def _pin_torch_threads(t):
    if t.get("threads"):
        import torch

        torch.set_num_threads(t["threads"])


def _tf_sync(tensor):
    """Blocks until ``tensor`` is computed (eager CPU ops already are)."""
    import tensorflow as tf

    return tf.reshape(tensor, [-1])[0].numpy()


@task("info")
def info_task(t):
    """Multiply-adds per image of each variant (alexnet.summary.layer_macs)
    and, once per run, the check that the PyTorch twin with copied weights
    computes the same logits as the Keras model."""
    import alexnet
    from alexnet.summary import layer_macs

    macs, check = {}, {}
    for variant in t["variants"]:
        model = alexnet.AlexNet(variant=variant, classes=classes_for(variant))
        macs[variant] = int(sum(layer_macs(layer) for layer in model.layers))
        try:
            from torch_twin import compare_outputs

            check[variant] = compare_outputs(variant)
        except Exception as error:  # noqa: BLE001 - one variant's failure is reported
            check[variant] = {"error": f"{type(error).__name__}: {error}"[:300]}
    return {"macs": macs, "check": check}


@task("keras")
def keras_task(t):
    """Training or inference throughput of ``alexnet.AlexNet``."""
    import keras
    import numpy as np
    import tensorflow as tf

    import alexnet

    _pin_tf_threads(t)
    policy = "mixed_bfloat16" if t["precision"] == "bf16" else "float32"
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    variant, batch = t["variant"], t["batch"]
    model = alexnet.AlexNet(variant=variant, classes=classes_for(variant), classifier_activation=None)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=bool(t["xla"]),
    )
    shape = model.input_shape[1:]
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(0, 255, (batch, *shape)).astype(np.float32))
    labels = tf.constant(rng.integers(0, classes_for(variant), batch))
    if t["phase"] == "train":
        def step():
            model.train_on_batch(images, labels)  # returns numpy: synchronous
    else:
        def step():
            model.predict_on_batch(images)
    timing = time_steps(step, t["warmup"], t["steps"])
    return {**timing, "policy": policy, "threads": _tf_threads(),
            "devices": [d.device_type for d in tf.config.list_logical_devices()]}


def _tf_threads():
    import tensorflow as tf

    return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}


@task("tf_matmul")
def tf_matmul_task(t):
    import tensorflow as tf

    _pin_tf_threads(t)

    def rate(precision):
        dtype = tf.bfloat16 if precision == "bf16" else tf.float32
        n = t["n"]
        a = tf.cast(tf.random.normal((n, n)), dtype)
        b = tf.cast(tf.random.normal((n, n)), dtype)
        timing = time_steps(lambda: _tf_sync(tf.matmul(a, b)), t["warmup"], t["steps"])
        return {**timing, "flop_per_s": 2 * n**3 / timing["median_s"]}

    return _each_precision(rate, t["precisions"])


def _each_precision(rate, precisions):
    """``{precision: result}``; a precision that fails gets ``{"error"}``."""
    out = {}
    for precision in precisions:
        try:
            out[precision] = rate(precision)
        except Exception as error:  # noqa: BLE001
            out[precision] = {"error": f"{type(error).__name__}: {error}"[:300]}
    return out


@task("pipeline")
def pipeline_task(t):
    """The training input pipeline alone, on synthetic JPEGs."""
    from pipeline_bench import run_pipeline_benchmark

    return run_pipeline_benchmark(t)


# ------------------------------------------------------------------ PyTorch

def _torch_sync(device):
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


@task("torch")
def torch_task(t):
    """Training or inference throughput of the PyTorch twin."""
    import contextlib

    import numpy as np
    import torch
    import torch.nn.functional as F

    from torch_twin import AlexNetTwin

    _pin_torch_threads(t)
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    variant, batch, mode = t["variant"], t["batch"], t["mode"]
    model = AlexNetTwin(variant).to(device)
    height, width, channels = model_input_shape(variant)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.uniform(0, 255, (batch, channels, height, width)).astype(np.float32)).to(device)
    labels = torch.from_numpy(rng.integers(0, classes_for(variant), batch)).to(device)
    if mode == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    runner = torch.compile(model) if mode == "compile" else model
    autocast = (torch.autocast(device, dtype=torch.bfloat16) if t["precision"] == "bf16"
                else contextlib.nullcontext())

    if t["phase"] == "train":
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                loss = F.cross_entropy(runner(images).float(), labels)
            loss.backward()
            optimizer.step()
            _torch_sync(device)
    else:
        model.eval()

        def step():
            with torch.inference_mode(), autocast:
                runner(images)
            _torch_sync(device)

    timing = time_steps(step, t["warmup"], t["steps"])
    return {**timing, "threads": torch.get_num_threads(), "device": device}


def model_input_shape(variant):
    from alexnet.variants import get_variant

    return get_variant(variant).default_input_shape


@task("torch_matmul")
def torch_matmul_task(t):
    import torch

    _pin_torch_threads(t)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def rate(precision):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        n = t["n"]
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)

        def step():
            torch.mm(a, b)
            _torch_sync(device)

        timing = time_steps(step, t["warmup"], t["steps"])
        return {**timing, "flop_per_s": 2 * n**3 / timing["median_s"]}

    return _each_precision(rate, t["precisions"])


def main(argv):
    spec, result_path = json.loads(argv[1]), argv[2]
    try:
        payload = {"result": TASKS[spec["kind"]](spec)}
    except BaseException as error:  # noqa: BLE001 - reported, not raised
        traceback.print_exc()
        payload = {"error": f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300] if str(error).strip() else ''}"}
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(payload, f)


if __name__ == "__main__":
    main(sys.argv)
