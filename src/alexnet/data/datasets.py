"""Turns a :class:`~alexnet.data.sources.Source` into batched tf.data
pipelines for training, validation and testing."""

from __future__ import annotations

import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import tensorflow as tf

from alexnet.data import pipeline as P
from alexnet.data.sources import Source, Split, looks_like_image
from alexnet.errors import UserError


@dataclass(frozen=True)
class InputSpec:
    """How images become model inputs; stored with each run."""

    crop: int  # model input height and width
    resize: int  # shorter side before cropping (0: images used as they are)
    channels: int
    pad: int  # small data: pad-and-crop shift
    flip: bool
    pca: dict | None  # {"eigenvalues": [...], "eigenvectors": [[...]], "std": 0.1}
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resample: float = 0.0  # small data: share of training images enlarged and brought back (0: off)

    @property
    def input_shape(self):
        return (self.crop, self.crop, self.channels)


def plan_inputs(source: Source, crop: int, *, resize=None, pad=None, flip=True, pca=None, resample=None,
                seed=0) -> InputSpec:
    """Chooses resize, padding and PCA noise for ``source`` at ``crop``
    pixels and measures the statistics they need on the training set."""
    sample = _sample_images(source.train, source, 2000, seed)
    at_native_size = source.small and crop == source.image_size
    if resize is None:
        resize = 0 if at_native_size else int(round(crop * 256 / 224))
    if resize and resize < crop:
        raise UserError(f"--resize {resize} is smaller than the crop {crop}: no {crop}x{crop} patch fits.")
    pad = (pad or 0) if at_native_size else 0
    resample = (resample or 0.0) if at_native_size else 0.0  # ImageNet-scale crops are resampled anyway
    if pad >= crop:
        raise UserError(f"--pad must be smaller than the image size ({crop}), got {pad}.")
    if pca is None:
        pca = source.channels == 3 and not source.small
    pca_spec = None
    if pca:
        values, vectors = P.pca_of_pixels(sample, seed=seed)
        pca_spec = {"eigenvalues": values.tolist(), "eigenvectors": vectors.tolist(), "std": P.PCA_STD}
    if source.train.images is not None:
        mean, std = P.channel_stats(source.train.images)
    else:
        mean, std = P.channel_stats(np.concatenate([s.reshape(-1, source.channels) for s in sample]))
    return InputSpec(crop, resize, source.channels, pad, flip, pca_spec, tuple(mean), tuple(std), resample)


def _sample_images(split: Split, source: Source, count, seed):
    rng = np.random.default_rng(seed)
    if split.images is not None:
        index = rng.choice(len(split.images), min(count, len(split.images)), replace=False)
        return [split.images[i] for i in index]
    ds = _raw_examples(split, source.channels)
    return [image for image, _ in ds.take(min(count, 500)).as_numpy_iterator()]


def verify_files(split: Split, *, strict=False, min_size=0, label="train"):
    """Decodes every file once, in parallel. Unreadable ones (zero bytes,
    not an image, corrupt, truncated, or smaller than ``min_size`` with no
    resize) are dropped from ``split`` with a warning naming them, or raise
    with ``strict``. Returns the list of bad files."""
    def check(path):
        if not looks_like_image(path):
            return "not an image (or empty)"
        try:
            image = P.decode_image(tf.io.read_file(path))
        except (tf.errors.OpError, ValueError) as error:
            return f"cannot decode: {str(getattr(error, 'message', error)).splitlines()[0]}"
        if min_size and min(image.shape[0], image.shape[1]) < min_size:
            return f"{image.shape[1]}x{image.shape[0]} is smaller than the {min_size}x{min_size} crop"
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(check, split.files))
    bad = [(f, p) for f, p in zip(split.files, problems) if p]
    if bad and strict:
        raise UserError(f"{len(bad)} bad {label} file(s), first {bad[0][0]}: {bad[0][1]} (drop --strict to skip them).")
    if bad:
        print(f"warning: skipping {len(bad)} bad {label} file(s):", file=sys.stderr)
        for file, problem in bad[:20]:
            print(f"  {file}: {problem}", file=sys.stderr)
        if len(bad) > 20:
            print(f"  ... and {len(bad) - 20} more", file=sys.stderr)
        keep = [p is None for p in problems]
        split.files = [f for f, k in zip(split.files, keep) if k]
        split.labels = split.labels[np.asarray(keep)]
        if not split.files:
            raise UserError(f"No readable images left in the {label} split.")
    return [f for f, _ in bad]


def _read_file(path, label, channels):
    return P.decode_image(tf.io.read_file(path), channels), label


def _parse_record(record, channels, label_offset):
    features = tf.io.parse_single_example(record, {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/class/label": tf.io.FixedLenFeature([], tf.int64),
    })
    return P.decode_image(features["image/encoded"], channels), features["image/class/label"] - label_offset


def _raw_examples(split: Split, channels):
    """(uint8 image, int64 label) pairs, undecoded work done in parallel."""
    if split.images is not None:
        return tf.data.Dataset.from_tensor_slices((split.images, split.labels))
    if split.files is not None:
        ds = tf.data.Dataset.from_tensor_slices((split.files, split.labels))
        return ds.map(partial(_read_file, channels=channels), num_parallel_calls=P.AUTOTUNE)
    if split.records is not None:
        ds = tf.data.TFRecordDataset(split.records, num_parallel_reads=P.AUTOTUNE)
        ds = ds.map(partial(_parse_record, channels=channels, label_offset=split.label_offset), num_parallel_calls=P.AUTOTUNE)
        return ds.ignore_errors(log_warning=True)
    return split.tfds.map(lambda image, label: (tf.cast(image, tf.uint8), tf.cast(label, tf.int64)))


