"""The input pipeline, as plain named functions composed with tf.data.

Each function maps one example and works the same eagerly and inside
``Dataset.map``. Images stay on the 0-255 scale throughout: the model's own
``preprocess`` layer does the scaling, so training, evaluation and a saved
model all take raw pixels.

ImageNet-scale images (the paper, Section 4.1): decode, resize the shorter
side to ``resize`` (256), then for training a random ``crop`` x ``crop``
patch, a random horizontal flip and PCA colour noise; for evaluation the
centre crop, or the paper's ten crops. 28-32 px images (Fashion-MNIST,
CIFAR-10) are trained at their own size: pad by ``pad`` pixels (edge
reflected) and take a random crop of the original size, which shifts the
image by up to ``pad`` pixels, and flip horizontally (clothes and CIFAR's
objects are left-right symmetric in meaning). PCA noise is kept for RGB data.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
PCA_STD = 0.1  # the paper's standard deviation of the colour-noise magnitudes


def decode_image(encoded, channels=3):
    """Any of JPEG, PNG, GIF (first frame) and BMP to ``uint8`` HxWxC with
    ``channels`` (1 or 3) channels, whatever the file's colour mode.

    Every file is decoded to RGB first, which TensorFlow does for grayscale,
    CMYK, palette and alpha images alike (alpha is dropped), and then taken
    to gray by ITU-R 601 luma when ``channels`` is 1: TensorFlow's own
    one-channel decoding refuses GIF, BMP and CMYK JPEG files.
    """
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return rgb_to_gray(image) if channels == 1 else image


def rgb_to_gray(image):
    """``uint8`` RGB to one channel, ``0.299 R + 0.587 G + 0.114 B`` rounded
    (PIL's "L" mode and ``tf.image.rgb_to_grayscale`` use the same weights);
    gray pixels stored as RGB come back unchanged."""
    weights = tf.constant([0.299, 0.587, 0.114], tf.float32)
    gray = tf.reduce_sum(tf.cast(image, tf.float32) * weights, axis=-1, keepdims=True)
    return tf.cast(tf.clip_by_value(tf.round(gray), 0, 255), tf.uint8)


def resize_to(image, size):
    """Scales to ``size`` x ``size`` as a whole (nothing is cropped), rounded
    back to the 0-255 scale. Shrinking averages the input pixels that each
    output pixel covers (area, a box filter: the usual way to make an image
    smaller, sharper than bilinear antialiasing, and the way back to 28 px that
    kept a trained net's answers most often; BENCHMARKS.md, "Resized images:
    1,000 images are too few"); enlarging is bilinear."""
    shape = tf.shape(image)
    shrinking = tf.logical_and(shape[0] >= size, shape[1] >= size)
    resized = tf.cond(shrinking,
                      lambda: tf.image.resize(image, [size, size], method="area"),
                      lambda: tf.image.resize(image, [size, size], method="bilinear", antialias=True))
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def resize_shorter_side(image, size):
    """Scales so that the shorter side is ``size`` pixels, keeping the aspect
    ratio (bilinear, antialiased, rounded back to the 0-255 scale)."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.minimum(height, width)
    new_size = tf.cast(tf.round(tf.stack([height * scale, width * scale])), tf.int32)
    new_size = tf.maximum(new_size, size)
    resized = tf.image.resize(image, new_size, method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def random_crop(image, size, seed=None):
    """A random ``size`` x ``size`` patch (the paper's 224 from 256)."""
    channels = image.shape[-1]
    return tf.image.random_crop(image, [size, size, channels], seed=seed)


def random_flip(image, seed=None):
    return tf.image.random_flip_left_right(image, seed=seed)


def random_flip_batch(images, seed=None):
    """Mirrors each image of an ``(N, H, W, C)`` batch with probability 1/2."""
    flip = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], seed=seed) < 0.5
    return tf.where(flip, tf.reverse(images, axis=[2]), images)


def random_shift_batch(images, pad, seed=None):
    """Each image of an ``(N, H, W, C)`` batch padded by ``pad`` pixels
    (edge reflected) and cropped back to ``H x W`` at its own random offset:
    :func:`pad_reflect` then :func:`random_crop`, for a whole batch in two
    gathers instead of one small op per image."""
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    offsets = tf.random.uniform([tf.shape(images)[0], 2], 0, 2 * pad + 1, dtype=tf.int32, seed=seed)
    rows = offsets[:, :1] + tf.range(height)[None, :]
    columns = offsets[:, 1:] + tf.range(width)[None, :]
    return tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), columns, axis=2, batch_dims=1)


