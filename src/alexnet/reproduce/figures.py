"""Each experiment's figure: its error curves per setting, mean of the seeds bold.

For ReLU vs tanh the paper's Figure 1 (training error, ReLU solid, tanh
dashed, the threshold dotted); for the others training error (solid) and
validation error (dashed) of both arms, the idea in blue, the control in red.
"""

from __future__ import annotations

import textwrap

from alexnet import plots
from alexnet.reproduce import analysis


def _curves(runs, key):
    return [(r["curves"]["epoch"][1:], [v for v in r["curves"][key][1:]]) for r in runs if not r["diverged"]]


def _verdict_line(result):
    effect = analysis.format_effect(result, " points")
    return "no comparable runs" if effect is None else f"effect {effect}: {result['verdict']}"


def draw(experiment, entry, trained, arms, threshold, path):
    panels = []
    for result in [entry, *entry.get("secondary", {}).values()]:
        idea, control = trained[result["idea"]]["runs"], trained[result["control"]]["runs"]
        labels = [arms[result["idea"]].label, arms[result["control"]].label]
        lrs = [result["arms"][k]["lr"] for k in (result["idea"], result["control"])]
        labels = [f"{label} (lr {lr:g})" for label, lr in zip(labels, lrs)]
        if experiment.measure == "epochs_to_threshold":
            series = [(labels[0], "black", "-", _curves(idea, "train_error")),
                      (labels[1], "black", "--", _curves(control, "train_error"))]
            ylabel, line = "training error (%)", threshold
        else:
            series = [(f"{labels[0]}: training", "tab:blue", "-", _curves(idea, "train_error")),
                      (f"{labels[0]}: validation", "tab:blue", "--", _curves(idea, "val_error")),
                      (f"{labels[1]}: training", "tab:red", "-", _curves(control, "train_error")),
                      (f"{labels[1]}: validation", "tab:red", "--", _curves(control, "val_error"))]
            ylabel, line = "error (%), inference mode", None
        setting = textwrap.fill(result["setting"], 70)
        panels.append({"title": f"{setting}\n{_verdict_line(result)}", "threshold": line,
                       "ylabel": ylabel, "arms": series})
    return plots.plot_reproduction(f"{entry['title']}: {len(entry['seeds'])} seeds", panels, path)
