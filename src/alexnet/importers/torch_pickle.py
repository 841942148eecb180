"""Reads the two formats of ``torch.save`` into NumPy arrays without
PyTorch, through an unpickler that runs no code from the file.

``torch.save`` writes a pickle whose tensors point at raw storages:

- the zip format (PyTorch >= 1.6): ``<name>/data.pkl`` plus one entry
  ``<name>/data/<key>`` per storage (:func:`read_zip`);
- the legacy format (PyTorch < 1.6, torchvision's older published files):
  three small pickles, the main pickle, the list of storage keys, then each
  storage as an 8-byte element count followed by its bytes (:func:`read_legacy`).

The unpickler is restricted the way ``torch.load(weights_only=True)`` is:
it builds only dicts, lists, tuples, numbers, strings and tensors. Any other
global in the file (a pickled ``nn.Module``, or code meant to run on load) is
refused, so reading an untrusted file runs none of its code.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

from alexnet.errors import UserError, first_line

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def bfloat16():
    """NumPy's bfloat16 dtype, which NumPy itself lacks (from ml_dtypes)."""
    import ml_dtypes  # ships with TensorFlow

    return np.dtype(ml_dtypes.bfloat16)


# Storage class name -> NumPy dtype (a callable for types NumPy lacks).
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": bfloat16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


def numpy_dtype(value):
    """The dtype a dtype table entry stands for (an entry may be a function)."""
    dtype = value() if callable(value) and not isinstance(value, type) else value
    return np.dtype(dtype)


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = numpy_dtype(_STORAGE_DTYPES[name])


class _Storage:
    """A flat array standing in for a torch storage."""

    def __init__(self, array):
        self.array = array


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a storage")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise pickle.UnpicklingError("a tensor whose size and stride disagree")
    pending = _Pending(storage, int(storage_offset), size, stride)
    return pending if storage.array is None else pending.build()


class _Pending:
    """A tensor whose storage is read after the pickle (legacy format)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def build(self):
        flat, offset, size, stride = self.storage.array, self.offset, self.size, self.stride
        if not size or min(size) > 0:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if offset < 0 or last >= flat.size or (stride and min(stride) < 0):
                raise pickle.UnpicklingError("a tensor that reaches outside its storage")
        else:
            return np.zeros(size, flat.dtype)
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=tuple(s * flat.itemsize for s in stride), writeable=False
        )
        return np.array(view)  # a compact, owned copy


def _resolve(obj):
    if isinstance(obj, _Pending):
        return obj.build()
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _resolve(v)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _resolve(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v) for v in obj)
    return obj


def _rebuild_parameter(data, *_ignored):
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): tuple,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, load_storage):
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise _Refused(f"{module}.{name}")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.60}")
        storage_type, key, _location, numel = pid[1], str(pid[2]), pid[3], int(pid[4])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError("a storage of unknown type")
        return self._load_storage(key, storage_type.dtype, numel)


class _Refused(pickle.UnpicklingError):
    """The file names a global that a state dict never needs."""


def _unpickle(data, load_storage, path):
    try:
        return _Unpickler(io.BytesIO(data) if isinstance(data, bytes) else data, load_storage).load()
    except _Refused as error:
        hint = (
            " (a pickled model, not a state dict: save model.state_dict() instead)"
            if str(error).startswith("torch.nn") or "__main__" in str(error)
            else ""
        )
        raise UserError(
            f"{path} needs {error} to load, which a state dict of tensors never does; "
            f"refusing to run code from it{hint}."
        ) from None
    except UserError:
        raise
    except Exception as error:
        raise UserError(f"{path} is not a readable PyTorch file: {first_line(error)}") from None


def read_zip(path):
    """The object ``torch.save`` wrote in its zip format, tensors as arrays."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise UserError(f"{path} is a zip file but not a PyTorch state dict (no <name>/data.pkl in it).")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise UserError(f"{path} has an unknown byte order {byteorder!r}.")

        cache = {}

        def load_storage(key, dtype, numel):
            if key in cache:
                return cache[key]
            entry = f"{prefix}data/{key}"
            if entry not in names:
                raise pickle.UnpicklingError(f"missing storage {entry}")
            raw = archive.read(entry)
            dtype = dtype.newbyteorder("<" if byteorder == "little" else ">")
            if len(raw) < numel * dtype.itemsize:
                raise pickle.UnpicklingError(f"storage {entry} is truncated")
            cache[key] = _Storage(np.frombuffer(raw, dtype, count=numel).astype(dtype.newbyteorder("=")))
            return cache[key]

        return _unpickle(archive.read(pickles[0]), load_storage, path)


def read_legacy(path):
    """The object ``torch.save`` wrote in its legacy format, tensors as arrays."""
    with open(path, "rb") as f:
        def small_pickle():
            return _unpickle(f, _no_storage, path)

        try:
            magic = small_pickle()
        except UserError:
            raise UserError(f"{path} is not a PyTorch file.") from None
        if magic != _LEGACY_MAGIC:
            raise UserError(f"{path} is not a PyTorch file.")
        small_pickle()  # protocol version
        sys_info = small_pickle()
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        storages = {}

        def load_storage(key, dtype, numel):
            if key not in storages:
                storages[key] = (_Storage(None), dtype)
            return storages[key][0]

        result = _unpickle(f, load_storage, path)
        keys = small_pickle()
        if not isinstance(keys, list):
            raise UserError(f"{path} is damaged: no list of storages.")
        for key in keys:
            if key not in storages:
                raise UserError(f"{path} is damaged: storage {key} is listed but unused.")
            storage, dtype = storages[key]
            header = f.read(8)
            if len(header) != 8:
                raise UserError(f"{path} is truncated.")
            count = struct.unpack("<q" if little else ">q", header)[0]
            dtype = dtype.newbyteorder("<" if little else ">")
            raw = f.read(count * dtype.itemsize) if count >= 0 else b""
            if count < 0 or len(raw) != count * dtype.itemsize:
                raise UserError(f"{path} is truncated.")
            storage.array = np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="))
    missing = [k for k, (storage, _) in storages.items() if storage.array is None]
    if missing:
        raise UserError(f"{path} is damaged: storage {missing[0]} has no data.")
    try:
        return _resolve(result)
    except pickle.UnpicklingError as error:
        raise UserError(f"{path} is damaged: {error}") from None


def _no_storage(*_args):
    raise pickle.UnpicklingError("a tensor where none was expected")
