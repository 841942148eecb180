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
