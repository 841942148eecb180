"""``AlexNet(...)``: builds any variant as a Keras functional model.

In the style of ``keras.applications``: every layer is named (``conv1`` ..
``conv5``, ``lrn1``, ``lrn2``, ``pool1``, ``pool2``, ``pool5``, ``fc6``,
``fc7``, ``predictions``), the input takes raw pixels 0-255 and the model's
first layer (``preprocess``) scales them, and ``include_top``/``pooling``
turn it into a feature extractor.
"""

from __future__ import annotations

import os

import keras

from alexnet.layers import (
    AdaptiveAveragePooling2D,
    GroupedConv2D,
    LocalResponseNormalization,
    Preprocess,
    _as_sequence,
)
from alexnet.variants import (  # noqa: F401
    ACTIVATIONS,
    FC,
    LRN,
    AdaptiveAvgPool,
    Conv,
    Dropout,
    Flatten,
    MaxPool,
    Predictions,
    Variant,
    feature_map_size,
    get_variant,
    layer_plan,
    minimum_input_size,
)

# Every layer is told its layout: the model is channels-last (as its
# preprocessing, LRN and weight files are) whatever
# keras.config.image_data_format() says.
CHANNELS_LAST = "channels_last"
POOLINGS = (None, "avg", "max")


def AlexNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    *,
    variant="paper",
    activation="relu",
    lrn=None,
    overlapping_pooling=True,
    dropout=0.5,
    preprocessing=None,
):
    """Builds an AlexNet.

    Args:
        include_top: keep ``fc6``, ``fc7`` and ``predictions``.
        weights: ``None`` (random initialization) or the path of a ``.keras``
            or ``.weights.h5`` file whose weights match this architecture.
            Nothing is ever downloaded: pretrained files are made with
            ``alexnet import-weights``.
        input_tensor: optional Keras tensor (the output of ``keras.Input``
            or of layers applied to one) to build the model on; as in
            ``keras.applications``, the model's inputs are then that
            tensor's source inputs, and the layers that made it belong to
            the model.
        input_shape: ``(height, width, channels)``; the variant's default
            (``paper``/``single`` 227x227x3, ``owt`` 224x224x3, ``small``
            28x28x1) when omitted.
        pooling: with ``include_top=False``: ``None`` (the pool5 feature
            map), ``"avg"`` or ``"max"`` (global pooling to a vector).
        classes: number of classes, at least 2.
        classifier_activation: activation of ``predictions``; ``None`` gives
            logits. The layer always computes in float32.
        name: the model's name (default ``alexnet_<variant>``).
        variant: ``"paper"``, ``"single"``, ``"owt"`` or ``"small"``
            (see ``alexnet.variants``).
        activation: ``"relu"`` (the paper) or ``"tanh"`` (its baseline).
        lrn: local response normalization after conv1 and conv2; ``None``
            takes the variant's default (on, except ``owt``).
        overlapping_pooling: 3x3 stride-2 pooling (the paper) if true, else
            2x2 stride 2, which gives the same output size.
        dropout: rate for the dropout around fc6 and fc7, in [0, 1); 0
            removes those layers.
        preprocessing: ``dict(mean=..., std=..., scale=..., channel_order=...)``
            for the ``preprocess`` layer; ``None`` takes the variant's.
    """
    net = get_variant(variant)
    check_arguments(activation=activation, classes=classes, dropout=dropout)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
    if weights is not None and not (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights)):
        raise ValueError(
            "weights must be None or the path of an existing .keras or .weights.h5 "
            f"file (nothing is downloaded; see `alexnet import-weights`), got {weights!r}."
        )
    preprocessing = dict(net.preprocessing if preprocessing is None else preprocessing)

    if input_tensor is not None and input_shape is None:
        input_shape = tuple(input_tensor.shape[1:])
    input_shape = tuple(net.default_input_shape if input_shape is None else input_shape)
    check_input_shape(net, input_shape, preprocessing, include_top, overlapping_pooling)

    if input_tensor is None:
        inputs = keras.Input(shape=input_shape, name="image")
    elif keras.backend.is_keras_tensor(input_tensor):
        inputs = input_tensor
    else:
        inputs = keras.Input(tensor=input_tensor, shape=input_shape, name="image")

    x = Preprocess(**preprocessing, name="preprocess")(inputs)
    plan = layer_plan(net, lrn=lrn, overlapping_pooling=overlapping_pooling, include_top=include_top,
                      dropout=dropout, classes=classes)
    for step_name, step in plan:
        x = _apply(x, step_name, step, net, activation, classifier_activation)
    if not include_top and pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(data_format=CHANNELS_LAST, name="avg_pool")(x)
    elif not include_top and pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(data_format=CHANNELS_LAST, name="max_pool")(x)

    if input_tensor is not None:  # keras.applications' convention
        sources = keras.utils.get_source_inputs(input_tensor)
        inputs = sources[0] if len(sources) == 1 else sources
    model = keras.Model(inputs, x, name=name or f"alexnet_{net.name}")
    if weights is not None:
        _load_weights(model, os.fspath(weights))
    return model


