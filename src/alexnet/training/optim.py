"""Optimizers, learning-rate schedules and the loss, on ``keras.ops``: they
run on every Keras backend, and ``import alexnet`` registers them (a saved,
compiled model names them) without loading TensorFlow.
"""

from __future__ import annotations

import keras

from alexnet.layers import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class PaperSGD(keras.optimizers.SGD):
    """SGD with momentum and the paper's weight decay (Section 5).

    The paper's update is ``v <- 0.9 v - 0.0005 lr w - lr dL/dw`` and
    ``w <- w + v``: the decay enters the momentum like a gradient (an L2
    penalty), unlike Keras' decoupled ``weight_decay``. It applies to the
    weights (kernels), not to biases.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, l2=5e-4, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)
        self.l2 = float(l2)

    def update_step(self, gradient, variable, learning_rate):
        # Keras' public hook for one variable's update. The gradient here is
        # final: unscaled (mixed_float16) and, under a tf.distribute
        # strategy, already summed over the replicas, so the decay is added
        # once per step whatever the number of replicas.
        if self.l2 and _decayed(variable):
            gradient = gradient + keras.ops.cast(self.l2, gradient.dtype) * keras.ops.cast(variable, gradient.dtype)
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


def _decayed(variable):
    """Kernels decay, biases do not. ``variable`` is a Keras variable or,
    inside Keras' TensorFlow optimizer, the ``tf.Variable`` it holds (named
    ``kernel:0``, or ``kernel/replica_1:0`` on a mirrored replica)."""
    name = getattr(variable, "path", None) or variable.name
    name = name.split(":")[0].split("/replica_")[0]
    return name.endswith("kernel")


@keras.saving.register_keras_serializable(package=PACKAGE)
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against targets that give
    ``1 - label_smoothing`` to the true class and spread ``label_smoothing``
    evenly over all classes (Szegedy et al., 2016), as
    ``keras.losses.CategoricalCrossentropy(label_smoothing=...)`` does for
    one-hot labels. ``label_smoothing=0`` is the plain cross-entropy."""

    def __init__(self, label_smoothing=0.0, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, [-1]), "int32")
        targets = keras.ops.one_hot(labels, keras.ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(targets, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def make_loss(config):
    if config.label_smoothing:
        return SmoothedSparseCrossentropy(config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def make_schedule(config, steps_per_epoch):
    """A float learning rate for ``plateau``/``constant`` (so that
    ReduceLROnPlateau can change it), or a warm-up + cosine schedule."""
    if config.schedule != "cosine":
        return config.learning_rate
    total = max(1, config.epochs * steps_per_epoch)
    warmup = min(int(config.warmup_epochs * steps_per_epoch), total - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else config.learning_rate,
        decay_steps=total - warmup,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def make_plateau(config, monitor):
    """The ``plateau`` schedule: the learning rate divided by 10 whenever
    ``monitor`` (an accuracy) has not improved for ``config.patience``
    epochs, down to 1e-6, as the paper did by hand."""
    return keras.callbacks.ReduceLROnPlateau(
        monitor=monitor, mode="max", factor=0.1, patience=config.patience, min_lr=1e-6, verbose=1)


def make_optimizer(config, steps_per_epoch):
    lr = make_schedule(config, steps_per_epoch)
    if config.optimizer == "sgd":
        return PaperSGD(lr, momentum=config.momentum, nesterov=config.nesterov, l2=config.weight_decay)
    return keras.optimizers.AdamW(lr, weight_decay=config.weight_decay)
