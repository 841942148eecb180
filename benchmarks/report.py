"""Derived columns (FLOP/s, ratios) and the Markdown report."""

from __future__ import annotations

from measure import step_flops

THROUGHPUT_HEADER = (
    "framework", "variant", "phase", "batch", "precision", "mode", "img/s",
    "ms/step", "1st step s", "GFLOP/s", "% matmul", "peak RSS MiB",
)
RATIO_HEADER = ("ours/theirs", "ours/best theirs")

# Which PyTorch mode is "the same kind of run" as each Keras mode.
PAIRED_MODE = {"xla-off": "eager", "xla-on": "compile"}


def images_per_s(row):
    result = row.get("result") or {}
    median = result.get("median_s")
    return row["batch"] / median if median else None


def add_derived(rows, macs, matmul_rates):
    """Adds img/s, achieved FLOP/s and the fraction of the same framework's
    matmul rate at the same precision to each throughput row."""
    for row in rows:
        rate = images_per_s(row)
        row["images_per_s"] = rate
        flops = step_flops(macs[row["variant"]], row["phase"]) if row["variant"] in macs else None
        row["flop_per_s"] = rate * flops if rate and flops else None
        peak = matmul_rates.get((row["framework"], row["precision"]))
        row["fraction_of_matmul"] = row["flop_per_s"] / peak if row["flop_per_s"] and peak else None


def add_ratios(keras_rows, torch_rows):
    """ours/theirs against the paired PyTorch mode, and against the best
    PyTorch mode, at the same variant, phase, batch and precision."""
    theirs = {}
    for row in torch_rows:
        if row["images_per_s"]:
            theirs.setdefault(_key(row), {})[row["mode"]] = row["images_per_s"]
    for row in keras_rows:
        modes = theirs.get(_key(row), {})
        ours = row["images_per_s"]
        paired = modes.get(PAIRED_MODE.get(row["mode"], ""))
        row["ratio_paired"] = ours / paired if ours and paired else None
        best = max(modes.values(), default=None)
        row["ratio_best"] = ours / best if ours and best else None
        row["best_theirs_mode"] = max(modes, key=modes.get) if modes else None


def _key(row):
    return row["variant"], row["phase"], row["batch"], row["precision"]


def _fmt(value, digits=1):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _sci(value):
    return "" if value is None else f"{value:.1e}"


def throughput_line(row, ratios=True):
    result = row.get("result") or {}
    median = result.get("median_s")
    line = (
        row["framework"], row["variant"], row["phase"], row["batch"], row["precision"], row["mode"],
        _fmt(row.get("images_per_s")),
        _fmt(median * 1000 if median else None, 2),
        _fmt(result.get("first_step_s"), 2),
        _fmt(row["flop_per_s"] / 1e9 if row.get("flop_per_s") else None),
        _fmt(row["fraction_of_matmul"] * 100 if row.get("fraction_of_matmul") else None),
        _fmt(row.get("peak_rss_mib")),
    )
    if ratios:
        line += (
            _fmt(row.get("ratio_paired"), 2),
            _fmt(row.get("ratio_best"), 2) + (f" ({row['best_theirs_mode']})" if row.get("ratio_best") else ""),
        )
    return line + ((row.get("error") or "").replace("|", "/"),)


def table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(cell) for cell in line) + " |" for line in lines]
    return "\n".join(out)


def matmul_section(matmul):
    lines = [(m["framework"], m["precision"], m["n"], _fmt(m.get("flop_per_s") / 1e9 if m.get("flop_per_s") else None),
              _fmt(m.get("median_s") * 1000 if m.get("median_s") else None, 2), m.get("error") or "")
             for m in matmul]
    return table(("framework", "precision", "n", "GFLOP/s", "ms", "error"), lines)


def info_section(info):
    if not info.get("ok"):
        return f"Model info task failed: {info.get('error')}"
    macs = info["result"]["macs"]
    lines = []
    for variant, value in macs.items():
        check = info["result"]["check"].get(variant, {})
        lines.append((variant, f"{value:,}", _fmt(2 * value / 1e9, 3),
                      _sci(check.get("max_abs_diff")), _sci(check.get("max_rel_diff")),
                      check.get("same_top1", ""), (check.get("error") or "").replace("|", "/")))
    return table(("variant", "MACs/image", "GFLOP fwd/image", "twin max abs diff",
                  "twin max rel diff", "same top-1", "error"), lines)


