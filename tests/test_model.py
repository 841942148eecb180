"""``alexnet.AlexNet``: architecture, parameter counts, initialization,
ablation switches, serialization and argument errors.

Runs under every Keras backend (``KERAS_BACKEND=jax python -m pytest
tests/test_model.py``)."""

import math
from dataclasses import replace
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest
from keras import ops

import alexnet.model
from alexnet import AlexNet
from alexnet.layers import GroupedConv2D, LocalResponseNormalization
from alexnet.variants import IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, VARIANTS

BACKEND = keras.backend.backend()
to_numpy = ops.convert_to_numpy

PAPER_LAYERS = ("preprocess", "conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2",
                "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "predictions")


def pixels(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype(np.float32)


@pytest.fixture(scope="module")
def paper():
    """The paper's network at 1000 classes (60M weights): built once."""
    return AlexNet(variant="paper")


@pytest.fixture
def float32_policy():
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


# ---------------------------------------------------------------------------
# Sizes and names
# ---------------------------------------------------------------------------


def test_paper_parameter_count(paper):
    assert paper.count_params() == 60_965_224
    assert paper.output.shape == (None, 1000)
    assert paper.input.shape == (None, 227, 227, 3)


@pytest.mark.parametrize("variant,count,size", [("single", 62_378_344, 227), ("owt", 61_100_840, 224)])
def test_other_imagenet_parameter_counts(variant, count, size):
    model = AlexNet(variant=variant, classes=1000)
    assert model.count_params() == count
    assert model.input.shape == (None, size, size, 3)
    assert model.output.shape == (None, 1000)


def spec_parameter_count(spec, channels, classes):
    """Counted from the Variant table with the convolution arithmetic written
    out here (not alexnet.model's helpers)."""
    total, size, c_in = 0, spec.default_input_shape[0], channels
    for index, conv in enumerate(spec.convs, start=1):
        total += conv.kernel * conv.kernel * (c_in // conv.groups) * conv.filters + conv.filters
        c_in = conv.filters
        if conv.padding == "same":
            size = math.ceil(size / conv.stride)
        else:
            pad = conv.padding if isinstance(conv.padding, int) else 0
            size = (size + 2 * pad - conv.kernel) // conv.stride + 1
        if index in (1, 2, 5):
            size = math.ceil(size / 2) if spec.pool_padding == "same" else (size - 3) // 2 + 1
    units = size * size * c_in
    for width in (*spec.fc_units, classes):
        total += units * width + width
        units = width
    return total


def test_small_parameter_count_from_spec():
    spec = VARIANTS["small"]
    model = AlexNet(variant="small", classes=10)
    expected = spec_parameter_count(spec, spec.default_input_shape[-1], 10)
    assert model.count_params() == expected
    # The same formula reproduces the published counts of the large variants.
    assert spec_parameter_count(VARIANTS["paper"], 3, 1000) == 60_965_224
    assert spec_parameter_count(VARIANTS["single"], 3, 1000) == 62_378_344


@pytest.mark.parametrize("variant,classes", [("small", 10), ("small", 2), ("owt", 7)])
def test_output_shapes(variant, classes):
    model = AlexNet(variant=variant, classes=classes)
    x = pixels((2, *VARIANTS[variant].default_input_shape))
    y = to_numpy(model(x))
    assert model.output.shape == (None, classes)
    assert y.shape == (2, classes)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)  # softmax
    logits = AlexNet(variant=variant, classes=classes, classifier_activation=None)
    assert logits.get_layer("predictions").get_config()["activation"] == "linear"


@pytest.mark.parametrize(
    "variant,input_shape,feature_map",
    [("paper", None, (6, 6, 256)), ("single", None, (6, 6, 256)), ("owt", None, (6, 6, 256)),
     ("small", None, (4, 4, 96)), ("small", (32, 32, 3), (4, 4, 96)), ("owt", (256, 256, 3), (6, 6, 256))],
)
def test_include_top_false_shapes(variant, input_shape, feature_map):
    kw = dict(variant=variant, include_top=False, input_shape=input_shape)
    assert AlexNet(**kw, pooling=None).output.shape == (None, *feature_map)
    for pooling in ("avg", "max"):
        model = AlexNet(**kw, pooling=pooling)
        assert model.output.shape == (None, feature_map[-1])
        names = [layer.name for layer in model.layers]
        assert not {"fc6", "fc7", "predictions"} & set(names)


def test_paper_input_224_gives_the_papers_54x54_conv1():
    model = AlexNet(variant="paper", input_shape=(224, 224, 3), include_top=False)
    assert model.get_layer("conv1").output.shape == (None, 54, 54, 96)
    assert model.output.shape == (None, 5, 5, 256)
    full = AlexNet(variant="paper", input_shape=(224, 224, 3), classes=10)
    assert full.get_layer("fc6").kernel.shape == (5 * 5 * 256, 4096)
    assert full(pixels((1, 224, 224, 3))).shape == (1, 10)


def test_every_layer_name_exists(paper):
    names = [layer.name for layer in paper.layers]
    for name in PAPER_LAYERS:
        assert names.count(name) == 1, name
    small = [layer.name for layer in AlexNet(variant="small").layers]
    for name in PAPER_LAYERS:
        assert name in small
    owt = [layer.name for layer in AlexNet(variant="owt", include_top=False).layers]
    assert "lrn1" not in owt and "avgpool" in owt
    assert isinstance(paper.get_layer("lrn1"), LocalResponseNormalization)
    assert paper.layers[1].name == "preprocess"


def test_layer_plan_reads_like_figure_2(paper):
    from alexnet.variants import PAPER, SINGLE, layer_plan, ungrouped

    assert [name for name, _ in layer_plan(PAPER)] == [
        "conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5", "pool5",
        "flatten", "fc6", "drop6", "fc7", "drop7", "predictions"]
    # torchvision's order: no LRN unless asked, adaptive pooling, dropout before fc6 and fc7.
    assert [name for name, _ in layer_plan(VARIANTS["owt"], dropout=0.5)] == [
        "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "avgpool",
        "flatten", "drop6", "fc6", "drop7", "fc7", "predictions"]
    assert [name for name, _ in layer_plan(PAPER, lrn=False, dropout=0, include_top=False)] == [
        "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
    # single is paper without groups, and nothing else.
    assert SINGLE.convs == ungrouped(PAPER.convs) and replace(SINGLE, name="paper", convs=PAPER.convs) == PAPER
    # A model's layers are its plan's steps, after the input and `preprocess` (and torchvision's padding).
    for variant, model in (("paper", paper), ("owt", AlexNet(variant="owt", include_top=False))):
        built = [layer.name for layer in model.layers[2:] if not layer.name.endswith("_pad")]
        include_top = variant == "paper"
        assert built == [name for name, _ in layer_plan(VARIANTS[variant], include_top=include_top)]


def test_small_pools_before_normalizing():
    """The paper normalizes and then pools; `small` pools first (CaffeNet's
    order), so its LRN layers see 14x14 and 7x7 maps; without LRN the two
    orders are the same network."""
    from alexnet.variants import layer_plan

    small = VARIANTS["small"]
    assert [name for name, _ in layer_plan(small, include_top=False)] == [
        "conv1", "pool1", "lrn1", "conv2", "pool2", "lrn2", "conv3", "conv4", "conv5", "pool5"]
    assert layer_plan(small, lrn=False) == layer_plan(replace(small, pool_before_lrn=False), lrn=False)
    model = AlexNet(variant="small", input_shape=(28, 28, 1), classes=10)
    assert model.get_layer("lrn1").input.shape == (None, 14, 14, small.convs[0].filters)
    assert model.get_layer("lrn2").input.shape == (None, 7, 7, small.convs[1].filters)
    assert [layer.name for layer in model.layers[2:]] == [name for name, _ in layer_plan(small, classes=10)]


def test_paper_grouped_layers(paper):
    for name in ("conv2", "conv4", "conv5"):
        layer = paper.get_layer(name)
        assert isinstance(layer, GroupedConv2D) and layer.groups == 2
    assert paper.get_layer("conv2").kernel.shape == (5, 5, 48, 256)
    assert paper.get_layer("conv4").kernel.shape == (3, 3, 192, 384)
    assert paper.get_layer("conv5").kernel.shape == (3, 3, 192, 256)
    assert paper.get_layer("conv3").kernel.shape == (3, 3, 256, 384)


# ---------------------------------------------------------------------------
# Gradients and initialization
# ---------------------------------------------------------------------------


def gradients(model, x, labels):
    """The gradients of the cross-entropy loss of ``model(x, training=True)``
    with respect to its trainable weights, by the backend's own autodiff."""
    def loss(probs):
        return ops.sum(keras.losses.categorical_crossentropy(labels, probs))

    weights = model.trainable_weights
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss(model(x, training=True))
        return [to_numpy(g) if g is not None else None for g in tape.gradient(value, weights)]
    if BACKEND == "jax":
        import jax

        def value(trainable, non_trainable):
            probs, _ = model.stateless_call(trainable, non_trainable, x, training=True)
            return loss(probs)

        return [np.asarray(g) for g in jax.grad(value)([v.value for v in model.trainable_variables],
                                                         [v.value for v in model.non_trainable_variables])]
    if BACKEND == "torch":
        model.zero_grad()
        loss(model(x, training=True)).backward()
        return [None if w.value.grad is None else w.value.grad.numpy() for w in weights]
    pytest.skip(f"no gradient helper for backend {BACKEND}")


def assert_gradients_reach_every_weight(model, x, classes):
    labels = np.eye(classes, dtype=np.float32)[np.arange(len(x)) % classes]
    grads = gradients(model, x, labels)
    assert len(grads) == len(model.trainable_weights) > 0
    for weight, grad in zip(model.trainable_weights, grads):
        assert grad is not None, weight.path
        assert np.all(np.isfinite(grad)), weight.path
        assert np.any(grad != 0), weight.path


def test_gradients_reach_every_weight_small():
    model = AlexNet(variant="small", classes=10)
    assert len(model.trainable_weights) == 16
    assert_gradients_reach_every_weight(model, pixels((4, 28, 28, 1)), 10)


def test_gradients_reach_every_weight_paper(paper):
    assert len(paper.trainable_weights) == 16
    assert_gradients_reach_every_weight(paper, pixels((1, 227, 227, 3), seed=1), 1000)


def test_paper_initialization(paper):
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "predictions"):
        kernel = to_numpy(paper.get_layer(name).kernel)
        assert abs(kernel.std() - 0.01) < 0.0005, name
        assert abs(kernel.mean()) < 5 * 0.01 / math.sqrt(kernel.size) + 1e-5, name
    for name in ("conv2", "conv4", "conv5", "fc6", "fc7"):
        np.testing.assert_array_equal(to_numpy(paper.get_layer(name).bias), 1.0, err_msg=name)
    for name in ("conv1", "conv3", "predictions"):
        np.testing.assert_array_equal(to_numpy(paper.get_layer(name).bias), 0.0, err_msg=name)


# ---------------------------------------------------------------------------
# Ablation switches
# ---------------------------------------------------------------------------


def copy_weights(source, target):
    for a, b in zip(target.weights, source.weights):
        assert a.path == b.path
        a.assign(b)


def test_activation_tanh():
    relu = AlexNet(variant="small", classes=10, classifier_activation=None)
    tanh = AlexNet(variant="small", classes=10, classifier_activation=None, activation="tanh")
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"):
        assert tanh.get_layer(name).get_config()["activation"] == "tanh"
        assert relu.get_layer(name).get_config()["activation"] == "relu"
    copy_weights(relu, tanh)
    x = pixels((2, 28, 28, 1))
    conv1 = to_numpy(keras.Model(tanh.input, tanh.get_layer("conv1").output)(x))
    assert conv1.min() < 0 and conv1.max() <= 1.0  # tanh, not relu
    assert not np.allclose(to_numpy(relu(x)), to_numpy(tanh(x)), atol=1e-4)


def test_lrn_false_removes_lrn_layers():
    with_lrn = AlexNet(variant="small", classes=10)
    without = AlexNet(variant="small", classes=10, lrn=False)
    assert {"lrn1", "lrn2"} <= {layer.name for layer in with_lrn.layers}
    assert not [layer for layer in without.layers if isinstance(layer, LocalResponseNormalization)]
    assert without.get_layer("pool1").input is without.get_layer("conv1").output
    assert with_lrn.count_params() == without.count_params()
    # owt has no LRN by default but lrn=True adds it.
    assert "lrn1" in {layer.name for layer in AlexNet(variant="owt", include_top=False, lrn=True).layers}


@pytest.mark.parametrize("variant", ["paper", "small"])
def test_non_overlapping_pooling(variant):
    over = AlexNet(variant=variant, include_top=False)
    plain = AlexNet(variant=variant, include_top=False, overlapping_pooling=False)
    for name in ("pool1", "pool2", "pool5"):
        assert over.get_layer(name).pool_size == (3, 3)
        assert plain.get_layer(name).pool_size == (2, 2)
        assert plain.get_layer(name).strides == (2, 2)
        assert plain.get_layer(name).output.shape == over.get_layer(name).output.shape


def test_dropout_zero_removes_dropout_layers():
    model = AlexNet(variant="small", classes=10, dropout=0)
    assert not [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    x = pixels((2, 28, 28, 1))
    np.testing.assert_array_equal(to_numpy(model(x, training=True)), to_numpy(model(x, training=False)))
    default = AlexNet(variant="small", classes=10)
    drops = [layer for layer in default.layers if isinstance(layer, keras.layers.Dropout)]
    assert [d.name for d in drops] == ["drop6", "drop7"] and all(d.rate == 0.5 for d in drops)
    # owt (torchvision) puts dropout before fc6/fc7.
    owt = [layer.name for layer in AlexNet(variant="owt", classes=10).layers]
    assert owt.index("drop6") < owt.index("fc6") < owt.index("drop7") < owt.index("fc7")


# ---------------------------------------------------------------------------
# Serialization
# ---------------------------------------------------------------------------


def assert_round_trips(model, x, tmp_path):
    expected = to_numpy(model(x, training=False))
    clone = keras.Model.from_config(model.get_config())
    copy_weights(model, clone)
    np.testing.assert_array_equal(to_numpy(clone(x, training=False)), expected)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(to_numpy(loaded(x, training=False)), expected)


def test_small_round_trips(tmp_path):
    model = AlexNet(variant="small", classes=10, activation="tanh", dropout=0.3)
    assert_round_trips(model, pixels((3, 28, 28, 1)), tmp_path)


def test_owt_features_round_trip(tmp_path):
    model = AlexNet(variant="owt", include_top=False, input_shape=(230, 230, 3), pooling="avg")
    assert_round_trips(model, pixels((1, 230, 230, 3)), tmp_path)


def test_paper_round_trips(paper, tmp_path):
    assert_round_trips(paper, pixels((1, 227, 227, 3), seed=2), tmp_path)


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
def test_weights_path_loads_the_same_weights(tmp_path, suffix):
    source = AlexNet(variant="small", classes=10)
    path = str(tmp_path / f"source{suffix}")
    if suffix == ".keras":
        source.save(path)
    else:
        source.save_weights(path)
    fresh = AlexNet(variant="small", classes=10)
    assert not np.array_equal(to_numpy(fresh.get_layer("fc6").kernel), to_numpy(source.get_layer("fc6").kernel))
    model = AlexNet(variant="small", classes=10, weights=path)
    for a, b in zip(model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = pixels((2, 28, 28, 1))
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(source(x)))


def test_weights_of_another_architecture_rejected(tmp_path):
    path = str(tmp_path / "other.keras")
    AlexNet(variant="small", classes=5).save(path)
    with pytest.raises(ValueError, match="other.keras"):
        AlexNet(variant="small", classes=10, weights=path)


def test_float32_copy_of_mixed_bfloat16_model(float32_policy):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    mixed = AlexNet(variant="small", classes=10)
    keras.mixed_precision.set_global_policy("float32")
    assert mixed.get_layer("conv1").compute_dtype == "bfloat16"
    assert mixed.get_layer("conv1").output.dtype == "bfloat16"
    copy = alexnet.model.float32_copy(mixed)
    for layer in copy.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            assert layer.dtype_policy.name == "float32", layer.name
            assert layer.compute_dtype == "float32", layer.name
        assert layer.output.dtype == "float32", layer.name
    assert [layer.name for layer in copy.layers] == [layer.name for layer in mixed.layers]
    for a, b in zip(copy.weights, mixed.weights):
        assert a.path == b.path
        assert a.dtype == "float32"
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    x = pixels((2, 28, 28, 1))
    np.testing.assert_allclose(to_numpy(copy(x)), to_numpy(ops.cast(mixed(x), "float32")), atol=0.05)


# ---------------------------------------------------------------------------
# input_tensor (keras.applications' convention)
# ---------------------------------------------------------------------------


def test_input_tensor_from_keras_input_is_the_models_input():
    image = keras.Input((32, 32, 3), name="photo")
    model = AlexNet(variant="small", input_tensor=image, classes=4)
    assert model.input is image
    assert model.input_shape == (None, 32, 32, 3)
    assert [layer.name for layer in model.layers[:2]] == ["photo", "preprocess"]


def test_intermediate_input_tensor_builds_from_its_source_inputs(tmp_path):
    """As keras.applications: given ``t = Conv2D(...)(Input((200, 200, 4)))``,
    the model's input is that Input, the stem before ``t`` is part of the
    model, and no clone of ``t`` appears."""
    source = keras.Input((200, 200, 4), name="rgbd")
    stem = keras.layers.Conv2D(3, 3, strides=2, padding="same", name="stem")
    t = stem(source)  # (None, 100, 100, 3)
    model = AlexNet(variant="owt", input_tensor=t, classes=5)
    assert model.input is source
    assert model.input_shape == (None, 200, 200, 4)
    assert [layer.name for layer in model.layers[:3]] == ["rgbd", "stem", "preprocess"]
    assert not [layer.name for layer in model.layers if "clone" in layer.name.lower()]
    assert model.get_layer("stem") is stem
    assert model.count_params() == AlexNet(variant="owt", classes=5, input_shape=(100, 100, 3)).count_params() \
        + stem.count_params()
    x = pixels((2, 200, 200, 4))
    y = to_numpy(model(x))
    assert y.shape == (2, 5)
    # The stem's output fed to the rest of the model gives the same answer.
    rest = keras.Model(model.get_layer("preprocess").input, model.output)
    np.testing.assert_allclose(to_numpy(rest(stem(x))), y, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "stem.keras")
    loaded = keras.saving.load_model(tmp_path / "stem.keras")
    np.testing.assert_allclose(to_numpy(loaded(x)), y, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------
# Preprocessing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant,mean,std,scale",
    [
        ("paper", IMAGENET_MEAN_RGB, (1.0,), 1.0),
        ("owt", [m / 255 for m in IMAGENET_MEAN_RGB], [s / 255 for s in IMAGENET_STD_RGB], 1 / 255),
        ("small", (127.5,), (127.5,), 1.0),
    ],
)
def test_preprocess_layer_takes_raw_pixels(variant, mean, std, scale):
    model = AlexNet(variant=variant, include_top=False)
    shape = VARIANTS[variant].default_input_shape
    x = pixels((2, *shape))
    pre = to_numpy(keras.Model(model.input, model.get_layer("preprocess").output)(x))
    expected = (x.astype(np.float64) * scale - np.asarray(mean)) / np.asarray(std)
    np.testing.assert_allclose(pre, expected, rtol=1e-5, atol=1e-5)
    if variant == "owt":  # torchvision's normalization of a 0-1 image
        np.testing.assert_allclose(
            pre, (x / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225]),
            rtol=1e-3, atol=1e-3,
        )


def test_custom_preprocessing():
    prep = dict(mean=(1.0, 2.0, 3.0), std=(2.0, 3.0, 4.0), scale=0.5, channel_order="bgr")
    model = AlexNet(variant="small", include_top=False, input_shape=(16, 16, 3), preprocessing=prep)
    x = pixels((1, 16, 16, 3))
    pre = to_numpy(keras.Model(model.input, model.get_layer("preprocess").output)(x))
    np.testing.assert_allclose(pre, (x[..., ::-1] * 0.5 - np.array([1.0, 2.0, 3.0])) / np.array([2.0, 3.0, 4.0]),
                               rtol=1e-5)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,shown",
    [
        (dict(variant="vgg16"), "'vgg16'"),
        (dict(variant="paper", input_shape=(60, 60, 3)), "(60, 60, 3)"),
        (dict(variant="owt", input_shape=(40, 200, 3)), "(40, 200, 3)"),
        (dict(variant="paper", input_shape=(227, 227, 1)), "(227, 227, 1)"),
        (dict(variant="owt", input_shape=(224, 224, 4)), "(224, 224, 4)"),
        (dict(variant="small", input_shape=(28, 28)), "(28, 28)"),
        (dict(variant="small", classes=1), "got 1."),
        (dict(variant="small", classes=-4), "-4"),
        (dict(variant="small", classes=10.0), "10.0"),
        (dict(variant="small", dropout=1.0), "1.0"),
        (dict(variant="small", dropout=1.5), "1.5"),
        (dict(variant="small", dropout=-0.1), "-0.1"),
        (dict(variant="small", include_top=False, pooling="mean"), "'mean'"),
        (dict(variant="small", activation="sigmoid"), "'sigmoid'"),
        (dict(variant="small", weights="/nonexistent/alexnet.weights.h5"), "/nonexistent/alexnet.weights.h5"),
        (dict(variant="small", weights="imagenet"), "'imagenet'"),
    ],
)
def test_errors_repeat_the_bad_value(kwargs, shown):
    with pytest.raises(ValueError) as info:
        AlexNet(**kwargs)
    assert shown in str(info.value)


def test_input_too_small_names_the_minimum():
    with pytest.raises(ValueError) as info:
        AlexNet(variant="paper", input_shape=(60, 60, 3))
    message = str(info.value)
    minimum = int(message.split("at least ")[1].split()[0])
    AlexNet(variant="paper", include_top=False, input_shape=(minimum, minimum, 3))  # builds
    with pytest.raises(ValueError):
        AlexNet(variant="paper", include_top=False, input_shape=(minimum - 1, minimum - 1, 3))


def test_load_model_works_in_a_fresh_process_after_a_plain_import(tmp_path):
    # In this process the custom layers are registered already; a user's
    # fresh `import alexnet` has imported nothing, so check there.
    model = AlexNet(variant="small", classes=10)
    (tmp_path / "run").mkdir()
    model.save(tmp_path / "run" / "model.keras")
    code = ("import sys, alexnet; m = alexnet.load_model(sys.argv[1]); "
            "print(m.name, m.get_layer('lrn1').__class__.__name__)")
    for target in (tmp_path / "run" / "model.keras", tmp_path / "run"):
        result = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == ["alexnet_small", "LocalResponseNormalization"]
