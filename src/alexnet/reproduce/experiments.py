"""``alexnet reproduce``: runs the protocol's experiments and writes their verdicts.

``run_experiment("all", out=...)`` trains every arm the experiments need
(:mod:`alexnet.reproduce.runner`, resumable), compares them
(:mod:`alexnet.reproduce.analysis`) and writes ``<out>/summary.json``,
``<out>/summary.md`` and one figure per experiment. ``<out>/protocol.json``
records the protocol the runs were made with; a rerun into the same folder
with another protocol (other seeds, ``--quick``, other data) is refused.
"""

from __future__ import annotations

import json
import os
import time

from alexnet.errors import UserError, log
from alexnet.reproduce import analysis, protocol as P, runner
from alexnet.training.checkpoint import write_atomic

EXPERIMENTS, NAMES = P.EXPERIMENTS, P.NAMES


def check_protocol(out, described):
    described = json.loads(json.dumps(described))  # tuples as lists, as read back
    path = os.path.join(out, "protocol.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            before = json.load(f)
        changed = sorted(k for k in set(before) | set(described)
                         if k != "arms" and before.get(k) != described.get(k))
        changed += [f"arm {k}" for k, v in described["arms"].items() if k in before.get("arms", {})
                    and before["arms"][k] != v]
        if changed:
            raise UserError(f"{out} holds runs made with another protocol ({', '.join(changed)} differ); "
                            "use a new --out.")
        described = {**described, "arms": {**before.get("arms", {}), **described["arms"]}}
    os.makedirs(out, exist_ok=True)
    write_atomic(path, json.dumps(described, indent=1))


def threshold_for(data_name, threshold=None):
    value = threshold if threshold is not None else P.THRESHOLD.get(data_name, P.DEFAULT_THRESHOLD)
    if not 0 < value < 100:
        raise UserError(f"--threshold must be a training error in percent, in (0, 100), got {value}.")
    return value


def run_experiment(name, data="fashion_mnist", *, out="runs/reproduce", seeds=None, quick=False,
                   threshold=None) -> dict:
    """Trains (or reuses) the arms of experiment ``name`` (or of ``all``) and
    writes the summary; returns it as written to ``summary.json``."""
    from alexnet.reproduce import figures

    if name not in NAMES:
        raise UserError(f"Unknown experiment {name!r}; choose one of {', '.join(NAMES)}.")
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(seeds or (P.SEEDS[:2] if quick else P.SEEDS))
    if not seeds:
        raise UserError("--seeds must be a positive integer.")
    names = list(EXPERIMENTS) if name == "all" else [name]
    started = time.time()
    loaded = runner.load_data(data)
    limit = threshold_for(loaded.name, threshold)
    arms = {k: (P.quick(a) if quick else a) for k, a in P.ARMS.items()}
    needed = [arms[a.key] for a in P.arms_of(names)]
    check_protocol(out, {**P.describe(names, seeds=seeds, quick_run=quick, data=loaded.name), "threshold": limit})
    trained = {}
    for index, arm in enumerate(needed, start=1):
        log(f"reproduce: arm {index}/{len(needed)}: {arm.key}")
        trained[arm.key] = runner.run_arm(arm, loaded, seeds, out, arms)
    summary = {"data": loaded.name, "cpu": cpu_name(), "seeds": list(seeds), "quick": quick,
               "threshold_training_error": limit, "protocol": "REPRODUCTION.md",
               "experiments": {}}
    for experiment_name in names:
        experiment = EXPERIMENTS[experiment_name]
        entry = summarize(experiment, trained, arms, limit, chance_error=100.0 * (1 - 1 / loaded.classes))
        entry["figure"] = os.path.basename(figures.draw(experiment, entry, trained, arms, limit,
                                                        os.path.join(out, f"{experiment_name}.png")))
        summary["experiments"][experiment_name] = entry
    summary["wall_seconds"] = time.time() - started
    summary["train_seconds"] = sum(r["seconds"] for t in trained.values() for r in t["runs"])
    stem = "summary" if name == "all" else name
    write_atomic(os.path.join(out, f"{stem}.json"), json.dumps(summary, indent=1))
    write_atomic(os.path.join(out, f"{stem}.md"), to_markdown(summary))
    return summary


def summarize(experiment, trained, arms, threshold, chance_error=None) -> dict:
    def one(comparison):
        kind = experiment.measure
        idea, control = trained[comparison.idea], trained[comparison.control]
        result = analysis.compare(kind, idea["runs"], control["runs"], threshold)
        result = {"setting": comparison.setting, "idea": comparison.idea, "control": comparison.control,
                  "measure": P.MEASURES[kind][0], "unit": P.MEASURES[kind][1],
                  "arms": {key: analysis.arm_summary(arms[key], trained[key], kind, threshold, chance_error)
                           for key in (comparison.idea, comparison.control)},
                  **result}
        caveat = analysis.chance_caveat(result)
        return {**result, "caveat": caveat} if caveat else result

    primary = one(experiment.primary)
    entry = {"title": experiment.title, "claim": experiment.claim, "paper": experiment.paper,
             "seeds": sorted({r["seed"] for r in trained[experiment.primary.idea]["runs"]}), **primary}
    if experiment.secondary:
        entry["secondary"] = {c.idea: one(c) for c in experiment.secondary}
    return entry


def verdict_text(result, upper=False) -> str:
    """The verdict, and the caveat when nets stayed at chance."""
    verdict = result["verdict"].upper() if upper else result["verdict"]
    return f"{verdict} ({result['caveat']})" if result.get("caveat") else verdict


def fmt_effect(result) -> str:
    return analysis.format_effect(result) or "no runs"


def to_markdown(summary) -> str:
    lines = ["# Reproduction summary", "",
             f"Data: {summary['data']}; seeds {summary['seeds']}; {summary['cpu']}; "
             f"{summary['train_seconds'] / 60:.0f} min of training in the measured runs "
             f"({_duration(summary['wall_seconds'])} wall for this invocation, which reuses the runs already "
             "saved). Effect: mean over seeds and its 95% interval "
             "(see REPRODUCTION.md for the protocol and the rule).", "",
             "| experiment | setting | effect [95% interval] | verdict | paper |", "|---|---|---|---|---|"]
    for name, entry in summary["experiments"].items():
        for result in [entry, *entry.get("secondary", {}).values()]:
            lines.append(f"| {name} | {result['setting']} | {fmt_effect(result)} | {verdict_text(result)} | "
                         f"{entry['paper']} |")
    return "\n".join(lines) + "\n"


def _duration(seconds) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.0f} min"


def cpu_name() -> str:
    from alexnet.training.precision import cpu_description

    return f"{cpu_description()[0]}, {os.cpu_count()} cores"
