"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012) in TensorFlow/Keras.

``alexnet.AlexNet`` builds the model; ``alexnet.layers`` holds its custom
layers. ``import alexnet`` registers those layers (and the paper's optimizer)
with Keras, so a saved model loads with a plain
``keras.saving.load_model(path)``, as after ``import keras_hub``. The model
runs on every Keras 3 backend, and importing this package imports no
TensorFlow (see :mod:`alexnet.backend` for what needs it).

The ``alexnet`` command imports this package with ``ALEXNET_LAZY_IMPORT=1``
(see ``alexnet_launcher``), which skips that import so that ``alexnet
--help`` does not wait for TensorFlow; its commands import what they use.
Other attributes load on first use.
"""

import importlib
import os
import sys

__version__ = "0.1.0"

# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512
# VNNI/BF16 or AMX; on an AVX2-only CPU (a 2-core AMD EPYC, family 25 model 1)
# they ran the main job's training step 1.5-1.6x faster than its default
# kernels (BENCHMARKS.md, "The slowest machine yet, and oneDNN on AVX2"). TensorFlow reads the variable
# when it loads, so this acts only when alexnet comes first; a value the user
# set wins (TF_ENABLE_ONEDNN_OPTS=0 turns them off).
if "tensorflow" not in sys.modules:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

_EXPORTS = {
    "AlexNet": "alexnet.model",
    "float32_copy": "alexnet.model",
    "AdaptiveAveragePooling2D": "alexnet.layers",
    "GroupedConv2D": "alexnet.layers",
    "LocalResponseNormalization": "alexnet.layers",
    "Preprocess": "alexnet.layers",
    "VARIANTS": "alexnet.variants",
    "load_model": "alexnet.saved",
    "extract_features": "alexnet.features",
    "preprocess_input": "alexnet.applications",
    "decode_predictions": "alexnet.applications",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def register_keras_objects():
    """Registers the custom layers and the optimizer with Keras' serialization."""
    importlib.import_module("alexnet.layers")
    importlib.import_module("alexnet.training.optim")


if os.environ.get("ALEXNET_LAZY_IMPORT") != "1":
    register_keras_objects()


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'alexnet' has no attribute {name!r}")
