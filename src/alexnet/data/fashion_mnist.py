"""Fashion-MNIST (and any dataset in its IDX layout, such as MNIST): the
four IDX files found in a folder, Debian's package or Keras' cache."""

from __future__ import annotations

import gzip
import os

import numpy as np

from alexnet.data.splits import Source, Split, keras_cache_dir
from alexnet.errors import UserError

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (optionally gzipped), the format of (Fashion-)MNIST."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise UserError(f"Cannot read IDX file {path}: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise UserError(f"{path} is not an IDX file (bad magic number).")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - header != expected:
        raise UserError(
            f"{path} is truncated or corrupt: header says {dims} but it holds "
            f"{len(data) - header} bytes of data, not {expected}."
        )
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def find_fashion_mnist(path: str | None = None) -> str | None:
    """The first folder holding the four Fashion-MNIST IDX files: ``path``,
    Debian's ``dataset-fashion-mnist`` folder, then Keras' cache."""
    candidates = [path] if path else [*FASHION_MNIST_DIRS, os.path.join(keras_cache_dir(), "fashion-mnist")]
    for folder in candidates:
        if all(os.path.isfile(os.path.join(folder, f)) for f in FASHION_MNIST_FILES.values()):
            return folder
    return None


def load_fashion_mnist(path: str | None = None, download: bool = True) -> Source:
    folder = find_fashion_mnist(path)
    if folder is None and path:
        raise UserError(
            f"{path} does not hold the Fashion-MNIST IDX files "
            f"({', '.join(FASHION_MNIST_FILES.values())})."
        )
    if folder is None and download:
        folder = _download_fashion_mnist()
    if folder is None:
        raise UserError(
            "Fashion-MNIST not found: install it with `apt-get install dataset-fashion-mnist` "
            "or pass --data PATH to a folder holding its four IDX files."
        )
    arrays = {k: read_idx(os.path.join(folder, f)) for k, f in FASHION_MNIST_FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or len(images) != len(labels):
            raise UserError(f"Fashion-MNIST {split} files in {folder} do not match: "
                            f"images {images.shape}, labels {labels.shape}.")
    num_classes = int(max(arrays["train_labels"].max(), arrays["test_labels"].max())) + 1
    # Another IDX dataset in the same layout (MNIST, or one of the user's) gets numbered classes.
    names = list(FASHION_MNIST_CLASSES) if num_classes == 10 else [str(i) for i in range(num_classes)]
    return Source(
        name="fashion_mnist" if path is None else os.path.basename(os.path.normpath(folder)),
        class_names=names,
        channels=1,
        train=Split(arrays["train_labels"].astype(np.int64), images=arrays["train_images"][..., None]),
        test=Split(arrays["test_labels"].astype(np.int64), images=arrays["test_images"][..., None]),
        image_size=28,
    )


def _download_fashion_mnist():
    try:
        import keras

        keras.datasets.fashion_mnist.load_data()
    except Exception:  # offline: report the one-line error instead
        return None
    return find_fashion_mnist()
