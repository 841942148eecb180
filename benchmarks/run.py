"""AlexNet side by side: Keras (ours) against a PyTorch twin (theirs).

    python benchmarks/run.py [--quick] [--out benchmarks/results]
                             [--only paper,small] [--batches 32,128] [--skip-main-job]

Every configuration runs in its own subprocess with a time limit (its peak
resident memory is its own, and a failure or timeout becomes an error in
its row). Writes ``results.json`` and ``results.md`` to ``--out`` and prints
the Markdown. See BENCHMARKS.md for the columns.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import itertools
import json
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
from main_job import run_main_job  # noqa: E402
from measure import run_isolated  # noqa: E402

VARIANTS = ("paper", "single", "small")
MATMUL_PRECISIONS = ("float32", "bf16")

# Timed steps per batch size: fewer for the big batches, whose steps are
# long and steady, so that the whole grid (180 configurations) takes about an
# hour on 2 cores. Two warm-up steps: the first traces and compiles, the
# second lets oneDNN/Inductor caches settle.
FULL = dict(
    batches=(1, 32, 128), precisions=("float32", "bf16"), keras_modes=("xla-off", "xla-on"),
    torch_modes=("eager", "channels_last", "compile"), phases=("train", "infer"),
    warmup=2, steps={1: 10, 32: 5, 128: 3}, timeout_s=300, matmul_n=4096,
    pipeline=dict(images=256, height=375, width=500, resize=256, crop=227, batch=128, warmup=3, steps=10),
)
# A smoke check of every code path on the cheapest settings (about a minute).
QUICK = dict(
    batches=(2,), precisions=("float32",), keras_modes=("xla-off",),
    torch_modes=("eager",), phases=("train", "infer"),
    warmup=1, steps=2, timeout_s=120, matmul_n=512,
    pipeline=dict(images=8, height=240, width=320, resize=256, crop=227, batch=4, warmup=1, steps=2),
)
QUICK_VARIANTS = ("small",)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a drastically reduced grid (smoke check)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"), help="folder for results.{json,md}")
    parser.add_argument("--only", help="comma-separated variants (default paper,single,small; --quick: small)")
    parser.add_argument("--batches", help="comma-separated batch sizes (default 1,32,128; --quick: 2)")
    parser.add_argument("--skip-main-job", action="store_true", help="do not run `alexnet train`")
    parser.add_argument("--timeout", type=float, help="time limit per configuration, seconds")
    parser.add_argument("--threads", type=int,
                        help="pin both frameworks to N compute threads (default: each library's own default)")
    parser.add_argument("--main-job-timeout", type=float, default=3 * 3600)
    parser.add_argument("--target", type=float, default=0.93, help="accuracy the main job must reach")
    parser.add_argument("--main-job-args", default="",
                        help="extra arguments for `alexnet train` (default: none, the default job)")
    args = parser.parse_args(argv)
    grid = dict(QUICK if args.quick else FULL)
    variants = QUICK_VARIANTS if args.quick else VARIANTS
    if args.only:
        variants = tuple(v.strip() for v in args.only.split(",") if v.strip())
        unknown = sorted(set(variants) - set(VARIANTS))
        if unknown:
            parser.error(f"--only: unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    grid["variants"] = variants
    if args.batches:
        try:
            grid["batches"] = tuple(int(b) for b in args.batches.split(","))
        except ValueError:
            parser.error(f"--batches: comma-separated integers, got {args.batches!r}")
        if min(grid["batches"]) < 1:
            parser.error(f"--batches: each batch size must be >= 1, got {args.batches!r}")
    if args.timeout:
        grid["timeout_s"] = args.timeout
    grid["threads"] = args.threads
    return args, grid


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_task(task, timeout_s):
    label = " ".join(f"{k}={v}" for k, v in task.items() if k not in ("warmup", "steps", "threads"))
    outcome = run_isolated(task, timeout_s)
    status = "ok" if outcome["ok"] else f"FAILED: {outcome['error']}"
    log(f"  [{outcome['wall_s']:7.1f} s, {outcome['peak_rss_mib'] or 0:7.0f} MiB] {label}: {status}")
    return outcome


def throughput_tasks(grid):
    """One task per (framework, variant, phase, batch, precision, mode)."""
    for variant, phase, batch, precision in itertools.product(
            grid["variants"], grid["phases"], grid["batches"], grid["precisions"]):
        common = dict(warmup=grid["warmup"], steps=steps_for(grid, batch), threads=grid["threads"])
        for mode in grid["keras_modes"]:
            yield "keras", mode, dict(kind="keras", variant=variant, phase=phase, batch=batch,
                                      precision=precision, xla=mode == "xla-on", **common)
        for mode in grid["torch_modes"]:
            yield "torch", mode, dict(kind="torch", variant=variant, phase=phase, batch=batch,
                                      precision=precision, mode=mode, **common)


def steps_for(grid, batch):
    steps = grid["steps"]
    return steps.get(batch, max(steps.values())) if isinstance(steps, dict) else steps


def run_throughput(grid, partial_path=None):
    """Every throughput row; each finished row is also appended to
    ``partial_path`` (JSON lines), so a stopped run keeps what it measured."""
    rows = {"keras": [], "torch": []}
    for framework, mode, task in throughput_tasks(grid):
        outcome = run_task(task, grid["timeout_s"])
        rows[framework].append({
            "framework": framework, "variant": task["variant"], "phase": task["phase"],
            "batch": task["batch"], "precision": task["precision"], "mode": mode, **outcome,
        })
        if partial_path:
            with open(partial_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rows[framework][-1]) + "\n")
    return rows


def run_matmul(grid):
    rows = []
    for framework, kind in (("keras", "tf_matmul"), ("torch", "torch_matmul")):
        task = dict(kind=kind, n=grid["matmul_n"], precisions=list(MATMUL_PRECISIONS),
                    warmup=grid["warmup"], steps=steps_for(grid, 1), threads=grid["threads"])
        outcome = run_task(task, grid["timeout_s"])
        for precision in MATMUL_PRECISIONS:
            result = (outcome["result"] or {}).get(precision) or {"error": outcome["error"]}
            rows.append({"framework": framework, "precision": precision, "n": grid["matmul_n"], **result})
    return rows


def matmul_rates(matmul_rows):
    return {(m["framework"], m["precision"]): m["flop_per_s"] for m in matmul_rows if m.get("flop_per_s")}


def fastest_training_row(keras_rows):
    """The training rate the input pipeline has to feed: the fastest Keras
    training row at 227 px input if there is one, else the fastest at all."""
    rows = [r for r in keras_rows if r["phase"] == "train" and r.get("images_per_s")]
    large = [r for r in rows if r["variant"] in ("paper", "single")]
    return max(large or rows, key=lambda r: r["images_per_s"], default=None)


def machine_description():
    cpu, flags, cores = "unknown CPU", set(), os.cpu_count()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("model name") and cpu == "unknown CPU":
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"cpu": cpu, "cores": cores, "amx_bf16": "amx_bf16" in flags, "avx512_bf16": "avx512_bf16" in flags}


def versions():
    out = {}
    for name in ("tensorflow", "keras", "torch"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def main(argv=None):
    args, grid = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if os.path.exists(os.path.join(args.out, "partial.jsonl")):
        os.remove(os.path.join(args.out, "partial.jsonl"))
    started = time.monotonic()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick, "variants": list(grid["variants"]), "warmup": grid["warmup"],
        "steps": grid["steps"], "timeout_s": grid["timeout_s"],
        "threads": grid["threads"] or "library default", **machine_description(), **versions(),
    }
    log("Model info and the PyTorch twin check:")
    info = run_task(dict(kind="info", variants=list(grid["variants"])), grid["timeout_s"])
    log("Matmul reference rates:")
    matmul = run_matmul(grid)
    log("Throughput:")
    rows = run_throughput(grid, os.path.join(args.out, "partial.jsonl"))
    log("Input pipeline:")
    pipeline = run_task(dict(kind="pipeline", threads=grid["threads"], **grid["pipeline"]), grid["timeout_s"])
    macs = (info["result"] or {}).get("macs", {})
    for framework_rows in rows.values():
        report.add_derived(framework_rows, macs, matmul_rates(matmul))
    report.add_ratios(rows["keras"], rows["torch"])
    results = {
        "meta": {**meta, "skip_main_job": args.skip_main_job, "total_s": round(time.monotonic() - started, 1)},
        "info": info, "matmul": matmul, "keras": rows["keras"], "torch": rows["torch"],
        "pipeline": pipeline, "pipeline_feed": fastest_training_row(rows["keras"]), "main_job": None,
    }
    # Written now and again after the main job, so that stopping the (long)
    # main job does not lose the throughput tables.
    text = save(results, args.out)
    if not args.skip_main_job:
        log("Main job (alexnet train):")
        run_dir = os.path.join(os.path.abspath(args.out), time.strftime("main-job-%Y%m%d-%H%M%S"))
        results["main_job"] = run_main_job(run_dir, args.target, args.main_job_timeout,
                                           shlex.split(args.main_job_args))
        log(f"  {results['main_job']}")
        results["meta"]["total_s"] = round(time.monotonic() - started, 1)
        text = save(results, args.out)
    print(text)
    log(f"Done in {time.monotonic() - started:.0f} s; wrote {args.out}/results.md and results.json.")


def save(results, out):
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:  # first: the data, whatever happens
        json.dump(results, f, indent=1)
    text = report.markdown(results)
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write(text)
    return text


if __name__ == "__main__":
    main()