def pipeline_section(pipeline, feed_row):
    if not pipeline.get("ok"):
        return f"Input pipeline task failed: {pipeline.get('error')}"
    result = pipeline["result"]
    rate = result["images_per_s"]
    needed = feed_row["images_per_s"] if feed_row else None
    what = (f"{feed_row['variant']} {feed_row['precision']} {feed_row['mode']} batch {feed_row['batch']}"
            if feed_row else "no training row")
    lines = [(result["source_size"], _fmt(rate), what, _fmt(needed), _fmt(rate / needed if needed else None, 2),
              _fmt(pipeline.get("peak_rss_mib")))]
    return table(("JPEG size", "pipeline img/s", "fastest Keras training row", "its img/s",
                  "pipeline/training", "peak RSS MiB"), lines)


def main_job_section(job, skipped=True):
    if job is None:
        return "Skipped (`--skip-main-job`)." if skipped else "Not finished (still running, or the run was stopped)."
    lines = [(job["command"], _fmt(job.get("wall_s")), job.get("epochs"), job.get("first_epoch_val_at_target") or "",
              _fmt(job.get("wall_s_to_val_target")), _fmt(job.get("test_accuracy"), 4),
              _fmt(job.get("peak_rss_mib")), (job.get("error") or "").replace("|", "/"))]
    return table(("command", "wall s", "epochs", f"first epoch val>={job['target']:.0%}", "wall s to it",
                  "final test acc", "peak RSS MiB", "error"), lines)


def default_settings(meta):
    """The precision ``alexnet train`` would guess from the CPU's flags (its
    ``--precision auto`` now times both on the machine: see
    ``alexnet.training.precision``); XLA stays off on CPUs."""
    bf16 = meta.get("amx_bf16") or meta.get("avx512_bf16")
    return {"precision": "bf16" if bf16 else "float32", "mode": "xla-off"}


def _find(rows, **match):
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items()) and r.get("images_per_s")), None)


def _verdict(value, target, higher=True):
    if value is None:
        return "no measurement"
    return "met" if (value >= target if higher else value <= target) else "missed"


def targets(results, variant="paper"):
    """Issue #6's targets, each as (what, measured, target, verdict)."""
    default = default_settings(results["meta"])
    keras, torch = results["keras"], results["torch"]
    macs = ((results.get("info") or {}).get("result") or {}).get("macs", {}).get(variant)
    peak = next((m.get("flop_per_s") for m in results.get("matmul", [])
                 if m["framework"] == "keras" and m["precision"] == default["precision"]), None)

    def goal(factor, theirs_rate, phase):
        """">= 2x", and the share of TensorFlow's matmul rate that meeting it would take."""
        if not (macs and peak):
            return f">= {factor}x"
        needed = factor * theirs_rate * step_flops(macs, phase) / peak
        return f">= {factor}x (needs {100 * needed:.0f}% of the {default['precision']} matmul rate)"

    lines = []
    for phase in ("train", "infer"):
        batches = {r["batch"] for r in keras if r["variant"] == variant and r["phase"] == phase}
        if phase == "train":  # training throughput: the batches one trains with (batch 1 is latency)
            batches = {b for b in batches if b > 1} or batches
        for batch in sorted(batches):
            ours = _find(keras, variant=variant, phase=phase, batch=batch, **default)
            if ours is None:
                continue
            theirs = [r for r in torch if r["variant"] == variant and r["phase"] == phase and r["batch"] == batch
                      and r.get("images_per_s")]
            best = max(theirs, key=lambda r: r["images_per_s"], default=None)
            if best:
                ratio = ours["images_per_s"] / best["images_per_s"]
                lines.append((f"{variant} {phase} batch {batch}: ours ({ours['images_per_s']:.1f} img/s) / best "
                              f"PyTorch ({best['precision']} {best['mode']}, {best['images_per_s']:.1f} img/s)",
                              f"{ratio:.2f}x", goal(2, best["images_per_s"], phase), _verdict(ratio, 2)))
            eager = _find(torch, variant=variant, phase=phase, batch=batch, precision="float32", mode="eager")
            if eager and phase == "train":
                ratio = ours["images_per_s"] / eager["images_per_s"]
                lines.append((f"{variant} train batch {batch}: ours / PyTorch eager float32 "
                              f"({eager['images_per_s']:.1f} img/s)", f"{ratio:.2f}x",
                              goal(4, eager["images_per_s"], phase), _verdict(ratio, 4)))
            if phase == "train" and ours.get("fraction_of_matmul") and default["precision"] == "bf16":
                share = 100 * ours["fraction_of_matmul"]
                lines.append((f"{variant} train batch {batch}: achieved FLOP/s ({ours['flop_per_s'] / 1e9:.0f} G) "
                              "/ TensorFlow's bf16 matmul rate", f"{share:.1f}%", ">= 60%", _verdict(share, 60)))
    ours = _find(keras, variant=variant, phase="train", batch=128, **default)
    fp32 = _find(keras, variant=variant, phase="train", batch=128, precision="float32", mode="xla-off")
    if ours and fp32 and ours.get("peak_rss_mib") and fp32.get("peak_rss_mib"):
        lines.append((f"{variant} train batch 128: peak RSS, default / float32 "
                      f"({ours['peak_rss_mib']:.0f} / {fp32['peak_rss_mib']:.0f} MiB)",
                      f"{ours['peak_rss_mib'] / fp32['peak_rss_mib']:.2f}", "<= 1",
                      _verdict(ours["peak_rss_mib"] / fp32["peak_rss_mib"], 1, higher=False)))
    pipeline, feed = results.get("pipeline") or {}, results.get("pipeline_feed")
    if pipeline.get("ok") and feed:
        ratio = pipeline["result"]["images_per_s"] / feed["images_per_s"]
        lines.append((f"input pipeline ({pipeline['result']['images_per_s']:.0f} img/s) / fastest training row "
                      f"({feed['variant']} {feed['precision']} batch {feed['batch']}, "
                      f"{feed['images_per_s']:.1f} img/s)",
                      f"{ratio:.1f}x", ">= 5x", _verdict(ratio, 5)))
    job = results.get("main_job")
    if job:
        reached = job.get("test_accuracy") is not None and job["test_accuracy"] >= job["target"]
        wall = job.get("wall_s") if reached else None
        lines.append((f"`alexnet train` to {job['target']:.0%} test accuracy "
                      f"(final {job.get('test_accuracy') or 0:.2%})",
                      f"{wall:.0f} s" if wall else "not reached", "<= 600 s",
                      _verdict(wall, 600, higher=False) if reached else "missed"))
    return lines


