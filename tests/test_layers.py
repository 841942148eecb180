"""The custom layers against independent references: NumPy loops written from
the formulas, TensorFlow's own LRN op (its outputs stored in
lrn_tensorflow.npz, checked against the op itself under TensorFlow), Keras'
grouped Conv2D and (if importable) PyTorch.

Runs under every Keras backend (``KERAS_BACKEND=jax python -m pytest
tests/test_layers.py``); the few tests of TensorFlow's own machinery skip
elsewhere."""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
from keras import ops

import lrn_tensorflow
from alexnet import AlexNet
from alexnet.layers import (
    AdaptiveAveragePooling2D,
    GroupedConv2D,
    LocalResponseNormalization,
    Preprocess,
)


BACKEND = keras.backend.backend()
tensorflow_only = pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's own ops")
to_numpy = ops.convert_to_numpy
big_input = lrn_tensorflow.big_input


def backend_gradient(fn, x, upstream):
    """The gradient of ``sum(fn(x) * upstream)`` with respect to ``x``, by
    the running backend's own automatic differentiation."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(fn(x) * upstream)
        return tape.gradient(loss, x).numpy()
    if BACKEND == "jax":
        import jax

        _, pullback = jax.vjp(fn, jax.numpy.asarray(x))
        return np.asarray(pullback(jax.numpy.asarray(upstream))[0])
    if BACKEND == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        fn(x).backward(torch.tensor(upstream))
        return x.grad.numpy()
    pytest.skip(f"no gradient helper for backend {BACKEND}")


def import_torch():
    """``pytest.importorskip("torch")`` that also skips a torch install that
    is present but cannot load (e.g. missing CUDA libraries raise OSError)."""
    try:
        return pytest.importorskip("torch")
    except OSError as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"torch is installed but cannot be imported: {error}")


# ---------------------------------------------------------------------------
# Local response normalization
# ---------------------------------------------------------------------------


def lrn_reference(a, radius, bias, alpha, beta):
    """The paper's formula, one channel at a time, in float64:
    b_c = a_c / (k + alpha * sum_{j=max(0,c-r)}^{min(N-1,c+r)} a_j^2) ** beta."""
    a = np.asarray(a, np.float64)
    n = a.shape[-1]
    out = np.empty_like(a)
    for c in range(n):
        total = np.zeros(a.shape[:-1])
        for j in range(max(0, c - radius), min(n - 1, c + radius) + 1):
            total += a[..., j] ** 2
        out[..., c] = a[..., c] / (bias + alpha * total) ** beta
    return out


def window_reference(a, size, alpha, beta, k):
    """Caffe's / PyTorch's ACROSS_CHANNELS LRN: alpha is divided by the window
    size n, and the window is zero-padded at the borders."""
    a = np.asarray(a, np.float64)
    n_channels = a.shape[-1]
    half = (size - 1) // 2
    padded = np.concatenate(
        [np.zeros(a.shape[:-1] + (half,)), a, np.zeros(a.shape[:-1] + (half,))], axis=-1
    )
    out = np.empty_like(a)
    for c in range(n_channels):
        total = (padded[..., c : c + size] ** 2).sum(axis=-1)
        out[..., c] = a[..., c] / (k + alpha / size * total) ** beta
    return out


@pytest.mark.parametrize("case", range(len(lrn_tensorflow.FORWARD)))
def test_lrn_matches_paper_formula_and_tf_op(case):
    radius, bias, alpha, beta = lrn_tensorflow.FORWARD[case]
    x = lrn_tensorflow.forward_input(radius)
    layer = LocalResponseNormalization(radius, bias, alpha, beta)
    got = to_numpy(layer(x))
    expected = lrn_reference(x, radius, bias, alpha, beta)
    assert got.shape == x.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(got, TF_LRN[f"forward{case}"], rtol=2e-5, atol=1e-6)
    # The normalization really acts (not just a division by bias ** beta).
    plain = x / bias**beta
    assert np.max(np.abs(got - plain) / (np.abs(plain) + 1e-6)) > 0.2


TF_LRN = lrn_tensorflow.load()


@tensorflow_only
def test_lrn_fixture_is_what_tensorflows_op_computes():
    now = lrn_tensorflow.compute()
    assert sorted(now) == sorted(TF_LRN)
    for key, value in now.items():
        np.testing.assert_allclose(TF_LRN[key], value, rtol=1e-5, atol=1e-6, err_msg=key)


def test_lrn_border_channels_use_cut_windows():
    # One hot channel: its neighbours inside the window are damped, the
    # channels outside are only divided by bias ** beta.
    x = np.zeros((1, 1, 1, 8), np.float32)
    x[..., 0] = 100.0
    x[..., 1:] = 1.0
    y = to_numpy(LocalResponseNormalization(2, 2.0, 1e-3, 1.0)(x))[0, 0, 0]
    np.testing.assert_allclose(y[0], 100.0 / (2.0 + 1e-3 * (100.0**2 + 1 + 1)), rtol=1e-6)
    np.testing.assert_allclose(y[1], 1.0 / (2.0 + 1e-3 * (100.0**2 + 3)), rtol=1e-6)
    np.testing.assert_allclose(y[2], 1.0 / (2.0 + 1e-3 * (100.0**2 + 4)), rtol=1e-6)
    np.testing.assert_allclose(y[3], 1.0 / (2.0 + 1e-3 * 5), rtol=1e-6)
    np.testing.assert_allclose(y[7], 1.0 / (2.0 + 1e-3 * 3), rtol=1e-6)


@pytest.mark.parametrize("case", range(len(lrn_tensorflow.GRADIENT)))
def test_lrn_gradients_match_tf_op(case):
    radius, bias, alpha, beta = lrn_tensorflow.GRADIENT[case]
    x, upstream = lrn_tensorflow.gradient_inputs()
    layer = LocalResponseNormalization(radius, bias, alpha, beta)
    ours = backend_gradient(layer, x, upstream)
    theirs = TF_LRN[f"gradient{case}"]
    assert np.abs(theirs).max() > 0
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * np.abs(theirs).max())


def test_lrn_works_with_unknown_batch_and_spatial_size():
    inputs = keras.Input((None, None, 6))
    model = keras.Model(inputs, LocalResponseNormalization(2, 2.0, 1e-3, 0.75)(inputs))
    for shape in [(1, 2, 5, 6), (3, 4, 1, 6)]:
        x = big_input(shape, seed=len(shape))
        np.testing.assert_allclose(
            model.predict(x, verbose=0), lrn_reference(x, 2, 2.0, 1e-3, 0.75), rtol=2e-5, atol=1e-6
        )


def test_lrn_from_caffe_converts_alpha_and_size():
    layer = LocalResponseNormalization.from_caffe(local_size=5, alpha=1e-4, beta=0.75, k=1)
    assert layer.depth_radius == 2
    assert layer.alpha == pytest.approx(2e-5)
    assert layer.bias == 1.0 and layer.beta == 0.75
    x = big_input((2, 2, 3, 10), seed=1, scale=100.0)
    np.testing.assert_allclose(
        to_numpy(layer(x)), window_reference(x, 5, 1e-4, 0.75, 1.0), rtol=2e-5, atol=1e-6
    )


@pytest.mark.parametrize("factory", ["from_caffe", "from_torch"])
@pytest.mark.parametrize("size,alpha,beta,k", [(3, 1e-2, 0.75, 1.0), (7, 5e-2, 1.0, 2.0), (1, 1e-2, 0.5, 1.5)])
def test_lrn_window_convention_matches_numpy(factory, size, alpha, beta, k):
    layer = getattr(LocalResponseNormalization, factory)(size, alpha, beta, k)
    assert layer.depth_radius == (size - 1) // 2
    assert layer.alpha == pytest.approx(alpha / size)
    x = big_input((1, 2, 3, 8), seed=size)
    got = to_numpy(layer(x))
    expected = window_reference(x, size, alpha, beta, k)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
    # Copying alpha across without dividing by the size would be wrong.
    if size > 1:
        wrong = lrn_reference(x, (size - 1) // 2, k, alpha, beta)
        assert not np.allclose(got, wrong, rtol=1e-3)


@pytest.mark.parametrize("size,alpha,beta,k", [(5, 1e-4, 0.75, 1.0), (3, 1e-2, 0.5, 2.0)])
def test_lrn_from_torch_matches_torch(size, alpha, beta, k):
    torch = import_torch()
    x = big_input((2, 3, 4, 9), seed=3, scale=50.0)
    expected = torch.nn.LocalResponseNorm(size, alpha, beta, k)(
        torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    ).numpy().transpose(0, 2, 3, 1)
    got = to_numpy(LocalResponseNormalization.from_torch(size, alpha, beta, k)(x))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("factory,size", [("from_caffe", 4), ("from_torch", 6), ("from_torch", 0)])
def test_lrn_even_or_empty_window_rejected(factory, size):
    with pytest.raises(ValueError, match=rf"\b{size}\b"):
        getattr(LocalResponseNormalization, factory)(size)


# The exercise's example: tf.nn.lrn(np.arange(60).reshape([5, 2, 2, 3]),
# depth_radius=2, bias=0, alpha=1, beta=1)[0], as the exercise prints it.
EXERCISE_FIRST_SAMPLE = [[[0, 0.2, 0.4], [0.06, 0.08, 0.1]],
                         [[0.04026846, 0.04697987, 0.05369128], [0.02980132, 0.03311258, 0.03642384]]]


def test_lrn_reproduces_the_exercise_with_bias_zero():
    x = lrn_tensorflow.exercise_input()  # integers, as in the exercise
    layer = LocalResponseNormalization(depth_radius=2, bias=0, alpha=1, beta=1)
    out = to_numpy(layer(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], EXERCISE_FIRST_SAMPLE, atol=1e-6)
    np.testing.assert_allclose(out, TF_LRN["exercise"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out, lrn_reference(x.astype(np.float64), 2, 0.0, 1.0, 1.0), rtol=1e-6, atol=1e-7)


def test_lrn_bias_zero_on_an_all_zero_window_is_nan_as_in_tensorflow():
    x = lrn_tensorflow.all_zero_window_input()
    layer = LocalResponseNormalization(depth_radius=2, bias=0.0, alpha=1.0, beta=1.0)
    out = to_numpy(layer(x))
    op = TF_LRN["all_zero_window"]
    assert np.isnan(out[0, 0, 0]).all() and np.isnan(op[0, 0, 0]).all()  # 0 / 0
    np.testing.assert_allclose(out[0, 0, 1], op[0, 0, 1], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs,shown",
    [
        (dict(depth_radius=-1), "-1"),
        (dict(depth_radius=1.5), "1.5"),
        (dict(bias=float("nan")), "nan"),
        (dict(bias=-2.5), "-2.5"),
        (dict(alpha=-0.001), "-0.001"),
        (dict(beta=-0.75), "-0.75"),
    ],
)
def test_lrn_bad_arguments_raise_with_value(kwargs, shown):
    with pytest.raises(ValueError) as info:
        LocalResponseNormalization(**kwargs)
    assert shown in str(info.value)


def test_lrn_config_round_trip():
    layer = LocalResponseNormalization(3, 2.5, 1e-3, 0.5, name="norm")
    config = layer.get_config()
    assert "implementation" not in config
    clone = LocalResponseNormalization.from_config(config)
    assert clone.get_config() == config
    assert (clone.depth_radius, clone.bias, clone.alpha, clone.beta) == (3, 2.5, 1e-3, 0.5)
    assert clone.name == "norm"
    x = big_input((1, 2, 2, 8), seed=4)
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(layer(x)))
    # Also through Keras' registered serialization (safe mode).
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, LocalResponseNormalization)
    np.testing.assert_array_equal(to_numpy(again(x)), to_numpy(layer(x)))


@pytest.mark.parametrize("implementation", ["matmul", "tf"])
def test_lrn_config_from_before_implementation_was_removed_still_loads(implementation):
    layer = LocalResponseNormalization(3, 2.5, 1e-3, 0.5, name="norm")
    config = {**layer.get_config(), "implementation": implementation}
    serialized = {**keras.saving.serialize_keras_object(layer), "config": config}
    for clone in (LocalResponseNormalization.from_config(config),
                  keras.saving.deserialize_keras_object(serialized)):
        assert "implementation" not in clone.get_config()
        x = big_input((1, 2, 2, 8), seed=4)
        np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(layer(x)))
    with pytest.raises(ValueError, match="implementation"):  # the argument itself is gone
        LocalResponseNormalization(implementation=implementation)


@pytest.mark.parametrize(
    "policy,rtol",
    [("float16", 5e-3), ("mixed_float16", 5e-3), ("bfloat16", 2e-2), ("mixed_bfloat16", 2e-2)],
)
def test_lrn_mixed_precision(policy, rtol):
    layer = LocalResponseNormalization(2, 2.0, 1e-3, 0.75, dtype=policy)
    x = ops.cast(big_input((2, 3, 3, 12), seed=8, scale=10.0), layer.compute_dtype)
    y = layer(x)
    assert keras.backend.standardize_dtype(x.dtype) == layer.compute_dtype
    assert keras.backend.standardize_dtype(y.dtype) == layer.compute_dtype
    # Reference in float32 on the same (rounded) input values.
    x32 = to_numpy(ops.cast(x, "float32"))
    reference = lrn_reference(x32, 2, 2.0, 1e-3, 0.75)
    got = to_numpy(ops.cast(y, "float32"))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, reference, rtol=rtol, atol=rtol * np.abs(reference).max())


def test_lrn_groups_keep_windows_within_each_group():
    x = big_input((2, 3, 3, 16), seed=9, scale=10.0)
    grouped = to_numpy(LocalResponseNormalization(groups=2)(x))
    halves = [to_numpy(LocalResponseNormalization()(half)) for half in (x[..., :8], x[..., 8:])]
    np.testing.assert_allclose(grouped, np.concatenate(halves, axis=-1), rtol=1e-5, atol=1e-5)
    assert not np.allclose(grouped, to_numpy(LocalResponseNormalization()(x)), rtol=1e-4)
    assert "groups" not in LocalResponseNormalization().get_config()  # default configs are unchanged
    assert LocalResponseNormalization.from_config(LocalResponseNormalization(groups=2).get_config()).groups == 2
    with pytest.raises(ValueError, match="does not divide"):
        LocalResponseNormalization(groups=3)(x)


# ---------------------------------------------------------------------------
# GroupedConv2D
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper_features():
    """The paper's convolutional layers (include_top=False: no 38M-weight fc6),
    re-initialized with weights large enough for the comparison to bite."""
    model = AlexNet(variant="paper", include_top=False)
    rng = np.random.default_rng(0)
    for name in ("conv2", "conv4", "conv5"):
        layer = model.get_layer(name)
        layer.kernel.assign(rng.normal(0, 0.05, tuple(layer.kernel.shape)).astype(np.float32))
        layer.bias.assign(rng.normal(0, 0.5, tuple(layer.bias.shape)).astype(np.float32))
    return model


def conv_same(x, kernel, bias):
    """A stride-1 "same" convolution in NumPy (float64): x (N, H, W, C), kernel (k, k, C, F)."""
    k = kernel.shape[0]
    padded = np.pad(x.astype(np.float64), ((0, 0), (k // 2, k // 2), (k // 2, k // 2), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))  # N, H, W, C, k, k
    return np.einsum("nhwcij,ijcf->nhwf", windows, kernel.astype(np.float64)) + bias


def two_towers(x, kernel, bias):
    """The paper's two GPUs: each sees half the channels and owns half the kernels."""
    half_in = x.shape[-1] // 2
    half_out = kernel.shape[-1] // 2
    outs = []
    for t in range(2):
        xs = x[..., t * half_in : (t + 1) * half_in]
        ks = kernel[..., t * half_out : (t + 1) * half_out]
        outs.append(np.maximum(conv_same(xs, ks, bias[t * half_out : (t + 1) * half_out]), 0))
    return np.concatenate(outs, axis=-1)


