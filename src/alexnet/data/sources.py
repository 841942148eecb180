"""Where images come from: :func:`load_source` picks the format of ``--data``
(Fashion-MNIST, CIFAR-10, image folders, TFRecords, TFDS; one module each)
and holds out validation; :func:`fingerprint` identifies a split.

A source yields raw ``uint8`` images and integer labels; how they are cropped,
flipped and batched is ``alexnet.data.pipeline``'s job. Small datasets come as
in-memory NumPy arrays (``images``); large ones as lists of encoded files or
TFRecord shards that the pipeline decodes in parallel.

Every name other modules import from here is re-exported, so
``from alexnet.data.sources import ...`` keeps working for all of them.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from alexnet.data.cifar10 import CIFAR10_ARCHIVE, CIFAR10_FOLDER, load_cifar10
from alexnet.data.fashion_mnist import (
    FASHION_MNIST_CLASSES, FASHION_MNIST_DIRS, FASHION_MNIST_FILES, find_fashion_mnist, load_fashion_mnist, read_idx,
)
from alexnet.data.image_folder import IMAGE_EXTENSIONS, bmp_palette_problem, load_image_folder, looks_like_image
from alexnet.data.splits import Source, Split, hold_out
from alexnet.data.tfrecords import load_tfds, load_tfrecords
from alexnet.errors import UserError

__all__ = [
    "CIFAR10_ARCHIVE", "CIFAR10_FOLDER", "FASHION_MNIST_CLASSES", "FASHION_MNIST_DIRS", "FASHION_MNIST_FILES",
    "IMAGE_EXTENSIONS", "Source", "Split", "bmp_palette_problem", "find_fashion_mnist", "fingerprint", "hold_out",
    "hold_out_validation", "load_cifar10", "load_fashion_mnist", "load_image_folder", "load_source", "load_tfds",
    "load_tfrecords", "looks_like_image", "read_idx",
]


def hold_out_validation(source: Source, fraction: float, seed: int):
    """Gives an array source without a validation split a held-out part of
    its training set (:func:`hold_out`), so that model selection never sees
    the test set."""
    if source.val is not None or source.train.images is None or fraction == 0:
        return
    train_idx, val_idx = hold_out(len(source.train), fraction, seed)
    train = source.train
    source.val = Split(train.labels[val_idx], images=train.images[val_idx])
    source.train = Split(train.labels[train_idx], images=train.images[train_idx])


def fingerprint(source: Source, split: Split) -> str:
    """A SHA-256 of what ``split`` holds (pixels and labels, file paths
    relative to the dataset's folder, or shard names), to check later that a
    dataset reloaded for evaluation is split as it was in training."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(split.labels, np.int64).tobytes())
    if split.images is not None:
        digest.update(np.ascontiguousarray(split.images).tobytes())
    for path in split.files or split.records or []:
        relative = os.path.relpath(path, source.root) if source.root else os.path.basename(path)
        digest.update(relative.replace(os.sep, "/").encode() + b"\0")
    return digest.hexdigest()


# --- By name ---------------------------------------------------------------------

def _load(data: str, *, val_fraction: float, seed: int, download: bool) -> Source:
    if data == "fashion_mnist":
        return load_fashion_mnist(download=download)
    if data == "cifar10":
        return load_cifar10(download=download)
    if data.startswith("tfds:"):
        return load_tfds(data[5:])
    if not os.path.exists(data):
        raise UserError(
            f"--data: unknown dataset or missing path {data!r}: use fashion_mnist, cifar10, "
            "tfds:NAME, or the path of a dataset."
        )
    if os.path.isfile(data) or os.path.isdir(os.path.join(data, CIFAR10_FOLDER)) or os.path.isfile(os.path.join(data, "test_batch")):
        return load_cifar10(data)
    if find_fashion_mnist(data):
        return load_fashion_mnist(data)
    if any(f.startswith("train-") and not f.lower().endswith(IMAGE_EXTENSIONS) for f in os.listdir(data)):
        return load_tfrecords(data)
    return load_image_folder(data, val_fraction=val_fraction, seed=seed)


def load_source(data: str, *, val_fraction: float = 0.05, seed: int = 0, download: bool = True) -> Source:
    """``data`` is ``fashion_mnist``, ``cifar10``, ``tfds:NAME``, or a path:
    a CIFAR-10 archive or folder, a Fashion-MNIST IDX folder, a folder of
    TFRecord shards or an image folder. Data without a validation split
    holds out ``val_fraction`` of its training images with ``seed``
    (:func:`hold_out`): training and evaluation get the same split from the
    same arguments."""
    source = _load(data, val_fraction=val_fraction, seed=seed, download=download)
    if source.num_classes < 2:
        raise UserError(f"{data} has {source.num_classes} class; a classifier needs at least 2.")
    hold_out_validation(source, val_fraction, seed)
    return source
