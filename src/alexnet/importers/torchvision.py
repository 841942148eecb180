"""torchvision's AlexNet state dict -> the ``owt`` variant.

torchvision's ``alexnet`` (the published ``alexnet-owt-7be5be79.pth``, or
any state dict with the same keys) is::

    features.0   Conv2d(3, 64, 11, stride 4, padding 2)     -> conv1
    features.3   Conv2d(64, 192, 5, padding 2)               -> conv2
    features.6   Conv2d(192, 384, 3, padding 1)              -> conv3
    features.8   Conv2d(384, 256, 3, padding 1)              -> conv4
    features.10  Conv2d(256, 256, 3, padding 1)              -> conv5
    avgpool      AdaptiveAvgPool2d((6, 6))                   -> avgpool
    classifier.1 Linear(9216, 4096)                          -> fc6
    classifier.4 Linear(4096, 4096)                          -> fc7
    classifier.6 Linear(4096, classes)                       -> predictions

which is exactly the ``owt`` variant, whose ``preprocess`` layer already
applies torchvision's ``Normalize(mean, std)`` to 0-1 pixels. The number of
classes is read from ``classifier.6``.
"""

from __future__ import annotations

import numpy as np

from alexnet.errors import UserError
from alexnet.importers.common import check_tensors, conv_kernel, dense_kernel
from alexnet.importers.torch_file import read_state_dict

CONVS = {"conv1": "features.0", "conv2": "features.3", "conv3": "features.6",
         "conv4": "features.8", "conv5": "features.10"}
DENSES = {"fc6": "classifier.1", "fc7": "classifier.4", "predictions": "classifier.6"}


def import_torchvision(path, *, classifier_activation="softmax", input_shape=None, reader="builtin"):
    """A Keras ``owt`` AlexNet with the weights of a torchvision state dict.

    Args:
        path: a ``.pth`` (zip or legacy format), ``.safetensors`` or ``.npz``
            file with torchvision's AlexNet keys.
        classifier_activation: ``"softmax"`` (probabilities) or ``None``
            (logits, as torchvision's model returns).
        input_shape: the Keras model's input, default ``(224, 224, 3)``;
            the adaptive pooling makes the weights fit any size >= 63.
        reader: ``"builtin"`` (no PyTorch needed, runs no code from the file)
            or ``"torch"`` (``torch.load(weights_only=True)``).
    """
    from alexnet.model import AlexNet

    tensors = read_state_dict(path, reader=reader)
    classes = _classes(tensors)
    check_tensors(path, tensors, expected_shapes(classes))  # before building: errors come fast
    try:
        model = AlexNet(variant="owt", classes=classes, input_shape=input_shape,
                        classifier_activation=classifier_activation)
    except ValueError as error:
        raise UserError(str(error)) from None

    _, h, w, c = model.get_layer("flatten").input.shape
    for layer_name, key in CONVS.items():
        model.get_layer(layer_name).set_weights(
            [conv_kernel(tensors[f"{key}.weight"]), np.asarray(tensors[f"{key}.bias"], np.float32)]
        )
    for layer_name, key in DENSES.items():
        chw = (c, h, w) if layer_name == "fc6" else None
        model.get_layer(layer_name).set_weights(
            [dense_kernel(tensors[f"{key}.weight"], chw), np.asarray(tensors[f"{key}.bias"], np.float32)]
        )
    return model


def expected_shapes(classes=1000):
    """``{key: shape}`` of torchvision's AlexNet state dict, in order."""
    from alexnet.variants import get_variant

    net = get_variant("owt")
    shapes, channels = {}, 3
    for conv, key in zip(net.convs, CONVS.values()):
        shapes[f"{key}.weight"] = (conv.filters, channels // conv.groups, conv.kernel, conv.kernel)
        shapes[f"{key}.bias"] = (conv.filters,)
        channels = conv.filters
    rows, cols = net.adaptive_pool
    units = [channels * rows * cols, *net.fc_units, classes]
    for key, fan_in, fan_out in zip(DENSES.values(), units, units[1:]):
        shapes[f"{key}.weight"] = (fan_out, fan_in)
        shapes[f"{key}.bias"] = (fan_out,)
    return shapes


def _classes(tensors):
    weight = tensors.get("classifier.6.weight")
    if weight is not None and weight.ndim == 2 and weight.shape[0] >= 2:
        return int(weight.shape[0])
    return 1000  # the shape check then names the tensor
