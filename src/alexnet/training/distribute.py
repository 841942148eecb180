"""Training on several devices and machines with ``tf.distribute``.

``--strategy``:

- ``default``: one device (TensorFlow's default placement).
- ``mirrored``: data parallelism with ``tf.distribute.MirroredStrategy`` over
  all visible GPUs or the ``--devices`` named. ``--batch-size`` is the global
  batch, split evenly over the replicas; the learning rate is used as given
  for that global batch (no automatic scaling).
- ``two-tower``: the paper's model parallelism: tower 1 of the ``paper``
  variant on the first device, tower 2 on the second (``alexnet.towers``).
- ``multiworker``: data parallelism over machines with
  ``tf.distribute.MultiWorkerMirroredStrategy``, configured by ``TF_CONFIG``.
  Only the chief writes the run directory; the other workers write to a
  temporary directory that is deleted at the end (the Keras pattern), read
  the run state from ``--out`` (which must therefore be on storage all
  workers share to resume), and all of them resume from the chief's last
  checkpoint after a restart.

``--devices``: ``cpu:N`` splits the CPU into N logical devices (to try all of
this on one machine), ``gpu:0,gpu:2`` names GPUs (the others are hidden).
Both must be set before TensorFlow starts its runtime, which :func:`setup`
does first thing in a training run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field

import tensorflow as tf

from alexnet.config import Devices, Strategy
from alexnet.errors import UserError

# How long a multiworker job waits for all workers to join before it gives
# up (seconds); peers that die later are detected by TensorFlow's
# coordination service (heartbeats) and end the job with an error.
CLUSTER_TIMEOUT_ENV = "ALEXNET_CLUSTER_TIMEOUT"
DEFAULT_CLUSTER_TIMEOUT = 600
# Optional per-collective timeout in seconds (TensorFlow's
# CommunicationOptions.timeout_seconds; off by default, as TensorFlow
# recommends it only for debugging).
COLLECTIVE_TIMEOUT_ENV = "ALEXNET_COLLECTIVE_TIMEOUT"
# What a collective raises when a peer has gone.
PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.FailedPreconditionError,
)


def configure_devices(text):
    """Makes the devices ``--devices`` asks for and returns their names
    (``[]`` for ``None``: TensorFlow's defaults)."""
    if text is None:
        return []
    parsed = Devices.parse(text)
    kind, value = parsed.kind, parsed.cpus if parsed.kind == "cpu" else parsed.gpus
    if kind == "cpu":
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * value)
        except RuntimeError:  # the runtime has started: fine if it already has them
            if len(tf.config.list_logical_devices("CPU")) != value:
                raise UserError(
                    f"--devices cpu:{value} must be set before TensorFlow starts; "
                    "run training in a fresh process.") from None
        return [f"/CPU:{i}" for i in range(value)]
    gpus = tf.config.list_physical_devices("GPU")
    missing = [i for i in value if i >= len(gpus)]
    if missing:
        raise UserError(f"--devices names gpu:{missing[0]}, but this machine has {len(gpus)} GPU(s).")
    wanted = [gpus[i] for i in value]
    try:
        tf.config.set_visible_devices(wanted, "GPU")
    except RuntimeError:
        if tf.config.get_visible_devices("GPU") != wanted:
            raise UserError("--devices gpu:... must be set before TensorFlow starts; "
                            "run training in a fresh process.") from None
    return [f"/GPU:{i}" for i in range(len(value))]  # visible GPUs are renumbered from 0


def is_chief(cluster_spec, task_type, task_id):
    """The chief is task ``chief``, or worker 0 when there is none."""
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in cluster_spec.as_dict()


