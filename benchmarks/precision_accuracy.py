"""Does the fast default cost accuracy? The default precision (``auto``:
mixed bfloat16 on CPUs with bfloat16 units, mixed float16 on GPUs) against
float32, same recipe, budget and seeds.

    python benchmarks/precision_accuracy.py [--data fashion_mnist] [--epochs 6]
                                            [--seeds 2] [--out runs/precision]

Both arms are ordinary ``alexnet train`` runs of ``small`` with its recipe
(compressed to ``--epochs``) and differ in ``precision`` only; they train
into ``OUT/<default|float32>/seed<k>`` (rerun to resume or reuse). Writes
``OUT/precision.md`` and ``OUT/precision.json`` and prints the Markdown.
Training times in the table are only comparable when both arms ran on an
otherwise idle machine; the throughput benchmark (``run.py``) is the
controlled speed comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

from alexnet.config import Config

TOLERANCE_POINTS = 0.3  # issue #6: the fast default within 0.3 points of float32


def run_arm(base, precision, seed, out):
    """One ``train`` run (resumed or reused when its folder holds one); its metrics."""
    from alexnet.training.run import train

    folder = os.path.join(out, "default" if precision == "auto" else precision, f"seed{seed}")
    train(base.replace(precision=precision, seed=seed, out=folder))
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        return {"metrics": json.load(f)}


def compare(data, out, epochs, seeds):
    base = Config(data=data, variant="small", epochs=epochs)
    rows = []
    for seed in range(seeds):
        fast, exact = run_arm(base, "auto", seed, out), run_arm(base, "float32", seed, out)
        row = {"seed": seed, "default_precision": fast["metrics"]["precision"]}
        for key, name in (("test_accuracy", "centre"), ("test_accuracy_ten_crop", "ten_crop")):
            row[f"default_{name}"] = fast["metrics"].get(key)
            row[f"float32_{name}"] = exact["metrics"].get(key)
        row["default_train_s"] = fast["metrics"].get("train_seconds")
        row["float32_train_s"] = exact["metrics"].get("train_seconds")
        rows.append(row)
    mean = {name: statistics.mean(r[f"default_{name}"] - r[f"float32_{name}"] for r in rows)
            for name in ("centre", "ten_crop")}
    return {"data": data, "epochs": epochs, "seeds": seeds, "rows": rows,
            "mean_difference_points": {k: 100 * v for k, v in mean.items()},
            "tolerance_points": TOLERANCE_POINTS,
            "within_tolerance": all(100 * v >= -TOLERANCE_POINTS for v in mean.values())}


def markdown(result):
    def pct(value):
        return "" if value is None else f"{100 * value:.2f}"

    lines = [f"Comparison on `{result['data']}`: `small`, {result['epochs']} epochs, "
             f"{result['seeds']} seed(s); test accuracy in percent.", "",
             "| seed | default precision | default centre | float32 centre | default ten-crop | float32 ten-crop "
             "| default train s | float32 train s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['seed']} | {r['default_precision']} | {pct(r['default_centre'])} | "
                     f"{pct(r['float32_centre'])} | {pct(r['default_ten_crop'])} | {pct(r['float32_ten_crop'])} | "
                     f"{r['default_train_s']:.0f} | {r['float32_train_s']:.0f} |")
    diff = result["mean_difference_points"]
    lines += ["", f"Mean difference, default minus float32: {diff['centre']:+.2f} points (centre crop), "
                  f"{diff['ten_crop']:+.2f} points (ten-crop); tolerance -{result['tolerance_points']} points: "
                  f"{'met' if result['within_tolerance'] else 'NOT met'}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default=os.path.join("runs", "precision"))
    args = parser.parse_args(argv)
    result = compare(args.data, args.out, args.epochs, args.seeds)
    text = markdown(result)
    with open(os.path.join(args.out, "precision.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.out, "precision.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
