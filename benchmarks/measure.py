"""Timing and isolation helpers shared by the benchmark harness.

- :func:`time_steps`: median wall time of a step after warm-up.
- :func:`run_isolated`: runs one task of ``benchmarks/worker.py`` in its own
  process with a time limit, and reads that process's own peak resident
  memory from ``wait4`` (so memory numbers are per configuration).
- FLOP accounting: 2 FLOPs per multiply-add, a training step counted as
  three forward passes (forward, gradient w.r.t. activations, gradient
  w.r.t. weights).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
TRAIN_FLOP_FACTOR = 3


def time_steps(step, warmup: int, steps: int) -> dict:
    """Calls ``step()`` ``warmup`` times untimed, then ``steps`` times timed;
    ``step`` must block until its work is done. Returns the median, the
    fastest and the slowest step in seconds, and the first (warm-up) call's
    time, which includes tracing/compilation."""
    first = None
    for index in range(max(1, warmup)):
        start = time.perf_counter()
        step()
        if index == 0:
            first = time.perf_counter() - start
    times = []
    for _ in range(max(1, steps)):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "first_step_s": first,
        "timed_steps": len(times),
    }


def forward_flops(macs_per_image: int) -> int:
    return 2 * macs_per_image


def step_flops(macs_per_image: int, phase: str) -> int:
    factor = TRAIN_FLOP_FACTOR if phase == "train" else 1
    return factor * forward_flops(macs_per_image)


def run_isolated(task: dict, timeout_s: float) -> dict:
    """Runs ``task`` in a fresh Python process (``worker.py``).

    Returns ``{"ok": bool, "result": ..., "error": str | None, "wall_s",
    "peak_rss_mib"}``. A task that raises, crashes or runs past
    ``timeout_s`` gives ``ok=False`` and the reason, never an exception.
    """
    with tempfile.TemporaryDirectory(prefix="alexnet-bench-") as tmp:
        result_path = os.path.join(tmp, "result.json")
        log_path = os.path.join(tmp, "log.txt")
        start = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, WORKER, json.dumps(task), result_path],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"},
            )
            status, rusage, timed_out = _wait_with_timeout(process, timeout_s)
        wall = time.monotonic() - start
        outcome = {
            "wall_s": round(wall, 2),
            "peak_rss_mib": round(rusage.ru_maxrss / 1024, 1) if rusage else None,
        }
        if timed_out:
            return {**outcome, "ok": False, "result": None, "error": f"timed out after {timeout_s:g} s"}
        if os.path.exists(result_path):
            with open(result_path, encoding="utf-8") as f:
                payload = json.load(f)
            if "error" in payload:
                return {**outcome, "ok": False, "result": None, "error": payload["error"]}
            return {**outcome, "ok": True, "result": payload["result"], "error": None}
        return {**outcome, "ok": False, "result": None, "error": _crash_reason(status, log_path)}


def _wait_with_timeout(process, timeout_s):
    """Polls the child with ``wait4`` so that its own rusage comes back."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = _exit_code(status)
            return status, rusage, False
        if time.monotonic() > deadline:
            _kill_group(process.pid)
            _, status, rusage = os.wait4(process.pid, 0)
            process.returncode = _exit_code(status)
            return status, rusage, True
        time.sleep(0.05)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)  # the worker and anything it started
    except ProcessLookupError:
        pass


def _exit_code(status):
    return os.waitstatus_to_exitcode(status)


def _crash_reason(status, log_path):
    code = os.waitstatus_to_exitcode(status)
    tail = ""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
        tail = lines[-1] if lines else ""
    except OSError:
        pass
    what = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
    return f"worker {what}" + (f": {tail[:300]}" if tail else "")