@pytest.mark.parametrize("name,channels_in,channels_out,kernel", [
    ("conv2", 96, 256, 5), ("conv4", 384, 384, 3), ("conv5", 384, 256, 3)])
def test_paper_grouped_convs_equal_two_towers_and_keras_groups(paper_features, name, channels_in, channels_out, kernel):
    layer = paper_features.get_layer(name)
    assert isinstance(layer, GroupedConv2D) and layer.groups == 2
    assert layer.kernel.shape == (kernel, kernel, channels_in // 2, channels_out)
    x = np.random.default_rng(1).normal(0, 1, (2, 7, 6, channels_in)).astype(np.float32)
    got = to_numpy(layer(x))
    w, b = to_numpy(layer.kernel), to_numpy(layer.bias)
    assert layer.padding == "same"
    expected = two_towers(x, w, b)
    assert got.shape == (2, 7, 6, channels_out)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)

    keras_conv = keras.layers.Conv2D(channels_out, kernel, padding=layer.padding, groups=2, activation="relu")
    keras_conv.build(x.shape)
    keras_conv.set_weights([w, b])
    np.testing.assert_allclose(got, to_numpy(keras_conv(x)), rtol=1e-4, atol=1e-4)

    # A full (ungrouped) convolution would give something else.
    dense_kernel = np.concatenate([w, w], axis=2)
    full = np.maximum(conv_same(x, dense_kernel, b), 0)
    assert not np.allclose(got, full, atol=1e-2)


def test_grouped_conv_towers_do_not_mix():
    layer = GroupedConv2D(8, 3, padding="same", groups=2, bias_initializer="random_normal")
    x = np.random.default_rng(2).normal(size=(1, 5, 5, 6)).astype(np.float32)
    y = to_numpy(layer(x))
    x2 = x.copy()
    x2[..., 3:] += 5.0  # change only tower 2's input
    y2 = to_numpy(layer(x2))
    np.testing.assert_array_equal(y[..., :4], y2[..., :4])
    assert not np.allclose(y[..., 4:], y2[..., 4:])


def test_paper_grouped_layers_are_single_whole_layers(paper_features):
    names = [layer.name for layer in paper_features.layers]
    for name, channels_in, channels_out in (("conv2", 96, 256), ("conv4", 384, 384), ("conv5", 384, 256)):
        assert names.count(name) == 1
        layer = paper_features.get_layer(name)
        assert layer.input.shape[-1] == channels_in
        assert layer.output.shape[-1] == channels_out
    # No per-tower layers exist.
    assert not [n for n in names if "tower" in n or n.startswith(("conv2_", "conv4_", "conv5_"))]
    for name in ("conv1", "conv3"):
        assert paper_features.get_layer(name).groups == 1


def test_grouped_conv_groups_one_equals_conv2d_and_config_round_trip():
    x = np.random.default_rng(3).normal(size=(2, 6, 6, 4)).astype(np.float32)
    layer = GroupedConv2D(6, 3, strides=2, padding="valid", groups=1, activation="tanh")
    y = to_numpy(layer(x))
    ref = keras.layers.Conv2D(6, 3, strides=2, padding="valid", activation="tanh")
    ref.build(x.shape)
    ref.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, to_numpy(ref(x)), rtol=1e-5, atol=1e-6)

    grouped = GroupedConv2D(6, 3, groups=2, padding="same")
    grouped.build(x.shape)
    clone = GroupedConv2D.from_config(grouped.get_config())
    clone.build(x.shape)
    clone.set_weights(grouped.get_weights())
    assert clone.groups == 2
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(grouped(x)))


# ---------------------------------------------------------------------------
# AdaptiveAveragePooling2D
# ---------------------------------------------------------------------------


def adaptive_avg_reference(x, out_h, out_w):
    """torch's AdaptiveAvgPool2d: cell i covers floor(i*H/o) .. ceil((i+1)*H/o) - 1."""
    n, h, w, c = x.shape
    out = np.zeros((n, out_h, out_w, c), np.float64)
    for i in range(out_h):
        r0, r1 = math.floor(i * h / out_h), math.ceil((i + 1) * h / out_h)
        for j in range(out_w):
            c0, c1 = math.floor(j * w / out_w), math.ceil((j + 1) * w / out_w)
            out[:, i, j, :] = x[:, r0:r1, c0:c1, :].astype(np.float64).mean(axis=(1, 2))
    return out


@pytest.mark.parametrize(
    "in_size,out_size",
    [((6, 6), (6, 6)), ((13, 13), (6, 6)), ((7, 7), (3, 3)), ((12, 12), (6, 6)),
     ((13, 7), (6, 3)), ((12, 5), (6, 2)), ((5, 8), (7, 3))],
)
def test_adaptive_average_pooling_matches_torch_bins(in_size, out_size):
    x = np.random.default_rng(sum(in_size)).normal(size=(2, *in_size, 3)).astype(np.float32)
    layer = AdaptiveAveragePooling2D(out_size)
    got = to_numpy(layer(x))
    assert got.shape == (2, *out_size, 3)
    assert layer.compute_output_shape((None, *in_size, 3)) == (None, *out_size, 3)
    np.testing.assert_allclose(got, adaptive_avg_reference(x, *out_size), rtol=1e-5, atol=1e-6)


def test_adaptive_average_pooling_overlapping_bins_differ_from_plain_pooling():
    # 13 -> 6 has overlapping, unequal bins; a plain 2x2 pool would be wrong.
    x = np.random.default_rng(1).normal(size=(1, 13, 13, 2)).astype(np.float32)
    got = to_numpy(AdaptiveAveragePooling2D(6)(x))
    plain = to_numpy(ops.average_pool(x, 2, 2, "valid", data_format="channels_last"))
    assert not np.allclose(got, plain, atol=1e-3)


@tensorflow_only
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_adaptive_average_pooling_rounds_as_tensorflows_reduce_mean(dtype):
    """Under TensorFlow the layer gives, bit for bit, what it gave when it
    called tf.reduce_mean itself, in every precision."""
    import tensorflow as tf

    x = tf.cast(np.random.default_rng(5).normal(0, 20, (4, 13, 13, 32)).astype(np.float32), dtype)
    got = AdaptiveAveragePooling2D(6, dtype=dtype)(x)
    bins = AdaptiveAveragePooling2D._bins(13, 6)
    expected = tf.stack([tf.stack([tf.reduce_mean(x[:, r0:r1, c0:c1, :], axis=[1, 2]) for c0, c1 in bins], axis=1)
                         for r0, r1 in bins], axis=1)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(to_numpy(ops.cast(got, "float32")), to_numpy(ops.cast(expected, "float32")))


