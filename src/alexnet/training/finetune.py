"""Fine-tuning: a training run that starts from a saved AlexNet.

``train(Config(weights=SOURCE, ...))`` (``alexnet train --weights``) takes
the network of SOURCE (a ``.keras`` file, a run directory, or a model
written by ``alexnet import-weights``) as it is: its variant, input size,
colour mode and the ``preprocess`` layer that turns raw 0-255 pixels into
what it was trained on. The data's images are converted to that colour mode
and size; the classifier (``predictions``) is replaced by a new one for the
data's classes. Two stages follow:

1. ``head_epochs`` epochs train the new classifier alone at
   ``learning_rate``: every other layer is frozen (not trainable), so a step
   computes no gradient below the classifier;
2. the remaining epochs train every layer outside ``freeze`` at
   ``finetune_lr``, with a fresh optimizer.

``freeze="features"`` keeps everything below the classifier frozen for the
whole run: a linear probe on fc7. Everything else is an ordinary run
directory (:mod:`alexnet.training.run`): checkpoints every epoch, resumable
after ``kill -9``, and ``config.json`` records the source's path and the
SHA-256 of its model file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass

import keras

from alexnet import backend
from alexnet.config import Config, Strategy, resolve
from alexnet.data.datasets import eval_dataset, train_dataset
from alexnet.errors import UserError, log, plural
from alexnet.training import checkpoint as ckpt
from alexnet.training import distribute
from alexnet.training import run as R
from alexnet.training.lock import RunLock
from alexnet.training.optim import make_loss, make_optimizer, make_plateau
from alexnet.variants import VARIANTS

REQUIRED_LAYERS = ("preprocess", "conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "predictions")
# The network switches a source fixes; a flag that asks for another value conflicts.
SWITCHES = ("variant", "activation", "lrn", "overlapping_pooling", "dropout")


@dataclass(frozen=True)
class WeightsSource:
    """What a fine-tuning run takes from its source model."""

    path: str  # the .keras file (a run directory's model.keras)
    sha256: str
    variant: str
    input_shape: tuple[int, int, int]
    activation: str
    lrn: bool
    overlapping_pooling: bool
    dropout: float
    fixed: tuple[str, ...] = ()  # layers the source does not train (a whitened conv1): never trained here

    def describe(self) -> str:
        height, width, channels = self.input_shape
        return f"a {self.variant} AlexNet taking {height}x{width}x{channels} images"


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_file(path) -> str:
    """The ``.keras`` file of SOURCE (a file, or a run directory's model.keras)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"--weights: no such file or folder: {path}")
    if os.path.isdir(path):
        inside = os.path.join(path, "model.keras")
        if not os.path.isfile(inside):
            raise UserError(f"--weights: {path} holds no model.keras (give a .keras file or a finished run directory).")
        return inside
    return path


def read_source(path):
    """``(keras model, WeightsSource)`` of SOURCE, or one UserError line:
    missing, not a Keras model, or not an AlexNet with its classifier."""
    from alexnet.saved import load_model_file

    path = model_file(path)
    kind = {".pth": "torchvision", ".pt": "torchvision", ".safetensors": "torchvision", ".onnx": "onnx"}.get(
        os.path.splitext(path)[1].lower())
    if kind:
        raise UserError(f"--weights: {path} is a weights file, not a model: make one with `alexnet import-weights "
                        f"{kind} {path} -o model.keras` and pass model.keras.")
    try:
        model = load_model_file(path)
    except UserError as error:
        raise UserError(f"--weights: {error}") from None
    names = {layer.name for layer in model.layers}
    missing = [name for name in REQUIRED_LAYERS if name not in names]
    variant = model.name[len("alexnet_"):] if model.name.startswith("alexnet_") else None
    if missing or variant not in VARIANTS or len(model.input_shape) != 4 or None in model.input_shape[1:]:
        why = f"no layer {missing[0]}" if missing else f"a model named {model.name!r}"
        raise UserError(f"--weights: {path} is not an AlexNet with its classifier ({why}); make one with "
                        "`alexnet train` or `alexnet import-weights`.")
    conv1 = model.get_layer("conv1").get_config()
    pool1 = model.get_layer("pool1").get_config() if "pool1" in names else {"pool_size": (3, 3)}
    dropout = model.get_layer("drop7").rate if "drop7" in names else 0.0
    return model, WeightsSource(
        path=os.path.abspath(path), sha256=file_sha256(path), variant=variant,
        input_shape=tuple(int(d) for d in model.input_shape[1:]),
        activation=conv1["activation"] if isinstance(conv1["activation"], str) else "relu",
        lrn="lrn1" in names, overlapping_pooling=tuple(pool1["pool_size"])[0] == 3, dropout=float(dropout),
        fixed=tuple(layer.name for layer in model.layers if layer.weights and not layer.trainable))


def with_source_settings(config: Config, source: WeightsSource) -> Config:
    """``config`` with the source's network switches and input size filled
    in; a flag asking for another value is refused in one line."""
    changes = {}
    for name in SWITCHES:
        mine, theirs = getattr(config, name), getattr(source, name)
        if mine is None:
            changes[name] = theirs
        elif mine != theirs:
            flag = name.replace("_", "-")
            raise UserError(f"--{flag} {mine} conflicts with --weights {config.weights}, {source.describe()} "
                            f"with {flag} {theirs}: leave --{flag} out ({name}=None in a Config).")
    if config.image_size is None:
        changes["image_size"] = source.input_shape[0]
    return config.replace(**changes)


def rebuilt(model, image_size=None, policy=None):
    """``model`` rebuilt for ``image_size`` px input and/or the dtype
    ``policy`` (the classifier stays float32), with its weights; ``None``
    when the weights do not fit that size (fc6 sized for another map)."""
    config = model.get_config()
    for layer in config["layers"]:
        if image_size is not None:
            layer.pop("build_config", None)  # shapes change with the input
            if layer["class_name"] == "InputLayer":
                shape = list(layer["config"]["batch_shape"])
                layer["config"]["batch_shape"] = [shape[0], image_size, image_size, shape[-1]]
        if policy is not None and "dtype" in layer["config"] and layer["config"]["name"] != "predictions":
            layer["config"]["dtype"] = policy
    try:
        copy = model.__class__.from_config(config)
    except ValueError:
        return None  # e.g. a conv or pool whose window no longer fits
    if [w.shape for w in copy.weights] != [w.shape for w in model.weights]:
        return None
    copy.set_weights(model.get_weights())
    return copy


def check_image_size(model, config: Config, source: WeightsSource):
    """The source model at ``config.image_size``, or one UserError line."""
    if config.image_size == source.input_shape[0] and source.input_shape[0] == source.input_shape[1]:
        return model
    copy = rebuilt(model, config.image_size)
    if copy is None:
        raise UserError(f"--image-size {config.image_size} does not fit --weights {config.weights}, "
                        f"{source.describe()}: its fc6 takes the feature map of {source.input_shape[0]} px "
                        "images; leave --image-size out.")
    return copy


def new_classifier(model, classes: int, seed: int):
    """``model`` with its ``predictions`` layer replaced by a new one of
    ``classes`` softmax units (float32, as every model's classifier)."""
    features = model.get_layer("predictions").input
    head = keras.layers.Dense(classes, activation="softmax", dtype="float32", name="predictions",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
    return keras.Model(model.input, head(features), name=model.name)


def set_trainable(model, part: str, fixed=()):
    """Freezes ``part`` of ``model``: ``"head"`` or ``"features"`` (every
    layer but the classifier), ``"convs"`` (conv1-conv5) or ``"none"``;
    the layers named in ``fixed`` stay frozen whatever the part."""
    for layer in model.layers:
        if layer.name in fixed:
            layer.trainable = False
        elif part in ("head", "features"):
            layer.trainable = layer.name == "predictions"
        elif part == "convs":
            layer.trainable = not layer.name.startswith("conv")
        else:
            layer.trainable = True


@dataclass(frozen=True)
class Stage:
    end: int  # the epoch it ends after
    frozen: str  # set_trainable's part
    learning_rate: float
    warmup_epochs: float


def stages(config: Config) -> list[Stage]:
    """The run's stages: the classifier alone, then the rest outside ``freeze``."""
    if config.freeze == "features":
        return [Stage(config.epochs, "features", config.learning_rate, config.warmup_epochs)]
    plan = []
    if config.head_epochs:
        plan.append(Stage(config.head_epochs, "head", config.learning_rate, config.warmup_epochs))
    if config.epochs > config.head_epochs:
        plan.append(Stage(config.epochs, config.freeze, config.finetune_lr, 0.0))
    return plan


def finetune(config: Config) -> dict:
    """One fine-tuning run (see the module's docstring); returns its metrics."""
    model, source = read_source(config.weights)  # before anything is written
    config = resolve(with_source_settings(config, source))
    model = check_image_size(model, config, source)
    if config.strategy == Strategy.MULTIWORKER:
        raise UserError("--strategy multiworker does not apply with --weights; use default or mirrored.")
    with R.callers_state_kept():
        dist = distribute.setup(config)
        try:
            return _finetune(config, dist, model, source)
        finally:
            dist.close()


def _check_source_unchanged(run_dir, source: WeightsSource):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        recorded = json.load(f).get("weights_sha256")
    if recorded and recorded != source.sha256:
        raise UserError(f"{source.path} has changed since {run_dir} started from it (SHA-256 {recorded[:12]}... "
                        f"then, {source.sha256[:12]}... now); use another --out to start afresh.")


def _finetune(config: Config, dist, source_model, source: WeightsSource) -> dict:
    run_dir = dist.write_dir(config.out)
    with RunLock(run_dir):  # one writer per run directory; a failed start leaves nothing behind
        return _finetune_locked(config, dist, source_model, source, run_dir)


def _finetune_locked(config: Config, dist, source_model, source: WeightsSource, run_dir: str) -> dict:
    R.check_resumable(config.out, config)
    _check_source_unchanged(config.out, source)
    state, finished = R.load_run_state(config)
    if finished is not None:
        return finished

    if config.deterministic:
        backend.make_deterministic()
    data, spec, record = R.prepare_data(config, channels=source.input_shape[-1])
    R.check_memory(config, data, spec)
    # The source's weights are float32; bfloat16 only when asked for.
    precision, why = (config.precision, "as asked (--precision)") if config.precision != "auto" else \
        ("float32", "auto: fine-tuning keeps the source's float32 (--precision mixed_bfloat16 to try bfloat16)")
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(config.seed)

    ckpt.write_atomic(os.path.join(run_dir, "config.json"), json.dumps(
        {**dataclasses.asdict(config), "resolved_precision": precision, "precision_reason": why,
         "weights_path": source.path, "weights_sha256": source.sha256, "weights_input_shape": source.input_shape},
        indent=2, sort_keys=True))
    ckpt.write_atomic(os.path.join(run_dir, "input.json"), json.dumps(dataclasses.asdict(spec), indent=1))
    ckpt.write_atomic(os.path.join(run_dir, "classes.json"), json.dumps(data.class_names))
    ckpt.write_atomic(os.path.join(run_dir, "split.json"), json.dumps(record, indent=1))

    val_ds = eval_dataset(data, data.val, spec, 64) if data.val is not None else None
    train_ds = train_dataset(data, spec, config.batch_size, seed=config.seed)
    steps = math.ceil(len(data.train) / config.batch_size)
    if config.max_steps_per_epoch:
        steps = min(steps, config.max_steps_per_epoch)

    done, model = 0, None
    if state and state.get("checkpoint"):
        with dist.scope():
            model = keras.saving.load_model(os.path.join(config.out, state["checkpoint"]), safe_mode=True)
        done = state["epoch"]
        log(f"Resuming {config.out} after epoch {done} of {config.epochs}.")
    else:
        state = None
        with dist.scope():
            base = source_model if precision == "float32" else rebuilt(source_model, policy=precision)
            model = new_classifier(base, data.num_classes, config.seed)
    log(f"Fine-tuning {source.path} ({source.variant}, {model.count_params():,} parameters) on {data.name}: "
        f"{len(data.train):,} train / {len(data.val) if data.val else 0:,} val images, "
        f"{spec.crop}x{spec.crop}x{spec.channels}, {precision}, batch {config.batch_size}, "
        f"{plural(config.epochs, 'epoch')}: "
        + "; ".join(_describe(s, i, config) for i, s in enumerate(stages(config))) + ".")

    start = 0
    for stage in stages(config):
        if done >= stage.end:
            start = stage.end
            continue
        if done == start:  # the stage begins: its frozen part and a fresh optimizer
            set_trainable(model, stage.frozen, source.fixed)
            stage_config = config.replace(learning_rate=stage.learning_rate, epochs=stage.end - start,
                                          warmup_epochs=stage.warmup_epochs)
            with dist.scope():
                R.compile_model(model, make_optimizer(stage_config, steps), make_loss(config))
            if state is not None:
                state.pop("plateau", None)  # the schedule of the stage before
        # else: resumed inside the stage; the checkpoint holds its frozen part and optimizer
        dist.prepare(model, train_ds.element_spec)
        trainable = sum(int(math.prod(w.shape)) for w in model.trainable_weights)
        log(f"Epochs {done + 1}-{stage.end}: training {trainable:,} parameters at learning rate "
            f"{stage.learning_rate:g}.")
        plateau = make_plateau(config, "val_accuracy" if val_ds is not None else "accuracy") \
            if config.schedule == "plateau" else None
        saver = ckpt.RunCheckpoint(run_dir, state, plateau)
        callbacks = [c for c in (plateau, saver) if c is not None]
        try:
            with R.evaluation_sets_may_end():
                model.fit(train_ds, epochs=stage.end, initial_epoch=done, steps_per_epoch=steps,
                          validation_data=val_ds, callbacks=callbacks, shuffle=False,
                          verbose=1 if sys.stderr.isatty() else 2)
        except backend.out_of_memory_errors():
            raise UserError(f"Out of memory while fine-tuning on {spec.crop}x{spec.crop} images in batches of "
                            f"{config.batch_size}: lower --batch-size (finished epochs are kept; a rerun "
                            "resumes).") from None
        if saver.diverged:
            epoch, batch, loss = saver.diverged
            raise UserError(f"Training diverged: the loss became {loss} at epoch {epoch}, batch {batch}. Lower "
                            f"--lr or --finetune-lr; the last good checkpoint in {run_dir} is kept.")
        state, done, start = saver.state, saver.state["epoch"], stage.end
    set_trainable(model, "none", source.fixed)  # the saved model.keras can be a source in turn
    return R.finish(model, config.replace(out=run_dir), data, spec, state, precision)


def _describe(stage: Stage, index: int, config: Config) -> str:
    first = 1 if index == 0 else stages(config)[index - 1].end + 1
    what = {"head": "the new classifier alone", "features": "the new classifier alone (a linear probe)",
            "convs": "fc6, fc7 and the classifier (conv1-conv5 frozen)", "none": "every layer"}[stage.frozen]
    return f"epochs {first}-{stage.end} {what} at lr {stage.learning_rate:g}"
