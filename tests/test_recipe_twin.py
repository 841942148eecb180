"""``benchmarks/recipe_sweep_gpu.py`` ranks recipes on a hand-written
PyTorch twin of the default job (it must run where neither TensorFlow nor
Keras is installed). These tests hold its copies of the recipe, the
network and the whitening to the package's, so that the twin cannot drift
from the job it stands for."""

import importlib.util
import os

import numpy as np
import pytest

import alexnet
from alexnet.config import SMALL_RECIPE, Config
from alexnet.summary import layer_macs
from alexnet.layers import LocalResponseNormalization
from alexnet.training.whitening import EPSILON, whitening_filters
from alexnet.variants import SMALL, SMALL_HALF, Conv, MaxPool, layer_plan

SCRIPT = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "recipe_sweep_gpu.py")


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("recipe_sweep_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_twin_trains_the_default_recipe(sweep):
    recipe, config = sweep.RECIPE, Config()
    assert (recipe["batch"], recipe["lr"], recipe["warmup"], recipe["smoothing"], recipe["resample"]) == (
        SMALL_RECIPE["batch_size"], SMALL_RECIPE["learning_rate"], SMALL_RECIPE["warmup_epochs"],
        SMALL_RECIPE["label_smoothing"], SMALL_RECIPE["resample"])
    assert recipe["l2"] == SMALL_RECIPE["weight_decay"] and recipe["momentum"] == config.momentum
    assert (SMALL_RECIPE["optimizer"], SMALL_RECIPE["nesterov"], SMALL_RECIPE["schedule"]) == ("sgd", True, "cosine")
    assert SMALL_RECIPE["conv1_init"] == "whitened" and SMALL_RECIPE["pad"] == 0 and config.flip
    assert recipe["dropout"] == config.dropout and recipe["epsilon"] == EPSILON


def test_the_twin_has_the_small_network(sweep):
    convs, fc = sweep.WIDTHS["small"]
    assert convs == tuple(conv.filters for conv in SMALL.convs) and (fc, fc) == SMALL.fc_units
    # The order the twin's forward() hard-codes: conv1-2 each ReLU, pool,
    # LRN; conv3, conv4; conv5, pool; kernels 5, 3, 3, 3, 3, stride 1.
    steps = [step for _, step in layer_plan(SMALL, include_top=False)]
    kinds = [type(step).__name__ for step in steps]
    assert kinds == ["Conv", "MaxPool", "LRN", "Conv", "MaxPool", "LRN", "Conv", "Conv", "Conv", "MaxPool"]
    assert [s.kernel for s in steps if isinstance(s, Conv)] == [5, 3, 3, 3, 3]
    assert all(s.stride == 1 and s.groups == 1 for s in steps if isinstance(s, Conv))
    assert all((s.size, s.stride, s.padding) == (3, 2, "same") for s in steps if isinstance(s, MaxPool))
    lrn = LocalResponseNormalization().get_config()
    twin = sweep.LRN_TORCH
    assert (twin["size"], twin["k"], twin["beta"]) == (2 * lrn["depth_radius"] + 1, lrn["bias"], lrn["beta"])
    assert twin["alpha"] == pytest.approx(lrn["alpha"] * twin["size"])


@pytest.mark.parametrize("width", ["small", "half"])
def test_multiply_adds_match_the_keras_model(sweep, width):
    convs, fc = sweep.WIDTHS[width]
    variant = SMALL if width == "small" else SMALL_HALF
    assert convs == tuple(conv.filters for conv in variant.convs) and (fc, fc) == variant.fc_units
    model = alexnet.AlexNet(variant=variant, input_shape=(28, 28, 1), classes=10)
    assert sweep.multiply_adds(convs, fc) == sum(layer_macs(layer) for layer in model.layers)


def test_the_twin_whitens_as_the_package_does(sweep):
    rng = np.random.default_rng(0)
    patches = rng.normal(size=(5000, 25)) @ rng.normal(size=(25, 25))
    ours = whitening_filters(patches, (5, 5, 1, 32))  # (kh, kw, channels, filters)
    np.testing.assert_allclose(sweep.whitening_kernel(patches, 32, EPSILON), ours.transpose(3, 2, 0, 1),
                               rtol=1e-5, atol=1e-6)
