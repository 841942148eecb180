"""The two-tower layers: each layer's work split over the two towers' devices.

The layers of :func:`alexnet.towers.TwoTowerAlexNet` (see that module for
the paper's connectivity and the weight layout). Each takes and returns the
list of both towers' tensors, does tower ``t``'s share under
``tf.device(devices[t])``, and saves its weights in the single-device
layout. :func:`placement` sets the devices of the layers made or loaded
inside it.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from alexnet import layers as single
from alexnet.layers import PACKAGE

TOWERS = 2

_placements: list[tuple[str, str]] = []


@contextlib.contextmanager
def placement(devices):
    """Tower layers made (or loaded) inside this context put tower ``t`` on
    ``devices[t]``."""
    devices = tuple(str(d) for d in devices)
    if len(devices) != TOWERS:
        raise ValueError(f"Two towers need two devices, got {devices!r}.")
    _placements.append(devices)
    try:
        yield devices
    finally:
        _placements.pop()


def current_placement():
    return _placements[-1] if _placements else (None,) * TOWERS


def _resolve(devices):
    if devices is None:
        return current_placement()
    devices = tuple(None if d is None else str(d) for d in devices)
    if len(devices) != TOWERS:
        raise ValueError(f"Two towers need two devices, got {devices!r}.")
    return devices


def _on(device):
    return tf.device(device) if device else contextlib.nullcontext()


class _Towers:
    """Mixin for a layer whose work is split over the two towers' devices.

    The devices are a runtime property: they are not part of the config.
    """

    def _init_towers(self, devices):
        self._tower_devices = _resolve(devices)
        self.supports_jit = False  # XLA would compile the whole step for one device
        self.input_spec = None  # takes the list of both towers' tensors

    @property
    def devices(self):
        return self._tower_devices

    @contextlib.contextmanager
    def tower(self, t):
        """Device and name scope (``<layer>/tower<t+1>/...``) of tower ``t``."""
        with _on(self._tower_devices[t]), tf.name_scope(f"tower{t + 1}"):
            yield

    def _per_tower(self, fn, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != TOWERS:
            raise ValueError(f"{self.name} expects the two towers' tensors, got {inputs!r}.")
        outputs = []
        for t, x in enumerate(inputs):
            with self.tower(t):
                outputs.append(fn(x))
        return outputs


def _is_tower_list(shape):
    return isinstance(shape, (list, tuple)) and len(shape) > 0 and isinstance(shape[0], (list, tuple))


class _HalvesLayer(_Towers, keras.layers.Layer):
    """A layer whose kernel and bias are split along the output axis: tower
    ``t`` holds and computes output units ``[t*n/2, (t+1)*n/2)``. Saved as
    the full kernel and bias, like the single-device layer."""

    def _make_halves(self, full_shape, kernel_initializer, bias_initializer, parts):
        # Draw the full kernel once, so that each half has exactly the
        # single-device layer's initial distribution (whatever the initializer).
        full_kernel = kernel_initializer(full_shape, dtype=self.variable_dtype)
        full_bias = bias_initializer((full_shape[-1],), dtype=self.variable_dtype)
        width = full_shape[-1] // parts
        self.kernels, self.biases = [], []
        for t in range(parts):
            part = slice(t * width, (t + 1) * width)
            with _on(self._tower_devices[t]):
                self.kernels.append(self.add_weight(
                    name=f"tower{t + 1}_kernel", shape=(*full_shape[:-1], width),
                    initializer=_constant(full_kernel[..., part])))
                self.biases.append(self.add_weight(
                    name=f"tower{t + 1}_bias", shape=(width,), initializer=_constant(full_bias[part])))

    def save_own_variables(self, store):
        store["0"] = np.concatenate([np.asarray(k.numpy()) for k in self.kernels], axis=-1)
        store["1"] = np.concatenate([np.asarray(b.numpy()) for b in self.biases], axis=-1)

    def load_own_variables(self, store):
        kernel, bias = np.asarray(store["0"]), np.asarray(store["1"])
        width = self.kernels[0].shape[-1]
        expected = (*self.kernels[0].shape[:-1], width * len(self.kernels))
        if kernel.shape != expected or bias.shape != (expected[-1],):
            raise ValueError(
                f"Layer {self.name!r} expects a kernel of shape {expected} and a bias of "
                f"{(expected[-1],)}, got {kernel.shape} and {bias.shape}.")
        for t, (k, b) in enumerate(zip(self.kernels, self.biases)):
            k.assign(kernel[..., t * width:(t + 1) * width])
            b.assign(bias[t * width:(t + 1) * width])


def _constant(value):
    value = tf.convert_to_tensor(value)
    return lambda shape, dtype=None: tf.cast(value, dtype or value.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE, name="TowerGroupedConv2D")
class GroupedConv2D(_HalvesLayer):
    """One convolution of the two-tower network.

    Input: one tensor (conv1: the image, which both towers see) or the list
    of both towers' maps. ``groups=2``: tower ``t`` convolves only its own
    maps (conv2, conv4, conv5); ``groups=1``: each tower reads both towers'
    maps (conv3, the exchange). Output: the list of both towers' maps.
    Saved as ``alexnet.layers.GroupedConv2D(filters, ..., groups=groups)``.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", groups=1, activation=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", devices=None, **kwargs):
        super().__init__(**kwargs)
        self._init_towers(devices)
        if filters % TOWERS:
            raise ValueError(f"filters must split into two towers, got {filters}.")
        if groups not in (1, TOWERS):
            raise ValueError(f"groups must be 1 or {TOWERS}, got {groups!r}.")
        self.filters = filters
        self.kernel_size = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
        self.strides = (strides,) * 2 if isinstance(strides, int) else tuple(strides)
        self.padding = padding
        self.groups = groups
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        towers_in = _is_tower_list(input_shape)
        if self.groups == TOWERS and not towers_in:
            raise ValueError(f"{self.name}: a grouped convolution needs the two towers' maps as input.")
        channels = sum(s[-1] for s in input_shape) if towers_in else input_shape[-1]
        self._towers_in = towers_in
        self._make_halves((*self.kernel_size, channels // self.groups, self.filters),
                          self.kernel_initializer, self.bias_initializer, TOWERS)

    def call(self, inputs):
        outputs = []
        for t in range(TOWERS):
            with self.tower(t):
                if not self._towers_in:
                    x = inputs  # conv1: the whole image
                elif self.groups == TOWERS:
                    x = inputs[t]  # own tower only
                else:
                    x = tf.concat(list(inputs), axis=-1)  # the exchange: both towers' maps
                y = keras.ops.conv(x, self.kernels[t], strides=self.strides, padding=self.padding,
                                   data_format="channels_last")
                outputs.append(self.activation(keras.ops.add(y, self.biases[t])))
        return outputs

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "groups": self.groups,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package=PACKAGE, name="TowerDense")
class Dense(_HalvesLayer):
    """A fully connected layer reading both towers (the exchange).

    ``split=True`` (fc6, fc7): tower ``t`` holds and computes half the units
    and outputs the list of both halves. ``split=False`` (the final layer):
    one kernel on the first tower's device, one output tensor. Input maps
    (pool5) are concatenated on the channel axis and flattened, so the kernel
    rows keep the single-device ``Flatten`` order. Saved as
    ``keras.layers.Dense(units)``.
    """

    def __init__(self, units, activation=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 split=True, devices=None, **kwargs):
        super().__init__(**kwargs)
        self._init_towers(devices)
        if split and units % TOWERS:
            raise ValueError(f"units must split into two towers, got {units}.")
        self.units = units
        self.split = split
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        if not _is_tower_list(input_shape):
            raise ValueError(f"{self.name} expects the two towers' tensors.")
        self._in_dim = int(sum(np.prod(s[1:]) for s in input_shape))
        self._make_halves((self._in_dim, self.units), self.kernel_initializer, self.bias_initializer,
                          TOWERS if self.split else 1)

    def call(self, inputs):
        outputs = []
        for t in range(len(self.kernels)):
            with self.tower(t):
                x = tf.reshape(tf.concat(list(inputs), axis=-1), (-1, self._in_dim))  # the exchange
                y = keras.ops.add(keras.ops.matmul(x, self.kernels[t]), self.biases[t])
                outputs.append(self.activation(y))
        return outputs if self.split else outputs[0]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units, "split": self.split,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package=PACKAGE, name="TowerLocalResponseNormalization")
