"""The private Keras and TensorFlow attributes this package relies on, all of
them, and only here.

Everything else in the package holds to the public contract. Each hook below
checks, when it is first used, that the attribute it needs is there, and
otherwise stops with one line naming the Keras and TensorFlow versions;
``tests/test_keras_internals.py`` checks all of them at once, so a release that
drops one fails the tests the day it is installed. The versions tested are
in ``pyproject.toml`` and DISTRIBUTED.md.

- :func:`no_gradient_all_reduce` (two towers): Keras' TensorFlow optimizer
  "all-reduces" the gradients even with one replica, as one ``IdentityN`` op
  over all of them, which would gather tower 2's gradients on tower 1's
  device. Keras 2 had ``apply_gradients(skip_gradients_aggregation=True)``;
  Keras 3 has no public switch.
- :func:`captures` (two towers): which outer tensor a placeholder of a
  ``tf.function`` graph captures (``FuncGraph.captures``), to place the
  optimizer's ops beside the variables they update.
- :func:`build_from_spec` and :func:`metrics_with_batch_axis` (multiworker):
  Keras' ``fit`` under ``MultiWorkerMirroredStrategy``.
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf


class InternalsChanged(RuntimeError):
    """A private Keras or TensorFlow attribute that alexnet relies on is gone."""


def _require(owner, name, what):
    if not hasattr(owner, name):
        where = owner.__name__ if isinstance(owner, type) else type(owner).__name__
        raise InternalsChanged(
            f"alexnet relies on {what} ({where}.{name}), which Keras {keras.__version__} with TensorFlow "
            f"{tf.__version__} does not have; use the versions pyproject.toml names, or update "
            "alexnet/keras_internals.py.")
    return getattr(owner, name)


def updating_optimizer(optimizer):
    """The optimizer that runs the update: ``optimizer`` itself, or the one a
    ``LossScaleOptimizer`` (mixed_float16) wraps."""
    while isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return optimizer


@contextlib.contextmanager
def no_gradient_all_reduce(optimizer):
    """Inside this block (while a step is traced), ``optimizer`` applies
    the gradients as they are, with no all-reduce: for one replica only."""
    inner = updating_optimizer(optimizer)
    _require(type(inner), "_all_reduce_sum_gradients", "the TensorFlow optimizer's gradient all-reduce")
    inner._all_reduce_sum_gradients = list  # (gradient, variable) pairs, unchanged
    try:
        yield
    finally:
        del inner._all_reduce_sum_gradients


def captures(graph):
    """``{name of a placeholder of graph: the tensor or eager value it
    captures from the enclosing graph}`` for a ``tf.function`` graph (and
    the graphs of its ``tf.cond`` branches); ``{}`` for any other graph."""
    if not isinstance(graph, tf.__internal__.FuncGraph):
        return {}
    pairs = _require(graph, "captures", "the captures of a tf.function graph")
    return {inner.name: outer for outer, inner in pairs}


def build_from_spec(model, element_spec):
    """Builds ``model`` (variables, optimizer, metrics) for ``fit`` from the
    dataset's ``element_spec`` instead of a batch.

    Keras 3.5 and later, before fitting under a strategy, average a first
    batch over the replicas with ``strategy.reduce("MEAN", (x, y))``, which
    ``MultiWorkerMirroredStrategy`` rejects for a tuple. Earlier releases
    build the model in the first step, and need nothing here.
    """
    if not hasattr(model, "_maybe_symbolic_build"):
        return
    symbolic_build = _require(model, "_symbolic_build", "Keras' model build before fit")
    strategy = model.distribute_strategy

    def build(iterator=None, data_batch=None):
        with strategy.scope():
            symbolic_build(data_batch=element_spec)

    model._maybe_symbolic_build = build


def metrics_with_batch_axis(model):
    """Makes ``model``'s train and test steps return their metrics with a
    batch axis of 1.

    Keras reduces a step's metrics under ``MultiWorkerMirroredStrategy`` with
    ``strategy.reduce("MEAN", value, axis=0)``, which needs an axis that
    scalar metrics lack; given one, the reduction averages them over the
    workers, so every worker logs (and its callbacks decide on) the same
    numbers. ``train_step`` is public, but replacing it on an instance (the
    model may come from a checkpoint, as a plain ``keras.Model``) is not.
    """
    def with_axis(step):
        def step_with_axis(data):
            return keras.tree.map_structure(lambda v: tf.reshape(v, [1]), step(data))

        return step_with_axis

    model.train_step = with_axis(model.train_step)
    model.test_step = with_axis(model.test_step)


def check_all():
    """Checks every hook's attribute against the installed Keras and
    TensorFlow (what tests/test_keras_internals.py runs); raises
    :class:`InternalsChanged` for the first that is missing."""
    optimizer = keras.optimizers.SGD()
    _require(type(optimizer), "_all_reduce_sum_gradients", "the TensorFlow optimizer's gradient all-reduce")

    graph = tf.function(lambda: tf.constant(1.0)).get_concrete_function().graph
    _require(graph, "captures", "the captures of a tf.function graph")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    if hasattr(model, "_maybe_symbolic_build"):
        _require(model, "_symbolic_build", "Keras' model build before fit")
