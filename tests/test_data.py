"""The input pipeline and the dataset readers."""

import os

import numpy as np
import pytest
import tensorflow as tf

from alexnet.data import pipeline as P
from alexnet.data.datasets import (
    InputSpec, eval_dataset, plan_inputs, ten_crop_transform, train_dataset, verify_files,
)
from alexnet.data.sources import load_source, read_idx
from alexnet.errors import UserError
from conftest import save_image, write_idx


def _in_map(fn, *args):
    """Runs ``fn`` inside Dataset.map (graph mode) on one element."""
    ds = tf.data.Dataset.from_tensors(args).map(lambda *a: fn(*a))
    return next(iter(ds))


@pytest.mark.parametrize("shape", [(20, 30, 3), (31, 17, 1)])
def test_deterministic_functions_are_the_same_eagerly_and_in_map(shape):
    image = tf.constant(np.random.default_rng(0).integers(0, 256, shape), tf.uint8)
    for fn in (lambda x: P.resize_shorter_side(x, 40), lambda x: P.center_crop(x, 12),
               lambda x: P.ten_crops(x, 12), lambda x: P.pad_reflect(x, 3)):
        np.testing.assert_array_equal(fn(image).numpy(), _in_map(fn, image).numpy())
    encoded = tf.io.encode_png(image)
    np.testing.assert_array_equal(P.decode_image(encoded, shape[-1]).numpy(),
                                  _in_map(lambda e: P.decode_image(e, shape[-1]), encoded).numpy())


def test_random_functions_behave_the_same_eagerly_and_in_map():
    image = tf.constant(np.random.default_rng(1).integers(0, 256, (16, 16, 3)), tf.uint8)
    for result in (P.random_flip(image), _in_map(P.random_flip, image)):
        r = result.numpy()
        assert np.array_equal(r, image.numpy()) or np.array_equal(r, image.numpy()[:, ::-1])
    windows = {image.numpy()[t:t + 10, l:l + 10].tobytes() for t in range(7) for l in range(7)}
    for _ in range(5):
        assert P.random_crop(image, 10).numpy().tobytes() in windows
        assert _in_map(lambda x: P.random_crop(x, 10), image).numpy().tobytes() in windows
    values = [1.0, 0.5, 0.1]
    vectors = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))[0]
    for result in (P.pca_lighting(image, values, vectors), _in_map(lambda x: P.pca_lighting(x, values, vectors), image)):
        shift = result.numpy() - image.numpy().astype(np.float32)
        # One colour shift for the whole image: every pixel moves the same way.
        np.testing.assert_allclose(shift, np.broadcast_to(shift[0, 0], shift.shape), atol=1e-3)


def test_resize_shorter_side_keeps_aspect_ratio():
    image = tf.zeros([100, 50, 3], tf.uint8)
    assert P.resize_shorter_side(image, 256).shape == (512, 256, 3)


def test_pca_noise_statistics():
    """Shifts are eigvecs @ (alpha * eigvals) * 255 with alpha ~ N(0, 0.1):
    mean 0 and covariance 255^2 V diag((0.1 lambda)^2) V^T."""
    values = np.array([0.2, 0.02, 0.005])
    vectors = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))[0]
    image = tf.fill([1, 1, 3], tf.constant(100, tf.uint8))
    tf.random.set_seed(0)
    shifts = np.stack([P.pca_lighting(image, values, vectors).numpy()[0, 0] - 100 for _ in range(4000)])
    expected = 255.0**2 * vectors @ np.diag((0.1 * values) ** 2) @ vectors.T
    np.testing.assert_allclose(shifts.mean(axis=0), 0, atol=4 * np.sqrt(np.diag(expected).max() / 4000))
    np.testing.assert_allclose(np.cov(shifts, rowvar=False), expected, rtol=0.1, atol=0.02 * expected.max())


def test_pca_of_pixels_recovers_the_covariance():
    rng = np.random.default_rng(4)
    direction = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    brightness = rng.normal(128, 40, (50, 32, 32, 1))
    images = np.clip(brightness * direction * np.sqrt(3) + rng.normal(0, 2, (50, 32, 32, 3)), 0, 255).astype(np.uint8)
    values, vectors = P.pca_of_pixels(images)
    assert values[0] > 50 * values[1] and values[1] >= values[2] >= 0
    assert abs(abs(vectors[:, 0] @ direction) - 1) < 1e-3
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(3), atol=1e-6)


def test_ten_crops_geometry():
    image = tf.reshape(tf.range(8 * 10 * 1), [8, 10, 1])
    crops = P.ten_crops(image, 4).numpy()
    x = image.numpy()
    assert crops.shape == (10, 4, 4, 1)
    expected = [x[:4, :4], x[:4, 6:], x[4:, :4], x[4:, 6:], x[2:6, 3:7]]
    for i, e in enumerate(expected):
        np.testing.assert_array_equal(crops[i], e)
        np.testing.assert_array_equal(crops[i + 5], e[:, ::-1])


