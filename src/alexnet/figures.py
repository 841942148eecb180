"""Figures of what a trained network learned, after the paper's Figures 3 and 4.

* :func:`plot_filters`: conv1's kernels as an image grid (Figure 3); for a
  two-tower model (conv2 grouped) the kernels feeding each tower apart.
* :func:`nearest_neighbors`: the training images closest to each query in
  fc7 feature space (Euclidean distance; Figure 4, right).
* :func:`plot_top5`: test images with their top-5 predicted probabilities,
  the true class highlighted (Figure 4, left).
"""

from __future__ import annotations

import json
import os

import numpy as np

from alexnet import plots
from alexnet.errors import UserError


def _layer(model, name, path):
    try:
        return model.get_layer(name)
    except ValueError:
        raise UserError(f"{path} has no layer {name!r}; is it an AlexNet model?") from None


def conv1_kernels(model, path="model"):
    """conv1's kernels as ``(count, height, width, channels)`` and the number
    of towers (conv2's groups)."""
    kernel = np.asarray(_layer(model, "conv1", path).get_weights()[0], np.float32)  # (kh, kw, cin, cout)
    towers = int(getattr(_layer(model, "conv2", path), "groups", 1) or 1)
    return np.transpose(kernel, (3, 0, 1, 2)), towers


def plot_filters(model_path, out=None):
    """Writes conv1's kernels as a PNG grid; returns the PNG's path and a
    description (kernel shape, towers)."""
    from alexnet.saved import load_model_file

    model = load_model_file(model_path)
    kernels, towers = conv1_kernels(model, model_path)
    out = out or os.path.join(_folder(model_path), "filters.png")
    count, h, w, c = kernels.shape
    if towers > 1 and count % towers == 0:
        per = count // towers
        groups = [(kernels[i * per:(i + 1) * per], f"tower {i + 1}: kernels {i * per + 1}-{(i + 1) * per}")
                  for i in range(towers)]
    else:
        towers = 1
        groups = [(kernels, f"conv1: {count} kernels of {h}x{w}x{c}")]
    plots.plot_kernels(groups, f"{model.name}: conv1 kernels ({h}x{w}x{c})", out)
    return {"png": out, "kernels": count, "kernel_shape": [h, w, c], "towers": towers}


def _folder(model_path):
    return model_path if os.path.isdir(model_path) else os.path.dirname(os.path.abspath(model_path))


def _load(model_path, data):
    from alexnet.saved import class_names_for, input_spec_for, load_model_file, source_for

    model = load_model_file(model_path)
    source = source_for(model_path, data)
    spec = input_spec_for(model, model_path, source)
    if spec.channels != source.channels:
        raise UserError(f"{model_path} takes {spec.channels}-channel images but {source.name} has {source.channels}.")
    if model.output_shape[-1] != source.num_classes:
        raise UserError(f"{model_path} predicts {model.output_shape[-1]} classes but {source.name} has "
                        f"{source.num_classes}.")
    names = source.class_names or class_names_for(model, model_path)
    return model, source, spec, names


def _subset(split, indices):
    from alexnet.data.sources import Split

    def pick(values):
        if values is None:
            return None
        return values[indices] if isinstance(values, np.ndarray) else [values[i] for i in indices]

    return Split(np.asarray(split.labels)[indices], images=pick(split.images), files=pick(split.files))


def _check_indexable(split, what):
    if split.images is None and split.files is None:
        raise UserError(f"The {what} split is stored as TFRecords or TFDS; use an array or image-folder dataset.")


def _images(source, split, spec):
    """Eval-transformed (centre-cropped, float) images and labels of a split, as arrays."""
    from alexnet.data.datasets import eval_dataset

    batches = [(x.numpy(), y.numpy()) for x, y in eval_dataset(source, split, spec, 256)]
    if not batches:
        return np.zeros((0, *spec.input_shape), np.float32), np.zeros((0,), np.int64)
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def _query_image(path, spec):
    """A query image prepared exactly as ``alexnet predict`` prepares it."""
    from alexnet.predict import load_image

    if not os.path.isfile(path):
        raise UserError(f"No such image file: {path}")
    return load_image(path, spec)[0].numpy()


def fc7_extractor(model, path="model"):
    """A sub-model from the input to fc7's output (after its activation)."""
    import keras

    return keras.Model(model.inputs, _layer(model, "fc7", path).output, name="fc7_features")


def nearest_neighbors(model_path, queries, data=None, *, k=6, max_images=10000, out=None):
    """The ``k`` training images nearest to each query image by Euclidean
    distance between fc7 features (the first ``max_images`` training images
    are searched). Writes a PNG grid; returns a JSON-ready dict."""
    if k < 1:
        raise UserError(f"-k must be a positive integer, got {k}.")
    if max_images < 1:
        raise UserError(f"--max-images must be a positive integer, got {max_images}.")
    if not queries:
        raise UserError("Give at least one --query image.")
    model, source, spec, names = _load(model_path, data)
    _check_indexable(source.train, "training")
    count = min(max_images, len(source.train))
    indices = np.arange(count)
    images, labels = _images(source, _subset(source.train, indices), spec)
    features_of = fc7_extractor(model, model_path)
    bank = np.asarray(features_of.predict(images, batch_size=256, verbose=0), np.float64)
    query_images = np.stack([_query_image(q, spec) for q in queries])
    query_features = np.asarray(features_of.predict(query_images, verbose=0), np.float64)
    distances = np.sqrt(np.maximum(
        (query_features ** 2).sum(1)[:, None] + (bank ** 2).sum(1)[None, :] - 2 * query_features @ bank.T, 0))
    k = min(k, count)
    answers = []
    for q, row in zip(queries, distances):
        order = np.argsort(row, kind="stable")[:k]
        answers.append({"query": q, "neighbors": [
            {"index": int(indices[i]), "label": int(labels[i]), "class": names[int(labels[i])],
             "distance": float(row[i]),
             **({"file": source.train.files[int(indices[i])]} if source.train.files is not None else {})}
            for i in order]})
    out = out or os.path.join(_folder(model_path), "neighbors.png")
    plots.plot_neighbors(query_images, images, answers, out, spec.channels)
    return {"model": model_path, "data": source.name, "searched": count, "feature": "fc7", "metric": "euclidean",
            "png": out, "queries": answers}


def plot_top5(model_path, data=None, *, n=8, out=None, seed=0):
    """``n`` test images chosen at random (``seed``) with bars of their top-5
    predicted probabilities; the true class's bar is red. Returns the PNG's
    path and the predictions."""
    if n < 1:
        raise UserError(f"-n must be a positive integer, got {n}.")
    model, source, spec, names = _load(model_path, data)
    _check_indexable(source.test, "test")
    if len(source.test) == 0:
        raise UserError(f"The test split of {source.name} is empty.")
    indices = np.sort(np.random.default_rng(seed).permutation(len(source.test))[:n])
    images, labels = _images(source, _subset(source.test, indices), spec)
    probs = np.asarray(model.predict(images, verbose=0), np.float64)
    top = min(5, probs.shape[1])
    answers = []
    for i, (label, p) in enumerate(zip(labels, probs)):
        best = np.argsort(-p)[:top]
        answers.append({"index": int(indices[i]), "label": int(label), "class": names[int(label)],
                        "top5": [{"class": names[j], "probability": float(p[j])} for j in best]})
    out = out or os.path.join(_folder(model_path), "top5.png")
    plots.plot_top5(images, labels, probs, names, spec.channels, out)
    return {"png": out, "images": answers, "split": source.test_role,
            "split_description": source.describe_test()}


def to_json(result):
    return json.dumps(result, indent=1)
