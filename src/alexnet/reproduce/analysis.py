"""From runs to verdicts: paired effects, 95% intervals and the decision rule.

The rule, fixed in REPRODUCTION.md before the runs: for each seed the effect
is "with the idea" minus "without it" (for ReLU vs tanh, the log of tanh's
epochs to the threshold over ReLU's); its mean over the seeds gets a 95%
Student-t interval; the claim is **shown** when the interval excludes 0 in
the paper's direction, **opposite** when it excludes 0 the other way, and
**not shown** otherwise.
"""

from __future__ import annotations

import math
import statistics

# Student's t, two-sided 95% (0.975 quantile), by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101,
        19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042}


def t975(df: int) -> float:
    if df in T975:
        return T975[df]
    below = [d for d in T975 if d <= df]
    return T975[max(below)] if df < 30 else 1.96 + 2.4 / df  # within 0.005 of the true value past 30


def interval(values) -> dict:
    """Mean and 95% t-interval of ``values`` (None when fewer than 2)."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return {"per_seed": list(values), "mean": mean, "ci95": None}
    half = t975(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return {"per_seed": list(values), "mean": mean, "ci95": [mean - half, mean + half]}


def verdict(ci95, helps_when_below: bool, null: float = 0.0) -> str:
    """"shown" / "opposite" / "not shown" from the interval and the paper's direction."""
    if ci95 is None:
        return "not shown"
    low, high = ci95
    if (high < null) if helps_when_below else (low > null):
        return "shown"
    if (low > null) if helps_when_below else (high < null):
        return "opposite"
    return "not shown"


def chance_caveat(result) -> str | None:
    """A comparison's warning when nets of either arm learned nothing: the
    effect then says whether the net trains, not how well a trained one
    does."""
    stuck = [f"{arm['at_chance']} of {len(arm['values'])} nets of {key}"
             for key, arm in result["arms"].items() if arm.get("at_chance")]
    if not stuck:
        return None
    return f"at chance: {', '.join(stuck)}; the effect is whether the net trains, not how well"


def format_effect(result, points: str = "") -> str | None:
    """A comparison's effect as "mean [low, high]": a ratio with "x", error
    points signed and followed by ``points`` (e.g. " points"); None without one."""
    effect = result["effect"]
    if effect is None:
        return None
    interval = effect["ci95"]
    span = f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else ""
    value = f"{effect['mean']:.2f}x" if result["unit"] == "x" else f"{effect['mean']:+.2f}{points}"
    return value + span


def epochs_to_threshold(curve_epochs, curve_errors, threshold, budget):
    """The (fractional) epoch at which the training error first reaches
    ``threshold``, linearly interpolated between measurements; ``budget``
    (censored) when it never does. Returns ``(epochs, censored)``."""
    points = [(e, v) for e, v in zip(curve_epochs, curve_errors) if v is not None]
    for index, (epoch, error) in enumerate(points):
        if error > threshold:
            continue
        if index == 0:
            return epoch, False
        before_epoch, before = points[index - 1]
        return before_epoch + (before - threshold) / (before - error) * (epoch - before_epoch), False
    return float(budget), True


def measure(run, kind, threshold=None) -> float | None:
    """The number a run contributes: epochs to the threshold, test error or
    the generalization gap (validation error minus training error, both in
    inference mode); None for a diverged run."""
    if run["diverged"]:
        return None
    if kind == "epochs_to_threshold":
        return epochs_to_threshold(run["curves"]["epoch"], run["curves"]["train_error"], threshold,
                                   run["epochs"])[0]
    if kind == "gap":
        return run["val_error"] - run["train_error"]
    return run[kind]


def compare(kind, idea_runs, control_runs, threshold=None) -> dict:
    """The paired effect of one comparison and its verdict. Seeds where
    either arm diverged are left out (and counted)."""
    pairs = [(measure(a, kind, threshold), measure(b, kind, threshold)) for a, b in zip(idea_runs, control_runs)]
    kept = [(a, b) for a, b in pairs if a is not None and b is not None]
    result = {"pairs_used": len(kept), "pairs_diverged": len(pairs) - len(kept)}
    if not kept:
        return {**result, "effect": None, "verdict": "not shown"}
    if kind == "epochs_to_threshold":
        logs = interval([math.log(b / a) for a, b in kept])  # tanh's epochs over ReLU's: >1 means ReLU is faster
        effect = {"per_seed": [b / a for a, b in kept], "mean": math.exp(logs["mean"]),
                  "ci95": None if logs["ci95"] is None else [math.exp(v) for v in logs["ci95"]],
                  "mean_is": "geometric mean"}
        result["censored"] = {"idea": sum(_censored(r, threshold) for r in idea_runs),
                              "control": sum(_censored(r, threshold) for r in control_runs)}
        return {**result, "effect": effect, "verdict": verdict(effect["ci95"], helps_when_below=False, null=1.0)}
    effect = interval([a - b for a, b in kept])
    return {**result, "effect": effect, "verdict": verdict(effect["ci95"], helps_when_below=True)}


def _censored(run, threshold):
    if run["diverged"]:
        return True
    return epochs_to_threshold(run["curves"]["epoch"], run["curves"]["train_error"], threshold, run["epochs"])[1]


def at_chance(run, chance_error) -> bool:
    """Whether a finished run's net learned nothing: its test error within
    a point of guessing (90% on 10 classes)."""
    return not run["diverged"] and run["test_error"] >= chance_error - 1.0


def arm_summary(arm, runs, kind, threshold=None, chance_error=None) -> dict:
    """An arm's line in summary.json: its rate, its measure per seed, the
    usual errors' means and how many of its nets stayed at chance."""
    values = [measure(r, kind, threshold) for r in runs["runs"]]
    kept = [v for v in values if v is not None]
    finished = [r for r in runs["runs"] if not r["diverged"]]

    def mean_of(key):
        return statistics.fmean(r[key] for r in finished) if finished else None

    summary = {"label": arm.label, "lr": runs["search"]["lr"], "lr_trials": runs["search"]["trials"],
               "values": values, "mean": statistics.fmean(kept) if kept else None,
               "test_error": mean_of("test_error"), "test_top5_error": mean_of("test_top5_error"),
               "val_error": mean_of("val_error"), "train_error": mean_of("train_error"),
               "parameters": runs["runs"][0]["parameters"], "diverged": len(values) - len(kept),
               "seconds": sum(r["seconds"] for r in runs["runs"])}
    if chance_error is not None:
        summary["at_chance"] = sum(at_chance(r, chance_error) for r in runs["runs"])
    ratios = [r["lrn_ratio"] for r in finished if "lrn_ratio" in r]
    if ratios:
        summary["lrn_ratio"] = {"min": min(r["min"] for r in ratios), "max": max(r["max"] for r in ratios),
                                "median": statistics.median(r["median"] for r in ratios),
                                "input_max": max(r["input_max"] for r in ratios), "constant": 2 ** -0.75}
    return summary
