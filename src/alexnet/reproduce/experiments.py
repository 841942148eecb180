"""The paper's claims as controlled comparisons.

Each :class:`Experiment` has two arms that differ in one idea only (ReLU or
tanh, LRN or not, ...); every arm is an ordinary ``train(Config(...))`` run
with the same data, budget and seeds. Arms live in run directories keyed by
what they change, ``<out>/runs/<arm>/seed<k>``, so an interrupted arm
resumes, a finished one is reused, and the baseline (ReLU, LRN, overlapping
pooling, dropout 0.5) is trained once for the four experiments that share it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from alexnet.config import SMALL_RECIPE, Config
from alexnet.errors import UserError, log


@dataclass(frozen=True)
class Arm:
    key: str  # run-directory name, shared between experiments
    label: str  # legend and table heading
    changes: dict = field(default_factory=dict)  # Config fields that differ from the base


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    claim: str  # the paper's claim, in words
    idea: Arm  # with the paper's idea
    control: Arm  # without it
    paper: dict  # measure -> the paper's number, as text


BASELINE = Arm("baseline", "ReLU, LRN, overlapping pooling, dropout 0.5")

EXPERIMENTS = {e.name: e for e in (
    Experiment(
        "relu-vs-tanh", "ReLU against tanh (Figure 1)",
        "A net with ReLUs reaches 25% training error on CIFAR-10 six times faster than the same net with tanh.",
        idea=Arm("baseline", "ReLU"), control=Arm("tanh", "tanh", {"activation": "tanh"}),
        paper={"speedup": "6x (CIFAR-10, 4-layer net, 25% training error)"},
    ),
    Experiment(
        "lrn", "Local response normalization (Section 3.3)",
        "LRN reduces top-1 and top-5 error by 1.4% and 1.2% (ImageNet); 13% -> 11% test error on CIFAR-10.",
        idea=Arm("baseline", "with LRN"), control=Arm("no-lrn", "without LRN", {"lrn": False}),
        paper={"test_error": "-1.4 (ImageNet); -2 (CIFAR-10: 13% -> 11%)", "test_top5_error": "-1.2 (ImageNet)"},
    ),
    Experiment(
        "overlapping-pooling", "Overlapping pooling (Section 3.4)",
        "3x3 stride-2 pooling reduces top-1 and top-5 error by 0.4% and 0.3% against 2x2 stride 2.",
        idea=Arm("baseline", "3x3 stride 2"), control=Arm("pool-2x2", "2x2 stride 2", {"overlapping_pooling": False}),
        paper={"test_error": "-0.4 (ImageNet)", "test_top5_error": "-0.3 (ImageNet)"},
    ),
    Experiment(
        "dropout", "Dropout (Section 4.2)",
        "Without dropout the network overfits substantially; dropout roughly doubles the iterations to converge.",
        idea=Arm("baseline", "dropout 0.5"), control=Arm("no-dropout", "no dropout", {"dropout": 0.0}),
        paper={"gap": "substantial overfitting without dropout (no number given)"},
    ),
    Experiment(
        "two-tower", "Two towers against one tower of half the kernels (Section 3.2)",
        "The two-GPU net has 1.7% / 1.2% lower top-1 / top-5 error than a net with half as many kernels "
        "in each convolutional layer trained on one GPU.",
        idea=Arm("small-2tower", "two towers (grouped)", {"variant": "small-2tower"}),
        control=Arm("small-half", "one tower, half the kernels", {"variant": "small-half"}),
        paper={"test_error": "-1.7 (ImageNet)", "test_top5_error": "-1.2 (ImageNet)"},
    ),
)}
NAMES = (*EXPERIMENTS, "all")

# The target training error of Figure 1, per dataset. The paper's 25% on
# CIFAR-10 is what its ReLU net reached within about five epochs: early in
# training, where the two activations differ most, and well above the
# final error. The same idea on Fashion-MNIST, an easier task on which the
# small net's training error (dropout on) is expected to pass 15% within its
# first few epochs, gives 15% (to be checked against the first real run's
# figure1.png). Other data take 25% unless --target-error says otherwise.
TARGET_ERROR = {"cifar10": 0.25, "fashion_mnist": 0.15}
DEFAULT_TARGET_ERROR = 0.25

QUICK = dict(epochs=2, max_steps_per_epoch=3)
# The default budget, chosen so that `reproduce all --data fashion_mnist`
# (7 distinct arms) took about an hour on a 2-core CPU: 6 epochs (the small
# recipe's cosine schedule compressed to fit) and 2 seeds, so that every
# table has a spread. Larger budgets: --epochs and --seeds.
DEFAULT_EPOCHS = 6
DEFAULT_SEEDS = 2


def base_config(data, out, *, seed=0, epochs=None, quick=False, image_size=None, **overrides) -> Config:
    """The configuration every arm starts from: the ``small`` net and its
    recipe, LRN switched on explicitly (so that arms agree field by field)."""
    fields = dict(SMALL_RECIPE)  # derived variants (small-2tower, small-half) take small's recipe too
    fields.update(data=data, out=out, variant="small", seed=seed, lrn=True, image_size=image_size)
    fields["epochs"] = DEFAULT_EPOCHS
    # Every layer learned, as in the paper (and as REPRODUCTION.md measured):
    # the default job's fixed whitening conv1 is a speed-up, not a claim.
    fields["conv1_init"] = "random"
    # No resampling augmentation either: it makes the default job's answers
    # survive resized pictures, and REPRODUCTION.md was measured without it.
    fields["resample"] = 0.0
    if quick:
        fields.update(QUICK)
    if epochs is not None:
        fields["epochs"] = epochs
    fields.update(overrides)
    return Config(**fields)


def arm_config(base: Config, arm: Arm, seed: int, out: str) -> Config:
    return base.replace(**arm.changes, seed=seed, out=os.path.join(out, "runs", arm.key, f"seed{seed}"))


def native_image_size(data):
    """28 or 32 for small square datasets (so derived variants train at the
    same crop as ``small``), None for others (the variant's default)."""
    known = {"fashion_mnist": 28, "cifar10": 32}
    if data in known:
        return known[data]
    from alexnet.data.sources import load_source

    source = load_source(data)
    return source.image_size if source.small else None


def read_run(run_dir) -> dict:
    """The per-epoch history and the test metrics of a finished run."""
    with open(os.path.join(run_dir, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    return {"history": state["history"], "metrics": metrics, "config": config, "dir": run_dir}


def run_arm(base: Config, arm: Arm, seed: int, out: str, train=None) -> dict:
    from alexnet.training.run import train as default_train

    config = arm_config(base, arm, seed, out)
    log(f"reproduce: arm {arm.key} ({arm.label}), seed {seed} -> {config.out}")
    (train or default_train)(config)
    return read_run(config.out)


def run_experiment(name, data="fashion_mnist", *, out="runs/reproduce", seeds=None, quick=False, epochs=None,
                   target_error=None, train=None, **overrides) -> dict:
    """Trains (or reuses) every arm of experiment ``name`` (or of ``all``)
    for ``seeds`` seeds (default 2; 1 with ``quick``) and writes the tables and figures under ``out``.
    Returns the results as written to JSON."""
    from alexnet.reproduce import report

    if name not in NAMES:
        raise UserError(f"Unknown experiment {name!r}; choose one of {', '.join(NAMES)}.")
    if seeds is None:
        seeds = 1 if quick else DEFAULT_SEEDS
    if seeds < 1:
        raise UserError(f"--seeds must be a positive integer, got {seeds}.")
    if epochs is not None and epochs < 1:
        raise UserError(f"--epochs must be a positive integer, got {epochs}.")
    names = list(EXPERIMENTS) if name == "all" else [name]
    image_size = overrides.pop("image_size", None) or native_image_size(data)
    base = base_config(data, out, epochs=epochs, quick=quick, image_size=image_size, **overrides)
    dataset = os.path.basename(os.path.normpath(data)) if os.path.exists(data) else data
    target = target_error if target_error is not None else TARGET_ERROR.get(dataset, DEFAULT_TARGET_ERROR)
    if not 0 < target < 1:
        raise UserError(f"--target-error must be in (0, 1), got {target}.")
    results = []
    for experiment_name in names:
        experiment = EXPERIMENTS[experiment_name]
        runs = {arm.key: [run_arm(base, arm, seed, out, train) for seed in range(seeds)]
                for arm in (experiment.idea, experiment.control)}
        result = report.summarize(experiment, runs, target_error=target, dataset=dataset,
                                  budget=report.budget(base, seeds, quick))
        report.write_experiment(result, runs, os.path.join(out, experiment_name))
        results.append(result)
    if name == "all":
        report.write_summary(results, out)
    return results[0] if name != "all" else {"experiments": results}
