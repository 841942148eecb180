"""Custom Keras layers: local response normalization, the two-tower
convolution, torchvision's adaptive average pooling and in-model input
preprocessing.

Every operation goes through ``keras.ops``, so the layers (and the model
built from them) run on TensorFlow, JAX and PyTorch, and a model saved under
one backend loads under the others. Every layer is registered for
serialization under the package name ``alexnet``, so a saved ``.keras`` file
loads with ``keras.saving.load_model`` once ``alexnet`` is imported, in
Keras' safe mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

PACKAGE = "alexnet"


def _check_number(name, value, *, minimum=None, strictly=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if minimum is not None:
        bad = value <= minimum if strictly else value < minimum
        if bad or math.isnan(value):
            relation = ">" if strictly else ">="
            raise ValueError(f"{name} must be {relation} {minimum}, got {value!r}.")
    return value


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalization across channels (paper, Section 3.3).

    ``b[c] = a[c] / (bias + alpha * sum(a[j]**2 for |j - c| <= depth_radius)) ** beta``

    The sum runs over the channels that exist: at the borders the window is
    cut, not padded. Parameters follow TensorFlow's convention
    (``tf.nn.local_response_normalization``): ``alpha`` multiplies each squared
    element and ``depth_radius`` is the half-width of the window. The paper's
    ``k=2, n=5, alpha=1e-4, beta=0.75`` is therefore the default
    ``depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75``.

    Caffe, PyTorch and cuda-convnet divide ``alpha`` by the window size ``n``:
    their ``alpha=1e-4`` is this layer's ``alpha=2e-5``. Build from their
    numbers with :meth:`from_caffe` or :meth:`from_torch`, never by copying
    ``alpha`` across.

    The windowed sum of squares is one matrix product with a banded 0/1
    matrix, and the power is ``exp(-beta * log(.))``: on a CPU with oneDNN
    its forward and backward pass ran about 2x faster than TensorFlow's LRN
    kernels (``tf.nn.local_response_normalization``, which the tests use as
    the reference), where the LRN gradient dominated a small network's
    training step; it is also plain ``keras.ops``, so every backend runs it.

    Mixed precision: the computation is always in ``float32`` (the sum of
    squares and the power are where half precision loses accuracy) and the
    result is cast back: the output dtype is the input's. Integer input is
    computed in float32 and gives float32. Input is channels-last.

    ``bias=0`` is accepted, as by TensorFlow's op: an output whose window
    holds only zeros is then ``0 / 0``, NaN (as in TensorFlow).

    ``groups`` (default 1) splits the channels into that many equal groups and
    keeps every window inside its group: ``groups=2`` is the paper's LRN on two
    GPUs, where each tower normalizes only its own kernels' outputs.
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, groups=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be an integer >= 1, got {groups!r}.")
        self.groups = groups
        if isinstance(depth_radius, bool) or not isinstance(depth_radius, int) or depth_radius < 0:
            raise ValueError(
                f"depth_radius must be an integer >= 0, got {depth_radius!r}."
            )
        self.depth_radius = depth_radius
        # bias=0 is allowed, as TensorFlow's op allows it (the exercise's own
        # example uses it); a window of zeros then gives 0/0 = NaN, as there.
        self.bias = float(_check_number("bias", bias, minimum=0.0))
        self.alpha = float(_check_number("alpha", alpha, minimum=0.0))
        self.beta = float(_check_number("beta", beta, minimum=0.0))

    @classmethod
    def from_caffe(cls, local_size=5, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        """Build from Caffe's (or cuda-convnet's) LRN parameters.

        Caffe's ``ACROSS_CHANNELS`` LRN computes
        ``a / (k + alpha / local_size * sum(a**2)) ** beta`` over a centred
        window of ``local_size`` channels, so ``alpha`` is divided by the
        window size here.
        """
        return cls(**_from_window_convention("local_size", local_size, alpha, beta, k), **kwargs)

    @classmethod
    def from_torch(cls, size=5, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        """Build from ``torch.nn.LocalResponseNorm(size, alpha, beta, k)``.

        PyTorch, like Caffe, divides ``alpha`` by ``size``. Only odd sizes
        are accepted: for an even size PyTorch's window is not centred, which
        TensorFlow's op cannot express.
        """
        return cls(**_from_window_convention("size", size, alpha, beta, k), **kwargs)

    @classmethod
    def from_config(cls, config):
        # Files saved before the layer lost its `implementation` option carry
        # "matmul" or "tf"; both computed this function.
        config = {key: value for key, value in config.items() if key != "implementation"}
        return super().from_config(config)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"LocalResponseNormalization needs a known channel count, got {tuple(input_shape)!r}."
            )
        if channels % self.groups:
            raise ValueError(f"groups={self.groups} does not divide the {channels} input channels.")
        index = np.arange(channels)
        # window[j, c] = 1 where channel j is inside channel c's window.
        group = index // (channels // self.groups)
        near = np.abs(index[:, None] - index[None, :]) <= self.depth_radius
        self._window = (near & (group[:, None] == group[None, :])).astype(np.float32)

    def call(self, inputs):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if not keras.backend.is_float_dtype(dtype):  # e.g. the exercise's np.arange(60)
            dtype = "float32"
        x = ops.cast(inputs, "float32")
        channels = x.shape[-1]
        window = ops.convert_to_tensor(self._window)  # (channels, channels)
        sum_sq = ops.matmul(ops.reshape(ops.square(x), (-1, channels)), window)
        scale = self.bias + self.alpha * ops.reshape(sum_sq, ops.shape(x))
        y = x * ops.exp(-self.beta * ops.log(scale))
        return ops.cast(y, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            depth_radius=self.depth_radius,
            bias=self.bias,
            alpha=self.alpha,
            beta=self.beta,
        )
        if self.groups != 1:  # absent by default, so existing configs are unchanged
            config["groups"] = self.groups
        return config


def _from_window_convention(size_name, size, alpha, beta, k):
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(
            f"{size_name} must be a positive odd integer (a centred window), got {size!r}."
        )
    alpha = _check_number("alpha", alpha, minimum=0.0)
    return dict(depth_radius=(size - 1) // 2, bias=k, alpha=alpha / size, beta=beta)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GroupedConv2D(keras.layers.Conv2D):
    """A ``Conv2D`` whose groups are computed as separate convolutions.

    This is the paper's two-GPU layout inside one layer: with ``groups=2``
    the first half of the input channels (tower 1) is convolved with the first
    half of the kernels, the second half with the second half, and the two
    results are concatenated. Weights have exactly the shape and layout of
    ``keras.layers.Conv2D(..., groups=groups)``, so weights move freely
    between the two. The reason for the split is speed: TensorFlow's grouped
    convolution on CPU (oneDNN) ran a forward and backward pass about 35 times
    slower than two plain convolutions on the split channels.
    """

    def convolution_op(self, inputs, kernel):
        if self.groups == 1:
            return super().convolution_op(inputs, kernel)
        channel_axis = -1 if self.data_format == "channels_last" else 1
        towers_in = ops.split(inputs, self.groups, axis=channel_axis)
        towers_kernel = ops.split(kernel, self.groups, axis=-1)
        towers_out = [
            super(GroupedConv2D, self).convolution_op(x, k)
            for x, k in zip(towers_in, towers_kernel)
        ]
        return ops.concatenate(towers_out, axis=channel_axis)


@keras.saving.register_keras_serializable(package=PACKAGE)
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """``torch.nn.AdaptiveAvgPool2d`` for channels-last tensors.

    Output cell ``i`` averages input rows ``floor(i*H/out)`` to
    ``ceil((i+1)*H/out) - 1`` (and likewise for columns), exactly as PyTorch
    does, so torchvision's AlexNet gives the same numbers at any input size.
    The spatial size must be known when the model is built.

    Keras 3.13 added a public ``keras.layers.AdaptiveAveragePooling2D``; this
    package supports Keras from 3.8 (see pyproject.toml), so it keeps its
    own, tested against ``torch.nn.AdaptiveAvgPool2d``, and saved models
    keep loading whichever Keras reads them.
    """

    def __init__(self, output_size=(6, 6), **kwargs):
        super().__init__(**kwargs)
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        output_size = tuple(output_size)
        if len(output_size) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in output_size
        ):
            raise ValueError(
                f"output_size must be a positive int or a pair of them, got {output_size!r}."
            )
        self.output_size = output_size

    def build(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        if height is None or width is None:
            raise ValueError(
                "AdaptiveAveragePooling2D needs a known spatial size, got input "
                f"shape {tuple(input_shape)!r}."
            )

    @staticmethod
    def _bins(size, out):
        return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        out_h, out_w = self.output_size
        if (height, width) == (out_h, out_w):
            return inputs
        if height % out_h == 0 and width % out_w == 0:
            # Equal, non-overlapping bins: one ordinary average pool.
            pool = (height // out_h, width // out_w)
            return ops.average_pool(inputs, pool, pool, "valid", data_format="channels_last")
        rows = []
        for r0, r1 in self._bins(height, out_h):
            cells = [_cell_mean(inputs[:, r0:r1, c0:c1, :]) for c0, c1 in self._bins(width, out_w)]
            rows.append(ops.stack(cells, axis=1))
        return ops.stack(rows, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(output_size=list(self.output_size))
        return config


def _cell_mean(cell):
    """The mean over rows and columns of ``cell`` (N, h, w, C), rounded as
    ``tf.nn.avg_pool``'s neighbour ``tf.reduce_mean`` rounds it, so that the
    numbers under TensorFlow stay what they were when this layer called it:
    ``keras.ops.mean`` computes half precision in float32, which
    ``tf.reduce_mean`` does for bfloat16 but not for float16 (there it is the
    float16 sum divided by the count)."""
    if keras.backend.standardize_dtype(cell.dtype) == "float16":
        return ops.sum(cell, axis=(1, 2)) / (cell.shape[1] * cell.shape[2])
    return ops.mean(cell, axis=(1, 2))


@keras.saving.register_keras_serializable(package=PACKAGE)
class Preprocess(keras.layers.Layer):
    """Maps raw pixel values (0-255) to what the network was trained on.

    ``y = (x * scale - mean) / std`` per channel, computed in float32 and then
    cast to the layer's compute dtype. Keeping this inside the model means a
    saved or exported model takes raw pixels and needs no separate recipe.
    ``channel_order="bgr"`` reverses RGB input to BGR first (Caffe's
    convention), so users always feed RGB.
    """

    def __init__(self, mean=(0.0,), std=(1.0,), scale=1.0, channel_order="rgb", **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(m) for m in _as_sequence("mean", mean)]
        self.std = [float(s) for s in _as_sequence("std", std)]
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std must be > 0, got {list(std)!r}.")
        self.scale = float(_check_number("scale", scale, minimum=0.0, strictly=True))
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}.")
        self.channel_order = channel_order

    def build(self, input_shape):
        channels = input_shape[-1]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"{name} has {len(values)} values but the input has {channels} "
                    f"channels: {values!r}."
                )

    def normalize(self, inputs):
        """``(x * scale - mean) / std`` in float32, whatever the layer's
        compute dtype (also used to whiten conv1 from the same numbers)."""
        x = ops.cast(inputs, "float32")
        if self.channel_order == "bgr":
            x = ops.flip(x, axis=-1)
        mean = ops.convert_to_tensor(np.asarray(self.mean, np.float32))
        std = ops.convert_to_tensor(np.asarray(self.std, np.float32))
        return (x * self.scale - mean) / std

    def call(self, inputs):
        return ops.cast(self.normalize(inputs), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            mean=self.mean, std=self.std, scale=self.scale, channel_order=self.channel_order
        )
        return config


def _as_sequence(name, value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a number or a non-empty list of numbers, got {value!r}.")
    return list(value)
