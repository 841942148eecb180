"""The architectures, as data.

Each variant is a :class:`Variant`: five convolutions, the places where LRN
and pooling follow them, the fully connected widths, the initialization and
the input preprocessing. :func:`alexnet.AlexNet` turns one into a Keras model.
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
    """One convolution: ``filters`` kernels of ``kernel x kernel`` at ``stride``.

    ``padding`` is ``"valid"``, ``"same"`` or an int of explicit zero padding
    (torchvision's style); ``groups=2`` makes it a two-tower layer.
    """

    filters: int
    kernel: int
    stride: int = 1
    padding: str | int = "same"
    groups: int = 1
    bias_init: float = 0.0


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    convs: tuple[Conv, Conv, Conv, Conv, Conv]
    fc_units: tuple[int, int]
    default_input_shape: tuple[int, int, int]
    lrn: bool  # whether the variant has LRN after conv1 and conv2 by default
    pool_padding: str  # "valid" (paper) or "same" (keeps small maps even)
    fc_bias_init: float
    init: str  # "paper": N(0, 0.01) weights; otherwise a Keras initializer name
    preprocessing: dict
    adaptive_pool: tuple[int, int] | None = None  # torchvision's AdaptiveAvgPool2d
    dropout_before_fc: bool = False  # torchvision puts Dropout before fc6/fc7


PAPER = Variant(
    name="paper",
    description="The paper's two-tower network: conv2, conv4, conv5 grouped (2 towers).",
    convs=(
        Conv(96, 11, 4, "valid"),
        Conv(256, 5, groups=2, bias_init=1.0),
        Conv(384, 3),
        Conv(384, 3, groups=2, bias_init=1.0),
        Conv(256, 3, groups=2, bias_init=1.0),
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

SINGLE = Variant(
    name="single",
    description="The paper's widths as one tower: no grouped convolutions.",
    convs=(
        Conv(96, 11, 4, "valid"),
        Conv(256, 5, bias_init=1.0),
        Conv(384, 3),
        Conv(384, 3, bias_init=1.0),
        Conv(256, 3, bias_init=1.0),
    ),
    fc_units=(4096, 4096),
    default_input_shape=(227, 227, 3),
    lrn=True,
    pool_padding="valid",
    fc_bias_init=1.0,
    init="paper",
    preprocessing=dict(mean=IMAGENET_MEAN_RGB, std=(1.0,), scale=1.0),
)

OWT = Variant(
    name="owt",
    description="torchvision's AlexNet ('one weird trick'): 64/192/384/256/256, no LRN.",
    convs=(
        Conv(64, 11, 4, 2),
        Conv(192, 5),
        Conv(384, 3),
        Conv(256, 3),
        Conv(256, 3),
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
# object, and it cut the step time by about a third. Widths are the paper's
# 96/256/384/384/256 scaled by 1/2 for conv1 and 1/4 after it, and FC 4096 by
# 1/4: wide enough to reach 93% on Fashion-MNIST, narrow enough to train in
# minutes on two CPU cores. Keras'
# default initialization (Glorot-uniform weights, zero biases) replaces the
# paper's N(0, 0.01), which stalls a fresh net without hand-tuned learning
# rates; it is the same for ReLU and tanh so the ablations stay fair.
SMALL = Variant(
    name="small",
    description="The same five-conv/three-FC net sized for 28-32 px images.",
    convs=(
        Conv(48, 5),
        Conv(64, 3),
        Conv(96, 3),
        Conv(96, 3),
        Conv(64, 3),
    ),
    fc_units=(1024, 1024),
    default_input_shape=(28, 28, 1),
    lrn=True,
    pool_padding="same",
    fc_bias_init=0.0,
    init="glorot_uniform",
    # Overridden by training with the dataset's own mean and std.
    preprocessing=dict(mean=(127.5,), std=(127.5,), scale=1.0),
)


# Derived variants, for the paper's two-tower comparison (Section 3.2 and
# `alexnet reproduce two-tower`): the grouped two-tower net against one tower
# of half the kernels, which is what each of the paper's GPUs held.
GROUPED_CONVS = (1, 3, 4)  # conv2, conv4, conv5: the layers that see one tower only


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
    return replace(variant, name=name or f"{variant.name}-{towers}tower", convs=tuple(convs),
                   description=f"{variant.name} with conv2, conv4, conv5 in {towers} towers (grouped).")


def half_width(variant: Variant, name: str | None = None) -> Variant:
    """One tower of ``variant`` at half width: half the kernels in every
    convolution and half the units in fc6 and fc7, no grouping."""
    convs = tuple(replace(c, filters=max(1, c.filters // 2), groups=1) for c in variant.convs)
    return replace(variant, name=name or f"{variant.name}-half", convs=convs,
                   fc_units=tuple(max(1, u // 2) for u in variant.fc_units),
                   description=f"{variant.name} as one tower of half the kernels and FC units.")


SMALL_2TOWER = derive(SMALL, 2, name="small-2tower")
SMALL_HALF = half_width(SMALL, name="small-half")

VARIANTS = {v.name: v for v in (PAPER, SINGLE, OWT, SMALL, SMALL_2TOWER, SMALL_HALF)}


def feature_map_size(spec: Variant, size: int, overlapping_pooling: bool = True) -> int | None:
    """Spatial size after pool5 for an input of ``size`` pixels, or ``None``
    if some layer would receive less than its window (with ``"same"``
    pooling too: a 3x3 window over a 2x2 map pools mostly padding)."""
    pool = 3 if overlapping_pooling else 2

    def pool_out(n):
        if n < pool:
            return None
        return -(-n // 2) if spec.pool_padding == "same" else (n - pool) // 2 + 1

    for index, conv in enumerate(spec.convs, start=1):
        if isinstance(conv.padding, int):
            n_padded = size + 2 * conv.padding
            size = None if n_padded < conv.kernel else (n_padded - conv.kernel) // conv.stride + 1
        elif conv.padding == "valid":
            size = None if size < conv.kernel else (size - conv.kernel) // conv.stride + 1
        else:
            size = -(-size // conv.stride)
        if size is not None and index in (1, 2, 5):
            size = pool_out(size)
        if size is None or size < 1:
            return None
    return size


def minimum_input_size(spec: Variant, overlapping_pooling: bool = True) -> int:
    """The smallest square input ``spec`` accepts (see :func:`feature_map_size`)."""
    size = 1
    while feature_map_size(spec, size, overlapping_pooling) is None:
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
