"""``extract_features(model, paths)``: one layer's output for image files.

Each image goes through the model's evaluation transform, as in
:mod:`alexnet.predict` (decoded to the model's colour mode, resized and
centre-cropped as the run's ``input.json`` says), and comes back as one row:
the layer's output flattened (4096 values for fc7). A file that cannot be
read gets its own error and the others are still done. ``alexnet features``
writes the rows to an ``.npz`` file beside the file names and the layer's
name, for retrieval or a linear classifier of your own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import keras
import numpy as np

from alexnet.errors import UserError
from alexnet.predict import expand_paths, load_image
from alexnet.saved import input_spec_for, load_model_file


@dataclass
class Features:
    """``features[i]`` is the layer's output for ``files[i]``; ``errors``
    holds ``(file, message)`` for the files that could not be read."""

    features: np.ndarray  # (images, values) float32
    files: list[str]
    layer: str
    shape: tuple[int, ...]  # the layer's output shape per image, before flattening
    errors: list[tuple[str, str]] = field(default_factory=list)

    def save(self, path):
        """Writes ``features``, ``files``, ``layer`` and ``shape`` to ``path``
        (``.npz``), through a temporary file renamed into place."""
        path = os.fspath(path)
        tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".tmp-{os.path.basename(path)}")
        with open(tmp, "wb") as f:
            np.savez(f, features=self.features, files=np.array(self.files, dtype=str),
                     layer=np.array(self.layer), shape=np.array(self.shape, np.int64))
        os.replace(tmp, path)


def feature_model(model, layer="fc7"):
    """A model from ``model``'s input to the output of its layer ``layer``."""
    import keras

    names = [l.name for l in model.layers]
    if layer not in names:
        raise UserError(f"--layer: {model.name} has no layer {layer!r}; it has {', '.join(names[1:])}.")
    return keras.Model(model.input, model.get_layer(layer).output, name=f"{model.name}_{layer}")


def _open(model_path, paths, layer):
    """``(extractor, spec, files)``; errors about the model, the layer or
    an empty input come here, before any image is read."""
    model_path = os.fspath(model_path)
    model = load_model_file(model_path)
    extractor = feature_model(model, layer)
    files = expand_paths([os.fspath(p) for p in paths])
    if not files:
        raise UserError(f"No image files in {', '.join(map(os.fspath, paths))}.")
    return extractor, input_spec_for(model, model_path), files


def _rows(extractor, spec, files, batch_size):
    """Yields ``(file, row, None)`` or ``(file, None, error)`` per file, in
    order, computing ``batch_size`` images at a time."""
    pending = []  # (file, image) waiting for a full batch

    def flush():
        batch = np.stack([np.asarray(image) for _, image in pending])
        rows = keras.ops.convert_to_numpy(extractor(batch, training=False))
        rows = np.asarray(rows, np.float32).reshape(len(pending), -1)
        done = [(file, row, None) for (file, _), row in zip(pending, rows)]
        pending.clear()
        return done

    for path in files:
        try:
            image, _ = load_image(path, spec)
        except UserError as error:
            yield from flush() if pending else ()
            yield path, None, str(error)
            continue
        pending.append((path, image))
        if len(pending) == batch_size:
            yield from flush()
    if pending:
        yield from flush()


def extract_features(model, paths, *, layer="fc7", batch_size=32, progress=None) -> Features:
    """The output of ``layer`` (default fc7, the penultimate layer) of the
    model at ``model`` (a ``.keras`` file or a run directory) for the images
    in ``paths`` (files, or folders walked for images, as ``alexnet
    predict`` does), one row per image that could be read.
    ``progress(file, error)`` is called after each image (``error`` ``None``
    when it was read)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"--batch-size must be an integer >= 1, got {batch_size!r}.")
    extractor, spec, files = _open(model, paths, layer)
    rows, done, errors = [], [], []
    for path, row, error in _rows(extractor, spec, files, batch_size):
        if error is not None:
            errors.append((path, error))
        else:
            rows.append(row)
            done.append(path)
        if progress is not None:
            progress(path, error)
    shape = tuple(int(d) for d in extractor.output.shape[1:])
    features = np.stack(rows) if rows else np.zeros((0, int(np.prod(shape))), np.float32)
    return Features(features, done, layer, shape, errors)
