"""A PyTorch twin of ``alexnet.AlexNet`` for side-by-side benchmarks.

The twin is built from the same :func:`alexnet.variants.layer_plan`, so
it has exactly the Keras model's layers: the ``preprocess`` scaling, grouped
convolutions (``groups=2`` for the paper's towers), LRN, TensorFlow-style
"same" max pooling for ``small``, dropout and the three dense layers. It
outputs logits (build the Keras model with ``classifier_activation=None``
to compare).

LRN: ``torch.nn.LocalResponseNorm(size, alpha, beta, k)`` divides ``alpha``
by ``size``, while :class:`alexnet.layers.LocalResponseNormalization` takes
TensorFlow's per-element ``alpha``; the twin therefore uses
``alpha * size`` (the paper's layer is ``LocalResponseNorm(5, 5e-4, 0.75,
2.0)``).

:func:`copy_keras_weights` moves a Keras model's weights into the twin and
:func:`compare_outputs` checks that both compute the same function.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alexnet.variants import LRN, Conv, MaxPool, get_variant, layer_plan


class Preprocess(nn.Module):
    """``(x * scale - mean) / std`` per channel on raw 0-255 NCHW pixels."""

    def __init__(self, mean, std, scale=1.0):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.scale = float(scale)

    def forward(self, x):
        return (x * self.scale - self.mean) / self.std


class SamePadMaxPool(nn.Module):
    """TensorFlow's ``padding="same"`` max pooling: the output has
    ``ceil(n / stride)`` cells and the extra padding goes at the end."""

    def __init__(self, size, stride):
        super().__init__()
        self.size, self.stride = size, stride

    def _pads(self, n):
        out = math.ceil(n / self.stride)
        total = max((out - 1) * self.stride + self.size - n, 0)
        return total // 2, total - total // 2

    def forward(self, x):
        top, bottom = self._pads(x.shape[-2])
        left, right = self._pads(x.shape[-1])
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(x, self.size, self.stride)


def lrn(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75):
    """The Keras layer's defaults as torch's LRN: window ``2r+1`` and
    ``alpha`` multiplied by the window size."""
    size = 2 * depth_radius + 1
    return nn.LocalResponseNorm(size, alpha=alpha * size, beta=beta, k=bias)


def _pool(step: MaxPool):
    if step.padding == "same":
        return SamePadMaxPool(step.size, step.stride)
    return nn.MaxPool2d(step.size, step.stride)


class AlexNetTwin(nn.Module):
    def __init__(self, variant="paper", input_shape=None, classes=None, dropout=0.5):
        super().__init__()
        spec = get_variant(variant)
        if spec.adaptive_pool is not None:
            raise ValueError("the twin covers paper, single and small (not owt)")
        height, width, channels = input_shape or spec.default_input_shape
        classes = classes or (10 if variant == "small" else 1000)
        self.variant = variant
        p = spec.preprocessing
        self.preprocess = Preprocess(p["mean"], p["std"], p.get("scale", 1.0))
        layers = []
        in_channels = channels
        for _, step in layer_plan(spec, include_top=False):
            if isinstance(step, Conv):
                layers.append(nn.Conv2d(in_channels, step.filters, step.kernel, step.stride, step.pad,
                                        groups=step.groups))
                layers.append(nn.ReLU(inplace=True))
                in_channels = step.filters
            elif isinstance(step, LRN):
                layers.append(lrn())
            elif isinstance(step, MaxPool):
                layers.append(_pool(step))
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            flat = self.features(torch.zeros(1, channels, height, width)).numel()
        fc6, fc7 = spec.fc_units
        self.classifier = nn.Sequential(
            nn.Linear(flat, fc6), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc6, fc7), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc7, classes),
        )

    def forward(self, x):
        x = self.features(self.preprocess(x))
        # Keras flattens channels-last; permute so that fc6's weights match.
        x = torch.flatten(x.permute(0, 2, 3, 1), 1)
        return self.classifier(x)


def copy_keras_weights(keras_model, twin: AlexNetTwin):
    """Copies conv1..conv5, fc6, fc7 and predictions from Keras (HWIO
    kernels, (in, out) dense kernels) into the twin (OIHW, (out, in))."""
    convs = [m for m in twin.features if isinstance(m, nn.Conv2d)]
    dense = [m for m in twin.classifier if isinstance(m, nn.Linear)]
    names = [f"conv{i}" for i in range(1, 6)]
    with torch.no_grad():
        for name, module in zip(names, convs):
            kernel, bias = keras_model.get_layer(name).get_weights()
            module.weight.copy_(torch.from_numpy(np.transpose(kernel, (3, 2, 0, 1)).copy()))
            module.bias.copy_(torch.from_numpy(bias))
        for name, module in zip(("fc6", "fc7", "predictions"), dense):
            kernel, bias = keras_model.get_layer(name).get_weights()
            module.weight.copy_(torch.from_numpy(kernel.T.copy()))
            module.bias.copy_(torch.from_numpy(bias))


def compare_outputs(variant: str, batch: int = 2, seed: int = 0) -> dict:
    """Builds the Keras model and the twin with the same weights and
    returns the largest absolute and relative differences of their logits
    on random 0-255 images (float32, inference mode)."""
    import alexnet

    spec = get_variant(variant)
    classes = 10 if variant == "small" else 1000
    model = alexnet.AlexNet(variant=variant, classes=classes, classifier_activation=None)
    twin = AlexNetTwin(variant, classes=classes).eval()
    copy_keras_weights(model, twin)
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (batch, *spec.default_input_shape)).astype(np.float32)
    ours = np.asarray(model(images, training=False))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()).numpy()
    difference = np.abs(ours - theirs)
    scale = max(float(np.abs(theirs).max()), 1e-12)
    return {
        "variant": variant,
        "max_abs_diff": float(difference.max()),
        "max_rel_diff": float(difference.max() / scale),
        "same_top1": bool((ours.argmax(-1) == theirs.argmax(-1)).all()),
    }