def train_transform(image, label, spec: InputSpec):
    """Random crop and flip (plus PCA noise) of one training image."""
    if spec.resize:
        image = P.resize_shorter_side(image, spec.resize)
    if spec.pad:
        image = P.pad_reflect(image, spec.pad)
    image = P.random_crop(image, spec.crop)
    if spec.resample:
        image = P.random_resample_batch(image[None], spec.resample)[0]
    if spec.flip:
        image = P.random_flip(image)
    if spec.pca:
        image = P.pca_lighting(image, spec.pca["eigenvalues"], spec.pca["eigenvectors"], spec.pca["std"])
    return tf.cast(image, tf.float32), label


def train_batch_transform(images, labels, spec: InputSpec):
    """:func:`train_transform` for a batch of images at their own size (no
    resize, no PCA noise): the same shifts, resampling and flips, drawn per
    image, in a few ops per batch instead of per image, which on two cores
    took about a sixth of the default job's epoch once shifts were on."""
    if spec.pad:
        images = P.random_shift_batch(images, spec.pad)
    if spec.resample:
        images = P.random_resample_batch(images, spec.resample)
    if spec.flip:
        images = P.random_flip_batch(images)
    return tf.cast(images, tf.float32), labels


def eval_transform(image, label, spec: InputSpec):
    """The centre crop of one evaluation image."""
    if spec.resize:
        image = P.resize_shorter_side(image, spec.resize)
    # The static size: owt's adaptive pooling needs it to choose its bins.
    crop = tf.ensure_shape(P.center_crop(image, spec.crop), [spec.crop, spec.crop, None])
    return tf.cast(crop, tf.float32), label


def ten_crop_transform(image, label, spec: InputSpec):
    """The paper's ten crops of one evaluation image: (10, crop, crop, C).
    28-32 px data is padded by the shift it was trained with (``spec.pad``),
    so the corners are views the model has seen; trained without shifts, the
    ten crops are the image and its mirror, five times each."""
    if spec.resize:
        image = P.resize_shorter_side(image, spec.resize)
    elif spec.pad:
        image = P.pad_reflect(image, spec.pad)
    return tf.cast(P.ten_crops(image, spec.crop), tf.float32), label


def mirror_views(image, label, spec: InputSpec):
    """The image and its mirror: (2, crop, crop, C). For images used at
    their own size without shifts this is the ten crops' average at a fifth
    of the cost (the ten are these two, five times each)."""
    image = P.center_crop(image, spec.crop)
    return tf.cast(tf.stack([image, tf.reverse(image, axis=[1])]), tf.float32), label


def train_dataset(source: Source, spec: InputSpec, batch_size: int, seed: int | None = None):
    """Training batches, epoch after epoch without end (``fit`` takes
    ``steps_per_epoch``); each epoch is shuffled anew and ends with its own
    partial batch.

    Every iterator of the dataset yields the same sequence: the shuffle (and
    the state that reshuffles it each epoch) is made anew inside each
    iterator. Keras 3.5 and later draw one batch from an iterator of their
    own before fitting under a ``tf.distribute`` strategy; with the shuffle's
    state shared between iterators, that gave a mirrored run the next
    epoch's order instead of the one a single-device run sees.
    """
    split = source.train
    ds = _raw_examples(split, source.channels)
    if split.images is not None:
        ds = ds.cache()  # small data: keep the decoded arrays
    buffer = min(len(split), 50_000 if split.images is not None else 10_000)

    whole_batches = (split.images is not None and not spec.resize and not spec.pca
                     and spec.crop == split.images.shape[1] == split.images.shape[2])

    def epochs(_):
        shuffled = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        if whole_batches:  # in-memory images at their own size: augment a batch at a time
            batches = shuffled.batch(batch_size, drop_remainder=False)
            return batches.map(partial(train_batch_transform, spec=spec), num_parallel_calls=P.AUTOTUNE).repeat()
        batches = shuffled.map(partial(train_transform, spec=spec), num_parallel_calls=P.AUTOTUNE)
        return batches.batch(batch_size, drop_remainder=False).repeat()

    with warnings.catch_warnings():
        # The augmentation's random ops take their seeds from the global one
        # (--seed), as intended; TensorFlow warns about exactly that.
        warnings.filterwarnings("ignore", message="Seed .* from outer graph might be getting used")
        ds = tf.data.Dataset.from_tensors(0).flat_map(epochs).prefetch(P.AUTOTUNE)
    if split.images is not None:
        # Batches of arrays in memory need no tuning, and tf.data's autotuning
        # thread, whose wake-ups grow to a minute apart, held up the end of
        # training while the freed iterator waited for it (BENCHMARKS.md,
        # "The pause after training"). Without it AUTOTUNE means one call
        # per core.
        options = tf.data.Options()
        options.autotune.enabled = False
        ds = ds.with_options(options)
    return ds


def eval_dataset(source: Source, split: Split, spec: InputSpec, batch_size: int, ten_crop=False):
    ds = _raw_examples(split, source.channels)
    transform = eval_transform
    if ten_crop:
        transform = mirror_views if not spec.resize and not spec.pad else ten_crop_transform
    ds = ds.map(partial(transform, spec=spec), num_parallel_calls=P.AUTOTUNE)
    if split.images is not None and not ten_crop:
        ds = ds.cache()
    return ds.batch(batch_size).prefetch(P.AUTOTUNE)
