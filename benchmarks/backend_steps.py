"""The main job's training step on each Keras backend, on this CPU.

    python benchmarks/backend_steps.py [--steps 40] [--backends tensorflow,jax,torch] [--json]

Runs ``alexnet train`` (the default recipe on Fashion-MNIST, ``--precision
auto``) for two epochs of ``--steps`` steps under each backend, one process
at a time, and reads from its log the precision probe (a step in float32
and in mixed bfloat16, when the CPU has bfloat16 units) and the second
epoch's time per step (the first includes compiling). Run it with nothing
else on the cores. The whole main job per backend is ``KERAS_BACKEND=...
alexnet train``; BENCHMARKS.md has both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from alexnet.training.precision import cpu_description

STEP = re.compile(r"^\d+/\d+ - \S+ - (\d+(?:\.\d+)?)(ms|s)/step", re.M)
PROBE = re.compile(r"took (\d+) ms in float32 and (\d+) ms in mixed bfloat16")


def measure(backend, steps, folder):
    out = os.path.join(folder, backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "ALEXNET_CACHE_DIR": os.path.join(folder, "cache")}
    result = subprocess.run([sys.executable, "-m", "alexnet_launcher", "train", "--out", out, "--epochs", "2",
                             "--max-steps-per-epoch", str(steps)], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{backend}: alexnet train failed:\n{result.stderr[-2000:]}")
    times = [float(value) / (1 if unit == "ms" else 1e-3) for value, unit in STEP.findall(result.stdout + result.stderr)]
    probe = PROBE.search(result.stdout + result.stderr)
    precision = json.load(open(os.path.join(out, "metrics.json"), encoding="utf-8"))["precision"]
    return {"backend": backend, "step_ms": times[-1], "first_epoch_step_ms": times[0], "precision": precision,
            "probe_float32_ms": int(probe[1]) if probe else None,
            "probe_bfloat16_ms": int(probe[2]) if probe else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(b, args.steps, folder) for b in args.backends.split(",")]
    if args.json:
        print(json.dumps({"cpu": cpu_description()[0], "cores": os.cpu_count(), "rows": rows}, indent=1))
        return
    print(f"{cpu_description()[0]}, {os.cpu_count()} cores; batch 256, {args.steps} steps an epoch")
    print("| backend | precision (auto) | probe: float32 / bf16 step | step, epoch 2 | step, epoch 1 (compiling) |")
    print("|---|---|---|---|---|")
    for r in rows:
        probe = f"{r['probe_float32_ms']} / {r['probe_bfloat16_ms']} ms" if r["probe_float32_ms"] else "-"
        print(f"| {r['backend']} | {r['precision']} | {probe} | {r['step_ms']:.0f} ms | "
              f"{r['first_epoch_step_ms']:.0f} ms |")


if __name__ == "__main__":
    main()
