"""``train(config)``: one training run, from data to a run directory.

The run directory holds ``config.json`` (the resolved config),
``input.json`` (crop, resize and the PCA colour statistics),
``classes.json``, ``history.csv``, ``state.json`` with the latest
``checkpoint-<epoch>.keras``, ``best.keras``, the final ``model.keras``
(raw-pixel input, softmax output, no optimizer), ``metrics.json``,
``loss.png``, ``accuracy.png`` and TensorBoard logs under ``logs/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import random
import sys
import time
import warnings

import keras
import numpy as np

from alexnet import backend
from alexnet.config import Config, Strategy, resolve
from alexnet.data.channels import convert_channels
from alexnet.data.datasets import InputSpec, eval_dataset, plan_inputs, train_dataset, verify_files
from alexnet.data.sources import Source, load_source
from alexnet.errors import UserError, log, plural
from alexnet.model import AlexNet, float32_copy
from alexnet.saved import split_record
from alexnet.training import checkpoint as ckpt
from alexnet.training import distribute
from alexnet.training.lock import RunLock
from alexnet.training.optim import make_loss, make_optimizer, make_plateau
from alexnet.training.precision import choose_precision
from alexnet.training.whitening import whiten_conv1
from alexnet.variants import base_variant, get_variant


def prepare_data(config: Config, channels=None):
    """The run's data, its input spec and split record; ``channels`` (a
    fine-tuned model's) converts the images to that colour mode."""
    source = load_source(config.data, val_fraction=config.val_fraction, seed=config.seed)
    if channels is not None:
        convert_channels(source, channels)
    record = split_record(config.data, config.val_fraction, config.seed, source)  # before bad files are dropped
    net = get_variant(config.variant)
    crop = config.image_size
    if crop is None:
        native = source.small and base_variant(config.variant) == "small"
        crop = source.image_size if native else net.default_input_shape[0]
    if config.resize == 0 and source.train.files is not None:
        min_size = crop
    else:
        min_size = 0
    checked = []
    for name in ("train", "val", "test"):
        split = getattr(source, name)
        if split is not None and split.files is not None and not any(split is c for c in checked):
            source.skipped += verify_files(split, strict=config.strict, min_size=min_size, label=name)
            checked.append(split)  # test is often the val split itself
    spec = plan_inputs(source, crop, resize=config.resize, pad=config.pad, flip=config.flip,
                       pca=config.pca_noise, resample=config.resample, seed=config.seed)
    return source, spec, record


def available_memory():
    """Bytes of memory available to a new allocation (Linux), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(config: Config, source: Source, spec: InputSpec):
    """Refuses, before anything is written, a CPU run whose activations
    cannot fit: about 3 float32 copies of every layer's output per image
    (forward, gradient, workspace) and 4 of every weight, plus 0.5 GB for
    TensorFlow itself. (GPU memory is left to TensorFlow's own error.)"""
    free = available_memory()
    if free is None or backend.has_gpu():
        return
    model = build_model(config.replace(strategy=Strategy.DEFAULT), source, spec)  # the same shapes on one device
    per_image = sum(int(np.prod(layer.output.shape[1:])) for layer in model.layers[1:])
    need = 3 * 4 * per_image * config.batch_size + 4 * 4 * model.count_params() + 0.5e9
    if need > free:
        raise UserError(
            f"Training {spec.crop}x{spec.crop} images in batches of {config.batch_size} needs about "
            f"{need / 1e9:.1f} GB of memory, more than the {free / 1e9:.1f} GB available: lower --batch-size "
            f"or --image-size.")


def _precision(config, source, spec, state):
    """The run's dtype policy and why: as it started when resuming, else
    :func:`alexnet.training.precision.choose_precision`."""
    saved = {}
    if state:
        with open(os.path.join(config.out, "config.json"), encoding="utf-8") as f:
            saved = json.load(f)
    if saved.get("resolved_precision"):
        return saved["resolved_precision"], f"as the run started ({saved.get('precision_reason', '')})"
    return choose_precision(
        config.precision, lambda: build_model(config.replace(strategy=Strategy.DEFAULT), source, spec),
        spec.input_shape, source.num_classes, config.batch_size,
        key=f"{config.variant} {_network_digest(config)} {spec.crop}x{spec.crop}x{spec.channels} "
            f"{source.num_classes} classes")


def _network_digest(config):
    """A short hash of the network a run builds (the variant's definition and
    the switches), so a cached precision probe is not reused for another net."""
    switches = (config.activation, config.lrn, config.overlapping_pooling, config.dropout)
    return hashlib.sha256(repr((get_variant(config.variant), switches)).encode()).hexdigest()[:10]


def build_model(config: Config, source: Source, spec: InputSpec):
    make = AlexNet
    if config.strategy == Strategy.TWO_TOWER:  # the paper variant, split over two devices
        from alexnet.towers import TwoTowerAlexNet as make
    return make(
        variant=config.variant,
        input_shape=spec.input_shape,
        classes=source.num_classes,
        activation=config.activation,
        lrn=config.lrn,
        overlapping_pooling=config.overlapping_pooling,
        dropout=config.dropout,
        preprocessing=dict(mean=list(spec.mean), std=list(spec.std)),
    )


def compile_model(model, optimizer, loss):
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            # k at most the number of classes: PyTorch's top-k refuses a larger k.
            keras.metrics.SparseTopKCategoricalAccuracy(k=min(5, model.output_shape[-1]), name="top5_accuracy"),
        ],
    )


