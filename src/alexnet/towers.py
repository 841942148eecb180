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
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from alexnet import keras_compat
from alexnet import layers as single
from alexnet.layers import PACKAGE, Preprocess
from alexnet import variants as net
from alexnet.variants import get_variant, layer_plan

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


def colocated_gradients(loss, variables):
    """Gradients of ``loss`` for Keras ``variables`` with every gradient op
    on its forward op's device (graph mode only, as inside ``tf.function``)."""
    return tf.gradients(loss, [v.value for v in variables])


@contextlib.contextmanager
def beside_inputs():
    """Graph mode: ops made inside that request no device go where their
    largest input lives (a captured variable counts as living on its own
    device). Used for the optimizer step, so that tower 2's weight decay and
    update run on tower 2's device instead of the default one; this holds
    inside ``tf.cond`` branches too (the loss-scale optimizer's)."""
    captured = {}  # graph -> {placeholder name: what it captures}

    def source_of(tensor):
        graph = tensor.graph
        if tensor.name not in captured.setdefault(graph, {}):  # variables are captured as they are first read
            captured[graph] = keras_compat.captures(graph)
        return captured[graph].get(tensor.name)

    def device_of(tensor):
        if not tf.is_symbolic_tensor(tensor):  # an eager value (a variable's handle): where it lives
            return tensor.device or ""
        if tensor.op.device:
            return tensor.op.device
        if tensor.op.type == "ReadVariableOp":  # made beside its variable, whatever the scope
            return device_of(tensor.op.inputs[0])
        source = source_of(tensor)
        return "" if source is None else device_of(source)

    def size(tensor):
        dims = tensor.shape.as_list() if tensor.shape.rank is not None else [None]
        return float("inf") if None in dims else float(np.prod(dims))

    def choose(op):
        if op.device:
            return op.device
        placed = [(size(t), device_of(t)) for t in op.inputs]
        placed = [p for p in placed if p[1]]
        return max(placed, key=lambda p: p[0])[1] if placed else ""

    with tf.compat.v1.get_default_graph().device(choose):
        yield


@keras.saving.register_keras_serializable(package=PACKAGE, name="TwoTowerModel")
class TwoTowerModel(keras.Model):
    """A functional model whose training step places its backward pass and
    its optimizer update like its forward pass (see
    :func:`colocated_gradients` and :func:`beside_inputs`). Eager steps
    (``run_eagerly=True``) fall back to Keras' tape.

    The step is Keras' own (loss, loss scaling under mixed_float16, update,
    metrics) through public methods, with two changes: the gradients come from
    :func:`colocated_gradients`, and with one replica the optimizer applies
    them without an all-reduce (:func:`alexnet.keras_compat.no_gradient_all_reduce`).
    """

    def train_step(self, data):
        if tf.executing_eagerly():
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        self._loss_metric().update_state(loss, sample_weight=tf.shape(x)[0])
        variables = self.trainable_variables
        gradients = colocated_gradients(self.optimizer.scale_loss(loss), variables)
        with beside_inputs(), keras_compat.no_gradient_all_reduce(self.optimizer):
            self.optimizer.apply_gradients(zip(gradients, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _loss_metric(self):
        """The metric that ``fit`` reports as ``loss`` (Keras' own, which
        its train step updates)."""
        for metric in self.metrics:
            if metric.name == "loss":
                return metric
        raise ValueError(f"{self.name} has no loss metric: compile it with a loss first.")


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
    from alexnet.model import _check_input_shape, _kernel_init, check_arguments

    if variant != "paper":
        raise ValueError(f"Only the paper variant has two towers, got variant {variant!r}.")
    spec = get_variant(variant)
    check_arguments(activation=activation, classes=classes, dropout=dropout)
    preprocessing = dict(spec.preprocessing if preprocessing is None else preprocessing)
    input_shape = tuple(spec.default_input_shape if input_shape is None else input_shape)
    _check_input_shape(spec, input_shape, preprocessing, True, overlapping_pooling)
    init = _kernel_init(spec)
    plan = layer_plan(spec, lrn=lrn, overlapping_pooling=overlapping_pooling, dropout=dropout, classes=classes)

    with placement(devices) if devices is not None else contextlib.nullcontext():
        inputs = keras.Input(shape=input_shape, name="image")
        x = Preprocess(**preprocessing, name="preprocess")(inputs)
        for step_name, step in plan:
            match step:
                case net.Conv():
                    x = GroupedConv2D(
                        step.filters, step.kernel, strides=step.stride, padding=step.padding, groups=step.groups,
                        activation=activation, kernel_initializer=init,
                        bias_initializer=keras.initializers.Constant(step.bias_init), name=step_name,
                    )(x)
                case net.LRN():
                    x = LocalResponseNormalization(name=step_name)(x)
                case net.MaxPool():
                    x = MaxPooling2D(step.size, step.stride, padding=step.padding, data_format="channels_last",
                                     name=step_name)(x)
                case net.Flatten():
                    pass  # the tower Dense layers flatten the towers' maps themselves
                case net.FC():
                    x = Dense(step.units, activation=activation, kernel_initializer=init,
                              bias_initializer=keras.initializers.Constant(step.bias_init), name=step_name)(x)
                case net.Dropout():
                    x = Dropout(step.rate, name=step_name)(x)
                case net.Predictions():
                    x = Dense(step.units, activation=classifier_activation, kernel_initializer=init, split=False,
                              dtype="float32", name=step_name)(x)
                case _:
                    raise ValueError(f"The two-tower model has no {step_name} ({step!r}).")
        outputs = x
    return TwoTowerModel(inputs, outputs, name=name or f"alexnet_{spec.name}_two_tower")


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
