"""One frozen configuration for a training run.

Fields left at ``None`` take the recipe's default for the variant
(:func:`resolve`): the paper's recipe for ``paper``/``single``/``owt``, a
faster recipe tuned for ``small`` on 28-32 px data. The resolved config is
written to every run directory as ``config.json``; running the same command
again resumes that run.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import math
import re
from dataclasses import dataclass

from alexnet.errors import UserError
from alexnet.variants import ACTIVATIONS, base_variant, get_variant, minimum_input_size

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("plateau", "cosine", "constant")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# random: conv1 starts from the variant's initializer and trains like every
# layer; whitened: fixed PCA-whitening filters of the training images'
# patches (alexnet/training/whitening.py), not trained.
CONV1_INITS = ("random", "whitened")
# What stays frozen after the head epochs of a fine-tuning run: nothing,
# conv1-conv5, or every layer below the classifier (a linear probe on fc7).
FREEZE_PARTS = ("none", "convs", "features")


class Strategy(enum.StrEnum):
    """``--strategy``: how one run uses several devices
    (:mod:`alexnet.training.distribute` builds each)."""

    DEFAULT = "default"
    MIRRORED = "mirrored"
    TWO_TOWER = "two-tower"
    MULTIWORKER = "multiworker"


STRATEGIES = tuple(s.value for s in Strategy)
STRATEGY_HELP = (
    "default: one device; mirrored: data parallel over GPUs (--batch-size is the global batch, the learning "
    "rate is not rescaled); two-tower: the paper's two-GPU model parallelism (--variant paper); multiworker: "
    "data parallel over machines, configured by TF_CONFIG (see DISTRIBUTED.md)")
DEVICES = re.compile(r"^(cpu:[1-9][0-9]*|gpu:[0-9]+(,gpu:[0-9]+)*)$")
DEVICES_HELP = "cpu:N (N logical CPU devices) or gpu:I[,gpu:J...]"


@dataclass(frozen=True)
class Devices:
    """``--devices`` parsed: ``cpu:N`` (N logical CPU devices, to try the
    strategies without GPUs) or the GPUs ``gpu:0,gpu:1`` names."""

    kind: str  # "cpu" or "gpu"
    cpus: int = 0
    gpus: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Devices":
        """The one place ``--devices`` is checked."""
        text = (text or "").strip()
        if not DEVICES.match(text):
            raise UserError(f"--devices must be {DEVICES_HELP}, got {text!r}.")
        if text.startswith("cpu:"):
            return cls("cpu", cpus=int(text[4:]))
        gpus = tuple(int(part[4:]) for part in text.split(","))
        if len(set(gpus)) != len(gpus):
            raise UserError(f"--devices names a GPU twice: {text!r}.")
        return cls("gpu", gpus=gpus)

    @property
    def count(self) -> int:
        return self.cpus if self.kind == "cpu" else len(self.gpus)


@dataclass(frozen=True)
class Limit:
    """The values a numeric option accepts: an int or a finite float between
    ``low`` and ``high`` (each included unless ``*_open``; ``None``: no bound)."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        noun, show = ("an integer", int) if self.kind is int else ("a number", lambda x: f"{x:g}")
        if self.low is not None and self.high is not None:
            return (f"{noun} in {'(' if self.low_open else '['}{show(self.low)}, "
                    f"{show(self.high)}{')' if self.high_open else ']'}")
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {show(self.low)}"
        return noun

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int) or not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def parse(self, text: str):
        """argparse's ``type=``: the value, or an error naming the range."""
        try:
            value = self.kind(text)
        except ValueError:
            value = None
        if value is None or not self.accepts(value):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        return value


POSITIVE_INT = Limit(int, 1)  # counts: epochs, batch sizes, --top, -k, -n ...

# The range of every numeric field: Config checks them, and the CLI parses
# its flags with them, so the two cannot disagree.
LIMITS = {
    "epochs": POSITIVE_INT,
    "batch_size": POSITIVE_INT,
    "learning_rate": Limit(float, 0, low_open=True),
    "momentum": Limit(float, 0, 1, high_open=True),
    "weight_decay": Limit(float, 0),
    "warmup_epochs": Limit(float, 0),
    "label_smoothing": Limit(float, 0, 1, high_open=True),
    "patience": Limit(int, 0),
    "dropout": Limit(float, 0, 1, high_open=True),
    "image_size": POSITIVE_INT,
    "resize": Limit(int, 0),
    "pad": Limit(int, 0),
    "resample": Limit(float, 0, 1),
    "val_fraction": Limit(float, 0, 1, high_open=True),
    "seed": Limit(int, 0, 2**31 - 1),
    "max_steps_per_epoch": POSITIVE_INT,
    "head_epochs": Limit(int, 0),
    "finetune_lr": Limit(float, 0, low_open=True),
}


