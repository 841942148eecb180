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
    # A bare model file: 28-32 px models take whole images (resized), larger
    # ones the ImageNet recipe's shorter side at 256/224 of the crop.
    small = height <= 64 if source is None else (source.small and source.image_size == height)
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


# --- The data a run was trained on -------------------------------------------

def _dataset_id(data):
    """A dataset name as given, or the absolute path of a dataset path."""
    return os.path.abspath(data) if os.path.exists(data) else data


def split_record(data, val_fraction, seed, source):
    """What ``split.json`` records of a run's data: where it came from, how
    it was split, and a fingerprint of each split (see
    :func:`alexnet.data.sources.fingerprint`)."""
    from alexnet.data.sources import fingerprint

    splits = {name: getattr(source, name) for name in ("train", "val", "test")}
    return {
        "data": _dataset_id(data),
        "val_fraction": val_fraction,
        "seed": seed,
        "test_role": source.test_role,
        "splits": {name: {"images": len(split), "sha256": fingerprint(source, split)}
                   for name, split in splits.items() if split is not None},
    }


def source_for(model_path, data=None):
    """The dataset to score ``model_path`` on, split as the run that trained
    it split it, so that no training image is scored.

    ``data`` ``None`` takes the run's own dataset (``config.json`` and
    ``split.json`` beside the model); the run's dataset given again takes its
    split too, and a dataset the run did not train on is loaded as it is.
    The reloaded splits are checked against the fingerprints in
    ``split.json``: a dataset that changed since training is refused.
    """
    from alexnet.data.sources import fingerprint, load_source

    config, record = _beside(model_path, "config.json"), _beside(model_path, "split.json")
    if data is None:
        if config is None:
            raise UserError(f"{model_path} is not in a run directory (no config.json beside it): "
                            "pass --data to say which dataset to use.")
        data = record["data"] if record and os.path.exists(record["data"]) else config["data"]
    trained_on = None
    if record is not None:
        trained_on = record["data"]
    elif config is not None:
        trained_on = _dataset_id(config["data"])
    if trained_on is None or _dataset_id(data) != trained_on:
        return load_source(data)
    split = record or config
    source = load_source(data, val_fraction=split["val_fraction"], seed=split["seed"])
    if record is None:
        return source  # a run from before split.json: its recorded fraction and seed
    for name, saved in record["splits"].items():
        if getattr(source, name) is None or fingerprint(source, getattr(source, name)) != saved["sha256"]:
            raise UserError(
                f"{data} has changed since {model_path} was trained: its {name} split no longer matches "
                f"split.json ({saved['images']:,} images then), so the scores could include training "
                "images. Evaluate on the data as it was, or on another dataset.")
    return source
