"""Reads PyTorch ``.pth`` state dicts into NumPy arrays without PyTorch.

``torch.save`` writes a pickle whose tensors point at raw storages. Both of
its formats are read here:

- the zip format (PyTorch >= 1.6): ``<name>/data.pkl`` plus one entry
  ``<name>/data/<key>`` per storage;
- the legacy format (PyTorch < 1.6, torchvision's older published files):
  three small pickles, the main pickle, the list of storage keys, then each
  storage as an 8-byte element count followed by its bytes.

The unpickler is restricted the way ``torch.load(weights_only=True)`` is:
it builds only dicts, lists, tuples, numbers, strings and tensors. Any other
global in the file (a pickled ``nn.Module``, or code meant to run on load) is
refused, so reading an untrusted file runs none of its code.

``.safetensors`` files (a JSON header and raw little-endian data) and NumPy
``.npz`` archives with the same keys are read too.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np

from alexnet.errors import UserError, first_line

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _bfloat16():
    import ml_dtypes  # ships with TensorFlow

    return np.dtype(ml_dtypes.bfloat16)


# Storage class name -> NumPy dtype (a callable for types NumPy lacks).
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": _bfloat16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

_SAFETENSORS_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": _bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


def _dtype(value):
    dtype = value() if callable(value) and not isinstance(value, type) else value
    return np.dtype(dtype)


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = _dtype(_STORAGE_DTYPES[name])


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


def _read_zip(path):
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


def _read_legacy(path):
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


def _read_safetensors(path):
    with open(path, "rb") as f:
        header = f.read(8)
        if len(header) != 8:
            raise UserError(f"{path} is not a safetensors file.")
        length = struct.unpack("<Q", header)[0]
        if length > 100_000_000:
            raise UserError(f"{path} is not a safetensors file (header of {length} bytes).")
        try:
            meta = json.loads(f.read(length))
        except ValueError:
            raise UserError(f"{path} is not a safetensors file (no JSON header).") from None
        data = f.read()
    tensors = collections.OrderedDict()
    for name, info in meta.items():
        if name == "__metadata__":
            continue
        try:
            dtype = _dtype(_SAFETENSORS_DTYPES[info["dtype"]]).newbyteorder("<")
            start, end = info["data_offsets"]
            array = np.frombuffer(data[start:end], dtype).astype(dtype.newbyteorder("="))
            tensors[name] = array.reshape(info["shape"])
        except (KeyError, TypeError, ValueError) as error:
            raise UserError(f"{path}: tensor {name} cannot be read: {first_line(error)}") from None
    return tensors


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            return collections.OrderedDict((k, archive[k]) for k in archive.files)
    except ValueError as error:
        raise UserError(f"{path} is not a readable .npz archive: {first_line(error)}") from None


def _read_with_torch(path):
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise UserError(f"{path} is not a readable PyTorch file: {first_line(error)}") from None

    def to_numpy(value):
        if isinstance(value, torch.Tensor):
            value = value.detach()
            return (value.float() if value.dtype == torch.bfloat16 else value).numpy()
        if isinstance(value, dict):
            return collections.OrderedDict((k, to_numpy(v)) for k, v in value.items())
        return value

    return to_numpy(obj)


def read_state_dict(path, *, reader="builtin"):
    """The tensors of a PyTorch state dict file as ``{name: numpy array}``.

    ``reader="builtin"`` (default) reads ``.pth``/``.pt`` files (zip or
    legacy format), ``.safetensors`` and ``.npz`` without PyTorch and without
    running code from the file. ``reader="torch"`` uses
    ``torch.load(path, weights_only=True)`` instead (PyTorch must be
    installed). A ``{"state_dict": {...}}`` or ``{"model": {...}}``
    checkpoint is unwrapped.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserError(f"No such weights file: {path}")
    if reader not in ("builtin", "torch"):
        raise ValueError(f"reader must be 'builtin' or 'torch', got {reader!r}.")
    if reader == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise UserError("--reader torch needs PyTorch installed (pip install torch); the default "
                            "--reader builtin needs nothing") from None
        obj = _read_with_torch(path)
    elif path.endswith(".safetensors"):
        obj = _read_safetensors(path)
    elif path.endswith(".npz"):
        obj = _read_npz(path)
    elif zipfile.is_zipfile(path):
        obj = _read_zip(path)
    else:
        with open(path, "rb") as f:
            start = f.read(2)
        if start[:1] != b"\x80":  # every pickle torch.save writes starts with PROTO
            raise UserError(f"{path} is not a PyTorch state dict (.pth), .safetensors or .npz file.")
        obj = _read_legacy(path)
    for wrapper in ("state_dict", "model"):
        if isinstance(obj, dict) and wrapper in obj and isinstance(obj[wrapper], dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
        raise UserError(f"{path} does not hold a state dict (a mapping of names to tensors).")
    return collections.OrderedDict((str(k), v) for k, v in obj.items())