def test_ten_crop_evaluation_averages_the_ten_predictions():
    from alexnet.evaluate import predict_probabilities

    inputs = tf.keras.Input((4, 4, 1))
    # A "model" whose prediction depends on where the crop came from.
    probs = tf.keras.layers.Lambda(lambda x: tf.nn.softmax(tf.stack(
        [tf.reduce_mean(x, axis=[1, 2, 3]), tf.reduce_mean(x[:, :, :2], axis=[1, 2, 3])], 1) / 10.0))(inputs)
    model = tf.keras.Model(inputs, probs)
    image = tf.cast(tf.reshape(tf.range(64), [8, 8, 1]), tf.uint8)
    spec = InputSpec(crop=4, resize=0, channels=1, pad=0, flip=False, pca=None, mean=(0.,), std=(1.,))
    crops, label = ten_crop_transform(image, 0, spec)
    ds = tf.data.Dataset.from_tensors((crops, label)).batch(1)
    averaged, labels = predict_probabilities(model, ds, ten_crop=True)
    np.testing.assert_allclose(averaged[0], model(crops).numpy().mean(axis=0), rtol=1e-6)
    assert labels.tolist() == [0]


def test_read_idx_and_errors(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 3, 4)).astype(np.uint8)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "a.gz")), array)
    (tmp_path / "bad.gz").write_bytes(b"")
    with pytest.raises(UserError, match="bad.gz"):
        read_idx(str(tmp_path / "bad.gz"))
    import gzip

    with gzip.open(tmp_path / "short.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(UserError, match="truncated"):
        read_idx(str(tmp_path / "short.gz"))


def test_idx_folder_source(idx_dir):
    source = load_source(str(idx_dir), val_fraction=0)
    assert source.channels == 1 and source.image_size == 28 and source.small
    assert source.train.images.shape == (240, 28, 28, 1) and len(source.test) == 60
    assert source.val is None and source.test_role == "test"
    # By default 5% of the training images are held out for validation, as in training.
    held = load_source(str(idx_dir))
    assert (len(held.train), len(held.val)) == (228, 12)
    both = np.concatenate([held.train.images, held.val.images]).reshape(240, -1)
    assert len(np.unique(both, axis=0)) == len(np.unique(source.train.images.reshape(240, -1), axis=0))


def test_cifar_archive_and_folder(cifar_archive, tmp_path):
    import tarfile

    source = load_source(str(cifar_archive), val_fraction=0)
    assert source.train.images.shape == (100, 32, 32, 3) and len(source.test) == 20
    assert source.class_names[3] == "thing3"
    with tarfile.open(cifar_archive) as archive:
        archive.extractall(tmp_path / "x", filter="data")
    folder_source = load_source(str(tmp_path / "x"), val_fraction=0)
    np.testing.assert_array_equal(folder_source.train.images, source.train.images)
    # The CHW planes were turned into HWC images: band of class k is bright.
    image, label = source.train.images[0], source.train.labels[0]
    band = 32 // 10
    assert image[label * band : (label + 1) * band].min() == 220


def test_cifar_pickle_cannot_run_code(tmp_path):
    import pickle
    import tarfile, io

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            blob = pickle.dumps(Evil())
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    with pytest.raises(UserError, match="corrupt"):
        load_source(str(path))
    assert not (tmp_path / "pwned").exists()


def test_image_folder_decodes_every_format_and_mode(image_folder):
    source = load_source(str(image_folder))
    assert source.class_names == ["cats", "dogs"] and len(source.train) == 28 and len(source.val) == 14
    spec = plan_inputs(source, 32)
    assert spec.resize == round(32 * 256 / 224) and spec.pca is not None
    images, labels = next(iter(train_dataset(source, spec, 28)))
    assert images.shape == (28, 32, 32, 3) and images.dtype == tf.float32
    eval_images, _ = next(iter(eval_dataset(source, source.val, spec, 14)))
    assert eval_images.shape == (14, 32, 32, 3)
    # Class "cats" has a bright upper half whatever the file format/mode.
    cats = eval_images.numpy()[np.asarray([l == 0 for l in source.val.labels])]
    assert (cats[:, :12].mean(axis=(1, 2, 3)) > cats[:, -12:].mean(axis=(1, 2, 3)) + 60).all()


def test_image_folder_single_root_is_split_by_fraction(image_folder):
    source = load_source(str(image_folder / "train"), val_fraction=0.25, seed=3)
    assert len(source.train) + len(source.val) == 28 and len(source.val) == 7
    again = load_source(str(image_folder / "train"), val_fraction=0.25, seed=3)
    assert again.val.files == source.val.files


def test_bad_files_are_skipped_and_named_or_fail_with_strict(image_folder, capsys):
    folder = image_folder / "train" / "cats"
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("not an image")
    good = (folder / "0.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 3])
    source = load_source(str(image_folder))
    with pytest.raises(UserError, match="3 bad train"):
        verify_files(source.train, strict=True)
    bad = verify_files(source.train)
    assert sorted(os.path.basename(b) for b in bad) == ["empty.jpg", "text.png", "truncated.jpg"]
    err = capsys.readouterr().err
    assert "skipping 3 bad train" in err and "truncated.jpg" in err
    assert len(source.train) == 28 and not any("empty" in f for f in source.train.files)


def test_images_too_small_for_the_crop_are_reported(image_folder):
    save_image(image_folder / "train" / "dogs" / "tiny.png", np.zeros((5, 5, 3), np.uint8))
    source = load_source(str(image_folder))
    with pytest.raises(UserError, match="tiny.png.*smaller than the 32x32 crop"):
        verify_files(source.train, strict=True, min_size=32)


def test_mismatched_and_empty_folders(tmp_path, image_folder):
    (image_folder / "val" / "birds").mkdir()
    with pytest.raises(UserError, match=r"extra \['birds'\]"):
        load_source(str(image_folder))
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir(parents=True)
    with pytest.raises(UserError, match="no images"):
        load_source(str(tmp_path / "empty"))
    with pytest.raises(UserError, match="unknown dataset or missing path"):
        load_source(str(tmp_path / "nowhere"))


def test_tfrecords(tfrecord_dir):
    source = load_source(str(tfrecord_dir))
    assert source.num_classes == 2 and len(source.train) == 24 and len(source.val) == 8
    assert set(source.train.labels.tolist()) == {0, 1}  # 1-based labels shifted down
    spec = plan_inputs(source, 32)
    images, labels = next(iter(train_dataset(source, spec, 24)))
    assert images.shape == (24, 32, 32, 3) and set(labels.numpy().tolist()) <= {0, 1}


def test_small_data_augmentation_is_pad_and_crop(idx_dir):
    source = load_source(str(idx_dir))
    spec = plan_inputs(source, 28, pad=3)
    assert spec.resize == 0 and spec.pad == 3 and spec.pca is None and spec.channels == 1
    assert plan_inputs(source, 28).pad == 0
    images, _ = next(iter(train_dataset(source, spec, 16, seed=0)))
    assert images.shape == (16, 28, 28, 1)
    mean, std = spec.mean[0], spec.std[0]
    np.testing.assert_allclose(mean, source.train.images.mean(), rtol=1e-6)
    np.testing.assert_allclose(std, source.train.images.std(), rtol=1e-4)


def test_batch_augmentation_draws_a_shift_and_a_flip_per_image(idx_dir):
    rng = np.random.default_rng(7)
    batch = rng.integers(0, 256, (64, 12, 12, 2)).astype(np.uint8)
    pad = 2
    padded = np.pad(batch, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect")
    seen = set()
    for images in (P.random_shift_batch(tf.constant(batch), pad),
                   _in_map(lambda x: P.random_flip_batch(P.random_shift_batch(x, pad)), tf.constant(batch))):
        for i, image in enumerate(images.numpy()):
            views = {(t, l, f): (w[:, ::-1] if f else w) for t in range(2 * pad + 1) for l in range(2 * pad + 1)
                     for f in (0, 1) for w in [padded[i, t:t + 12, l:l + 12]]}
            match = [key for key, view in views.items() if np.array_equal(view, image)]
            assert match, f"image {i} is not a shifted (and mirrored) view of its input"
            seen.update(match)
    offsets, flips = {key[:2] for key in seen}, {key[2] for key in seen}
    assert len(offsets) >= 15 and flips == {0, 1}  # drawn per image, not once per batch
    # The training pipeline of images at their own size takes this path.
    source = load_source(str(idx_dir))
    spec = plan_inputs(source, 28, pad=3)
    first, labels = next(iter(train_dataset(source, spec, 16, seed=0)))
    assert first.dtype == tf.float32 and first.shape == (16, 28, 28, 1) and labels.shape == (16,)
    originals = {image.tobytes(): image for image in source.train.images}
    assert not all(image.astype(np.uint8).tobytes() in originals for image in first.numpy())


def test_ten_crops_of_small_images_are_shifted_views():
    image = tf.constant(np.random.default_rng(5).integers(0, 256, (28, 28, 1)), tf.uint8)
    spec = InputSpec(crop=28, resize=0, channels=1, pad=3, flip=True, pca=None, mean=(0.,), std=(1.,))
    unshifted, _ = ten_crop_transform(image, 0, InputSpec(**{**spec.__dict__, "pad": 0}))
    for i in range(10):  # trained without shifts: the image and its mirror
        np.testing.assert_array_equal(unshifted[i], image.numpy() if i < 5 else image.numpy()[:, ::-1])
    from alexnet.data.datasets import mirror_views

    views, _ = mirror_views(image, 0, spec)
    np.testing.assert_array_equal(views.numpy(), unshifted.numpy()[[0, 5]])
    crops, _ = ten_crop_transform(image, 0, spec)
    crops = crops.numpy()
    np.testing.assert_array_equal(crops[4], image.numpy())  # the centre crop is the image itself
    padded = np.pad(image.numpy(), [(3, 3), (3, 3), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(crops[0], padded[:28, :28])  # 3 px off centre
    np.testing.assert_array_equal(crops[3], padded[6:, 6:])
    np.testing.assert_array_equal(crops[8], padded[6:, 6:][:, ::-1])
    np.testing.assert_array_equal(crops[9], image.numpy()[:, ::-1])


def test_resampling_is_the_round_trip_of_an_enlarged_picture():
    """``random_resample_batch`` as one matrix per axis equals enlarging the
    image (bilinear) and resizing it back with bilinear antialiasing (to float
    rounding; the stored enlargement is not rounded to integers), and
    touches about the share of images it is asked to."""
    import tensorflow as tf

    from alexnet.data import pipeline as P

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (400, 28, 28, 1)).astype(np.uint8)
    for size in (35, 56, 112):
        matrix = P.resample_matrix(28, tf.constant(size)).numpy()
        assert np.allclose(matrix.sum(axis=1), 1, atol=1e-5)  # a weighted average of pixels
        enlarged = tf.image.resize(images[:8].astype(np.float32), [size, size], method="bilinear")
        direct = tf.image.resize(enlarged, [28, 28], method="bilinear", antialias=True).numpy()
        via_matrix = np.einsum("ij,njkc,lk->nilc", matrix, images[:8].astype(np.float32), matrix)
        assert np.abs(direct - via_matrix).max() < 1e-3, size
    out = P.random_resample_batch(tf.constant(images), 0.5).numpy()
    assert out.dtype == np.uint8 and out.shape == images.shape
    changed = np.any(out != images, axis=(1, 2, 3)).mean()
    assert 0.4 < changed < 0.6
    assert np.array_equal(P.random_resample_batch(tf.constant(images), 0.0).numpy(), images)
    blurred = out[np.any(out != images, axis=(1, 2, 3))]
    assert np.abs(np.diff(blurred.astype(float), axis=2)).mean() < np.abs(np.diff(images.astype(float), axis=2)).mean()


def test_predicts_resize_shrinks_by_area_and_enlarges_bilinearly():
    """Shrinking averages the pixels each output pixel covers: a picture
    enlarged by repeating each pixel (2x2 or 4x4 blocks) comes back exactly,
    where bilinear antialiasing blurs it. Enlarging, or a picture smaller
    than the model's input on either side, interpolates bilinearly."""
    import tensorflow as tf

    from alexnet.data import pipeline as P

    image = np.random.default_rng(0).integers(0, 256, (28, 28, 1)).astype(np.uint8)
    for factor in (2, 4):
        blocks = np.kron(image, np.ones((factor, factor, 1), np.uint8))
        assert np.array_equal(P.resize_to(tf.constant(blocks), 28).numpy(), image), factor
        blurred = tf.image.resize(blocks.astype(np.float32), [28, 28], method="bilinear", antialias=True)
        assert np.abs(np.round(blurred.numpy()) - image).mean() > 5, factor
    for shape in ((14, 14, 1), (56, 20, 1)):
        picture = np.random.default_rng(1).integers(0, 256, shape).astype(np.uint8)
        bilinear = tf.image.resize(picture.astype(np.float32), [28, 28], method="bilinear", antialias=True)
        assert np.array_equal(P.resize_to(tf.constant(picture), 28).numpy(), np.round(bilinear.numpy())), shape


def test_a_nonzero_seed_builds_the_training_pipeline_without_tensorflows_seed_warning(idx_dir):
    """TensorFlow warns that the global seed "might be getting used" by the
    augmentation's random ops, which have no seed of their own. That is
    what they are meant to do (the run's --seed makes them repeatable), so
    the warning, printed under every run with --seed other than 0, is
    noise for the user."""
    import warnings

    import keras

    source = load_source(str(idx_dir))
    spec = plan_inputs(source, 28, pad=2, resample=0.5)
    keras.utils.set_random_seed(3)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            images, _ = next(iter(train_dataset(source, spec, 16, seed=3)))
    finally:
        keras.utils.set_random_seed(0)
    assert images.shape == (16, 28, 28, 1)
    assert not [w for w in caught if "outer graph" in str(w.message)], [str(w.message) for w in caught]
