"""The two-tower model's training step: the backward pass and the optimizer
update placed like the forward pass (see :mod:`alexnet.towers`)."""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from alexnet import keras_internals
from alexnet.layers import PACKAGE

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
            captured[graph] = keras_internals.captures(graph)
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
    them without an all-reduce (:func:`alexnet.keras_internals.no_gradient_all_reduce`).
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
        with beside_inputs(), keras_internals.no_gradient_all_reduce(self.optimizer):
            self.optimizer.apply_gradients(zip(gradients, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _loss_metric(self):
        """The metric that ``fit`` reports as ``loss`` (Keras' own, which
        its train step updates)."""
        for metric in self.metrics:
            if metric.name == "loss":
                return metric
        raise ValueError(f"{self.name} has no loss metric: compile it with a loss first.")
