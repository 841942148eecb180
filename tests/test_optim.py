"""The optimizer and the learning-rate schedules against their formulas,
computed here in NumPy, and the private Keras/TensorFlow hooks
(``alexnet.keras_internals``): all present, and used nowhere else. The
optimizer, schedule and loss tests run under every Keras backend (.ci/run
runs this file under JAX and PyTorch too); the hooks are TensorFlow's."""

import ast
import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest

from alexnet import keras_internals
from alexnet.config import Config, resolve
from alexnet.training.optim import (PaperSGD, SmoothedSparseCrossentropy, make_loss, make_optimizer, make_plateau,
                                   make_schedule)

TENSORFLOW_ONLY = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                     reason="hooks into TensorFlow's optimizer")
SRC = Path(__file__).resolve().parents[1] / "src" / "alexnet"


def paper_rule(w, g_steps, lr, momentum=0.9, decay=5e-4):
    """The paper's update (Section 5), in float64:
    v <- 0.9 v - 0.0005 lr w - lr g;  w <- w + v."""
    w, v = np.array(w, np.float64), np.zeros_like(w, np.float64)
    for g in g_steps:
        v = momentum * v - decay * lr * w - lr * g
        w = w + v
    return w


def run_optimizer(optimizer, model, gradients):
    """Applies each step's gradients, as gradients of the loss scaled by
    ``optimizer.scale_loss`` (by 1 except for loss scaling)."""
    variables = model.trainable_variables
    for step in gradients:
        scale = float(keras.ops.convert_to_numpy(optimizer.scale_loss(keras.ops.convert_to_tensor(1.0))))
        grads = [keras.ops.convert_to_tensor(g * scale) for g in step]
        if keras.backend.backend() != "jax":
            optimizer.apply_gradients(zip(grads, variables))
            continue
        # JAX updates as its trainer does, without side effects inside a
        # traced function (the loss-scale optimizer's update is an ops.cond).
        if not optimizer.built:
            optimizer.build(variables)
        new_variables, new_state = optimizer.stateless_apply(
            [v.value for v in optimizer.variables], grads, [v.value for v in variables])
        for variable, value in zip(variables, new_variables):
            variable.assign(value)
        for variable, value in zip(optimizer.variables, new_state):
            variable.assign(value)


@pytest.mark.parametrize("precision", ["float32", "mixed_float16"])
def test_paper_sgd_follows_the_papers_update_rule(precision):
    """Kernels decay inside the momentum; biases do not. Under mixed_float16
    the optimizer is wrapped for loss scaling and must do the same."""
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, bias_initializer="ones")])
    w0 = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    steps = [[rng.normal(size=v.shape).astype("float32") for v in w0] for _ in range(4)]
    optimizer = PaperSGD(0.1, momentum=0.9, l2=5e-4)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        assert keras_internals.updating_optimizer(optimizer).l2 == 5e-4
        assert float(keras.ops.convert_to_numpy(optimizer.scale_loss(keras.ops.convert_to_tensor(1.0)))) > 1  # the loss is scaled
    run_optimizer(optimizer, model, steps)
    kernel, bias = (keras.ops.convert_to_numpy(v) for v in model.trainable_variables)
    np.testing.assert_allclose(kernel, paper_rule(w0[0], [s[0] for s in steps], 0.1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bias, paper_rule(w0[1], [s[1] for s in steps], 0.1, decay=0.0), rtol=1e-6, atol=1e-6)
    # The decay is there: without it the kernel ends elsewhere.
    assert np.abs(kernel - paper_rule(w0[0], [s[0] for s in steps], 0.1, decay=0.0)).max() > 1e-5


def test_paper_sgd_decays_kernels_under_any_name():
    """Inside Keras' TensorFlow optimizer a variable is a tf.Variable named
    kernel:0, tower2_kernel:0 (two towers) or kernel/replica_1:0 (a mirrored
    replica's copy)."""
    from types import SimpleNamespace

    from alexnet.training.optim import _decayed

    for name in ("kernel:0", "tower2_kernel:0", "kernel/replica_1:0", "tower1_kernel/replica_3:0"):
        assert _decayed(SimpleNamespace(name=name)), name
    for name in ("bias:0", "tower1_bias:0", "bias/replica_1:0"):
        assert not _decayed(SimpleNamespace(name=name)), name
    assert _decayed(keras.layers.Dense(2, name="fc6").add_weight(name="kernel", shape=(1,)))


@pytest.mark.parametrize("warmup_epochs", [0.0, 1.0])
def test_cosine_schedule_values_against_the_formula(warmup_epochs):
    """lr * s / W during W warm-up steps from 0, then
    lr * (1 + cos(pi * (s - W) / (T - W))) / 2 to 0 at the last step T."""
    steps_per_epoch, epochs, lr = 10, 5, 0.05
    config = resolve(Config(variant="small", schedule="cosine", learning_rate=lr, epochs=epochs,
                            warmup_epochs=warmup_epochs))
    schedule = make_schedule(config, steps_per_epoch)
    total, warmup = epochs * steps_per_epoch, int(warmup_epochs * steps_per_epoch)

    def formula(s):
        if s < warmup:
            return lr * s / warmup
        return lr * (1 + math.cos(math.pi * (s - warmup) / (total - warmup))) / 2

    for s in (0, 1, 5, 9, 10, 11, 25, 37, 49, 50):
        assert float(schedule(s)) == pytest.approx(formula(s), rel=1e-5, abs=1e-7), s
    assert float(schedule(warmup)) == pytest.approx(lr, rel=1e-6)  # the peak


def test_constant_and_plateau_schedules_are_the_given_rate():
    for schedule in ("constant", "plateau"):
        config = resolve(Config(variant="small", schedule=schedule, learning_rate=0.02))
        assert make_schedule(config, 100) == 0.02
        assert float(keras.ops.convert_to_numpy(make_optimizer(config, 100).learning_rate)) == pytest.approx(0.02)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_smoothed_crossentropy_against_the_formula(smoothing):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=6).astype(np.float32)
    labels = rng.integers(0, 10, 6)
    targets = np.full((6, 10), smoothing / 10) + (1 - smoothing) * np.eye(10)[labels]
    expected = -(targets * np.log(probs.astype(np.float64))).sum(axis=1).mean()
    loss = SmoothedSparseCrossentropy(smoothing)
    assert float(loss(labels, probs)) == pytest.approx(expected, rel=1e-5)
    assert float(loss(labels[:, None], probs)) == pytest.approx(expected, rel=1e-5)  # (batch, 1) labels too
    if smoothing == 0:
        plain = keras.losses.SparseCategoricalCrossentropy()(labels, probs)
        assert float(loss(labels, probs)) == pytest.approx(float(plain), rel=1e-6)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.label_smoothing == smoothing and float(again(labels, probs)) == pytest.approx(expected, rel=1e-5)


