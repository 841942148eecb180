"""Where images come from: Fashion-MNIST, CIFAR-10, image folders, TFRecords
and TFDS, each turned into the same :class:`Source`.

A source yields raw ``uint8`` images and integer labels; how they are cropped,
flipped and batched is ``alexnet.data.pipeline``'s job. Small datasets come as
in-memory NumPy arrays (``images``); large ones as lists of encoded files or
TFRecord shards that the pipeline decodes in parallel.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import tarfile
from dataclasses import dataclass, field

import numpy as np

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
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"


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


# --- IDX (Fashion-MNIST, MNIST) -------------------------------------------------

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


def _keras_cache_dir():
    return os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "datasets")


def find_fashion_mnist(path: str | None = None) -> str | None:
    """The first folder holding the four Fashion-MNIST IDX files: ``path``,
    Debian's ``dataset-fashion-mnist`` folder, then Keras' cache."""
    candidates = [path] if path else [*FASHION_MNIST_DIRS, os.path.join(_keras_cache_dir(), "fashion-mnist")]
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


# --- CIFAR-10 (python version) ---------------------------------------------------

def load_cifar10(path: str | None = None, download: bool = True) -> Source:
    """CIFAR-10 from ``cifar-10-python.tar.gz``, its extracted folder, or
    Keras' cache (downloading there if allowed)."""
    if path is None:
        cached = os.path.join(_keras_cache_dir(), CIFAR10_FOLDER)
        if not os.path.isdir(cached) and download:
            try:
                import keras

                keras.datasets.cifar10.load_data()
            except Exception:
                pass
        if not os.path.isdir(cached):
            raise UserError(
                "CIFAR-10 not found offline: pass --data PATH to cifar-10-python.tar.gz "
                "or its extracted cifar-10-batches-py folder."
            )
        path = cached
    members = _cifar_members(path)
    batches = [members[f"data_batch_{i}"] for i in range(1, 6)]
    train_x = np.concatenate([b[0] for b in batches])
    train_y = np.concatenate([b[1] for b in batches])
    test_x, test_y = members["test_batch"]
    names = members.get("batches.meta") or [f"class_{i}" for i in range(10)]
    return Source(
        name="cifar10",
        class_names=list(names),
        channels=3,
        train=Split(train_y, images=train_x),
        test=Split(test_y, images=test_x),
        image_size=32,
    )


