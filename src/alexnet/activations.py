"""Feature maps: what one image turns into at conv1 .. conv5.

* :func:`feature_maps`: the outputs (after the activation) of the five
  convolutions for one image, and the model's class probabilities.
* :func:`draw_feature_maps`: those maps as one image grid per layer, under
  the input and a bar chart of its top classes, as a matplotlib ``Figure``
  (made without pyplot, so the global backend is left alone).
* :func:`plot_activations`: a saved model and an image file to a PNG; the
  function behind ``alexnet activations MODEL IMAGE -o OUT.png``.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from alexnet.errors import UserError

CONV_LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5")


def feature_maps(model, image, layers=CONV_LAYERS, *, path="model"):
    """Runs one image (``(H, W, C)`` raw pixels, as the model takes them)
    through ``model``; returns ``({layer: (h, w, channels) array},
    probabilities)``, probabilities ``None`` for a model without a classifier."""
    import keras

    missing = [name for name in layers if name not in {layer.name for layer in model.layers}]
    if missing:
        raise UserError(f"{path} has no layer {missing[0]!r}; is it an AlexNet model?")
    outputs = [model.get_layer(name).output for name in layers]
    classifier = "predictions" in {layer.name for layer in model.layers}  # include_top=False has none
    if classifier:
        outputs.append(model.get_layer("predictions").output)
    probe = keras.Model(model.inputs[0], outputs, name="feature_maps")
    results = [keras.ops.convert_to_numpy(r)[0] for r in probe(np.asarray(image, np.float32)[None], training=False)]
    maps = {name: m.astype(np.float32) for name, m in zip(layers, results)}
    if not classifier:
        return maps, None
    last = results[-1].astype(np.float64)
    if last.min() < 0 or abs(last.sum() - 1) > 1e-3:  # logits (classifier_activation=None)
        last = np.exp(last - last.max())
        last /= last.sum()
    return maps, last


def tile(maps, columns=None):
    """``(h, w, n)`` maps side by side with a 1-pixel gap, as one 2-D array
    scaled to [0, 1] by the layer's own range (so bright means strongly
    active compared with the rest of the layer); gaps are NaN."""
    h, w, n = maps.shape
    columns = columns or int(np.ceil(np.sqrt(n * 6)))  # about three times wider than tall
    rows = int(np.ceil(n / columns))
    low, high = float(maps.min()), float(maps.max())
    scaled = (maps - low) / (high - low) if high > low else np.zeros_like(maps)
    canvas = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan, np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = scaled[..., i]
    return canvas


def draw_feature_maps(image, maps, probabilities=None, class_names=None, *, top=5, max_maps=256, title=None):
    """A ``matplotlib.figure.Figure``: the input and its ``top`` classes,
    then one grid per layer of ``maps`` (at most ``max_maps`` channels each)."""
    from matplotlib.figure import Figure

    grids = []
    for name, m in maps.items():
        shown = m[..., :max_maps]
        label = f"{name}: {m.shape[-1]} maps of {m.shape[0]}x{m.shape[1]}"
        if shown.shape[-1] < m.shape[-1]:
            label += f" (the first {shown.shape[-1]} shown)"
        grids.append((tile(shown), f"{label}, largest value {float(m.max()):.3g}"))
    width = 10.0
    heights = [2.4] + [max(0.8, width * g.shape[0] / g.shape[1]) + 0.3 for g, _ in grids]
    fig = Figure(figsize=(width, sum(heights)), dpi=100)
    outer = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    head = outer[0].subgridspec(1, 2, width_ratios=[1, 2.2], wspace=0.5)

    ax = fig.add_subplot(head[0])
    pixels = np.clip(np.asarray(image, np.float32), 0, 255).astype(np.uint8)
    if pixels.shape[-1] == 1:
        ax.imshow(pixels[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(pixels)
    ax.set_title(f"input {pixels.shape[0]}x{pixels.shape[1]}x{pixels.shape[2]}", fontsize=9)
    ax.axis("off")

    ax = fig.add_subplot(head[1])
    if probabilities is None:
        ax.axis("off")
    else:
        names = class_names or [f"class_{i}" for i in range(len(probabilities))]
        best = np.argsort(-probabilities)[:top]
        ax.barh(range(len(best)), probabilities[best], color="tab:blue")
        ax.set_yticks(range(len(best)), [names[i][:24] for i in best], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"top-{len(best)} classes", fontsize=9)

    for row, (canvas, label) in enumerate(grids, start=1):
        ax = fig.add_subplot(outer[row])
        ax.imshow(np.ma.masked_invalid(canvas), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.set_layout_engine("constrained")
    return fig


def plot_activations(model_path, image_path, out=None, *, top=5, max_maps=256):
    """Writes the feature maps of ``image_path`` at conv1..conv5 under
    ``model_path`` (a ``.keras`` file or a run directory) as a PNG. The image
    is prepared as ``alexnet predict`` prepares it, with the run's
    ``input.json``. Returns a JSON-ready description."""
    from alexnet import plots
    from alexnet.predict import load_image
    from alexnet.saved import class_names_for, input_spec_for, load_model_file

    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise UserError(f"--top must be a positive integer, got {top!r}.")
    if isinstance(max_maps, bool) or not isinstance(max_maps, int) or max_maps < 1:
        raise UserError(f"--max-maps must be a positive integer, got {max_maps!r}.")
    model = load_model_file(model_path)
    spec = input_spec_for(model, model_path)
    names = class_names_for(model, model_path)
    prepared, note = load_image(image_path, spec)
    image = np.asarray(prepared, np.float32)
    maps, probabilities = feature_maps(model, image, path=model_path)
    out = out or os.path.join(model_path if os.path.isdir(model_path)
                              else os.path.dirname(os.path.abspath(model_path)), "activations.png")
    fig = draw_feature_maps(image, maps, probabilities, names, top=top, max_maps=max_maps,
                            title=f"{model.name}: {os.path.basename(image_path)}")
    plots.save(fig, out)
    best = [] if probabilities is None else [
        {"class": names[i], "index": int(i), "probability": float(probabilities[i])}
        for i in np.argsort(-probabilities)[:top]]
    return {"png": out, "image": image_path, "note": note,
            "layers": [{"name": k, "shape": list(v.shape), "largest": float(v.max())} for k, v in maps.items()],
            "top": best}