def targets_section(results):
    lines = targets(results)
    if not lines:
        return "No row for the targets (they are about `paper` with the default settings)."
    default = default_settings(results["meta"])
    return (f"Default settings on this machine: {default['precision']}, {default['mode']}.\n\n"
            + table(("target", "measured", "goal", "verdict"), lines))


def markdown(results):
    meta = results["meta"]
    parts = [
        f"# AlexNet benchmark ({'quick smoke run' if meta['quick'] else 'full grid'})",
        "",
        f"Date: {meta['date']}. Machine: {meta['cpu']} ({meta['cores']} cores; "
        f"amx_bf16={meta['amx_bf16']}, avx512_bf16={meta['avx512_bf16']}). "
        f"TensorFlow {meta['tensorflow']}, Keras {meta['keras']}, PyTorch {meta['torch']}. "
        f"Timing: median of {describe_steps(meta['steps'])} after {meta['warmup']} warm-up step(s); "
        f"threads: {meta['threads']}; time limit {meta['timeout_s']:g} s per configuration; "
        f"whole run {meta['total_s']:.0f} s.",
        "",
        "## Targets (issue #6)",
        "",
        targets_section(results),
        "",
        "## Models and the PyTorch twin check",
        "",
        info_section(results["info"]),
        "",
        "## Matmul reference rates",
        "",
        matmul_section(results["matmul"]),
        "",
        "## Throughput: ours (Keras)",
        "",
        table(THROUGHPUT_HEADER + RATIO_HEADER + ("error",), [throughput_line(r) for r in results["keras"]]),
        "",
        "## Throughput: theirs (PyTorch twin)",
        "",
        table(THROUGHPUT_HEADER + ("error",), [throughput_line(r, ratios=False) for r in results["torch"]]),
        "",
        "## Input pipeline",
        "",
        pipeline_section(results["pipeline"], results.get("pipeline_feed")),
        "",
        "## Main job (`alexnet train`)",
        "",
        main_job_section(results.get("main_job"), meta.get("skip_main_job", True)),
        "",
    ]
    return "\n".join(parts)


def describe_steps(steps):
    """``3`` -> "3 steps"; ``{1: 10, 128: 3}`` -> "10 steps at batch 1, 3 at batch 128"."""
    if not isinstance(steps, dict):
        return f"{steps} steps"
    items = sorted((int(batch), count) for batch, count in steps.items())
    return ", ".join(f"{count}{' steps' if i == 0 else ''} at batch {batch}" for i, (batch, count) in enumerate(items))
