"""One writer per run directory: a second run on a directory in use is
refused at once, a lock left by a killed run does not block the next one,
and a run that fails to start leaves nothing behind."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from alexnet.errors import UserError
from alexnet.training.lock import LOCK, RunLock
from test_train import run_cli

HOLD = textwrap.dedent("""
    import sys, time
    from alexnet.training.lock import RunLock
    with RunLock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(120)
""")


def hold_lock(run_dir):
    """A process that takes the run directory's lock and sleeps; returns once it holds it."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_on_a_directory_in_use_stops_at_once_naming_the_first(idx_dir, tmp_path):
    out = tmp_path / "run"
    holder = hold_lock(out)
    try:
        before = sorted(os.listdir(out))
        start = time.monotonic()
        result = run_cli("train", "--data", idx_dir, "--out", out, "--epochs", "1")
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert lines[0].startswith(f"alexnet: error: {out} is in use by another run (pid {holder.pid}, started ")
        assert "use another --out" in lines[0]
        assert sorted(os.listdir(out)) == before == [LOCK]  # nothing written
        assert json.loads((out / LOCK).read_text())["pid"] == holder.pid
        assert time.monotonic() - start < 60  # refused before any data is read or model built
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(tmp_path):
    out = tmp_path / "run"
    holder = hold_lock(out)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert json.loads((out / LOCK).read_text())["pid"] == holder.pid  # the stale file is still there
    with RunLock(str(out)):
        assert json.loads((out / LOCK).read_text())["pid"] == os.getpid()
    assert not (out / LOCK).exists()


def test_in_one_process_the_second_holder_is_refused_and_the_first_keeps_its_lock(tmp_path):
    out = tmp_path / "run"
    with RunLock(str(out)):
        with pytest.raises(UserError, match=rf"is in use by another run \(pid {os.getpid()}"):
            with RunLock(str(out)):
                pass
        assert (out / LOCK).is_file()
    assert not out.exists()  # made by the lock, nothing else written: removed


def test_a_failed_start_leaves_no_folder_it_made(tmp_path):
    out = tmp_path / "runs" / "deep" / "run"
    with pytest.raises(RuntimeError):
        with RunLock(str(out)):
            raise RuntimeError("no data")
    assert os.listdir(tmp_path) == []
    (tmp_path / "kept").mkdir()
    with RunLock(str(tmp_path / "kept")):
        (tmp_path / "kept" / "config.json").write_text("{}")
    assert os.listdir(tmp_path / "kept") == ["config.json"]  # a folder with the run's files stays


def test_a_file_is_not_a_run_directory(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(UserError, match="must be a folder"):
        with RunLock(str(path)):
            pass
