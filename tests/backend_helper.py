"""One process of the cross-backend test (tests/test_backends.py): under the
Keras backend that ``KERAS_BACKEND`` names, load every model another backend
saved in FOLDER and compare its predictions with what that backend recorded,
then (unless it did already) save this backend's own models there.

    KERAS_BACKEND=jax python tests/backend_helper.py FOLDER TORCHVISION.npz

Under JAX and PyTorch it first checks that importing alexnet and building
and running a model loads no TensorFlow, then blocks TensorFlow's import
altogether, as on a machine without it, before saving and loading. Writes
``<backend>-result-<n>.json``: the largest logit difference per loaded file.
"""

import glob
import importlib.machinery
import json
import os
import sys

import numpy as np


class _NoTensorFlow:
    """Makes ``import tensorflow`` fail as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {spec.name!r} (blocked by the test)", name=spec.name)

    def exec_module(self, module):  # pragma: no cover - create_module raises first
        raise ModuleNotFoundError(module.__name__)


def models(torchvision_file):
    """This backend's models: ``{case: (model, input batch)}``, with random
    weights (not seeded: keras.utils.set_random_seed would import
    TensorFlow wherever it is installed)."""
    from alexnet import AlexNet
    from alexnet.weights import import_torchvision

    rng = np.random.default_rng(0)
    small = AlexNet(variant="small", classes=10, classifier_activation=None)
    # The paper's convolutions (grouped conv2/4/5, LRN) at full size; no 38M-weight fc6.
    paper = AlexNet(variant="paper", include_top=False, pooling="avg")
    owt = import_torchvision(torchvision_file, classifier_activation=None, input_shape=(99, 99, 3))
    return {
        "small": (small, rng.uniform(0, 255, (4, 28, 28, 1)).astype(np.float32)),
        "paper": (paper, rng.uniform(0, 255, (2, 227, 227, 3)).astype(np.float32)),
        "torchvision": (owt, rng.uniform(0, 255, (2, 99, 99, 3)).astype(np.float32)),
    }


def main(folder, torchvision_file):
    import keras

    import alexnet

    backend = keras.backend.backend()
    own = {case: (model, x, keras.ops.convert_to_numpy(model(x))) for case, (model, x)
           in models(torchvision_file).items()}
    if backend != "tensorflow":
        assert "tensorflow" not in sys.modules, "importing and running the model loaded TensorFlow"
        sys.meta_path.insert(0, _NoTensorFlow())

    differences = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.keras"))):
        if os.path.basename(path).startswith(backend + "-"):
            continue
        recorded = np.load(path.removesuffix(".keras") + ".npz")
        model = alexnet.load_model(path)
        found = keras.ops.convert_to_numpy(model.predict(recorded["x"], verbose=0))
        differences[os.path.basename(path)] = float(np.max(np.abs(found - recorded["y"]))
                                                    / max(1.0, float(np.max(np.abs(recorded["y"])))))
    for case, (model, x, y) in own.items():
        path = os.path.join(folder, f"{backend}-{case}.keras")
        if not os.path.exists(path):
            model.save(path)
            np.savez(path.removesuffix(".keras") + ".npz", x=x, y=y)
    runs = len(glob.glob(os.path.join(folder, f"{backend}-result-*.json")))
    with open(os.path.join(folder, f"{backend}-result-{runs}.json"), "w") as f:
        json.dump({"loaded": differences, "tensorflow_imported": "tensorflow" in sys.modules}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
