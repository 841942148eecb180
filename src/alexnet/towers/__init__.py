"""The paper's two-GPU model parallelism (Section 3.2), placed with TensorFlow.

``TwoTowerAlexNet(devices=("/GPU:0", "/GPU:1"))`` builds the ``paper``
variant as the paper ran it: every layer's kernels are split in half, tower
1's half is stored and computed on the first device and tower 2's on the
second, and the towers exchange activations only where the paper has them
talk:

- conv1: each tower's 48 kernels see the whole image;
- conv2, conv4, conv5: each tower sees only its own tower's maps (the grouped
  convolutions of the single-device model);
- conv3, fc6, fc7: each tower's half reads *both* towers' outputs (the
  exchange), and the final layer (on the first device) reads both towers' fc7;
- LRN, pooling and dropout stay within their tower.

Placement is plain ``tf.device`` on each tower's ops and variables; the
transfers between the devices are the ones TensorFlow inserts for a tensor
that one device produces and the other consumes. Training steps compute
their gradients with ``tf.gradients``, which places every gradient op beside
its forward op (``tf.GradientTape`` would leave them all on the first
device), so the backward pass is split the same way, and the optimizer's
update of each variable runs on that variable's device (:func:`beside_inputs`).

Weights have the ``paper`` model's layout. The per-tower variables
(``conv1/tower1_kernel``, ``conv1/tower2_kernel`` ...) are saved as one
kernel and one bias per layer, in the single-device shapes, and the layer
classes carry the single-device classes' names (``GroupedConv2D``,
``Dense``, ...), because Keras keys a weights file by class name: a
``.weights.h5`` or ``.keras`` file moves between ``TwoTowerAlexNet`` and
``AlexNet(variant="paper")`` with ``load_weights`` either way, and
:func:`copy_weights` copies between two models in memory. Optimizer state does
not move (it has one slot per variable).

One difference from ``AlexNet(variant="paper")`` is on purpose: that model
normalizes LRN across all 96 (256) channels, so channels next to the tower
boundary see a few of the other tower's channels, while the paper's GPUs each
normalized their own. Here LRN stays within each tower, and the exact
single-device equivalent is the ``paper`` model with
``LocalResponseNormalization(groups=2)``, which :func:`single_device_model`
builds (the model a two-tower run exports).

Without a placement (``devices=None`` outside :func:`placement`), the same
model runs on one device; a saved model does not record its devices, so it
loads anywhere and runs split when loaded inside ``placement(...)``.

The layers are in :mod:`alexnet.towers.layers`, the training step in
:mod:`alexnet.towers.step`; this module builds the model from
:func:`alexnet.variants.layer_plan` and converts to and from the
single-device model.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from alexnet import variants
from alexnet.backend import require_tensorflow
from alexnet.layers import Preprocess
from alexnet.towers.layers import (
    TOWERS,
    Dense,
    Dropout,
    GroupedConv2D,
    LocalResponseNormalization,
    MaxPooling2D,
    _Towers,
    current_placement,
    placement,
)
from alexnet.towers.step import TwoTowerModel, beside_inputs, colocated_gradients
from alexnet.variants import get_variant, layer_plan

__all__ = [
    "TOWERS", "placement", "current_placement",
    "GroupedConv2D", "Dense", "LocalResponseNormalization", "MaxPooling2D", "Dropout",
    "TwoTowerModel", "colocated_gradients", "beside_inputs",
    "TwoTowerAlexNet", "is_two_tower", "copy_weights", "single_device_weights", "single_device_model",
    "with_tower_lrn",
]


def TwoTowerAlexNet(
    input_shape=None,
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
    devices=None,
):
    """The ``paper`` variant as two towers; tower ``t`` on ``devices[t]``
    (default: the current :func:`placement`, else unplaced). Arguments as in
    :func:`alexnet.AlexNet`, which it equals in function (up to LRN at the
    tower boundary, see the module docstring) and in weight layout."""
    from alexnet.model import check_arguments, check_input_shape, kernel_initializer

    require_tensorflow("The two-tower model (tf.device placement per tower)")
    if variant != "paper":
        raise ValueError(f"Only the paper variant has two towers, got variant {variant!r}.")
    net = get_variant(variant)
    check_arguments(activation=activation, classes=classes, dropout=dropout)
    preprocessing = dict(net.preprocessing if preprocessing is None else preprocessing)
    input_shape = tuple(net.default_input_shape if input_shape is None else input_shape)
    check_input_shape(net, input_shape, preprocessing, True, overlapping_pooling)
    init = kernel_initializer(net)
    plan = layer_plan(net, lrn=lrn, overlapping_pooling=overlapping_pooling, dropout=dropout, classes=classes)

    with placement(devices) if devices is not None else contextlib.nullcontext():
        inputs = keras.Input(shape=input_shape, name="image")
        x = Preprocess(**preprocessing, name="preprocess")(inputs)
        for step_name, step in plan:
            match step:
                case variants.Conv():
                    x = GroupedConv2D(
                        step.filters, step.kernel, strides=step.stride, padding=step.padding, groups=step.groups,
                        activation=activation, kernel_initializer=init,
                        bias_initializer=keras.initializers.Constant(step.bias_init), name=step_name,
                    )(x)
                case variants.LRN():
                    x = LocalResponseNormalization(name=step_name)(x)
                case variants.MaxPool():
                    x = MaxPooling2D(step.size, step.stride, padding=step.padding, data_format="channels_last",
                                     name=step_name)(x)
                case variants.Flatten():
                    pass  # the tower Dense layers flatten the towers' maps themselves
                case variants.FC():
                    x = Dense(step.units, activation=activation, kernel_initializer=init,
                              bias_initializer=keras.initializers.Constant(step.bias_init), name=step_name)(x)
                case variants.Dropout():
                    x = Dropout(step.rate, name=step_name)(x)
                case variants.Predictions():
                    x = Dense(step.units, activation=classifier_activation, kernel_initializer=init, split=False,
                              dtype="float32", name=step_name)(x)
                case _:
                    raise ValueError(f"The two-tower model has no {step_name} ({step!r}).")
        outputs = x
    return TwoTowerModel(inputs, outputs, name=name or f"alexnet_{net.name}_two_tower")


def is_two_tower(model) -> bool:
    return any(isinstance(layer, _Towers) for layer in model.layers)


def copy_weights(source, target):
    """Copies weights between layers of the same name (a two-tower model and
    a ``paper`` model, either way, or two of a kind) in the single-device
    layout. Returns ``target``."""
    for layer in source.layers:
        if not layer.weights:
            continue
        store = {}
        layer.save_own_variables(store)
        target.get_layer(layer.name).load_own_variables(store)
    return target


def single_device_weights(model):
    """``{layer name: [kernel, bias]}`` in the single-device layout."""
    result = {}
    for layer in model.layers:
        if layer.weights:
            store = {}
            layer.save_own_variables(store)
            result[layer.name] = [np.asarray(store[str(i)]) for i in range(len(store))]
    return result


def single_device_model(model):
    """The one-device model that computes exactly what the two-tower
    ``model`` computes: ``AlexNet(variant="paper", ...)`` with the same
    settings and weights, and LRN kept within each tower (``groups=2``)."""
    from alexnet.model import AlexNet

    def config_of(name):
        return model.get_layer(name).get_config()

    names = {layer.name for layer in model.layers}
    predictions = config_of("predictions")
    plain = AlexNet(
        input_shape=tuple(model.input_shape[1:]),
        classes=predictions["units"],
        classifier_activation=predictions["activation"],
        variant="paper",
        activation=config_of("conv1")["activation"],
        lrn="lrn1" in names,
        overlapping_pooling=tuple(config_of("pool1")["pool_size"]) == (3, 3),
        dropout=config_of("drop6")["rate"] if "drop6" in names else 0.0,
        preprocessing={k: v for k, v in config_of("preprocess").items()
                       if k in ("mean", "std", "scale", "channel_order")},
        name=model.name.removesuffix("_two_tower"),
    )
    return copy_weights(model, with_tower_lrn(plain))


def with_tower_lrn(model):
    """A copy of a single-device ``paper`` model (same weights) whose LRN
    layers normalize within each tower, as the paper's GPUs did."""
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "LocalResponseNormalization":
            layer["config"]["groups"] = TOWERS
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy
