"""conv1 as fixed PCA-whitening filters (``--conv1-init whitened``, the
default job's): the filters against the covariance they whiten, the patches
against the image they come from, and a training run that keeps them."""

import json

import keras
import numpy as np
import pytest

from alexnet.config import Config
from alexnet.errors import UserError
from alexnet.training.run import train
from alexnet.training.whitening import EPSILON, random_patches, whiten_conv1, whitening_filters

QUICK = dict(variant="small", batch_size=16, precision="float32", learning_rate=0.01, warmup_epochs=0.0)


def test_filters_whiten_a_known_covariance():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(12, 12)) * np.linspace(3.0, 0.1, 12)  # strongly correlated, unequal variances
    covariance = mixing @ mixing.T
    patches = rng.multivariate_normal(np.full(12, 5.0), covariance, size=200_000)
    kernel = whitening_filters(patches, (2, 2, 3, 8))
    assert kernel.shape == (2, 2, 3, 8) and kernel.dtype == np.float32
    w = kernel.reshape(12, 8)
    np.testing.assert_array_equal(w[:, 4:], -w[:, :4])  # each direction with both signs
    # The outputs are uncorrelated, with variance lambda / (lambda + eps) for
    # the four largest eigenvalues lambda of the true covariance (by SVD,
    # not the eigh the filters were computed with).
    strongest = np.linalg.svd(covariance, compute_uv=False)[:4]
    np.testing.assert_allclose(w[:, :4].T @ covariance @ w[:, :4], np.diag(strongest / (strongest + EPSILON)),
                               atol=0.03)
    outputs = (patches - patches.mean(0)) @ w[:, :4]
    np.testing.assert_allclose(np.cov(outputs, rowvar=False), np.eye(4), atol=0.03)


@pytest.mark.parametrize("shape, patches, message", [
    ((2, 2, 1, 3), (100, 4), "even number of filters"),
    ((2, 2, 1, 10), (100, 4), "at most 8"),
    ((2, 2, 1, 4), (100, 5), r"\(N >= 2, 4\), got \(100, 5\)"),
])
def test_filters_refuse_what_they_cannot_do(shape, patches, message):
    with pytest.raises(ValueError, match=message):
        whitening_filters(np.ones(patches), shape)


def test_random_patches_are_slices_of_the_image():
    y, x = np.mgrid[:9, :7]
    images = np.stack([100 * y + x, 1000 + 100 * y + x], axis=-1)[None].astype(np.float32)  # (1, 9, 7, 2)
    patches = random_patches(images, 3, 2, 50, np.random.default_rng(0)).reshape(50, 3, 2, 2)
    tops = set()
    for patch in patches:
        top, left = divmod(int(patch[0, 0, 0]), 100)
        np.testing.assert_array_equal(patch, images[0, top : top + 3, left : left + 2])
        tops.add((top, left))
    assert len(tops) > 10 and max(t for t, _ in tops) <= 6 and max(l for _, l in tops) <= 5


def test_a_model_without_one_conv1_is_refused():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="tower1_conv1")])
    with pytest.raises(UserError, match="--conv1-init whitened.*random"):
        whiten_conv1(model, source=None, spec=None)


def test_training_keeps_the_whitening_filters(idx_dir, tmp_path):
    from alexnet.saved import load_model_file
    from alexnet.training.run import build_model, prepare_data

    config = Config(data=str(idx_dir), out=str(tmp_path / "w"), epochs=2, **QUICK)
    train(config)
    assert json.loads((tmp_path / "w" / "config.json").read_text())["conv1_init"] == "whitened"  # small's default
    trained = load_model_file(str(tmp_path / "w" / "model.keras"))
    conv1 = trained.get_layer("conv1")
    assert not conv1.trainable and trained.get_layer("conv2").trainable

    from alexnet.config import resolve

    source, spec, _ = prepare_data(resolve(config))
    fresh = build_model(resolve(config), source, spec)
    whiten_conv1(fresh, source, spec, seed=config.seed)
    # conv1 after two epochs is exactly what the data gave it.
    np.testing.assert_array_equal(conv1.kernel.numpy(), fresh.get_layer("conv1").kernel.numpy())
    np.testing.assert_array_equal(conv1.bias.numpy(), 0.0)

    random = train(Config(data=str(idx_dir), out=str(tmp_path / "r"), epochs=1, conv1_init="random", **QUICK))
    assert random["epochs"] == 1
    assert load_model_file(str(tmp_path / "r" / "model.keras")).get_layer("conv1").trainable


def test_a_run_from_before_the_option_resumes_only_as_it_was(idx_dir, tmp_path):
    quick = dict(data=str(idx_dir), out=str(tmp_path / "old"), epochs=1, max_steps_per_epoch=2, **QUICK)
    first = train(Config(conv1_init="random", **quick))
    path = tmp_path / "old" / "config.json"
    written = json.loads(path.read_text())
    del written["conv1_init"]  # as versions before the option wrote it
    path.write_text(json.dumps(written))
    with pytest.raises(UserError, match="conv1_init: 'random' -> 'whitened'"):
        train(Config(**quick))
    assert train(Config(conv1_init="random", **quick)) == first  # the same settings: the finished run