@dataclass(frozen=True)
class Config:
    data: str = "fashion_mnist"
    variant: str = "small"
    out: str = "runs/latest"
    # Model switches (the paper's ideas).
    activation: str = "relu"
    lrn: bool | None = None
    overlapping_pooling: bool = True
    dropout: float = 0.5
    # Recipe: None means the variant's default (see resolve()).
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    learning_rate: float | None = None
    schedule: str | None = None
    momentum: float = 0.9
    nesterov: bool | None = None
    weight_decay: float | None = None
    warmup_epochs: float | None = None
    label_smoothing: float | None = None  # share of each target spread over all classes
    patience: int = 3  # epochs without validation improvement before lr /10
    conv1_init: str | None = None  # one of CONV1_INITS
    # Input.
    image_size: int | None = None  # model input (crop) size
    resize: int | None = None
    pca_noise: bool | None = None
    flip: bool = True
    pad: int | None = None  # 28-32 px data: pad-and-crop shift in pixels (0: off)
    resample: float | None = None  # 28-32 px data: share of images enlarged and brought back (0: off)
    val_fraction: float = 0.05  # held out when the data has no validation split
    strict: bool = False
    # Execution.
    precision: str = "auto"
    seed: int = 0
    deterministic: bool = False
    max_steps_per_epoch: int | None = None  # for quick runs and tests
    # Distribution (see alexnet.training.distribute): default, mirrored,
    # two-tower or multiworker; devices "cpu:N" or "gpu:0,gpu:1".
    strategy: Strategy = Strategy.DEFAULT
    devices: str | None = None  # checked and parsed by Devices.parse
    # Fine-tuning (alexnet.training.finetune): start from the model in
    # `weights` with a new classifier; the first `head_epochs` epochs train
    # the classifier alone at learning_rate, the rest every layer outside
    # `freeze` (one of FREEZE_PARTS) at finetune_lr.
    weights: str | None = None
    head_epochs: int | None = None
    freeze: str | None = None
    finetune_lr: float | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Config":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in fields})

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)


PAPER_RECIPE = dict(
    epochs=90, batch_size=128, optimizer="sgd", learning_rate=0.01, nesterov=False,
    schedule="plateau", weight_decay=5e-4, warmup_epochs=0.0, label_smoothing=0.0, pad=0,
    conv1_init="random", resample=0.0,
)
# `small` on 28-32 px data, tuned on Fashion-MNIST for the default job
# (README, "The main job"; the trials behind each value are in BENCHMARKS.md):
# SGD with Nesterov momentum, batch 256, a peak learning rate of 0.1 after
# one epoch of warm-up, cosine decay, label smoothing 0.1, and weight decay
# 2e-4 entering the momentum as in the paper. conv1 is fixed PCA-whitening
# filters (alexnet/training/whitening.py): no gradient below conv2. Those
# filters amplify the fine detail that resizing a picture blurs, so half the
# training images are resampled the way predict resizes a user's picture.
SMALL_RECIPE = dict(
    epochs=12, batch_size=256, optimizer="sgd", learning_rate=0.1, nesterov=True,
    schedule="cosine", weight_decay=2e-4, warmup_epochs=1.0, label_smoothing=0.1, pad=0,
    conv1_init="whitened", resample=0.5,
)


# Fine-tuning from --weights, whatever the variant: a few hundred images
# need few epochs and small batches; the new classifier trains alone first
# (at learning_rate, so that its random start does not disturb the source's
# features), then the rest at a tenth of it (FINETUNE_LR_FACTOR).
# conv1 comes from the source: "random" only means "not whitened" here.
FINETUNE_RECIPE = dict(
    epochs=10, batch_size=32, optimizer="sgd", learning_rate=0.01, nesterov=True,
    schedule="cosine", weight_decay=5e-4, warmup_epochs=0.0, label_smoothing=0.1, pad=0,
    conv1_init="random", resample=0.0,
)
FINETUNE_HEAD_SHARE = 0.3  # default --head-epochs: this share of --epochs, rounded up
FINETUNE_LR_FACTOR = 0.1  # default --finetune-lr: this times --lr


