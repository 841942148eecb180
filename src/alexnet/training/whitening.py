"""conv1 as fixed PCA-whitening filters of the training images (``--conv1-init whitened``).

The paper's colour augmentation starts from a PCA of RGB pixel values
(Section 4.1); this starts from a PCA of conv1-sized patches. With ``F``
filters, conv1 gets the ``F/2`` strongest principal directions ``v`` of the
preprocessed patches, each scaled by ``1 / sqrt(eigenvalue + EPSILON)`` and
kept with both signs (``+v`` and ``-v``), so that the ReLU after conv1 passes
each direction's positive and negative half and loses nothing of those
``F/2`` components. The outputs then have about unit variance and are
uncorrelated, which the layers above learn from sooner; conv1 is not trained
(nor its zero bias), which also spares its weight gradient (BENCHMARKS.md,
issue #13, has what that bought in the default job). The same idea
(and its name) is in Keller Jordan's airbench for CIFAR-10, on 2x2 patches.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from alexnet.errors import UserError, log

# Added to each eigenvalue before the inverse square root: the preprocessed
# pixels have unit variance, so the weakest of the kept directions
# (Fashion-MNIST's 16th of 25 at 5x5: about 0.07) are amplified about 3.7x,
# not without bound.
EPSILON = 5e-3
IMAGES = 2048  # images sampled from the training split
PATCHES_PER_IMAGE = 64  # random patch positions per image


def can_whiten(kernel_shape) -> bool:
    """Whether a ``(kh, kw, channels, filters)`` kernel can hold whitening
    filters: an even number of them, at most two per patch dimension."""
    kh, kw, channels, filters = kernel_shape
    return filters % 2 == 0 and filters // 2 <= kh * kw * channels


def whitening_filters(patches: np.ndarray, kernel_shape, epsilon: float = EPSILON) -> np.ndarray:
    """A ``(kh, kw, channels, filters)`` kernel from ``patches``, an
    ``(N, kh * kw * channels)`` array of flattened patches (row-major
    ``kh, kw, channels``, as Keras lays out a kernel)."""
    kh, kw, channels, filters = kernel_shape
    size = kh * kw * channels
    if not can_whiten(kernel_shape):
        raise ValueError(f"whitening needs an even number of filters, at most {2 * size} for "
                         f"{kh}x{kw}x{channels} patches; got {filters}.")
    if patches.ndim != 2 or patches.shape[1] != size or len(patches) < 2:
        raise ValueError(f"patches must be (N >= 2, {size}), got {patches.shape}.")
    covariance = np.cov(patches.astype(np.float64), rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending
    keep = np.argsort(eigenvalues)[::-1][: filters // 2]
    directions = eigenvectors[:, keep] / np.sqrt(np.maximum(eigenvalues[keep], 0.0) + epsilon)
    return np.concatenate([directions, -directions], axis=1).reshape(kernel_shape).astype(np.float32)


def random_patches(images: np.ndarray, kh: int, kw: int, per_image: int, rng) -> np.ndarray:
    """``per_image`` patches at random positions inside each of ``images``
    (``N, H, W, C``), flattened to ``(N * per_image, kh * kw * C)``."""
    n, height, width, channels = images.shape
    rows = rng.integers(0, height - kh + 1, size=(n, per_image))
    cols = rng.integers(0, width - kw + 1, size=(n, per_image))
    patches = images[
        np.arange(n)[:, None, None, None],
        rows[:, :, None, None] + np.arange(kh)[None, None, :, None],
        cols[:, :, None, None] + np.arange(kw)[None, None, None, :],
    ]  # (n, per_image, kh, kw, channels)
    return patches.reshape(n * per_image, kh * kw * channels)


def sample_images(source, spec, count: int, seed: int):
    """Up to ``count`` training images as the model sees them at test time
    (centre crop, float pixels): a random sample where the split holds
    arrays or files, else (TFRecords, TFDS) the first ``count``."""
    from alexnet.data.datasets import eval_dataset

    split = source.train
    if len(split) > count and (split.images is not None or split.files is not None):
        index = np.sort(np.random.default_rng(seed).choice(len(split), count, replace=False))
        split = dataclasses.replace(
            split, labels=split.labels[index],
            images=None if split.images is None else split.images[index],
            files=None if split.files is None else [split.files[i] for i in index])
    batches = eval_dataset(source, split, spec, 256).take(math.ceil(count / 256))
    return [images.numpy() for images, _ in batches]


def whiten_conv1(model, source, spec, seed: int = 0):
    """Sets ``model``'s conv1 to whitening filters of the training images'
    patches (preprocessed as the model does it) and freezes it. Call before
    ``compile``."""
    try:
        conv1 = model.get_layer("conv1")
    except ValueError:
        raise UserError("--conv1-init whitened needs a model with one conv1 layer (not the two-tower "
                        "model); use --conv1-init random.") from None
    kh, kw, channels, filters = conv1.kernel.shape
    if not can_whiten(conv1.kernel.shape):
        raise UserError(f"--conv1-init whitened needs an even number of conv1 filters, at most "
                        f"{2 * kh * kw * channels}; this conv1 has {filters}. Use --conv1-init random.")
    rng = np.random.default_rng(seed)
    normalize = model.get_layer("preprocess").normalize  # float32, as the model's first layer computes it
    patches = [random_patches(keras.ops.convert_to_numpy(normalize(batch)), kh, kw, PATCHES_PER_IMAGE, rng)
               for batch in sample_images(source, spec, IMAGES, seed)]
    kernel = whitening_filters(np.concatenate(patches), (kh, kw, channels, filters))
    conv1.kernel.assign(kernel)
    if conv1.bias is not None:
        conv1.bias.assign(np.zeros(conv1.bias.shape, np.float32))
    conv1.trainable = False
    log(f"conv1: fixed PCA-whitening filters of {sum(len(p) for p in patches):,} training patches "
        f"({filters // 2} directions, both signs; not trained).")
