"""CIFAR-10, python version: ``cifar-10-python.tar.gz``, its extracted
folder, or Keras' cache; its pickles are read by an unpickler that allows
only arrays and plain containers."""

from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np

from alexnet.data.splits import Source, Split, keras_cache_dir
from alexnet.errors import UserError

CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"


def load_cifar10(path: str | None = None, download: bool = True) -> Source:
    """CIFAR-10 from ``cifar-10-python.tar.gz``, its extracted folder, or
    Keras' cache (downloading there if allowed)."""
    if path is None:
        cached = os.path.join(keras_cache_dir(), CIFAR10_FOLDER)
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
