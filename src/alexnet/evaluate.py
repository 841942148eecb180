"""``evaluate(model, data)``: top-1/top-5 accuracy and error, per-class
accuracy and a confusion matrix, with the centre crop or the paper's ten
crops (their softmax outputs averaged)."""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from alexnet.data.channels import convert_channels
from alexnet.data.datasets import eval_dataset
from alexnet.errors import UserError
from alexnet.saved import input_spec_for, load_model_file, source_for


def predict_probabilities(model, dataset, ten_crop=False):
    """Class probabilities and labels for a dataset of (images, labels);
    with ``ten_crop`` each example is a stack of views (the ten crops) whose
    probabilities are averaged. Runs on every Keras backend (the dataset is
    tf.data; the model's compiled ``predict_on_batch`` runs each batch)."""
    probs, labels = [], []
    for images, batch_labels in dataset:
        images = np.asarray(images)
        views = images.shape[1] if ten_crop else 1
        flat = images.reshape((-1, *images.shape[2:])) if ten_crop else images
        batch = np.asarray(keras.ops.convert_to_numpy(model.predict_on_batch(flat)), np.float32)
        probs.append(batch.reshape(len(images), views, -1).mean(axis=1))
        labels.append(np.asarray(batch_labels))
    return np.concatenate(probs), np.concatenate(labels)


def top1_top5_accuracy(probs, labels):
    """The fractions of examples whose label is the top class, and among the
    top five."""
    top5 = np.argsort(-probs, axis=1)[:, :5]
    return float(np.mean(top5[:, 0] == labels)), float(np.mean((top5 == labels[:, None]).any(axis=1)))


def evaluate(model_path, data=None, *, ten_crop=False, batch_size=128, out=None):
    """Scores ``model_path`` on the test split of ``data`` (``None``: the
    run's own dataset, split as in training; see :func:`alexnet.saved.source_for`)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"--batch-size must be an integer >= 1, got {batch_size!r}.")
    model = load_model_file(model_path)
    source = source_for(model_path, data)
    classes = model.output_shape[-1]
    if classes != source.num_classes:
        raise UserError(f"{model_path} predicts {classes} classes but {source.name} has {source.num_classes}.")
    spec = input_spec_for(model, model_path, source)
    convert_channels(source, spec.channels)  # e.g. a grey model fine-tuned on an RGB folder
    dataset = eval_dataset(source, source.test, spec, max(1, batch_size // 10) if ten_crop else batch_size, ten_crop)
    probs, labels = predict_probabilities(model, dataset, ten_crop)
    if len(labels) == 0:
        raise UserError(f"The test split of {source.name} is empty.")
    predicted = np.argmax(probs, axis=1)
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {
        name: float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else None
        for i, name in enumerate(source.class_names)
    }
    top1_acc, top5_acc = top1_top5_accuracy(probs, labels)
    result = {
        "model": model_path, "data": source.name, "images": int(len(labels)),
        "split": source.test_role, "split_description": source.describe_test(),
        "crops": "ten" if ten_crop else "centre",
        "top1_accuracy": top1_acc, "top5_accuracy": top5_acc,
        "top1_error": 1 - top1_acc, "top5_error": 1 - top5_acc,
        "per_class_accuracy": per_class,
    }
    out = out or (model_path if os.path.isdir(model_path) else os.path.dirname(os.path.abspath(model_path)))
    os.makedirs(out, exist_ok=True)
    from alexnet.plots import plot_confusion

    png = os.path.join(out, f"confusion_{'ten' if ten_crop else 'centre'}.png")
    plot_confusion(confusion.tolist(), source.class_names, png)
    result["confusion_matrix_png"] = png
    result["confusion_matrix"] = confusion.tolist()
    return result


def format_report(result):
    lines = [
        f"{result['model']} on {result['split_description']}, {result['crops']} crop:",
        f"  top-1 accuracy {100 * result['top1_accuracy']:.2f}%  (error {100 * result['top1_error']:.2f}%)",
        f"  top-5 accuracy {100 * result['top5_accuracy']:.2f}%  (error {100 * result['top5_error']:.2f}%)",
        "  per class:",
    ]
    for name, acc in result["per_class_accuracy"].items():
        lines.append(f"    {name:24s} {'n/a' if acc is None else f'{100 * acc:.1f}%'}")
    lines.append(f"  confusion matrix: {result['confusion_matrix_png']}")
    return "\n".join(lines)


def to_json(result):
    return json.dumps(result, indent=1)