# What a run directory written before a config field existed did.
BEFORE_FIELD = {"conv1_init": "random", "resample": 0.0}


def check_resumable(run_dir, config):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        written = json.load(f)
    saved = Config.from_json(json.dumps({**BEFORE_FIELD, **written}))
    mine, theirs = dataclasses.asdict(config), dataclasses.asdict(saved)
    # Strategy and devices may change when a run resumes (say from 4 GPUs to
    # 2), except to or from two-tower, whose checkpoints hold another model.
    changed = sorted(k for k in mine if k not in ("out", "strategy", "devices") and mine[k] != theirs.get(k))
    if (mine["strategy"] == Strategy.TWO_TOWER) != (theirs.get("strategy") == Strategy.TWO_TOWER):
        changed.append("strategy")
    if changed:
        details = ", ".join(f"{k}: {theirs.get(k)!r} -> {mine[k]!r}" for k in changed)
        raise UserError(f"{run_dir} holds a run with other settings ({details}); use another --out to start afresh.")


def train(config: Config) -> dict:
    if config.weights:  # fine-tuning: the network comes from the source model
        from alexnet.training.finetune import finetune

        return finetune(config)
    config = resolve(config)
    with callers_state_kept():
        dist = distribute.setup(config)  # devices and strategy: before any other TensorFlow work
        try:
            return _train(config, dist)
        except distribute.PEER_ERRORS as error:
            if dist.name is not Strategy.MULTIWORKER:
                raise
            raise dist.failure(error, config.out) from None
        finally:
            dist.close()


@contextlib.contextmanager
def callers_state_kept():
    """Gives the caller back the Keras dtype policy and the Python and NumPy
    random states that a run sets. (TensorFlow's global seed and op
    determinism have no public getter: a run leaves them as it set them.)"""
    policy = keras.mixed_precision.global_policy()
    python_random, numpy_random = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
        random.setstate(python_random)
        np.random.set_state(numpy_random)


def _train(config: Config, dist: distribute.Distribution) -> dict:
    # Every process reads the run state from config.out; a multiworker job's
    # non-chief workers write to a temporary directory instead.
    run_dir = dist.write_dir(config.out)
    with RunLock(run_dir):  # one writer per run directory
        return _train_locked(config, dist, run_dir)


def load_run_state(config: Config):
    """``(state, metrics)`` of the run in ``config.out``: its saved state
    (None for a new run) and, when that run has finished, its metrics
    (else None)."""
    state = ckpt.load_state(config.out)
    if state and os.path.isfile(os.path.join(config.out, "metrics.json")) and state["epoch"] >= config.epochs:
        with open(os.path.join(config.out, "metrics.json"), encoding="utf-8") as f:
            metrics = json.load(f)
        log(f"{config.out} already holds a finished run; delete it or use another --out to train again.")
        return state, metrics
    return state, None