def resample_matrix(length, size):
    """The ``length x length`` matrix of one axis's round trip: enlarged to
    ``size`` pixels (bilinear, as an image editor enlarges) and brought back
    with bilinear antialiasing, a blurrier way than :func:`resize_to`'s area
    average (the models measured were trained on these blurrier copies and
    answer area-resized images the same more often). Both resizes are linear and
    act on each axis alone, so an image's round trip is ``M @ X @ M.T``:
    found by resizing the identity, one column per pixel."""
    identity = tf.eye(length)[:, :, None]  # as an image: rows are the axis, columns the pixels
    enlarged = tf.image.resize(identity, tf.stack([size, length]), method="bilinear")
    return tf.image.resize(enlarged, [length, length], method="bilinear", antialias=True)[:, :, 0]


def random_resample_batch(images, probability, largest=4.0, seed=None):
    """Gives each image of an ``(N, H, W, C)`` uint8 batch, with probability
    ``probability``, the round trip a user's picture makes: enlarged by a
    factor drawn once per batch between 1.25 and ``largest``, then brought
    back to its size as ``predict`` does (see :func:`resample_matrix`;
    unlike a stored enlargement, the enlarged image is not rounded to
    integers). The round trip blurs away the finest detail, so a model
    trained with it answers the same for an image and its enlarged copy."""
    height, width = images.shape[1], images.shape[2]
    scale = tf.random.uniform([], 1.25, largest, seed=seed)
    rows = resample_matrix(height, tf.cast(tf.round(scale * height), tf.int32))
    columns = resample_matrix(width, tf.cast(tf.round(scale * width), tf.int32))
    back = tf.einsum("ij,njkc,lk->nilc", rows, tf.cast(images, tf.float32), columns)
    back = tf.cast(tf.clip_by_value(tf.round(back), 0, 255), images.dtype)
    chosen = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], seed=seed) < probability
    return tf.where(chosen, back, images)


def pad_reflect(image, pad):
    return tf.pad(image, [[pad, pad], [pad, pad], [0, 0]], mode="REFLECT")


def center_crop(image, size):
    shape = tf.shape(image)
    top = (shape[0] - size) // 2
    left = (shape[1] - size) // 2
    return image[top : top + size, left : left + size, :]


def ten_crops(image, size):
    """The paper's test-time crops: the four corners and the centre, then the
    same five mirrored. Returns a (10, size, size, C) tensor."""
    shape = tf.shape(image)
    bottom, right = shape[0] - size, shape[1] - size
    corners = [(0, 0), (0, right), (bottom, 0), (bottom, right)]
    crops = [image[t : t + size, l : l + size, :] for t, l in corners]
    crops.append(center_crop(image, size))
    crops = tf.stack(crops)
    return tf.concat([crops, tf.reverse(crops, axis=[2])], axis=0)


def pca_lighting(image, eigenvalues, eigenvectors, std=PCA_STD, seed=None):
    """The paper's colour augmentation (Section 4.1): add
    ``eigenvectors @ (alpha * eigenvalues)`` to every pixel, with one
    ``alpha ~ N(0, std)`` per component drawn per image.

    Eigenvalues and eigenvectors are those of the covariance of RGB pixel
    values on the 0-1 scale (see :func:`pca_of_pixels`); the shift is scaled
    back to 0-255. Returns ``float32`` (not clipped, as in the paper).
    """
    channels = image.shape[-1]
    alpha = tf.random.normal([channels], stddev=std, seed=seed)
    shift = tf.linalg.matvec(tf.constant(eigenvectors, tf.float32), alpha * tf.constant(eigenvalues, tf.float32))
    return tf.cast(image, tf.float32) + 255.0 * shift


def pca_of_pixels(images, max_pixels=2_000_000, seed=0):
    """Eigenvalues (descending) and eigenvectors (columns) of the covariance
    of the pixels of ``images`` (an iterable of HxWxC uint8 arrays), on the
    0-1 scale, from at most ``max_pixels`` randomly sampled pixels."""
    rng = np.random.default_rng(seed)
    pixels = []
    for image in images:
        flat = np.asarray(image, np.float32).reshape(-1, np.shape(image)[-1]) / 255.0
        pixels.append(flat[rng.choice(len(flat), min(len(flat), 4096), replace=False)])
    pixels = np.concatenate(pixels)
    if len(pixels) > max_pixels:
        pixels = pixels[rng.choice(len(pixels), max_pixels, replace=False)]
    covariance = np.atleast_2d(np.cov(pixels, rowvar=False))
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    return np.clip(eigenvalues[order], 0, None), eigenvectors[:, order]


def channel_stats(images):
    """Per-channel mean and std of uint8 images on the 0-255 scale."""
    images = np.asarray(images)
    axes = tuple(range(images.ndim - 1))
    mean = images.mean(axis=axes, dtype=np.float64)
    std = np.sqrt(np.maximum(
        (images.astype(np.float32) ** 2).mean(axis=axes, dtype=np.float64) - mean**2, 1e-12))
    return [float(m) for m in mean], [float(s) for s in std]
