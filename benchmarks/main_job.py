"""Time for the default ``alexnet train`` job (``small`` on Fashion-MNIST)
to reach a target accuracy.

The job runs as a subprocess in a fresh run directory. ``history.csv`` is
rewritten after every epoch; polling it timestamps each epoch, so the
report gives the wall time to the first epoch whose validation accuracy
reaches the target, and the final test accuracy (``metrics.json``, measured
once at the end by the job itself) with the total wall time.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time


def run_main_job(run_dir, target=0.93, timeout_s=3 * 3600, extra_args=()):
    os.makedirs(run_dir, exist_ok=False)
    log_path = os.path.join(run_dir, "..", os.path.basename(run_dir) + ".log")
    command = [*_alexnet_command(), "train", "--out", run_dir, *extra_args]
    start = time.monotonic()
    epoch_times = {}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        status, rusage, timed_out = _wait_polling(process, run_dir, start, epoch_times, timeout_s)
    wall = time.monotonic() - start
    history = _read_history(run_dir)
    metrics = _read_json(os.path.join(run_dir, "metrics.json"))
    reached = next((row for row in history if float(row.get("val_accuracy") or 0) >= target), None)
    result = {
        "command": " ".join(command),
        "log": os.path.abspath(log_path),
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rusage.ru_maxrss / 1024, 1),
        "epochs": len(history),
        "target": target,
        "first_epoch_val_at_target": int(reached["epoch"]) if reached else None,
        "wall_s_to_val_target": epoch_times.get(int(reached["epoch"])) if reached else None,
        "test_accuracy": metrics.get("test_accuracy") if metrics else None,
        "train_seconds": metrics.get("train_seconds") if metrics else None,
        "precision": metrics.get("precision") if metrics else None,
        "error": None,
    }
    if timed_out:
        result["error"] = f"timed out after {timeout_s:g} s"
    elif os.waitstatus_to_exitcode(status) != 0:
        result["error"] = f"alexnet train exited with status {os.waitstatus_to_exitcode(status)} (see {log_path})"
    return result


def _alexnet_command():
    """The ``alexnet`` console script, or the same entry point through this
    interpreter when the script is not on PATH."""
    script = shutil.which("alexnet")
    if script:
        return [script]
    return [sys.executable, "-c", "import sys; from alexnet.cli import main; sys.exit(main())"]


def _wait_polling(process, run_dir, start, epoch_times, timeout_s):
    deadline = start + timeout_s
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        _note_epochs(run_dir, start, epoch_times)
        if pid:
            return status, rusage, False
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            _, status, rusage = os.wait4(process.pid, 0)
            return status, rusage, True
        time.sleep(1.0)


def _note_epochs(run_dir, start, epoch_times):
    """Records, for each epoch seen in history.csv, when it first appeared
    (within the 1 s polling interval)."""
    now = round(time.monotonic() - start, 1)
    for row in _read_history(run_dir):
        try:
            epoch_times.setdefault(int(row["epoch"]), now)
        except (KeyError, TypeError, ValueError):  # a row being written
            continue


def _read_history(run_dir):
    path = os.path.join(run_dir, "history.csv")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error):
        return []


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