def _train_locked(config: Config, dist: distribute.Distribution, run_dir: str) -> dict:
    check_resumable(config.out, config)
    state, finished = load_run_state(config)
    if finished is not None:
        return finished

    if config.deterministic:
        backend.make_deterministic()
    source, spec, record = prepare_data(config)
    check_memory(config, source, spec)
    precision, why = _precision(config, source, spec, state)
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(config.seed)  # after the probes' throwaway models: the same weights either way

    ckpt.write_atomic(os.path.join(run_dir, "config.json"), json.dumps(
        {**dataclasses.asdict(config), "resolved_precision": precision, "precision_reason": why},
        indent=2, sort_keys=True))
    ckpt.write_atomic(os.path.join(run_dir, "input.json"), json.dumps(dataclasses.asdict(spec), indent=1))
    ckpt.write_atomic(os.path.join(run_dir, "classes.json"), json.dumps(source.class_names))
    ckpt.write_atomic(os.path.join(run_dir, "split.json"), json.dumps(record, indent=1))

    val_ds = eval_dataset(source, source.val, spec, 256) if source.val is not None else None
    train_ds = train_dataset(source, spec, config.batch_size, seed=config.seed)  # without end
    steps = math.ceil(len(source.train) / config.batch_size)
    if config.max_steps_per_epoch:
        steps = min(steps, config.max_steps_per_epoch)

    if state and state.get("checkpoint"):
        path = os.path.join(config.out, state["checkpoint"])
        with dist.scope():
            model = keras.saving.load_model(path, safe_mode=True)
        log(f"Resuming {config.out} after epoch {state['epoch']} of {config.epochs}.")
    else:
        state = None
        with dist.scope():
            model = build_model(config, source, spec)
            if config.conv1_init == "whitened":
                whiten_conv1(model, source, spec, seed=config.seed)
            compile_model(model, make_optimizer(config, steps), make_loss(config))
    dist.agree(state["epoch"] if state else 0, "the epoch to resume from")
    dist.prepare(model, train_ds.element_spec)
    log(f"Training {model.name} ({model.count_params():,} parameters) on {source.name}: "
        f"{len(source.train):,} train / {len(source.val) if source.val else 0:,} val images, "
        f"{spec.crop}x{spec.crop}x{spec.channels}, {precision}, batch {config.batch_size}, "
        f"{plural(config.epochs, 'epoch')}, Keras on {backend.name()}.")
    log(f"Precision {precision}: {why}.")
    if dist.name is not Strategy.DEFAULT:
        log(f"Distribution: {dist.describe(config.batch_size)}")

    plateau = None
    if config.schedule == "plateau":
        plateau = make_plateau(config, "val_accuracy" if val_ds is not None else "accuracy")
    saver = ckpt.RunCheckpoint(run_dir, state, plateau)
    # The plateau schedule runs first: it resets itself when training begins
    # (the saver then restores its resumed state) and updates at each epoch
    # end before the saver records it.
    callbacks = [c for c in (plateau, saver) if c is not None]
    callbacks.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")))
    initial_epoch = saver.state["epoch"]
    if initial_epoch < config.epochs:
        try:
            with evaluation_sets_may_end():
                model.fit(
                    train_ds,
                    epochs=config.epochs,
                    initial_epoch=initial_epoch,
                    steps_per_epoch=steps,  # the dataset has no end
                    validation_data=val_ds,
                    callbacks=callbacks,
                    shuffle=False,  # the tf.data pipeline shuffles
                    verbose=1 if sys.stderr.isatty() else 2,
                )
        except backend.out_of_memory_errors():
            raise UserError(f"Out of memory while training {spec.crop}x{spec.crop} images in batches of "
                            f"{config.batch_size}: lower --batch-size or --image-size (finished epochs are "
                            "kept; a rerun with the same settings resumes).") from None
        if saver.ended is not None:
            # From the last epoch's end to fit's return, where the training
            # set's iterator is freed (BENCHMARKS.md, "The pause after training").
            saver.state["fit_exit_seconds"] = round(time.monotonic() - saver.ended, 1)
    if saver.diverged:
        epoch, batch, loss = saver.diverged
        raise UserError(
            f"Training diverged: the loss became {loss} at epoch {epoch}, batch {batch}. "
            f"Lower --learning-rate (now {config.learning_rate}); the last good checkpoint "
            f"in {run_dir} is kept and a rerun resumes from it."
        )
    return finish(model, config.replace(out=run_dir), source, spec, saver.state, precision)


@contextlib.contextmanager
def evaluation_sets_may_end():
    """Keras warns "Your input ran out of data; interrupting training" at the
    end of every pass over an evaluation set whose size tf.data does not
    know (TFRecords), though that end is the pass's normal one. The
    training set never ends (train_dataset repeats), so the warning can
    only be that."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        yield


def ten_crop_metrics(model, source, spec):
    """Test accuracy with the paper's ten-crop averaging, for 28-32 px data
    where it is cheap; ImageNet-scale runs leave it to `alexnet evaluate
    --ten-crop`."""
    if not source.small:
        return {}
    from alexnet.evaluate import predict_probabilities, top1_top5_accuracy

    probs, labels = predict_probabilities(model, eval_dataset(source, source.test, spec, 256, ten_crop=True), True)
    top1, top5 = top1_top5_accuracy(probs, labels)
    return {"test_accuracy_ten_crop": top1, "test_top5_accuracy_ten_crop": top5}


def finish(model, config, source, spec, state, precision):
    """Tests the final model and writes model.keras, metrics.json and plots."""
    run_dir = config.out
    with evaluation_sets_may_end():
        test = model.evaluate(eval_dataset(source, source.test, spec, 256), return_dict=True, verbose=0)
    # Uncompiled (no optimizer state in the file) and in float32, so the
    # saved model runs anywhere; training precision is a property of the run.
    from alexnet.towers import is_two_tower, single_device_model

    final = single_device_model(model) if is_two_tower(model) else model  # runs on any one device
    ckpt.save_model_atomic(float32_copy(final), os.path.join(run_dir, "model.keras"))
    metrics = {
        "test_accuracy": float(test["accuracy"]),
        "test_top5_accuracy": float(test["top5_accuracy"]),
        **ten_crop_metrics(model, source, spec),
        "test_loss": float(test["loss"]),
        "best_val_accuracy": state.get("best"),
        "epochs": state["epoch"],
        "train_seconds": round(state["train_seconds"], 1),
        "fit_exit_seconds": state.get("fit_exit_seconds"),
        "precision": precision,
        "backend": backend.version(),
        "dataset": source.name,
        "variant": config.variant,
        "train_images": len(source.train),
        "test_images": len(source.test),
        "test_split": source.test_role,
        "skipped_files": len(source.skipped),
    }
    ckpt.write_atomic(os.path.join(run_dir, "metrics.json"), json.dumps(metrics, indent=1))
    from alexnet.plots import plot_history

    plot_history(state["history"], run_dir)
    return metrics
