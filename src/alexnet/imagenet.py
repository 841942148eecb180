"""ImageNet's 1000 classes (ILSVRC-2012), in the standard order.

Class ``i`` of every ImageNet classifier (Caffe, torchvision,
``keras.applications``, the ONNX model zoo) is the ``i``-th WordNet id in
sorted order, from ``n01440764`` (tench) to ``n15075141`` (toilet tissue).
``imagenet_classes.txt`` beside this module holds them as Caffe's
``synset_words.txt`` does: one class a line, its WordNet id and its
comma-separated WordNet lemmas. Nothing is downloaded.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

CLASSES = 1000


@functools.lru_cache(maxsize=1)
def _entries():
    text = resources.files("alexnet").joinpath("imagenet_classes.txt").read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        if line.strip():
            wnid, _, lemmas = line.strip().partition(" ")
            entries.append((wnid, lemmas))
    if len(entries) != CLASSES:  # a damaged installation, not a user error
        raise RuntimeError(f"imagenet_classes.txt has {len(entries)} classes, expected {CLASSES}.")
    return tuple(entries)


def wordnet_ids():
    """The 1000 WordNet ids (``"n01440764"``, ...) in class order."""
    return [wnid for wnid, _ in _entries()]


def class_names():
    """A readable name per class: its first WordNet lemma (``"tench"``,
    ``"goldfish"``, ...). Two pairs share a name, as in
    ``keras.applications``: ``crane`` (the bird, 134, and the machine, 517)
    and ``maillot`` (638 and 639)."""
    return [lemmas.split(",")[0].strip() for _, lemmas in _entries()]


def class_descriptions():
    """Every lemma of each class (``"tench, Tinca tinca"``, ...)."""
    return [lemmas for _, lemmas in _entries()]


def decode_predictions(preds, top=5):
    """The ``top`` classes of each sample, as in ``keras.applications``.

    Args:
        preds: scores of shape ``(samples, 1000)`` (probabilities or logits).
        top: how many classes per sample.

    Returns:
        One list per sample of ``(wordnet_id, name, score)`` tuples, best
        first.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != CLASSES:
        raise ValueError(
            "decode_predictions expects a batch of ImageNet predictions, an array of shape "
            f"(samples, {CLASSES}); got shape {preds.shape}."
        )
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}.")
    entries, names = _entries(), class_names()
    results = []
    for row in preds:
        best = np.argsort(-row, kind="stable")[:top]
        results.append([(entries[i][0], names[i], float(row[i])) for i in best])
    return results
