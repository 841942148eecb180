"""Optimizers, learning-rate schedules and numeric precision."""

from __future__ import annotations

import keras
import tensorflow as tf

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

    def apply(self, grads, trainable_variables=None):
        variables = self._trainable_variables if trainable_variables is None else trainable_variables
        if self.l2:
            grads = [
                g + tf.cast(self.l2, g.dtype) * tf.cast(v.value, g.dtype) if _decayed(v) and g is not None else g
                for g, v in zip(grads, variables)
            ]
        return super().apply(grads, trainable_variables)

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


def _decayed(variable):
    return variable.path.endswith("kernel") or variable.name == "kernel"


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


def make_optimizer(config, steps_per_epoch):
    lr = make_schedule(config, steps_per_epoch)
    if config.optimizer == "sgd":
        return PaperSGD(lr, momentum=config.momentum, nesterov=config.nesterov, l2=config.weight_decay)
    return keras.optimizers.AdamW(lr, weight_decay=config.weight_decay)