@dataclass
class Distribution:
    """How one training process runs: its strategy, devices and role."""

    name: Strategy
    strategy: tf.distribute.Strategy | None = None
    devices: list = field(default_factory=list)
    chief: bool = True
    worker: str = ""  # "worker 1 of 2" in a multiworker job
    temp_dir: str | None = None  # a non-chief worker's write directory

    def scope(self):
        """Where models are built, compiled and loaded."""
        if self.strategy is not None:
            return self.strategy.scope()
        if self.name is Strategy.TWO_TOWER:
            from alexnet.towers import placement

            return placement(self.devices)
        return contextlib.nullcontext()

    def write_dir(self, out):
        """Where this process writes: ``out``, or a temporary directory on a
        non-chief worker."""
        if self.chief:
            return out
        if self.temp_dir is None:
            self.temp_dir = tempfile.mkdtemp(prefix="alexnet-worker-")
        return self.temp_dir

    def describe(self, batch_size):
        if self.name is Strategy.DEFAULT:
            return ""
        if self.name is Strategy.TWO_TOWER:
            return f"two towers: tower 1 on {self.devices[0]}, tower 2 on {self.devices[1]}; batch {batch_size}."
        replicas = self.strategy.num_replicas_in_sync
        where = ", ".join(self.strategy.extended.worker_devices)
        text = f"{self.name} over {replicas} replica(s) ({where}"
        text += f"; {self.worker}, {'chief' if self.chief else 'not chief'})" if self.worker else ")"
        return text + f"; global batch {batch_size}, {batch_size / replicas:g} per replica."

    def prepare(self, model, element_spec):
        """Readies a built, compiled model for ``fit``/``evaluate`` under this
        strategy (nothing to do except with ``multiworker``)."""
        if self.name is Strategy.MULTIWORKER:
            _keras_multiworker_fixes(model, element_spec)
        return model

    def agree(self, value, what):
        """Checks that every worker holds the same number ``value``."""
        if self.name is not Strategy.MULTIWORKER:
            return
        local = tf.constant([float(value)])
        values = self.strategy.experimental_distribute_values_from_function(lambda _: local)
        everyone = self.strategy.gather(values, axis=0).numpy().tolist()
        if len(set(everyone)) > 1:
            raise UserError(
                f"The workers disagree on {what} ({everyone}): every worker must read the same --out, "
                "on storage they all share, to resume a multiworker run.")

    def failure(self, error, out):
        """A one-line error for a multiworker job that lost a worker."""
        from alexnet.training.checkpoint import load_state

        state = load_state(out) or {}
        detail = re.sub(r"\{\{[^}]*\}\}\s*", "", str(getattr(error, "message", error)))  # {{function_node ...}}
        detail = next((line.strip() for line in detail.splitlines() if line.strip()), type(error).__name__)
        where = (f"the last checkpoint (epoch {state['epoch']})" if state.get("checkpoint")
                 else "the start (no checkpoint was written yet)")
        return UserError(
            f"{self.worker}: lost contact with the other workers, so the multiworker job stopped "
            f"({type(error).__name__}: {detail[:300]}). Restart every worker with the same command; "
            f"the run resumes from {where} in {out}.")

    def close(self):
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def setup(config) -> Distribution:
    """Devices and strategy for ``config``; call before any other TensorFlow
    work in the process."""
    name = Strategy(config.strategy)  # checked by alexnet.config.resolve
    if name is Strategy.MULTIWORKER:
        return _multiworker(config)
    devices = configure_devices(config.devices)
    if name is Strategy.DEFAULT:
        return Distribution(name, devices=devices)
    if name is Strategy.MIRRORED:
        return Distribution(name, tf.distribute.MirroredStrategy(devices or None), devices)
    if not devices:
        gpus = tf.config.list_physical_devices("GPU")
        devices = [f"/GPU:{i}" for i in range(min(2, len(gpus)))]
    if len(devices) != 2:
        raise UserError(
            f"--strategy two-tower needs exactly two devices, found {len(devices)}: pass "
            "--devices gpu:0,gpu:1, or --devices cpu:2 to try it on the CPU.")
    return Distribution(name, devices=devices)


def _tf_config():
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError("--strategy multiworker needs TF_CONFIG (the cluster and this worker's task) in the "
                        "environment; see DISTRIBUTED.md.")
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        task_type, task_id = task["type"], int(task["index"])
        size = len(cluster[task_type])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"TF_CONFIG must be JSON with cluster and task (type, index): {error}") from None
    if not 0 <= task_id < size:
        raise UserError(f"TF_CONFIG: task {task_type} {task_id} is not in the cluster ({size} {task_type} task(s)).")
    return cluster, task_type, task_id


def _multiworker(config):
    cluster, task_type, task_id = _tf_config()
    devices = []
    if config.devices is not None:
        if Devices.parse(config.devices).kind == "cpu":
            raise UserError("--strategy multiworker uses the CPU as one device per worker; "
                            "--devices may only name GPUs (gpu:0,gpu:1) here.")
        devices = configure_devices(config.devices)
    timeout = os.environ.get(COLLECTIVE_TIMEOUT_ENV)
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=float(timeout) if timeout else None)
    workers = sum(len(tasks) for job, tasks in cluster.items() if job in ("chief", "worker"))
    label = f"{task_type} {task_id} of {workers}"
    wait = float(os.environ.get(CLUSTER_TIMEOUT_ENV, DEFAULT_CLUSTER_TIMEOUT))
    with _deadline(wait, f"alexnet: error: {label}: the other workers did not all join within {wait:g} s "
                         f"(set {CLUSTER_TIMEOUT_ENV} to wait longer); check TF_CONFIG and that every "
                         "worker was started."):
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    resolver = strategy.cluster_resolver
    chief = is_chief(resolver.cluster_spec(), resolver.task_type, resolver.task_id)
    return Distribution(Strategy.MULTIWORKER, strategy, devices, chief=chief, worker=label)


@contextlib.contextmanager
def _deadline(seconds, message):
    """Ends the process with ``message`` if the block takes longer than
    ``seconds`` (a blocked TensorFlow call cannot be interrupted)."""
    def give_up():
        print(message, file=sys.stderr, flush=True)
        os._exit(2)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _keras_multiworker_fixes(model, element_spec):
    """Works around Keras 3's ``fit``/``evaluate`` under
    ``MultiWorkerMirroredStrategy`` (see :mod:`alexnet.keras_internals`):
    the model is built from the dataset's ``element_spec`` rather than from a
    first batch averaged over the replicas, and every step's metrics are
    averaged over the workers, so that every worker logs the same numbers.
    """
    from alexnet import keras_internals

    keras_internals.build_from_spec(model, element_spec)
    keras_internals.metrics_with_batch_axis(model)