def resolve(config: Config) -> Config:
    """Fills the recipe's defaults and checks every value."""
    if config.weights:
        recipe = FINETUNE_RECIPE
    else:
        recipe = SMALL_RECIPE if base_variant(config.variant) == "small" else PAPER_RECIPE
    filled = config.replace(**{k: v for k, v in recipe.items() if getattr(config, k) is None})
    filled = _fill_finetune(filled)
    _check(filled)
    return filled.replace(strategy=Strategy(filled.strategy))


def _fill_finetune(c: Config) -> Config:
    """The fine-tuning fields' defaults; refuses them without ``weights``."""
    if not c.weights:
        given = [name for name in ("head_epochs", "freeze", "finetune_lr") if getattr(c, name) is not None]
        if given:
            raise UserError(f"--{given[0].replace('_', '-')} applies to fine-tuning only: add --weights SOURCE.")
        return c
    if c.freeze == "features":  # a linear probe: one stage, the classifier alone at --lr
        for name in ("head_epochs", "finetune_lr"):
            if getattr(c, name) is not None and not (name == "head_epochs" and c.head_epochs == c.epochs):
                raise UserError(f"--{name.replace('_', '-')} does not apply with --freeze features: every "
                                "epoch trains the classifier alone, at --lr.")
        return c.replace(head_epochs=c.epochs, finetune_lr=c.learning_rate)
    head = c.head_epochs
    if head is None and isinstance(c.epochs, int):
        head = min(c.epochs, math.ceil(FINETUNE_HEAD_SHARE * c.epochs))
    lr = c.finetune_lr
    if lr is None and isinstance(c.learning_rate, (int, float)):
        lr = FINETUNE_LR_FACTOR * c.learning_rate
    return c.replace(freeze=c.freeze or "none", head_epochs=head, finetune_lr=lr)


def _check(c: Config):
    def fail(field, value, expected):
        raise UserError(f"--{field.replace('_', '-')} must be {expected}, got {value!r}.")

    try:
        variant = get_variant(c.variant)
    except ValueError as error:
        raise UserError(str(error)) from None
    for name, choices in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES), ("precision", PRECISIONS),
                          ("activation", ACTIVATIONS), ("strategy", STRATEGIES),
                          ("conv1_init", CONV1_INITS)):
        if getattr(c, name) not in choices:
            fail(name, getattr(c, name), f"one of {', '.join(choices)}")
    for name, limit in LIMITS.items():
        value = getattr(c, name)
        if value is not None and not limit.accepts(value):
            fail(name, value, limit.describe())
    if c.weights:
        if c.freeze not in FREEZE_PARTS:
            fail("freeze", c.freeze, f"one of {', '.join(FREEZE_PARTS)}")
        if c.head_epochs > c.epochs:
            fail("head_epochs", c.head_epochs, f"at most --epochs ({c.epochs})")
        if c.conv1_init == "whitened":
            raise UserError("--conv1-init whitened does not apply with --weights: conv1 comes from the source.")
        if c.strategy == Strategy.TWO_TOWER:
            raise UserError("--strategy two-tower does not apply with --weights; use default or mirrored.")
    if c.warmup_epochs > c.epochs:
        fail("warmup_epochs", c.warmup_epochs, f"at most --epochs ({c.epochs})")
    if c.image_size is not None:
        smallest = minimum_input_size(variant, c.overlapping_pooling)
        if c.image_size < smallest:
            pooling = "overlapping" if c.overlapping_pooling else "non-overlapping"
            fail("image_size", c.image_size, f">= {smallest} for --variant {c.variant} with {pooling} pooling")
        if c.resize and c.resize < c.image_size:
            fail("resize", c.resize, f"0 (images as they are) or >= --image-size ({c.image_size})")
        if c.pad and c.pad >= c.image_size:
            fail("pad", c.pad, f"smaller than --image-size ({c.image_size})")
    if c.devices is not None:
        devices = Devices.parse(c.devices)
        if c.strategy == Strategy.DEFAULT and devices.count > 1:
            raise UserError(f"--strategy default uses one device, but --devices {c.devices} names "
                            f"{devices.count}; use --strategy mirrored or two-tower.")
    if c.strategy == Strategy.TWO_TOWER and c.variant != "paper":
        raise UserError(f"--strategy two-tower splits the paper variant's two towers; add --variant paper "
                        f"(got --variant {c.variant}).")
    if c.strategy == Strategy.TWO_TOWER and c.conv1_init == "whitened":
        raise UserError("--conv1-init whitened sets one conv1 layer; the two-tower model has one per tower: "
                        "use --conv1-init random.")
