"""``predict(model, paths)``: the top-k classes of image files.

Each image goes through the evaluation transform the model was trained with
(the run's ``input.json``): decoded to the model's channels from any colour
mode, then, for a model trained on images used at their own size (28-32 px),
resized as a whole to its input, or, for an ImageNet-scale model, its shorter
side resized and its centre cropped. A file that cannot be read gets its own
error and the others are still answered.
"""

from __future__ import annotations

import os
import re

import keras
import numpy as np
import tensorflow as tf

from alexnet.data import pipeline as P
from alexnet.data.sources import IMAGE_EXTENSIONS, bmp_palette_problem, looks_like_image
from alexnet.errors import UserError, native_stderr_silenced
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


def decode_error(error) -> str:
    """TensorFlow's message for a failed decode, without its internal op and
    device names (``{{function_node __wrapped__DecodeImage_device_...}}``)."""
    text = str(getattr(error, "message", error))
    text = re.sub(r"\{\{[^}]*\}\}", "", text)
    text = re.sub(r"\s*\[Op:[^\]]*\].*", "", text, flags=re.S).strip()
    text = text.splitlines()[0].strip() if text else type(error).__name__
    if "jpeg::Uncompress failed" in text:
        return "truncated or corrupt JPEG data"
    return text


def read_image(path, channels):
    """One image file as ``uint8`` HxWxC with ``channels`` channels, or
    UserError saying why it cannot be."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    if not looks_like_image(path):
        raise UserError(f"{path}: not a JPEG, PNG, GIF or BMP image (or empty)")
    problem = bmp_palette_problem(path)
    if problem:
        raise UserError(f"{path}: {problem}")
    try:
        with native_stderr_silenced():  # libjpeg writes "Input file read error" itself
            return P.decode_image(tf.io.read_file(path), channels)
    except (tf.errors.OpError, ValueError) as error:
        raise UserError(f"{path}: cannot decode: {decode_error(error)}") from None



def prepare_image(image, spec):
    """The evaluation transform of ``spec`` for one decoded image of any
    size: ``(float32 crop x crop x C tensor, note)``, where ``note`` says
    what was resized (``None`` when the image was used as it is)."""
    height, width = int(image.shape[0]), int(image.shape[1])
    crop = spec.crop
    if spec.resize:  # ImageNet-scale: shorter side to `resize`, centre crop
        resized = P.resize_shorter_side(image, spec.resize)
        new_height, new_width = int(resized.shape[0]), int(resized.shape[1])
        note = None
        if (new_height, new_width) != (height, width):
            note = f"resized {width}x{height} to {new_width}x{new_height}"
        if (new_height, new_width) != (crop, crop):
            note = f"{note + ', ' if note else ''}centre {crop}x{crop} crop"
        return tf.cast(P.center_crop(resized, crop), tf.float32), note
    # Trained at the images' own size (28-32 px): the whole image, resized.
    if (height, width) == (crop, crop):
        return tf.cast(image, tf.float32), None
    note = f"resized {width}x{height} to {crop}x{crop}"
    if height != width:
        note += " (aspect ratio not kept)"
    return tf.cast(P.resize_to(image, crop), tf.float32), note


def load_image(path, spec):
    """One file to a model input: ``(tensor, note)`` (see :func:`prepare_image`)."""
    return prepare_image(read_image(path, spec.channels), spec)


def check_top(top_k, classes):
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= classes:
        raise UserError(f"--top must be an integer in 1..{classes} (the model's classes), got {top_k!r}.")


def predict(model_path, paths, *, top_k=None):
    """Yields ``{"file", "predictions": [{"class", "index", "probability"}],
    "note"}`` or ``{"file", "error"}`` per image; ``note`` says how the
    image was resized, or is ``None``. ``top_k`` defaults to 5, or the
    number of classes if smaller."""
    model = load_model_file(model_path)
    spec = input_spec_for(model, model_path)
    names = class_names_for(model, model_path)
    top_k = min(5, len(names)) if top_k is None else top_k
    check_top(top_k, len(names))
    files = expand_paths(paths)
    if not files:
        raise UserError(f"No image files in {', '.join(paths)}.")
    for path in files:
        try:
            image, note = load_image(path, spec)
        except UserError as error:
            yield {"file": path, "error": str(error)}
            continue
        probs = np.asarray(keras.ops.convert_to_numpy(model(np.asarray(image)[None], training=False)), np.float32)[0]
        best = np.argsort(-probs)[:top_k]
        yield {
            "file": path,
            "predictions": [
                {"class": names[i], "index": int(i), "probability": float(probs[i])} for i in best
            ],
            "note": note,
        }
