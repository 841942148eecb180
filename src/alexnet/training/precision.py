"""``--precision auto``: float32 or mixed bfloat16, chosen by measuring both.

A CPU flag does not say which is faster: on a 2-core AMD EPYC with
AVX512-BF16 the default job trained faster in mixed bfloat16, while on an
Intel Xeon with the same flag (and no AMX) bfloat16 matrix products ran at
about half float32's rate and a training step took 1.4x as long. So ``auto``
times a few training steps of the run's own network in both precisions on
this machine, picks the faster, and caches the answer per machine, network
batch size and Keras backend (``$ALEXNET_CACHE_DIR``, default ``~/.cache/alexnet``). GPUs
take mixed float16 without a probe; CPUs without bfloat16 units float32.
"""

from __future__ import annotations

import json
import os
import platform
import time

import keras
import numpy as np

from alexnet import backend

PROBE_VERSION = 3  # 2: the key names the network by a hash of its definition; 3: and the Keras backend
WARMUP_STEPS, TIMED_STEPS = 2, 4
# bfloat16 must win clearly: its casts and float32 LRN cost more in a long
# run than in a few steps, and a tie is better spent in float32.
MIN_SPEEDUP = 1.05


def cpu_description() -> tuple[str, bool]:
    """The CPU's model name and whether it has bfloat16 matrix units
    (AMX-BF16 or AVX512-BF16), from ``/proc/cpuinfo``."""
    name, flags = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = line
                if flags and name:
                    break
    except OSError:
        pass
    return name, " amx_bf16" in flags or " avx512_bf16" in flags


def cache_file() -> str:
    folder = os.environ.get("ALEXNET_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "alexnet")
    return os.path.join(folder, "precision.json")


def _step_seconds(make_model, input_shape, classes, batch_size, policy) -> float:
    """Median seconds of one training step of a fresh model under ``policy``."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = make_model()
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy())
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 255, (batch_size, *input_shape)).astype(np.float32)
        labels = rng.integers(0, classes, batch_size)
        times = []
        for step in range(WARMUP_STEPS + TIMED_STEPS):
            start = time.perf_counter()
            model.train_on_batch(images, labels)
            if step >= WARMUP_STEPS:
                times.append(time.perf_counter() - start)
        return float(np.median(times))
    finally:
        keras.mixed_precision.set_global_policy(previous)


def choose_precision(name, make_model, input_shape, classes, batch_size, key) -> tuple[str, str]:
    """``(policy, reason)``. ``name`` other than ``"auto"`` is taken as it
    is; ``make_model()`` builds the run's network (under the current policy)
    and ``key`` names it in the cache."""
    if name != "auto":
        return name, "as asked (--precision)"
    if backend.has_gpu():
        return "mixed_float16", "auto: a GPU"
    cpu, has_bf16 = cpu_description()
    if not has_bf16 or os.environ.get("ALEXNET_NO_BF16") is not None:
        return "float32", "auto: no bfloat16 matrix units on this CPU"
    entry_key = f"v{PROBE_VERSION} | {cpu} | {os.cpu_count()} cpus | {backend.version()} | {key} | batch {batch_size}"
    path = cache_file()
    try:
        with open(path, encoding="utf-8") as f:
            cache = json.load(f)
    except (OSError, ValueError):
        cache = {}
    entry = cache.get(entry_key)
    cached = entry is not None
    if not cached:
        seconds = {policy: _step_seconds(make_model, input_shape, classes, batch_size, policy)
                   for policy in ("float32", "mixed_bfloat16")}
        entry = {"float32_step_s": seconds["float32"], "mixed_bfloat16_step_s": seconds["mixed_bfloat16"]}
        cache[entry_key] = entry
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                json.dump(cache, f, indent=1)
            os.replace(path + ".tmp", path)
        except OSError:
            pass  # a read-only home: measure again next time
    speedup = entry["float32_step_s"] / entry["mixed_bfloat16_step_s"]
    policy = "mixed_bfloat16" if speedup >= MIN_SPEEDUP else "float32"
    reason = (f"auto: a training step took {1000 * entry['float32_step_s']:.0f} ms in float32 and "
              f"{1000 * entry['mixed_bfloat16_step_s']:.0f} ms in mixed bfloat16 on this {cpu} "
              f"({'cached in ' + path if cached else 'measured now'}; --precision overrides)")
    return policy, reason