def test_the_recipes_loss():
    assert isinstance(make_loss(resolve(Config(variant="paper"))), keras.losses.SparseCategoricalCrossentropy)
    assert make_loss(resolve(Config(variant="small"))).label_smoothing == 0.1
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\), got 1\.5"):
        SmoothedSparseCrossentropy(1.5)


def test_plateau_divides_by_ten_after_patience_epochs_without_improvement():
    """lr_e = lr * 0.1^k, k the number of times the monitored accuracy went
    `patience` epochs without improving (the wait restarts after each
    division), never below 1e-6."""
    config = resolve(Config(variant="paper", schedule="plateau", learning_rate=0.01, patience=2))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=make_optimizer(config, 10), loss="mse")
    plateau = make_plateau(config, "val_accuracy")
    plateau.set_model(model)
    plateau.on_train_begin()
    accuracies = [0.5, 0.6, 0.6, 0.59, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    expected, lr, best, wait = [], 0.01, -math.inf, 0
    for accuracy in accuracies:  # the formula, written out
        if accuracy > best:
            best, wait = accuracy, 0
        else:
            wait += 1
            if wait >= config.patience:
                lr, wait = max(lr * 0.1, 1e-6), 0
        expected.append(lr)
    got = []
    for epoch, accuracy in enumerate(accuracies):
        plateau.on_epoch_end(epoch, {"val_accuracy": accuracy})
        got.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert expected[-1] == 1e-6 and expected[3] == pytest.approx(0.001)


# ------------------------------------------------------ private hooks --

@TENSORFLOW_ONLY
def test_every_private_hook_exists_in_the_installed_keras_and_tensorflow():
    keras_internals.check_all()


@TENSORFLOW_ONLY
def test_a_missing_hook_fails_with_one_line_naming_the_versions():
    import tensorflow as tf

    with pytest.raises(keras_internals.InternalsChanged) as error:
        keras_internals._require(object(), "_all_reduce_sum_gradients", "the TensorFlow optimizer's gradient all-reduce")
    message = str(error.value)
    assert "\n" not in message and f"Keras {keras.__version__}" in message and f"TensorFlow {tf.__version__}" in message


@TENSORFLOW_ONLY
def test_the_all_reduce_hook_lands_on_the_optimizer_that_updates():
    """Under mixed_float16 Keras wraps the optimizer for loss scaling; the
    update (and its all-reduce) runs in the wrapped one."""
    inner = PaperSGD()
    outer = keras.optimizers.LossScaleOptimizer(inner)
    with keras_internals.no_gradient_all_reduce(outer):
        assert "_all_reduce_sum_gradients" in vars(inner) and "_all_reduce_sum_gradients" not in vars(outer)
    assert "_all_reduce_sum_gradients" not in vars(inner)


def test_no_private_attribute_is_used_outside_the_compatibility_module():
    """Attributes named _x of anything but self/cls (our own classes'
    internals), and tf.__internal__, appear only in keras_internals.py."""
    allowed = {("os", "_exit")}  # public, documented
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "keras_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Attribute):
                continue
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if (private and owner not in ("self", "cls") and (owner, node.attr) not in allowed) or node.attr == "__internal__":
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: .{node.attr}")
    assert not found, found
