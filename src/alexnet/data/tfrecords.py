"""TFRecord shards in the ImageNet layout, and datasets already prepared
by TensorFlow Datasets (TFDS): sources the pipeline reads as tf.data."""

from __future__ import annotations

import os

import numpy as np

from alexnet.data.splits import Source, Split
from alexnet.errors import UserError


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