class LocalResponseNormalization(_Towers, single.LocalResponseNormalization):
    """LRN within each tower, on its device."""

    def __init__(self, *args, devices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_towers(devices)

    def build(self, input_shape):
        super().build(input_shape[0])  # both towers have the same channels

    def call(self, inputs):
        return self._per_tower(super().call, inputs)

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]


@keras.saving.register_keras_serializable(package=PACKAGE, name="TowerMaxPooling2D")
class MaxPooling2D(_Towers, keras.layers.MaxPooling2D):
    """Max pooling within each tower, on its device."""

    def __init__(self, *args, devices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_towers(devices)

    def call(self, inputs):
        return self._per_tower(super().call, inputs)

    def compute_output_shape(self, input_shape):
        one = super().compute_output_shape
        return [one(tuple(s)) for s in input_shape]


@keras.saving.register_keras_serializable(package=PACKAGE, name="TowerDropout")
class Dropout(_Towers, keras.layers.Layer):
    """Dropout within each tower, on its device, with a random stream per
    tower (``keras.layers.Dropout``'s arguments)."""

    def __init__(self, rate, noise_shape=None, seed=None, devices=None, **kwargs):
        super().__init__(**kwargs)
        self._init_towers(devices)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}.")
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        self.supports_masking = True
        self.seed_generators = []
        if rate > 0:
            for t in range(TOWERS):
                with _on(self.devices[t]):
                    self.seed_generators.append(keras.random.SeedGenerator(None if seed is None else seed + t))

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return list(inputs)
        seeds = iter(self.seed_generators)
        return self._per_tower(
            lambda x: keras.random.dropout(x, self.rate, noise_shape=self.noise_shape, seed=next(seeds)), inputs)

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
