"""What every data format becomes: a :class:`Source` with one :class:`Split`
per split (raw ``uint8`` images or encoded files, and integer labels), and
:func:`hold_out`, the one fixed-seed split of the package.

The format modules (:mod:`~alexnet.data.fashion_mnist`,
:mod:`~alexnet.data.cifar10`, :mod:`~alexnet.data.image_folder`,
:mod:`~alexnet.data.tfrecords`) build these; :mod:`~alexnet.data.sources`
chooses among them by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Split:
    """One split of a source: either arrays in memory or encoded files."""

    labels: np.ndarray
    images: np.ndarray | None = None  # (N, H, W, C) uint8, for array sources
    files: list[str] | None = None  # encoded images, for folder sources
    records: list[str] | None = None  # TFRecord shards (labels then unknown)
    tfds: object = None  # a tf.data.Dataset of (image, label) from TFDS
    label_offset: int = 0  # subtracted from labels read from records

    def __len__(self):
        return len(self.labels)


@dataclass
class Source:
    name: str
    class_names: list[str]
    channels: int
    train: Split
    test: Split
    val: Split | None = None
    image_size: int | None = None  # native size of small, square datasets
    skipped: list[str] = field(default_factory=list)
    # What `test` is: "test" (a split of its own, never used in training) or
    # "validation" (the data has no test split, so the held-out validation
    # split, which also chose the learning rate and best.keras, stands in).
    test_role: str = "test"
    root: str | None = None  # the folder file paths are relative to, if any

    def describe_test(self) -> str:
        if self.test_role == "test":
            return f"the test split of {self.name} ({len(self.test):,} images, never used in training)"
        return (f"the held-out validation split of {self.name} ({len(self.test):,} images, never trained on, "
                f"but used for model selection: {self.name} has no test split)")

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def small(self):
        """28-32 px data, trained at its own size with pad-and-crop."""
        return self.image_size is not None and self.image_size <= 64


def hold_out(count: int, fraction: float, seed: int):
    """Indices ``(train, held_out)`` of ``count`` examples: a fixed-seed
    random ``fraction`` is held out. The one split function of the package."""
    order = np.random.default_rng(seed).permutation(count)
    n_held = int(round(count * fraction))
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def keras_cache_dir():
    """Where Keras downloads datasets (``$KERAS_HOME/datasets``)."""
    return os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "datasets")