class _SafeUnpickler(pickle.Unpickler):
    """CIFAR-10's python files are pickles: allow only what they contain
    (dicts, lists, bytes and NumPy arrays) so that a malicious file cannot
    run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _cifar_members(path):
    wanted = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
    raw = {}
    if os.path.isdir(path):
        folder = path if os.path.isfile(os.path.join(path, "test_batch")) else os.path.join(path, CIFAR10_FOLDER)
        for name in wanted:
            file = os.path.join(folder, name)
            if os.path.isfile(file):
                with open(file, "rb") as f:
                    raw[name] = f.read()
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                base = os.path.basename(member.name)
                if base in wanted and member.isfile():
                    raw[base] = archive.extractfile(member).read()
    else:
        raise UserError(f"{path} is neither a CIFAR-10 python archive nor its folder.")
    missing = [n for n in wanted[:-1] if n not in raw]
    if missing:
        raise UserError(f"{path} is not a complete CIFAR-10 python dataset: missing {', '.join(missing)}.")
    members = {}
    for name, blob in raw.items():
        try:
            entry = _SafeUnpickler(io.BytesIO(blob), encoding="bytes").load()
        except Exception as error:
            raise UserError(f"CIFAR-10 file {name} in {path} is corrupt: {error}") from None
        if name == "batches.meta":
            members[name] = [n.decode() if isinstance(n, bytes) else n for n in entry[b"label_names"]]
            continue
        data = np.asarray(entry[b"data"], np.uint8)
        if data.ndim != 2 or data.shape[1] != 3072:
            raise UserError(f"CIFAR-10 file {name} in {path} has data of shape {data.shape}, not (N, 3072).")
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # stored as CHW planes
        members[name] = (images, np.asarray(entry[b"labels"], np.int64))
    return members


# --- Image folders (ImageNet layout) ----------------------------------------------

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


def _class_folders(root):
    return sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))


def _list_images(root, classes):
    files, labels = [], []
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        for dirpath, _, names in sorted(os.walk(folder, followlinks=True)):
            for file in sorted(names):
                if file.lower().endswith(IMAGE_EXTENSIONS):
                    files.append(os.path.join(dirpath, file))
                    labels.append(label)
    return files, np.asarray(labels, np.int64)


def load_image_folder(root: str, val_fraction: float = 0.1, seed: int = 0) -> Source:
    """An ImageNet-layout folder: ``train/<class>/*`` with ``val/<class>/*``
    (and optionally ``test/<class>/*``), or ``<class>/*`` alone, split into
    train and validation by a fixed-seed fraction. Validation doubles as the
    test split when there is no ``test`` folder."""
    if not os.path.isdir(root):
        raise UserError(f"{root} is not a folder.")
    train_root = os.path.join(root, "train")
    if os.path.isdir(train_root):
        classes = _class_folders(train_root)
        if not classes:
            raise UserError(f"{train_root} has no class folders.")
        splits = {}
        for split in ("train", "val", "test"):
            folder = os.path.join(root, split)
            if not os.path.isdir(folder):
                continue
            found = _class_folders(folder)
            if found != classes:
                extra, missing = sorted(set(found) - set(classes)), sorted(set(classes) - set(found))
                raise UserError(
                    f"Class folders of {folder} differ from {train_root}: "
                    f"extra {extra}, missing {missing}."
                )
            splits[split] = _list_images(folder, classes)
        if "val" not in splits:
            raise UserError(f"{root} has a train folder but no val folder.")
        train, val = splits["train"], splits["val"]
        test = splits.get("test", val)
    else:
        classes = _class_folders(root)
        if not classes:
            raise UserError(f"{root} has neither train/ and val/ folders nor class folders.")
        files, labels = _list_images(root, classes)
        train_idx, val_idx = hold_out(len(files), val_fraction, seed)
        train = ([files[i] for i in train_idx], labels[train_idx])
        val = ([files[i] for i in val_idx], labels[val_idx])
        test = val
    if len(classes) < 2:
        raise UserError(f"{root} has {len(classes)} class folder ({classes[0]}); a classifier needs at least 2.")
    for split_name, (files, _) in (("train", train), ("validation", val)):
        if not files:
            fix = " (raise --val-fraction)" if split_name == "validation" and not os.path.isdir(train_root) else ""
            raise UserError(f"The {split_name} split of {root} holds no images "
                            f"({', '.join(IMAGE_EXTENSIONS)}){fix}.")
    return Source(
        name=os.path.basename(os.path.normpath(root)),
        class_names=classes,
        channels=3,
        train=Split(train[1], files=train[0]),
        val=Split(val[1], files=val[0]),
        test=Split(test[1], files=test[0]),
        test_role="test" if test is not val else "validation",
        root=os.path.abspath(root),
    )


def hold_out(count: int, fraction: float, seed: int):
    """Indices ``(train, held_out)`` of ``count`` examples: a fixed-seed
    random ``fraction`` is held out. The one split function of the package."""
    order = np.random.default_rng(seed).permutation(count)
    n_held = int(round(count * fraction))
    return np.sort(order[n_held:]), np.sort(order[:n_held])


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


def bmp_palette_problem(path: str) -> str | None:
    """Why TensorFlow would read this BMP wrongly, or ``None``.

    TensorFlow decodes a palette BMP (8 bits per pixel or fewer) as its
    palette indices, not its colours; that is right only when the palette is
    the identity gray ramp (index i is gray level i), as in gray BMPs.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(54)
            if len(head) < 54 or head[:2] != b"BM":
                return None
            header_size = int.from_bytes(head[14:18], "little")
            bits = int.from_bytes(head[28:30], "little")
            if header_size < 40 or bits > 8:
                return None
            count = int.from_bytes(head[46:50], "little") or 2 ** bits
            f.seek(14 + header_size)
            palette = np.frombuffer(f.read(4 * count), np.uint8)
    except OSError:
        return None
    palette = palette[: len(palette) // 4 * 4].reshape(-1, 4)[:, :3]
    if np.array_equal(palette, np.repeat(np.arange(len(palette))[:, None], 3, axis=1)):
        return None
    return f"a {bits}-bit palette BMP, which TensorFlow cannot decode to colours (save it as PNG)"


def looks_like_image(path: str) -> bool:
    """Cheap check on a file's first bytes: one of the formats we decode."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return any(head.startswith(m) for m in _MAGIC)


# --- TFRecords (ImageNet layout) and TFDS -----------------------------------------

def load_tfrecords(root: str, num_classes: int | None = None, label_offset: int | None = None) -> Source:
    """TFRecord shards in the usual ImageNet layout: ``image/encoded`` (JPEG
    or PNG bytes) and ``image/class/label`` (int64), train shards named
    ``train-*`` and validation shards ``validation-*`` (or ``val-*``).

    Labels are read once to count classes. The Inception/slim ImageNet files
    number classes from 1 (0 was 'background'); when no record has label 0
    the labels are shifted down by 1, unless ``label_offset`` says otherwise.
    """
    import tensorflow as tf

    def shards(*prefixes):
        return sorted(
            os.path.join(root, f) for f in os.listdir(root)
            if f.startswith(prefixes) and not f.endswith((".json", ".txt"))
        )

    if not os.path.isdir(root):
        raise UserError(f"{root} is not a folder.")
    train_files, val_files = shards("train-", "train."), shards("validation-", "val-", "validation.", "val.")
    if not train_files or not val_files:
        raise UserError(f"{root} needs TFRecord shards named train-* and validation-* (or val-*).")
    labels = {}
    for split, files in (("train", train_files), ("val", val_files)):
        try:
            ds = tf.data.TFRecordDataset(files).map(_parse_label, num_parallel_calls=tf.data.AUTOTUNE)
            labels[split] = np.fromiter(ds.batch(4096).unbatch().as_numpy_iterator(), np.int64)
        except tf.errors.OpError as error:
            raise UserError(f"Cannot read TFRecords in {root}: {error.message.splitlines()[0]}") from None
        if len(labels[split]) == 0:
            raise UserError(f"The {split} TFRecords in {root} hold no records.")
    if label_offset is None:
        everything = np.concatenate(list(labels.values()))
        label_offset = 1 if everything.min() >= 1 else 0
    for split in labels:
        labels[split] = labels[split] - label_offset
    top = int(max(v.max() for v in labels.values())) + 1
    num_classes = num_classes or top
    if min(v.min() for v in labels.values()) < 0 or top > num_classes:
        raise UserError(f"TFRecord labels in {root} fall outside 0..{num_classes - 1} after offset {label_offset}.")
    class_names = _read_class_names(root, num_classes)
    return Source(
        name=os.path.basename(os.path.normpath(root)),
        class_names=class_names,
        channels=3,
        train=Split(labels["train"], records=train_files, label_offset=label_offset),
        val=Split(labels["val"], records=val_files, label_offset=label_offset),
        test=Split(labels["val"], records=val_files, label_offset=label_offset),
        test_role="validation",
        root=os.path.abspath(root),
    )


def _parse_label(record):
    import tensorflow as tf

    features = tf.io.parse_single_example(
        record, {"image/class/label": tf.io.FixedLenFeature([], tf.int64)}
    )
    return features["image/class/label"]


def _read_class_names(root, num_classes):
    path = os.path.join(root, "classes.txt")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
        if len(names) == num_classes:
            return names
    return [f"class_{i}" for i in range(num_classes)]


def load_tfds(name: str) -> Source:
    """A TFDS dataset that is already prepared on this machine (nothing is
    downloaded). Needs ``tensorflow-datasets`` installed."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise UserError(f"--data tfds:{name} needs tensorflow-datasets: pip install \"alexnet[tfds]\"") from None
    try:
        builder = tfds.builder(name)
    except Exception as error:
        raise UserError(f"Unknown TFDS dataset {name!r}: {error}") from None
    if not builder.is_prepared():
        raise UserError(f"TFDS dataset {name!r} is not prepared in {builder.data_dir}; prepare it with `tfds build {name}`.")
    info = builder.info
    splits = set(info.splits)
    val_name = next((s for s in ("validation", "val", "test") if s in splits), None)
    test_name = "test" if "test" in splits else val_name
    if "train" not in splits or val_name is None:
        raise UserError(f"TFDS dataset {name!r} needs a train and a validation or test split, has {sorted(splits)}.")
    label = info.features["label"]
    shape = info.features["image"].shape

    def split(split_name):
        ds = builder.as_dataset(split=split_name, as_supervised=True, shuffle_files=False)
        return Split(np.zeros(info.splits[split_name].num_examples, np.int64), tfds=ds)

    return Source(
        name=name,
        class_names=list(label.names),
        channels=shape[-1] or 3,
        train=split("train"),
        val=split(val_name),
        test=split(test_name),
        image_size=shape[0] if shape[0] and shape[0] == shape[1] else None,
        test_role="test" if "test" in splits and val_name != "test" else "validation",
    )


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
