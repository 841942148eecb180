"""Published AlexNet weights into this package's Keras models.

Two sources, each into the variant with the same architecture:

- ``"torchvision"``: a state dict of torchvision's AlexNet (the published
  ``alexnet-owt-7be5be79.pth``, or any file with its keys) -> ``owt``.
  Read without PyTorch and without running code from the file
  (:mod:`alexnet.importers.torch_file`).
- ``"onnx"``: an ONNX graph of Caffe's BVLC AlexNet (the ONNX model zoo's
  ``bvlcalexnet``) -> ``paper``, with Caffe's LRN, pooling and BGR
  mean-subtracted input converted so the outputs are the same. Needs the
  ``onnx`` package.

Either way the Keras model takes RGB pixels 0-255, channels last, and
computes the source's preprocessing itself::

    from alexnet.weights import import_weights

    model = import_weights("torchvision", "alexnet-owt-7be5be79.pth", out="alexnet_owt.keras")

A missing, mis-shaped or unexpected tensor is named, with its expected and
found shapes, in a one-line :class:`alexnet.errors.UserError`; so is a file
of the wrong kind.
"""

from __future__ import annotations

import os

from alexnet.errors import UserError
from alexnet.importers.onnx_caffe import CAFFE_MEAN_BGR, compare_with_onnxruntime, import_onnx
from alexnet.importers.torch_file import read_state_dict
from alexnet.importers.torchvision import import_torchvision

SOURCES = ("torchvision", "onnx")

__all__ = [
    "CAFFE_MEAN_BGR",
    "SOURCES",
    "compare_with_onnxruntime",
    "import_onnx",
    "import_torchvision",
    "import_weights",
    "read_state_dict",
]


def import_weights(source, path, out=None, **options):
    """A Keras model with the weights in ``path``, saved to ``out`` (a
    ``.keras`` file) when given.

    ``options`` go to :func:`import_torchvision` or :func:`import_onnx`.
    """
    if source == "torchvision":
        model = import_torchvision(path, **options)
    elif source == "onnx":
        model = import_onnx(path, **options)
    else:
        raise UserError(f"Unknown weights source {source!r}; choose one of {', '.join(SOURCES)}.")
    if out is not None:
        save_model(model, out)
    return model


def save_model(model, out):
    out = os.fspath(out)
    if not out.endswith(".keras"):
        raise UserError(f"The output must be a .keras file, got {out}.")
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    model.save(out)
