"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012) in TensorFlow/Keras.

``alexnet.AlexNet`` builds the model; ``alexnet.layers`` holds its custom
layers. Attributes load lazily, so ``import alexnet`` (and the CLI's
``--help``) does not pay for importing TensorFlow until it is needed.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "AlexNet": "alexnet.model",
    "float32_copy": "alexnet.model",
    "AdaptiveAveragePooling2D": "alexnet.layers",
    "GroupedConv2D": "alexnet.layers",
    "LocalResponseNormalization": "alexnet.layers",
    "Preprocess": "alexnet.layers",
    "VARIANTS": "alexnet.variants",
    "load_model": "alexnet.saved",
    "preprocess_input": "alexnet.applications",
    "decode_predictions": "alexnet.applications",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'alexnet' has no attribute {name!r}")