def check_arguments(*, activation, classes, dropout):
    """Refuses the arguments that :func:`AlexNet` and the two-tower model share."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}.")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout!r}.")


def kernel_initializer(net: Variant):
    """A new initializer for ``net``'s weights: the paper's N(0, 0.01) or a Keras one by name."""
    if net.init == "paper":
        return keras.initializers.RandomNormal(stddev=0.01)
    return keras.initializers.get(net.init)


def _apply(x, name, step, net: Variant, activation, classifier_activation):
    """``x`` through the Keras layer for one step of :func:`layer_plan`."""
    match step:
        case Conv():
            padding = step.padding
            if isinstance(padding, int):  # torchvision's explicit padding
                x = keras.layers.ZeroPadding2D(padding, data_format=CHANNELS_LAST, name=f"{name}_pad")(x)
                padding = "valid"
            return GroupedConv2D(
                step.filters,
                step.kernel,
                strides=step.stride,
                padding=padding,
                groups=step.groups,
                data_format=CHANNELS_LAST,
                activation=activation,
                kernel_initializer=kernel_initializer(net),
                bias_initializer=keras.initializers.Constant(step.bias_init),
                name=name,
            )(x)
        case LRN():
            return LocalResponseNormalization(name=name)(x)
        case MaxPool():
            return keras.layers.MaxPooling2D(step.size, step.stride, padding=step.padding,
                                             data_format=CHANNELS_LAST, name=name)(x)
        case AdaptiveAvgPool():
            return AdaptiveAveragePooling2D(step.size, name=name)(x)
        case Flatten():
            return keras.layers.Flatten(data_format=CHANNELS_LAST, name=name)(x)
        case Dropout():
            return keras.layers.Dropout(step.rate, name=name)(x)
        case FC():
            return keras.layers.Dense(
                step.units,
                activation=activation,
                kernel_initializer=kernel_initializer(net),
                bias_initializer=keras.initializers.Constant(step.bias_init),
                name=name,
            )(x)
        case Predictions():
            return keras.layers.Dense(
                step.units,
                activation=classifier_activation,
                kernel_initializer=kernel_initializer(net),
                dtype="float32",  # whatever the mixed-precision policy
                name=name,
            )(x)
    raise TypeError(f"Unknown step {name}: {step!r}")


def check_input_shape(net, input_shape, preprocessing, include_top, overlapping_pooling):
    """Refuses an input shape that ``net`` cannot take, naming the smallest it can."""
    if len(input_shape) != 3:
        raise ValueError(
            f"input_shape must be (height, width, channels), got {input_shape!r}."
        )
    height, width, channels = input_shape
    if channels is None or channels < 1:
        raise ValueError(f"input_shape needs a known channel count >= 1, got {input_shape!r}.")
    expected = max(len(_as_sequence("mean", preprocessing.get("mean", 0.0))),
                   len(_as_sequence("std", preprocessing.get("std", 1.0))))
    if expected > 1 and channels != expected:
        raise ValueError(
            f"Variant {net.name!r} expects {expected} input channels (its "
            f"preprocessing has {expected} per-channel values), got input_shape "
            f"{input_shape!r}; pass `preprocessing=` to use other channels."
        )
    for side in (height, width):
        if side is None:
            if include_top and net.adaptive_pool is None:
                raise ValueError(
                    f"include_top=True needs a fixed input size for variant "
                    f"{net.name!r}, got input_shape {input_shape!r}."
                )
            continue
        if feature_map_size(net, side, overlapping_pooling) is None:
            raise ValueError(
                f"Input {height}x{width} is too small for variant {net.name!r}: "
                f"it needs at least {minimum_input_size(net, overlapping_pooling)} "
                f"pixels per side, got input_shape {input_shape!r}."
            )


def _load_weights(model, path):
    if path.endswith(".keras"):
        source = keras.saving.load_model(path, compile=False, safe_mode=True)
        try:
            model.set_weights(source.get_weights())
        except ValueError as error:
            raise ValueError(f"Weights in {path!r} do not fit this architecture: {error}") from None
    else:
        model.load_weights(path)


def float32_copy(model):
    """An uncompiled copy of ``model`` with every layer computing in float32
    (whatever the mixed-precision policy it was built under) and the same
    weights."""
    config = model.get_config()
    for layer in config["layers"]:
        if "dtype" in layer["config"]:
            layer["config"]["dtype"] = "float32"
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy
