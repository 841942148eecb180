"""Tables (Markdown and JSON) and figures for the reproduction experiments.

Errors are in percent. Training error is Keras' running accuracy over each
epoch with dropout *on* (the paper's Figure 1 net had no dropout), so with
dropout it sits above the error of the same weights in inference mode; the
validation and test errors are measured in inference mode.
"""

from __future__ import annotations

import json
import os
import statistics

from alexnet import plots
from alexnet.training.checkpoint import write_atomic

MEASURES = {  # name -> (heading, unit)
    "epochs_to_target": ("epochs to the target training error", "epochs"),
    "speedup": ("speed-up (tanh epochs / ReLU epochs)", "x"),
    "train_error": ("final training error (dropout on)", "%"),
    "val_error": ("final validation error", "%"),
    "test_error": ("test top-1 error", "%"),
    "test_top5_error": ("test top-5 error", "%"),
    "gap": ("test error - training error", "%"),
    "parameters": ("parameters", ""),
    "conv_kernels": ("convolution kernels (conv1-conv5)", ""),
}
HEADLINE = {"relu-vs-tanh": "speedup", "lrn": "test_error", "overlapping-pooling": "test_error",
            "dropout": "gap", "two-tower": "test_error"}


def epochs_to_target(errors, target, start_error=None):
    """The (fractional) epoch at which a training-error curve first reaches
    ``target``: ``errors[i]`` is the error after epoch ``i + 1``; between two
    epochs the curve is interpolated linearly. Before the first epoch the
    curve starts at ``start_error`` (chance, say) when given. None when the
    curve never gets there."""
    points = ([(0.0, start_error)] if start_error is not None else []) + [
        (float(i + 1), e) for i, e in enumerate(errors)]
    for index, (epoch, error) in enumerate(points):
        if error is None or error > target:
            continue
        if index == 0:
            return epoch
        before_epoch, before = points[index - 1]
        if before is None or before == error:
            return epoch
        return before_epoch + (before - target) / (before - error) * (epoch - before_epoch)
    return None


def speedup(idea_epochs, control_epochs):
    """How many times sooner the idea reaches the target; None when either
    arm never reaches it."""
    if idea_epochs is None or control_epochs is None or idea_epochs <= 0:
        return None
    return control_epochs / idea_epochs


def stats(values):
    """Mean, sample standard deviation and count over the seeds that have a value."""
    present = [v for v in values if v is not None]
    if not present:
        return {"mean": None, "std": None, "n": 0, "per_seed": list(values)}
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return {"mean": statistics.fmean(present), "std": std, "n": len(present), "per_seed": list(values)}


def train_errors(run):
    return [100 * (1 - row["accuracy"]) for row in run["history"]]


def val_errors(run):
    return [100 * (1 - row["val_accuracy"]) if "val_accuracy" in row else None for row in run["history"]]


def _chance(run):
    classes = _classes(run)
    return 100 * (1 - 1 / classes) if classes else None


def _classes(run):
    path = os.path.join(run["dir"], "classes.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return len(json.load(f))
    return None


def run_measures(run, target=None):
    m = run["metrics"]
    train = train_errors(run)
    val = val_errors(run)
    values = {
        "train_error": train[-1] if train else None,
        "val_error": val[-1] if val else None,
        "test_error": 100 * (1 - m["test_accuracy"]),
        "test_top5_error": 100 * (1 - m["test_top5_accuracy"]),
    }
    values["gap"] = values["test_error"] - values["train_error"] if train else None
    if target is not None:
        values["epochs_to_target"] = epochs_to_target(train, 100 * target, _chance(run))
    return values


def model_size(run):
    """Parameters and conv kernels of the run's model, built afresh (cheap)."""
    from alexnet.model import AlexNet

    config = run["config"]
    with open(os.path.join(run["dir"], "input.json"), encoding="utf-8") as f:
        spec = json.load(f)
    model = AlexNet(variant=config["variant"], input_shape=(spec["crop"], spec["crop"], spec["channels"]),
                    classes=_classes(run) or 10, lrn=config["lrn"], dropout=config["dropout"],
                    overlapping_pooling=config["overlapping_pooling"])
    kernels = sum(model.get_layer(f"conv{i}").filters for i in range(1, 6))
    return model.count_params(), kernels


def budget(base, seeds, quick):
    steps = f", at most {base.max_steps_per_epoch} steps per epoch" if base.max_steps_per_epoch else ""
    return (f"{base.epochs} epochs{steps}, batch {base.batch_size}, {base.optimizer} lr {base.learning_rate} "
            f"({base.schedule}), {seeds} seed{'s' if seeds != 1 else ''}{' (--quick)' if quick else ''}")


def summarize(experiment, runs, *, target_error, dataset, budget):
    """The experiment's table as data: one row per measure with each arm's
    mean and standard deviation over seeds, the paired effect (idea minus
    control, seed by seed) and the paper's number."""
    idea, control = experiment.idea, experiment.control
    relu = experiment.name == "relu-vs-tanh"
    per_arm = {arm.key: [run_measures(r, target_error if relu else None) for r in runs[arm.key]]
               for arm in (idea, control)}
    names = ["epochs_to_target"] if relu else []
    names += ["train_error", "val_error", "test_error", "test_top5_error", "gap"]
    if experiment.name == "two-tower":
        for arm in (idea, control):
            params, kernels = model_size(runs[arm.key][0])
            for values in per_arm[arm.key]:
                values.update(parameters=params, conv_kernels=kernels)
        names = ["parameters", "conv_kernels"] + names
    rows = []
    for name in names:
        a = [v.get(name) for v in per_arm[idea.key]]
        b = [v.get(name) for v in per_arm[control.key]]
        if all(v is None for v in a + b):
            continue
        effect = [x - y if x is not None and y is not None else None for x, y in zip(a, b)]
        rows.append({"measure": name, "heading": MEASURES[name][0], "unit": MEASURES[name][1],
                     "values": {idea.key: stats(a), control.key: stats(b)},
                     "effect": stats(effect) if name not in ("parameters", "conv_kernels", "epochs_to_target")
                     else None,
                     "paper": experiment.paper.get(name)})
    if relu:
        ratios = [speedup(x.get("epochs_to_target"), y.get("epochs_to_target"))
                  for x, y in zip(per_arm[idea.key], per_arm[control.key])]
        # Where ReLU reaches the target and tanh does not within the budget,
        # the speed-up is at least (epochs trained) / (ReLU's epochs).
        bounds = [speedup(x.get("epochs_to_target"), float(len(run["history"])))
                  if x.get("epochs_to_target") is not None and y.get("epochs_to_target") is None else None
                  for x, y, run in zip(per_arm[idea.key], per_arm[control.key], runs[control.key])]
        rows.insert(1, {"measure": "speedup", "heading": MEASURES["speedup"][0], "unit": "x",
                        "values": {}, "effect": stats(ratios), "lower_bound": stats(bounds),
                        "paper": experiment.paper["speedup"]})
    return {
        "experiment": experiment.name, "title": experiment.title, "claim": experiment.claim,
        "dataset": dataset, "budget": budget, "seeds": len(runs[idea.key]),
        "target_training_error": 100 * target_error if relu else None,
        "epochs_trained": max(len(r["history"]) for arm in (idea, control) for r in runs[arm.key]),
        "arms": {arm.key: {"label": arm.label, "changes": arm.changes, "runs": [r["dir"] for r in runs[arm.key]]}
                 for arm in (idea, control)},
        "idea": idea.key, "control": control.key,
        "rows": rows, "headline": HEADLINE[experiment.name],
    }


def fmt(s, unit):
    if s is None or s["mean"] is None:
        return "not reached" if s is not None and s["per_seed"] else "-"
    if unit == "":
        return f"{s['mean']:,.0f}"
    digits = 2
    text = f"{s['mean']:.{digits}f}"
    if s["n"] > 1:
        text += f" ± {s['std']:.{digits}f}"
    if s["n"] < len(s["per_seed"]):
        text += f" ({s['n']}/{len(s['per_seed'])} seeds)"
    return text + ("x" if unit == "x" else "")


def format_effect(row):
    """The effect column; a speed-up whose slow arm never reached the target
    is given as its lower bound (the smallest over the seeds)."""
    bound = row.get("lower_bound")
    if row["effect"] is not None and row["effect"]["mean"] is None and bound and bound["mean"] is not None:
        low = min(v for v in bound["per_seed"] if v is not None)
        return f"> {low:.2f}x (the slower arm never reached the target; {bound['n']}/{len(bound['per_seed'])} seeds)"
    return fmt(row["effect"], row["unit"])


def to_markdown(result):
    idea, control = result["idea"], result["control"]
    labels = {k: v["label"] for k, v in result["arms"].items()}
    lines = [f"## {result['title']}", "", f"Paper: {result['claim']}", "",
             f"Data: {result['dataset']}; budget: {result['budget']}. Mean ± standard deviation over seeds; "
             f"errors in %; effect = ({labels[idea]}) - ({labels[control]}), paired by seed.", ""]
    if result["target_training_error"] is not None:
        lines += [f"Target training error: {result['target_training_error']:g}% (training error is measured "
                  "with dropout on).", ""]
    lines += [f"| measure | {labels[idea]} | {labels[control]} | effect | paper |", "|---|---|---|---|---|"]
    for row in result["rows"]:
        values = [fmt(row["values"].get(k), row["unit"]) for k in (idea, control)]
        if row["measure"] == "epochs_to_target":
            values = [v.replace("not reached", f"not reached in {result.get('epochs_trained')} epochs")
                      for v in values]
        lines.append(f"| {row['heading']} | {values[0]} | {values[1]} | {format_effect(row)} | "
                     f"{row['paper'] or ''} |")
    return "\n".join(lines) + "\n"


def write_experiment(result, runs, folder):
    os.makedirs(folder, exist_ok=True)
    figures = []
    if result["experiment"] == "relu-vs-tanh":
        figures.append(plot_figure1(result, runs, os.path.join(folder, "figure1.png")))
    figures.append(plot_curves(result, runs, os.path.join(folder, "curves.png")))
    result["figures"] = figures
    write_atomic(os.path.join(folder, "results.json"), json.dumps(result, indent=1))
    write_atomic(os.path.join(folder, "results.md"), to_markdown(result)
                 + "".join(f"\n![{os.path.basename(p)}]({os.path.basename(p)})\n" for p in figures))
    return result


def plot_figure1(result, runs, path):
    """The paper's Figure 1: training error per epoch, ReLU solid, tanh dashed."""
    arms = [(result["arms"][key]["label"], [train_errors(r) for r in runs[key]])
            for key in (result["idea"], result["control"])]
    return plots.plot_figure1(arms, result["target_training_error"],
                              f"{result['dataset']}: ReLU (solid) vs tanh (dashed)", path)


def plot_curves(result, runs, path):
    """Training (solid) and validation (dashed) error per epoch, one colour per arm."""
    arms = [(result["arms"][key]["label"], [train_errors(r) for r in runs[key]], [val_errors(r) for r in runs[key]])
            for key in (result["idea"], result["control"])]
    return plots.plot_curves(arms, result["title"], path)


def headline_row(result):
    return next(r for r in result["rows"] if r["measure"] == result["headline"])


def write_summary(results, out):
    """``summary.md`` and ``summary.json``: each claim's headline number."""
    rows = []
    for result in results:
        row = headline_row(result)
        rows.append({"experiment": result["experiment"], "measure": row["heading"], "unit": row["unit"],
                     "ours": row["effect"], "ours_text": format_effect(row), "paper": row["paper"],
                     "seeds": result["seeds"],
                     "dataset": result["dataset"], "budget": result["budget"]})
    lines = ["# Reproduction summary", "",
             "Effect = with the paper's idea minus without it (errors in %, negative: the idea helps); "
             "for ReLU vs tanh, the speed-up in epochs to the target training error.", "",
             "| experiment | measure | ours | paper | seeds | data |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['experiment']} | {r['measure']} | {r['ours_text']} | {r['paper'] or ''} | "
                     f"{r['seeds']} | {r['dataset']} |")
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "summary.json"), json.dumps({"experiments": rows}, indent=1))
    write_atomic(os.path.join(out, "summary.md"), "\n".join(lines) + "\n")
    return rows
