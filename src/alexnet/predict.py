"""``predict(model, paths)``: the top-k classes of image files.

Each image is decoded, its shorter side resized and its centre cropped to the
model's input, as in evaluation. A file that cannot be read gets its own
error and the others are still answered.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from alexnet.data import pipeline as P
from alexnet.data.sources import IMAGE_EXTENSIONS, looks_like_image
from alexnet.errors import UserError
from alexnet.saved import class_names_for, input_spec_for, load_model_file


def expand_paths(paths):
    """Files as given; folders replaced by the images inside them."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for dirpath, _, names in sorted(os.walk(path)):
                files += [os.path.join(dirpath, n) for n in sorted(names) if n.lower().endswith(IMAGE_EXTENSIONS)]
        else:
            files.append(path)
    return files


def load_image(path, spec):
    """One file to a model input, or UserError saying why it cannot be."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    if not looks_like_image(path):
        raise UserError(f"{path}: not a JPEG, PNG, GIF or BMP image (or empty)")
    try:
        image = P.decode_image(tf.io.read_file(path), spec.channels)
    except (tf.errors.OpError, ValueError) as error:
        raise UserError(f"{path}: cannot decode: {str(getattr(error, 'message', error)).splitlines()[0]}") from None
    if spec.resize:
        image = P.resize_shorter_side(image, spec.resize)
    elif min(image.shape[0], image.shape[1]) < spec.crop:
        # Unlike training data, a lone image may be scaled up to fit.
        image = P.resize_shorter_side(image, spec.crop)
    return tf.cast(P.center_crop(image, spec.crop), tf.float32)


def predict(model_path, paths, *, top_k=5):
    """Yields ``{"file", "predictions": [{"class", "index", "probability"}]}``
    or ``{"file", "error"}`` per image."""
    model = load_model_file(model_path)
    spec = input_spec_for(model, model_path)
    names = class_names_for(model, model_path)
    files = expand_paths(paths)
    if not files:
        raise UserError(f"No image files in {', '.join(paths)}.")
    top_k = max(1, min(top_k, len(names)))
    for path in files:
        try:
            image = load_image(path, spec)
        except UserError as error:
            yield {"file": path, "error": str(error)}
            continue
        probs = np.asarray(model(image[None], training=False), np.float32)[0]
        best = np.argsort(-probs)[:top_k]
        yield {
            "file": path,
            "predictions": [
                {"class": names[i], "index": int(i), "probability": float(probs[i])} for i in best
            ],
        }
