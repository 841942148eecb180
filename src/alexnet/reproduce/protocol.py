"""The pre-registered protocol of ``alexnet reproduce``, as data.

REPRODUCTION.md states the same protocol in words; it was committed before
the first full run, and changing anything here changes what the results
mean. An :class:`Arm` is one network in one regime with one training budget;
an :class:`Experiment` compares two arms (the paper's idea and its control)
paired by seed, once in its primary setting and possibly again in a second
one. Arms are shared between experiments by key (the standardized ``small``
baseline serves LRN and overlapping pooling), and each arm's learning rate is
chosen once, by :mod:`alexnet.reproduce.runner`'s search.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

SEEDS = (0, 1, 2, 3, 4)  # the measured runs of every arm, paired across arms by seed
SEARCH_SEED = 100  # the learning-rate search uses its own seed, never a measured one
VALIDATION_IMAGES = 5000  # held out from the end of the training set, the same for every run
TRAIN_SAMPLE = 1000  # training images on which the training-error curve is measured
CURVE_VAL_SAMPLE = 1000  # validation images for the curves (final numbers use all of them)
BATCH_SIZE = 128  # the paper's
MOMENTUM = 0.9  # the paper's
PAPER_WEIGHT_DECAY = 5e-4  # the paper's, entering the momentum (alexnet.training.optim.PaperSGD)
# Regimes whose input is the paper's (0-255 minus the mean image): ``paper``
# with the paper's initialization, ``pixels`` with Glorot's.
PIXEL_INPUT = ("paper", "pixels")
SEARCH_SHARE = 0.5  # a search run trains this share of the arm's epochs (rounded up)

# Figure 1's target: the paper's 25% training error on CIFAR-10 is about 1.3
# times the converged test error of its four-layer net there (cuda-convnet's
# comparable nets: 18-20%). Three-conv nets reach about 9% test error on
# Fashion-MNIST, so the same place on the curve is 1.3 x 9% ~ 12%.
THRESHOLD = {"fashion_mnist": 12.0, "cifar10": 25.0}
DEFAULT_THRESHOLD = 25.0


@dataclass(frozen=True)
class Arm:
    """One network, regime and budget; its runs live in ``runs/<key>/``."""

    key: str
    label: str
    net: str = "small"  # "figure1" (the four-layer net of Figure 1) or an alexnet variant name
    # "standardized" (Glorot weights, unit-variance input), "paper" (0-255
    # minus the mean image, N(0, 0.01) weights, biases of 1) or "pixels"
    # (the paper's input, Glorot weights)
    regime: str = "standardized"
    activation: str = "relu"
    lrn: bool = True
    overlapping_pooling: bool = True
    dropout: float = 0.5
    images: int = 4000  # training images per run, a different random draw per seed
    epochs: int = 5
    evals_per_epoch: int = 1  # points on the curves
    weight_decay: float = PAPER_WEIGHT_DECAY
    lr_grid: tuple[float, ...] = (0.003, 0.01, 0.03)
    # Figure 1's arms search their own rate (the paper chose each net's to
    # train as fast as possible); every other arm takes the rate searched
    # for the full network of its regime, as the paper trained every
    # variant at 0.01.
    lr_from: str | None = None

    def describe(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    idea: str  # arm key, with the paper's idea
    control: str  # arm key, without it
    setting: str  # what the pair has in common, in words


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    claim: str
    paper: str
    measure: str  # "epochs_to_threshold", "test_error" or "gap"
    primary: Comparison
    secondary: tuple[Comparison, ...] = field(default_factory=tuple)


FIGURE1 = dict(net="figure1", images=8000, epochs=8, evals_per_epoch=2, weight_decay=0.0, dropout=0.0,
               lrn=False, lr_grid=(0.003, 0.01, 0.03, 0.1))
ARMS = {a.key: a for a in (
    Arm("fig1-relu", "ReLU", **FIGURE1),
    Arm("fig1-tanh", "tanh", activation="tanh", **FIGURE1),
    Arm("fig1-paper-relu", "ReLU, paper regime", regime="paper", **FIGURE1),
    Arm("fig1-paper-tanh", "tanh, paper regime", regime="paper", activation="tanh", **FIGURE1),
    Arm("small", "small: ReLU, LRN, 3x3/2 pooling, dropout 0.5", lr_grid=(0.003, 0.01, 0.03, 0.1)),
    Arm("small-nolrn", "small without LRN", lrn=False, lr_from="small"),
    Arm("small-paper", "small, paper regime, with LRN", regime="paper", lr_grid=(0.003, 0.01, 0.03, 0.1)),
    Arm("small-paper-nolrn", "small, paper regime, without LRN", regime="paper", lrn=False,
        lr_from="small-paper"),
    # Protocol v2: the paper's input (where LRN's sum is not negligible next
    # to k) with Glorot weights, with which small trains within the budget.
    Arm("small-pixels", "small, the paper's input with Glorot weights, with LRN", regime="pixels",
        lr_grid=(0.001, 0.003, 0.01, 0.03)),
    Arm("small-pixels-nolrn", "small, the paper's input with Glorot weights, without LRN", regime="pixels",
        lrn=False, lr_from="small-pixels"),
    Arm("small-pool2", "small with 2x2/2 pooling", overlapping_pooling=False, lr_from="small"),
    Arm("small-2tower", "two towers (conv2, conv4, conv5 grouped)", net="small-2tower", lr_from="small"),
    Arm("small-1gpu", "one tower: half the kernels in conv1-conv4 (footnote 2)", net="small-1gpu",
        lr_from="small"),
    Arm("small-dropout", "dropout 0.5", images=1500, epochs=20, lr_from="small"),
    Arm("small-nodropout", "no dropout", dropout=0.0, images=1500, epochs=20, lr_from="small"),
    # Protocol v2 (REPRODUCTION.md, "Amendment"): v1's dropout regime did
    # not overfit; this one did in a pilot with the search seed.
    Arm("overfit-dropout", "dropout 0.5, 500 images", images=500, epochs=60, lr_from="small"),
    Arm("overfit-nodropout", "no dropout, 500 images", dropout=0.0, images=500, epochs=60, lr_from="small"),
)}

EXPERIMENTS = {e.name: e for e in (
    Experiment(
        "relu-vs-tanh", "ReLU against tanh (Figure 1)",
        "A four-layer convolutional net with ReLUs reaches 25% training error on CIFAR-10 six times faster "
        "than the same net with tanh; learning rates chosen for each to train as fast as possible; "
        "no regularization.",
        "6x (CIFAR-10)", "epochs_to_threshold",
        Comparison("fig1-relu", "fig1-tanh", "standardized input, Glorot-uniform weights"),
        (Comparison("fig1-paper-relu", "fig1-paper-tanh", "paper regime: 0-255 input minus the mean image, "
                                                            "N(0, 0.01) weights"),),
    ),
    Experiment(
        "lrn", "Local response normalization (Section 3.3)",
        "LRN reduces top-1 and top-5 error by 1.4% and 1.2% (ImageNet) and CIFAR-10 test error from 13% to 11%.",
        "-1.4 points top-1 (ImageNet); -2 points (CIFAR-10)", "test_error",
        Comparison("small-pixels", "small-pixels-nolrn", "pixels regime: 0-255 input minus the mean image, "
                                                         "Glorot-uniform weights (protocol v2)"),
        (Comparison("small", "small-nolrn", "standardized input, Glorot-uniform weights (the project's default)"),
         Comparison("small-paper", "small-paper-nolrn", "paper regime: 0-255 input minus the mean image, "
                                                        "N(0, 0.01) weights, biases 1 where the paper has them "
                                                        "(protocol v1: nothing trained)")),
    ),
    Experiment(
        "overlapping-pooling", "Overlapping pooling (Section 3.4)",
        "3x3 stride-2 pooling reduces top-1 and top-5 error by 0.4% and 0.3% against 2x2 stride 2.",
        "-0.4 points top-1 (ImageNet)", "test_error",
        Comparison("small", "small-pool2", "standardized input"),
    ),
    Experiment(
        "two-tower", "Two towers against the one-GPU net (Section 3.2)",
        "The two-GPU net has 1.7% / 1.2% lower top-1 / top-5 error than a net with half as many kernels in "
        "each convolutional layer but the last, trained on one GPU (footnote 2: about as many parameters).",
        "-1.7 points top-1 (ImageNet)", "test_error",
        Comparison("small-2tower", "small-1gpu", "standardized input"),
    ),
    Experiment(
        "dropout", "Dropout (Section 4.2)",
        "Without dropout the network exhibits substantial overfitting.",
        "substantial overfitting without dropout (no number)", "gap",
        Comparison("overfit-dropout", "overfit-nodropout", "standardized input, 500 images, 60 epochs "
                                                           "(protocol v2)"),
        (Comparison("small-dropout", "small-nodropout", "standardized input, 1,500 images, 20 epochs "
                                                        "(protocol v1: did not overfit)"),),
    ),
)}
NAMES = (*EXPERIMENTS, "all")

MEASURES = {  # name -> (words, unit)
    "epochs_to_threshold": ("speed-up: tanh's epochs to the threshold training error / ReLU's", "x"),
    "test_error": ("test error, idea minus control (points; negative: the idea helps)", "points"),
    "gap": ("validation error minus training error, idea minus control (points; negative: less overfitting)",
            "points"),
}


def arms_of(names) -> list[Arm]:
    """The distinct arms the experiments ``names`` need, in protocol order."""
    keys = []
    for name in names:
        experiment = EXPERIMENTS[name]
        for comparison in (experiment.primary, *experiment.secondary):
            for key in (comparison.idea, comparison.control):
                keys += [k for k in (ARMS[key].lr_from, key) if k and k not in keys]
    return [ARMS[k] for k in ARMS if k in keys]


def quick(arm: Arm) -> Arm:
    """``--quick``: the same arms at a smoke-test size (numbers meaningless)."""
    return replace(arm, images=256, epochs=2, lr_grid=arm.lr_grid[:2])


def describe(names, *, seeds, quick_run, data) -> dict:
    """Everything that fixes what the results mean, for ``protocol.json``:
    a rerun into the same folder with other values is refused."""
    arms = [quick(a) if quick_run else a for a in arms_of(names)]
    return {"data": data, "seeds": list(seeds), "search_seed": SEARCH_SEED, "quick": quick_run,
            "batch_size": BATCH_SIZE, "momentum": MOMENTUM, "validation_images": VALIDATION_IMAGES,
            "train_sample": TRAIN_SAMPLE, "search_share": SEARCH_SHARE,
            "arms": {a.key: a.describe() for a in arms}}
