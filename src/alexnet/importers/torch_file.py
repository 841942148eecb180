"""Reads PyTorch state dict files into NumPy arrays without PyTorch:
:func:`read_state_dict` picks the reader by the file's kind.

``.pth``/``.pt`` files (both formats of ``torch.save``) go to
:mod:`~alexnet.importers.torch_pickle`, whose unpickler runs no code from
the file; ``.safetensors`` files (a JSON header and raw little-endian data)
and NumPy ``.npz`` archives with the same keys are read here, and
``reader="torch"`` hands the file to ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import collections
import json
import os
import struct
import zipfile

import numpy as np

from alexnet.errors import UserError, first_line
from alexnet.importers.torch_pickle import bfloat16, numpy_dtype, read_legacy, read_zip

_SAFETENSORS_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


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
            dtype = numpy_dtype(_SAFETENSORS_DTYPES[info["dtype"]]).newbyteorder("<")
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
        obj = read_zip(path)
    else:
        with open(path, "rb") as f:
            start = f.read(2)
        if start[:1] != b"\x80":  # every pickle torch.save writes starts with PROTO
            raise UserError(f"{path} is not a PyTorch state dict (.pth), .safetensors or .npz file.")
        obj = read_legacy(path)
    for wrapper in ("state_dict", "model"):
        if isinstance(obj, dict) and wrapper in obj and isinstance(obj[wrapper], dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
        raise UserError(f"{path} does not hold a state dict (a mapping of names to tensors).")
    return collections.OrderedDict((str(k), v) for k, v in obj.items())
