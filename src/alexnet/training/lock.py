"""One writer per run directory.

A run holds an exclusive ``flock`` on ``<run dir>/.lock`` from before it
reads the run's state until it ends, and writes its process id, host, start
time and command into the file for whoever finds it held. The kernel drops
the lock when the process dies, ``kill -9`` included, so a lock file left by
a killed run is stale by construction and the next run takes it over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time

from alexnet.errors import UserError

LOCK = ".lock"


class RunLock:
    """``with RunLock(run_dir):`` — refuses (UserError, nothing written) a
    run directory that another live process is using; on leaving, removes
    the lock file, and the directory too if this run made it and left it
    empty (a run that failed to start leaves nothing behind)."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.path = os.path.join(run_dir, LOCK)
        self.made = []  # the folders this run created, deepest first
        self.fd = None

    def __enter__(self):
        if os.path.exists(self.run_dir) and not os.path.isdir(self.run_dir):
            raise UserError(f"--out must be a folder (the run directory), got the file {self.run_dir}.")
        folder = os.path.abspath(self.run_dir)
        while not os.path.exists(folder):
            self.made.append(folder)
            folder = os.path.dirname(folder)
        os.makedirs(self.run_dir, exist_ok=True)
        while True:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe(_read(self.fd))
                os.close(self.fd)
                self.fd = None
                raise UserError(f"{self.run_dir} is in use by another run ({holder}); wait for it to end or "
                                "use another --out.") from None
            if _same_file(self.fd, self.path):
                break
            os.close(self.fd)  # its holder removed the file as we opened it: take the new one
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": " ".join(sys.argv),
        }).encode(), 0)
        return self

    def __exit__(self, *exc):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self.fd)  # releases the lock
        self.fd = None
        for folder in self.made:
            try:
                os.rmdir(folder)  # only if this run (or another) wrote nothing in it
            except OSError:
                break
        return False


def _same_file(fd, path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _read(fd) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    if not holder.get("pid"):
        return "a process that has not yet said which"
    text = f"pid {holder['pid']}"
    if holder.get("host") and holder["host"] != socket.gethostname():
        text += f" on {holder['host']}"
    if holder.get("started"):
        text += f", started {holder['started']}"
    if holder.get("command"):
        text += f": {holder['command']}"
    return text
