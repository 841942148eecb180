"""Helpers shared by the importers: strict tensor checks and layout moves."""

from __future__ import annotations

import numpy as np

from alexnet.errors import UserError


def shape_text(shape):
    return str(tuple(int(d) for d in shape))


def check_tensors(path, tensors, expected, *, what="tensor"):
    """Every name in ``expected`` (``{name: shape}``, in order) must be in
    ``tensors`` with that shape, and nothing else may be there.

    The error names the first offending tensor with its expected and found
    shapes.
    """
    for name, shape in expected.items():
        if name not in tensors:
            raise UserError(
                f"{path}: missing {what} {name} (expected shape {shape_text(shape)}); "
                f"found {_some(tensors)}."
            )
        found = np.shape(tensors[name])
        if tuple(found) != tuple(shape):
            raise UserError(
                f"{path}: {what} {name} has shape {shape_text(found)}, expected {shape_text(shape)}."
            )
    extra = [name for name in tensors if name not in expected]
    if extra:
        raise UserError(
            f"{path}: unexpected {what} {extra[0]} of shape {shape_text(np.shape(tensors[extra[0]]))} "
            f"({len(extra)} unexpected in all)."
        )


def _some(tensors, limit=4):
    names = list(tensors)
    if not names:
        return "no tensors"
    shown = ", ".join(names[:limit])
    return f"{len(names)} tensor{'s' if len(names) > 1 else ''} ({shown}{', ...' if len(names) > limit else ''})"


def conv_kernel(weight):
    """PyTorch/ONNX ``(out, in/groups, kh, kw)`` -> Keras ``(kh, kw, in/groups, out)``."""
    return np.ascontiguousarray(np.transpose(weight, (2, 3, 1, 0)), np.float32)


def conv_shape(keras_shape):
    kh, kw, cin, cout = keras_shape
    return (cout, cin, kh, kw)


def dense_kernel(weight, chw=None):
    """PyTorch/ONNX ``(out, in)`` -> Keras ``(in, out)``.

    With ``chw=(C, H, W)`` the input is a flattened feature map: PyTorch and
    ONNX flatten it channel-major (C, H, W) while Keras flattens channels-last
    (H, W, C), so the input rows are reordered to match.
    """
    weight = np.asarray(weight, np.float32)
    if chw is not None:
        c, h, w = chw
        out = weight.shape[0]
        weight = weight.reshape(out, c, h, w).transpose(0, 2, 3, 1).reshape(out, h * w * c)
    return np.ascontiguousarray(weight.T)