@pytest.mark.parametrize("in_size,out_size", [(13, 6), (7, 3), (12, 6), (6, 6)])
def test_adaptive_average_pooling_matches_torch(in_size, out_size):
    torch = import_torch()
    x = np.random.default_rng(0).normal(size=(2, in_size, in_size, 4)).astype(np.float32)
    expected = torch.nn.AdaptiveAvgPool2d(out_size)(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))
    got = to_numpy(AdaptiveAveragePooling2D(out_size)(x))
    np.testing.assert_allclose(got, expected.numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -3, (6, 0), (1, 2, 3), (2.5, 2)])
def test_adaptive_average_pooling_bad_size(bad):
    with pytest.raises(ValueError) as info:
        AdaptiveAveragePooling2D(bad)
    assert str(bad if isinstance(bad, int) else tuple(bad)) in str(info.value)


def test_adaptive_average_pooling_needs_known_size_and_round_trips():
    with pytest.raises(ValueError, match="None"):
        keras.Sequential([keras.Input((None, None, 3)), AdaptiveAveragePooling2D(6)])
    layer = AdaptiveAveragePooling2D((6, 3), name="ap")
    clone = AdaptiveAveragePooling2D.from_config(layer.get_config())
    assert clone.output_size == (6, 3)
    x = np.random.default_rng(2).normal(size=(1, 13, 7, 2)).astype(np.float32)
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(layer(x)))


# ---------------------------------------------------------------------------
# Preprocess
# ---------------------------------------------------------------------------


def test_preprocess_formula_and_bgr():
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 3, 3)).astype(np.float32)
    mean, std, scale = (10.0, 20.0, 30.0), (2.0, 4.0, 8.0), 0.5
    got = to_numpy(Preprocess(mean, std, scale)(x))
    np.testing.assert_allclose(got, (x * scale - np.array(mean)) / np.array(std), rtol=1e-6)
    got_bgr = to_numpy(Preprocess(mean, std, scale, channel_order="bgr")(x))
    np.testing.assert_allclose(got_bgr, (x[..., ::-1] * scale - np.array(mean)) / np.array(std), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs,shown",
    [(dict(std=(1.0, 0.0, 2.0)), "0.0"), (dict(scale=-2.0), "-2.0"),
     (dict(channel_order="hsv"), "hsv"), (dict(mean=[]), "[]")],
)
def test_preprocess_bad_arguments(kwargs, shown):
    with pytest.raises(ValueError) as info:
        Preprocess(**kwargs)
    assert shown in str(info.value)


def test_preprocess_channel_mismatch():
    with pytest.raises(ValueError, match="3 values"):
        Preprocess(mean=(1.0, 2.0, 3.0))(np.zeros((1, 2, 2, 4), np.float32))
