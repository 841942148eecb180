"""Crash-safe run state: a checkpoint every epoch, written so that a run
killed at any moment (even ``kill -9``) resumes from its last finished epoch.

Each epoch the model (with optimizer state) goes to a new file
``checkpoint-<epoch>.keras``; only then is ``state.json`` atomically replaced
to point at it, and the previous checkpoint deleted. A crash between the two
steps leaves the old, consistent pair in place.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time

import keras

STATE = "state.json"


def write_atomic(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_model_atomic(model, path):
    """Saves to a temporary ``.keras`` file and renames it into place."""
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.path.basename(path)}")
    model.save(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_state(run_dir):
    path = os.path.join(run_dir, STATE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_history_csv(path, history):
    keys = sorted({k for row in history for k in row} - {"epoch"})
    lines = [["epoch", *keys]] + [[row["epoch"], *(row.get(k, "") for k in keys)] for row in history]
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(lines)
    os.replace(tmp, path)


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the checkpoint, the run state, ``history.csv`` and the best
    model at every epoch end; stops training when the loss is not finite.

    ``state`` carries over from a resumed run: the history so far, the
    seconds spent, the best validation accuracy, and the state of the
    plateau schedule (``plateau``), which is restored into it.
    """

    def __init__(self, run_dir, state=None, plateau=None, monitor="val_accuracy"):
        super().__init__()
        self.run_dir = run_dir
        self.state = state or {"epoch": 0, "history": [], "train_seconds": 0.0, "best": None}
        self.plateau = plateau
        self.monitor = monitor
        self.diverged = None
        self.ended = None  # time.monotonic() when fit's last epoch ended

    def on_train_end(self, logs=None):
        self.ended = time.monotonic()

    def on_train_begin(self, logs=None):
        # ReduceLROnPlateau resets itself in its own on_train_begin, which
        # runs before this one: put back the state of the run being resumed.
        if self.plateau is not None and self.state.get("plateau"):
            for key, value in self.state["plateau"].items():
                if value is not None:
                    setattr(self.plateau, key, value)

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged = (len(self.state["history"]) + 1, batch + 1, float(loss))
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged:
            return  # never overwrite the last good checkpoint with NaNs
        logs = {k: float(v) for k, v in (logs or {}).items()}
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.state["history"].append({"epoch": epoch + 1, **logs})
        self.state["train_seconds"] += time.monotonic() - self._start
        self.state["epoch"] = epoch + 1
        if self.plateau is not None:
            self.state["plateau"] = {
                "wait": self.plateau.wait,
                "best": None if self.plateau.best is None else float(self.plateau.best),  # None before its first epoch
                "cooldown_counter": self.plateau.cooldown_counter,
            }
        value = logs.get(self.monitor)
        if value is not None and (self.state["best"] is None or value > self.state["best"]):
            self.state["best"] = value
            save_model_atomic(self.model, os.path.join(self.run_dir, "best.keras"))
        name = f"checkpoint-{epoch + 1}.keras"
        save_model_atomic(self.model, os.path.join(self.run_dir, name))
        previous = self.state.get("checkpoint")
        self.state["checkpoint"] = name
        write_atomic(os.path.join(self.run_dir, STATE), json.dumps(self.state, indent=1))
        if previous and previous != name:
            try:
                os.remove(os.path.join(self.run_dir, previous))
            except FileNotFoundError:
                pass
        write_history_csv(os.path.join(self.run_dir, "history.csv"), self.state["history"])
