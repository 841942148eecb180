"""Time to accuracy of the default job: ``alexnet train`` for N seeds.

    python benchmarks/time_to_accuracy.py [--seeds 0,1,2] [--target 0.93]
                                          [--out benchmarks/tta] [-- extra train flags]

For each seed the default job runs in a fresh run directory as a subprocess
(nothing else should run on the machine meanwhile). Reported per seed and
as mean ± sd: the wall time of the whole command, the epoch and the wall time
at which validation accuracy first reaches the target, the test accuracy of
the plain saved model on the centre crop as an independent
``alexnet evaluate`` of ``model.keras`` gives it (and the run's own
ten-crop number), the training compute in TFLOP (the forward pass and the
gradients the step computes, per training image seen) and its share of the
bfloat16 and float32 matmul rates TensorFlow reaches in the same process,
with the CPU model and flags; and, once every run has ended, how the saved
model's answers hold up on the 10,000 test images enlarged to 56 px (PNG) and
112 px (RGB JPEG) and given to ``predict`` (``resized_agreement.py``). Writes ``results.json`` and ``results.md`` to
``--out``. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from main_job import _alexnet_command, run_main_job  # noqa: E402
from measure import time_steps  # noqa: E402
from resized_agreement import agreement  # noqa: E402
from run import machine_description, versions  # noqa: E402


def matmul_rate(dtype, n=2048, steps=5):
    """GFLOP/s of an ``n x n`` matrix product in ``dtype`` (median of ``steps``)."""
    import tensorflow as tf

    a = tf.random.normal([n, n], dtype=tf.float32)
    a = tf.cast(a, dtype)
    seconds = time_steps(lambda: tf.matmul(a, a).numpy(), warmup=1, steps=steps)["median_s"]
    return 2 * n**3 / seconds / 1e9


def training_tflop(run_dir):
    """Training compute of a finished run, over the images its epochs saw:
    per image, 2 x multiply-adds of each convolution and dense layer for the
    forward pass, again for its weights' gradient if it trains, and again
    for its input's gradient if a layer below it trains (with every layer
    trained that is 3x the forward pass, less conv1's input gradient; with
    the default job's fixed conv1, conv1 costs its forward pass only and
    conv2 no input gradient)."""
    from alexnet.saved import load_model_file
    from alexnet.summary import layer_macs

    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    per_epoch = metrics["train_images"]
    if config.get("max_steps_per_epoch"):
        per_epoch = min(per_epoch, config["max_steps_per_epoch"] * config["batch_size"])
    # model.keras keeps each layer's trainable flag as the run had it.
    passes, below = 0, False
    for layer in load_model_file(run_dir).layers:
        trains = bool(layer.trainable_weights)
        passes += layer_macs(layer) * (1 + trains + below)
        below = below or trains
    return 2 * passes * per_epoch * metrics["epochs"] / 1e12


def independent_accuracy(run_dir):
    """Centre-crop test accuracy of ``model.keras`` by ``alexnet evaluate``."""
    result = subprocess.run([*_alexnet_command(), "evaluate", run_dir, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)["top1_accuracy"]


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--target", type=float, default=0.93, help="validation accuracy target (default 0.93)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "tta"), help="folder for the runs and results")
    parser.add_argument("extra", nargs="*", help="flags passed to alexnet train (after --)")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for seed in seeds:
        run_dir = os.path.join(args.out, f"seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}")
        print(f"seed {seed}: {run_dir}", file=sys.stderr, flush=True)
        row = {"seed": seed, "run_dir": run_dir,
               **run_main_job(run_dir, target=args.target, extra_args=["--seed", str(seed), *args.extra])}
        metrics_path = os.path.join(run_dir, "metrics.json")
        if os.path.isfile(metrics_path):
            with open(metrics_path, encoding="utf-8") as f:
                metrics = json.load(f)
            row["test_accuracy_ten_crop"] = metrics.get("test_accuracy_ten_crop")
            row["fit_exit_seconds"] = metrics.get("fit_exit_seconds")  # the pause after training, if any
            row["independent_test_accuracy"] = independent_accuracy(run_dir)
            row["train_tflop"] = training_tflop(run_dir)
            row["train_gflops"] = 1000 * row["train_tflop"] / row["train_seconds"]
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    import tensorflow as tf

    for row in rows:  # after the timed runs, in this process
        if row.get("independent_test_accuracy") is not None:
            row["resized"] = agreement(row["run_dir"])
    rates = {"bfloat16": matmul_rate(tf.bfloat16), "float32": matmul_rate(tf.float32)}
    for row in rows:
        for name, rate in rates.items():
            row[f"share_of_{name}_matmul"] = row["train_gflops"] / rate if row.get("train_gflops") else None
    results = {"machine": machine_description(), "versions": versions(), "matmul_gflops": rates,
               "target": args.target, "extra_args": args.extra, "runs": rows}
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    markdown = format_markdown(results)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
        f.write(markdown)
    print(markdown)


def format_markdown(results):
    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}%"

    def num(v, fmt="{:.0f}"):
        return "-" if v is None else fmt.format(v)

    machine = results["machine"]
    lines = [
        f"CPU: {machine['cpu']}, {machine['cores']} cores, avx512_bf16 {machine['avx512_bf16']}, "
        f"amx_bf16 {machine['amx_bf16']}; matmul {results['matmul_gflops']['bfloat16']:.0f} GFLOP/s bfloat16, "
        f"{results['matmul_gflops']['float32']:.0f} float32; target {100 * results['target']:.0f}% validation",
        "",
        "| seed | wall | epoch at target | wall at target | test (model.keras, centre) | ten-crop | precision | "
        "TFLOP | share of bf16 / f32 matmul | fit's exit | resized 56 / 112 px: same answer | "
        "accuracy 28 / 56 / 112 px |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['seed']} | {num(r['wall_s'])} s | {num(r['first_epoch_val_at_target'], '{}')} | "
            f"{num(r['wall_s_to_val_target'])} s | {pct(r.get('independent_test_accuracy'))} | "
            f"{pct(r.get('test_accuracy_ten_crop'))} | {r.get('precision') or '-'} | {num(r.get('train_tflop'), '{:.1f}')} | "
            f"{pct(r.get('share_of_bfloat16_matmul'))} / {pct(r.get('share_of_float32_matmul'))} | "
            f"{num(r.get('fit_exit_seconds'), '{:.1f} s')} | "
            + (f"{pct(r['resized']['same_56'])} / {pct(r['resized']['same_112'])} | "
               f"{pct(r['resized']['accuracy_28'])} / {pct(r['resized']['accuracy_56'])} / "
               f"{pct(r['resized']['accuracy_112'])} |" if r.get("resized") else "- | - |"))
    for key, label, fmt in (("wall_s", "wall", "{:.0f} s"), ("independent_test_accuracy", "test (centre)", None)):
        mean, sd = mean_sd([r.get(key) for r in results["runs"]])
        if mean is not None:
            shown = f"{100 * mean:.2f}% ± {100 * sd:.2f}" if fmt is None else f"{fmt.format(mean)} ± {sd:.0f}"
            lines.append(f"\n{label}: mean ± sd over {len(results['runs'])} seeds: {shown}")
    errors = [f"seed {r['seed']}: {r['error']}" for r in results["runs"] if r.get("error")]
    return "\n".join(lines + [""] + errors) + "\n"


if __name__ == "__main__":
    main()
