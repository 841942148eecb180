"""Folders of encoded images in the ImageNet layout (``train/<class>/*``,
``val/<class>/*``, or ``<class>/*`` alone), and the cheap checks on single
image files that prediction also uses: :func:`looks_like_image` and
:func:`bmp_palette_problem`."""

from __future__ import annotations

import os

import numpy as np

from alexnet.data.splits import Source, Split, hold_out
from alexnet.errors import UserError

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
