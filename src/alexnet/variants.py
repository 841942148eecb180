"""The network, once: the variants as data and the layer sequence they make.

Each variant is a :class:`Variant`: five convolutions (each saying whether
LRN and max pooling follow it), the fully connected widths, the
initialization and the input preprocessing. :func:`layer_plan` walks a
variant into the named steps of Figure 2 of the paper (``conv1``, ``lrn1``,
``pool1``, ``conv2`` ... ``fc6``, ``drop6``, ``fc7``, ``drop7``,
``predictions``); :func:`alexnet.AlexNet`, the two-tower model
(:mod:`alexnet.towers`), the TF1 graph (:mod:`alexnet.compat.v1`) and the
ONNX importer build their layers from that one sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

ACTIVATIONS = ("relu", "tanh")  # the paper's ReLU and its tanh baseline

# Mean RGB of the ImageNet training set on the 0-255 scale (the numbers used
# by Caffe and torchvision alike), and torchvision's per-channel std.
IMAGENET_MEAN_RGB = (123.675, 116.28, 103.53)
IMAGENET_STD_RGB = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class Conv:
    """One convolution (with its activation): ``filters`` kernels of
    ``kernel x kernel`` at ``stride``, then LRN if ``lrn`` (and the model
    has LRN), then max pooling if ``pool``.

    ``padding`` is ``"valid"``, ``"same"`` or an int of explicit zero padding
    (torchvision's style); ``groups=2`` makes it a two-tower layer.
    """

    filters: int
    kernel: int
    stride: int = 1
    padding: str | int = "same"
    groups: int = 1
    bias_init: float = 0.0
    lrn: bool = False
    pool: bool = False

    @property
    def pad(self) -> int:
        """The zero padding on each side, as Caffe, ONNX and PyTorch state it."""
        if isinstance(self.padding, int):
            return self.padding
        if self.padding == "valid":
            return 0
        if self.stride != 1 or self.kernel % 2 == 0:
            raise ValueError(f"'same' padding of a {self.kernel}x{self.kernel}/{self.stride} convolution "
                             "is not the same on both sides.")
        return self.kernel // 2

    def output_size(self, n: int) -> int | None:
        """Output side for an input side ``n``; ``None`` if the kernel does not fit."""
        if self.padding == "same":
            return -(-n // self.stride)
        padded = n + 2 * self.pad
        return None if padded < self.kernel else (padded - self.kernel) // self.stride + 1


# The other steps of the network, as :func:`layer_plan` yields them.
@dataclass(frozen=True)
class LRN:
    """Local response normalization with the paper's constants
    (:class:`alexnet.layers.LocalResponseNormalization`'s defaults)."""


@dataclass(frozen=True)
class MaxPool:
    size: int  # 3 (overlapping, the paper) or 2
    stride: int
    padding: str  # "valid" or "same"

    def output_size(self, n: int) -> int | None:
        if n < self.size:  # with "same" too: a 3x3 window over a 2x2 map pools mostly padding
            return None
        return -(-n // self.stride) if self.padding == "same" else (n - self.size) // self.stride + 1


@dataclass(frozen=True)
class AdaptiveAvgPool:
    size: tuple[int, int]  # torchvision's AdaptiveAvgPool2d


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class Dropout:
    rate: float


@dataclass(frozen=True)
class FC:
    """A hidden fully connected layer (with its activation)."""

    units: int
    bias_init: float


@dataclass(frozen=True)
class Predictions:
    """The last layer: one unit per class, the classifier's own activation."""

    units: int


@dataclass(frozen=True)
class Variant:
    name: str
    convs: tuple[Conv, Conv, Conv, Conv, Conv]
    fc_units: tuple[int, int]
    default_input_shape: tuple[int, int, int]
    lrn: bool  # whether the LRN after the convs marked `lrn` is on by default
    pool_padding: str  # "valid" (paper) or "same" (keeps small maps even)
    fc_bias_init: float
    init: str  # "paper": N(0, 0.01) weights; otherwise a Keras initializer name
    preprocessing: dict
    adaptive_pool: tuple[int, int] | None = None  # torchvision's AdaptiveAvgPool2d
    dropout_before_fc: bool = False  # torchvision puts Dropout before fc6/fc7
    # The paper normalizes, then pools (Section 3.4); CaffeNet, Caffe's
    # reference AlexNet, pools first, which normalizes a quarter of the values.
    pool_before_lrn: bool = False


def layer_plan(net: Variant, *, lrn: bool | None = None, overlapping_pooling: bool = True,
               include_top: bool = True, dropout: float = 0.5, classes: int = 1000):
    """The network ``net`` describes, as ``(name, step)`` pairs in order.

    ``lrn=None`` takes the variant's default; ``dropout=0`` leaves the
    dropout steps out; without ``include_top`` the plan ends after pooling.
    """
    lrn = net.lrn if lrn is None else bool(lrn)
    pool = MaxPool(3 if overlapping_pooling else 2, 2, net.pool_padding)
    steps = []
    for index, conv in enumerate(net.convs, start=1):
        steps.append((f"conv{index}", conv))
        normalize = [(f"lrn{index}", LRN())] if conv.lrn and lrn else []
        downsample = [(f"pool{index}", pool)] if conv.pool else []
        steps += downsample + normalize if net.pool_before_lrn else normalize + downsample
    if net.adaptive_pool is not None:
        steps.append(("avgpool", AdaptiveAvgPool(net.adaptive_pool)))
    if not include_top:
        return tuple(steps)
    steps.append(("flatten", Flatten()))
    for index, units in zip((6, 7), net.fc_units):
        if dropout and net.dropout_before_fc:
            steps.append((f"drop{index}", Dropout(dropout)))
        steps.append((f"fc{index}", FC(units, net.fc_bias_init)))
        if dropout and not net.dropout_before_fc:
            steps.append((f"drop{index}", Dropout(dropout)))
    steps.append(("predictions", Predictions(classes)))
    return tuple(steps)


# The paper's network (Figure 2), two towers: conv2, conv4 and conv5 each
# see only their own tower's maps (grouped); conv3 and the FC layers see both.
PAPER = Variant(
    name="paper",
    convs=(
        Conv(96, 11, 4, "valid", lrn=True, pool=True),
        Conv(256, 5, groups=2, bias_init=1.0, lrn=True, pool=True),
        Conv(384, 3),
        Conv(384, 3, groups=2, bias_init=1.0),
        Conv(256, 3, groups=2, bias_init=1.0, pool=True),
    ),
    fc_units=(4096, 4096),
    default_input_shape=(227, 227, 3),
    lrn=True,
    pool_padding="valid",
    fc_bias_init=1.0,
    init="paper",
    # The paper subtracts the mean image; the per-channel mean is the
    # standard stand-in (Caffe, torchvision) and works at any crop size.
    preprocessing=dict(mean=IMAGENET_MEAN_RGB, std=(1.0,), scale=1.0),
)


def ungrouped(convs: tuple[Conv, ...]) -> tuple[Conv, ...]:
    """``convs`` as one tower: the same widths, no grouped convolutions."""
    return tuple(replace(conv, groups=1) for conv in convs)


# The paper's widths as one tower.
SINGLE = replace(PAPER, name="single", convs=ungrouped(PAPER.convs))

# torchvision's AlexNet ("one weird trick"): 64/192/384/256/256, no LRN by
# default, explicit conv1 padding, adaptive average pooling to 6x6 and
# dropout before fc6 and fc7.
OWT = Variant(
    name="owt",
    convs=(
        Conv(64, 11, 4, 2, lrn=True, pool=True),
        Conv(192, 5, lrn=True, pool=True),
        Conv(384, 3),
        Conv(256, 3),
        Conv(256, 3, pool=True),
    ),
    fc_units=(4096, 4096),
    default_input_shape=(224, 224, 3),
    lrn=False,
    pool_padding="valid",
    fc_bias_init=0.0,
    init="glorot_uniform",
    # torchvision: (x / 255 - mean) / std with ImageNet's mean and std.
    preprocessing=dict(
        mean=tuple(m / 255.0 for m in IMAGENET_MEAN_RGB),
        std=tuple(s / 255.0 for s in IMAGENET_STD_RGB),
        scale=1.0 / 255.0,
    ),
    adaptive_pool=(6, 6),
    dropout_before_fc=True,
)

# `small`: the same structure for 28-32 px images (Fashion-MNIST, CIFAR-10).
# At this size an 11x11/4 conv1 would throw the image away, so conv1 is 5x5
# stride 1 and pooling uses "same" padding (28 -> 14 -> 7 -> 4, 32 -> 16 ->
# 8 -> 4). conv2 is 3x3, not 5x5: on a 14x14 map it already sees most of the
# object. Widths are the paper's 96/256/384/384/256 divided by 3 and rounded
# to multiples of 32 (a 512-bit vector register holds 32 bfloat16 values),
# FC 4096 divided by 4: more kernels in conv2-conv5 bought accuracy in the
# default job, a narrow conv1 kept the cost of the largest maps down (the
# trials: BENCHMARKS.md, "Time to accuracy of the default job"). Keras'
# default initialization (Glorot-uniform weights, zero biases) replaces the
# paper's N(0, 0.01), which stalls a fresh net without hand-tuned learning
# rates; it is the same for ReLU and tanh so the ablations stay fair.
SMALL = Variant(
    name="small",
    convs=(
        Conv(32, 5, lrn=True, pool=True),
        Conv(96, 3, lrn=True, pool=True),
        Conv(128, 3),
        Conv(128, 3),
        Conv(96, 3, pool=True),
    ),
    fc_units=(1024, 1024),
    default_input_shape=(28, 28, 1),
    lrn=True,
    pool_padding="same",
    # Pooling before LRN (CaffeNet's order) normalizes 14x14 and 7x7 maps
    # instead of 28x28 and 14x14, a quarter of the values (LRN's share of a
    # step: BENCHMARKS.md, "Where a training step goes").
    pool_before_lrn=True,
    fc_bias_init=0.0,
    init="glorot_uniform",
    # Overridden by training with the dataset's own mean and std.
    preprocessing=dict(mean=(127.5,), std=(127.5,), scale=1.0),
)


# Derived variants, for the paper's two-tower comparison (Section 3.2 and
# `alexnet reproduce two-tower`): the grouped two-tower net against one tower
# of half the kernels, which is what each of the paper's GPUs held.
# conv2, conv4, conv5: the layers that see one tower only.
GROUPED_CONVS = tuple(index for index, conv in enumerate(PAPER.convs) if conv.groups > 1)


def derive(variant: Variant, towers: int = 2, name: str | None = None) -> Variant:
    """``variant`` with conv2, conv4 and conv5 split into ``towers`` groups
    (the paper's connectivity: conv3 and the FC layers see both towers)."""
    if towers < 1:
        raise ValueError(f"towers must be >= 1, got {towers}.")
    convs = list(variant.convs)
    for index in GROUPED_CONVS:
        conv = convs[index]
        previous = convs[index - 1].filters
        if conv.filters % towers or previous % towers:
            raise ValueError(f"conv{index + 1} of {variant.name!r} cannot be split into {towers} towers.")
        convs[index] = replace(conv, groups=towers)
    return replace(variant, name=name or f"{variant.name}-{towers}tower", convs=tuple(convs))


def half_width(variant: Variant, name: str | None = None) -> Variant:
    """One tower of ``variant`` at half width: half the kernels in every
    convolution and half the units in fc6 and fc7, no grouping."""
    convs = tuple(replace(c, filters=max(1, c.filters // 2)) for c in ungrouped(variant.convs))
    return replace(variant, name=name or f"{variant.name}-half", convs=convs,
                   fc_units=tuple(max(1, u // 2) for u in variant.fc_units))


def one_gpu(variant: Variant, name: str | None = None) -> Variant:
    """The paper's one-GPU net (its footnote 2): half the kernels in conv1 to
    conv4, no grouping, but conv5 and the FC layers at full width, "to make
    the two nets have approximately the same number of parameters" (most of
    them are in fc6, which reads conv5)."""
    convs = tuple(replace(c, filters=max(1, c.filters // 2)) if index < 4 else c
                  for index, c in enumerate(ungrouped(variant.convs)))
    return replace(variant, name=name or f"{variant.name}-1gpu", convs=convs)


SMALL_2TOWER = derive(SMALL, 2, name="small-2tower")
SMALL_HALF = half_width(SMALL, name="small-half")
SMALL_1GPU = one_gpu(SMALL, name="small-1gpu")

VARIANTS = {v.name: v for v in (PAPER, SINGLE, OWT, SMALL, SMALL_2TOWER, SMALL_HALF, SMALL_1GPU)}


def feature_map_size(net: Variant, size: int, overlapping_pooling: bool = True) -> int | None:
    """Spatial size after pool5 for an input of ``size`` pixels, or ``None``
    if some layer would receive less than its window."""
    for _, step in layer_plan(net, overlapping_pooling=overlapping_pooling, include_top=False):
        if isinstance(step, (Conv, MaxPool)):
            size = step.output_size(size)
            if size is None or size < 1:
                return None
    return size


def minimum_input_size(net: Variant, overlapping_pooling: bool = True) -> int:
    """The smallest square input ``net`` accepts (see :func:`feature_map_size`)."""
    size = 1
    while feature_map_size(net, size, overlapping_pooling) is None:
        size += 1
    return size


def base_variant(variant) -> str:
    """The table a variant was derived from, by name (``small-half`` -> ``small``)."""
    name = variant.name if isinstance(variant, Variant) else str(variant)
    return name.split("-", 1)[0]


def get_variant(name) -> Variant:
    """A variant by name, or ``name`` itself when it already is a :class:`Variant`."""
    if isinstance(name, Variant):
        return name
    try:
        return VARIANTS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown variant {name!r}; choose one of {sorted(VARIANTS)}."
        ) from None
