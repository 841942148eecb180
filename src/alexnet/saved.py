"""Loading saved models and the run metadata saved beside them."""

from __future__ import annotations

import json
import os
import zipfile

from alexnet.errors import UserError


def load_model_file(path: str):
    """Loads a ``.keras`` file in Keras' safe mode (no code from the file
    runs), with a one-line error for a missing or wrong file."""
    import keras

    import alexnet.layers  # noqa: F401  (registers the custom layers)
    import alexnet.training.optim  # noqa: F401  (and the optimizer)

    if not os.path.exists(path):
        raise UserError(f"No such model file: {path}")
    if os.path.isdir(path):
        path = os.path.join(path, "model.keras")
        if not os.path.isfile(path):
            raise UserError(f"{os.path.dirname(path)} holds no model.keras.")
    if not path.endswith(".keras") or not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not a Keras model file (.keras).")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # corrupt archives raise many kinds of errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path} is not a loadable Keras model: {first}") from None


load_model = load_model_file  # the public name: ``alexnet.load_model(path)``


def _beside(model_path, name):
    folder = model_path if os.path.isdir(model_path) else os.path.dirname(os.path.abspath(model_path))
    path = os.path.join(folder, name)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None


def input_spec_for(model, model_path, source=None):
    """The run's ``input.json`` when the model sits in a run directory,
    otherwise a spec derived from the model's input shape."""
    from alexnet.data.datasets import InputSpec

    saved = _beside(model_path, "input.json")
    if saved:
        return InputSpec(**{**saved, "mean": tuple(saved["mean"]), "std": tuple(saved["std"])})
    height, width, channels = model.input_shape[1:]
    if height is None or width is None:
        raise UserError(f"{model_path} takes images of any size; cannot choose a crop for it.")
    small = source is not None and source.small and source.image_size == height
    return InputSpec(
        crop=height, resize=0 if small else int(round(height * 256 / 224)), channels=channels,
        pad=0, flip=False, pca=None, mean=(0.0,), std=(1.0,),
    )


def class_names_for(model, model_path):
    """classes.json beside the model, ImageNet's names for a 1000-class
    model, or class_<i>."""
    classes = model.output_shape[-1]
    names = _beside(model_path, "classes.json")
    if names and len(names) == classes:
        return names
    if classes == 1000:
        try:
            from alexnet.imagenet import class_names

            return class_names()
        except ImportError:
            pass
    return [f"class_{i}" for i in range(classes)]
