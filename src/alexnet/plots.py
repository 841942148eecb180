"""Every PNG the package draws, with matplotlib's object API.

Each figure is a ``matplotlib.figure.Figure`` rendered by the Agg canvas;
nothing here goes through pyplot or switches matplotlib's global backend, so
importing the package leaves a notebook's or an application's matplotlib as
it was. What to draw is computed elsewhere (``alexnet.figures``,
``alexnet.reproduce.figures``, ``alexnet.evaluate``, ``alexnet.training.run``):

* training curves (``loss.png``, ``accuracy.png``) and confusion matrices;
* conv1's kernels (the paper's Figure 3), nearest neighbours in fc7 space and
  top-5 predictions (Figure 4);
* the reproduction experiments' curves (Figure 1 among them).
(``alexnet.activations`` draws the feature maps the same way.)
"""

from __future__ import annotations

import os
import statistics

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def figure(rows=1, cols=1, *, figsize, dpi=100, **subplots):
    """A new figure and its ``rows x cols`` axes (``Figure.subplots``)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, **subplots)


def save(fig, path):
    """Writes ``fig`` to ``path`` (its folder made if needed); returns ``path``."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    return path


# --- training and evaluation --------------------------------------------------

def plot_history(history, run_dir):
    """``loss.png`` and ``accuracy.png``: train and validation per epoch."""
    epochs = [row["epoch"] for row in history]
    for metric, label in (("loss", "loss"), ("accuracy", "accuracy")):
        fig, ax = figure(figsize=(6, 4))
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [row.get(prefix + metric) for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, marker="o", label=("validation " if prefix else "train ") + label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        save(fig, os.path.join(run_dir, f"{metric}.png"))


def plot_confusion(matrix, class_names, path):
    n = len(class_names)
    size = max(5, min(20, 0.5 * n + 2))
    fig, ax = figure(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    if n <= 30:
        ax.set_xticks(range(n), class_names, rotation=90)
        ax.set_yticks(range(n), class_names)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i][j] > max(map(max, matrix)) / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    save(fig, path)


# --- what the network learned (the paper's Figures 3 and 4) -------------------

def _normalized(kernel):
    """One kernel scaled to [0, 1] (each kernel on its own, as in Figure 3)."""
    low, high = float(kernel.min()), float(kernel.max())
    return (kernel - low) / (high - low) if high > low else np.full_like(kernel, 0.5)


def kernel_grid(ax, kernels, title):
    """``kernels`` ``(count, height, width, channels)`` tiled on ``ax``."""
    count = len(kernels)
    cols = int(np.ceil(np.sqrt(count * 2)))  # wider than tall, like Figure 3
    rows = int(np.ceil(count / cols))
    h, w, c = kernels.shape[1:]
    canvas = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, 3 if c == 3 else 1), np.float32)
    for i, kernel in enumerate(kernels):
        r, q = divmod(i, cols)
        image = _normalized(kernel)
        if c not in (1, 3):  # other channel counts: the mean over channels, in gray
            image = image.mean(axis=-1, keepdims=True)
        canvas[r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = image
    if canvas.shape[-1] == 1:
        ax.imshow(canvas[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(canvas, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def plot_kernels(groups, title, path):
    """One :func:`kernel_grid` per ``(kernels, title)`` in ``groups``, stacked."""
    fig, axes = figure(len(groups), 1, figsize=(8, 2.2 * len(groups) + 0.6), dpi=120, squeeze=False)
    for ax, (group, group_title) in zip(axes[:, 0], groups):
        kernel_grid(ax, group, group_title)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def show_image(ax, image, channels):
    """A 0-255 image on ``ax``, without ticks."""
    image = np.clip(image, 0, 255).astype(np.uint8)
    if channels == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_neighbors(query_images, images, answers, path, channels):
    """One row per query: the query, then its nearest ``images``."""
    k = len(answers[0]["neighbors"])
    fig, axes = figure(len(answers), k + 1, figsize=(1.4 * (k + 1), 1.6 * len(answers)), squeeze=False)
    for r, (query, answer) in enumerate(zip(query_images, answers)):
        show_image(axes[r, 0], query, channels)
        axes[r, 0].set_title("query", fontsize=8, color="tab:red")
        for c, neighbor in enumerate(answer["neighbors"], start=1):
            show_image(axes[r, c], images[neighbor["index"]], channels)
            axes[r, c].set_title(f"{neighbor['class'][:12]}\nd={neighbor['distance']:.3g}", fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def plot_top5(images, labels, probs, names, channels, path):
    """Each image above the bars of its top-5 probabilities; the true
    class's bar is red."""
    top = min(5, probs.shape[1])
    cols = min(4, len(images))
    rows = int(np.ceil(len(images) / cols))
    fig, axes = figure(rows * 2, cols, figsize=(2.6 * cols, 3.6 * rows), squeeze=False,
                       gridspec_kw={"height_ratios": [1.3, 1] * rows})
    for i, (image, label, p) in enumerate(zip(images, labels, probs)):
        r, c = divmod(i, cols)
        best = np.argsort(-p)[:top]
        show_image(axes[2 * r, c], image, channels)
        axes[2 * r, c].set_title(names[int(label)][:20], fontsize=8)
        bars = axes[2 * r + 1, c]
        colours = ["tab:red" if j == label else "tab:blue" for j in best]
        bars.barh(range(top), p[best], color=colours)
        bars.set_yticks(range(top), [names[j][:14] for j in best], fontsize=7)
        bars.invert_yaxis()
        bars.set_xlim(0, 1)
        bars.tick_params(axis="x", labelsize=6)
    for j in range(len(images), rows * cols):
        r, c = divmod(j, cols)
        axes[2 * r, c].axis("off")
        axes[2 * r + 1, c].axis("off")
    fig.suptitle("top-5 predictions (true class in red)", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


# --- the reproduction experiments ---------------------------------------------

def _mean_curve(curves):
    """The pointwise mean of curves given as ``(xs, ys)``, over their common length."""
    length = min(len(ys) for _, ys in curves)
    xs = curves[0][0][:length]
    return xs, [statistics.fmean(ys[i] for _, ys in curves) for i in range(length)]


def plot_reproduction(title, panels, path):
    """One panel per setting of an experiment. ``panels``: dicts with
    ``title``, ``threshold`` (a horizontal line, or None), ``ylabel`` and
    ``arms``: ``[(label, colour, style, [(epochs, errors) per seed])]``; each
    arm's seeds are drawn faint and their mean bold."""
    fig, axes = figure(1, len(panels), figsize=(6.2 * len(panels), 4.6), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for label, colour, style, curves in panel["arms"]:
            curves = [c for c in curves if c[1]]
            if not curves:
                continue
            for xs, ys in curves:
                ax.plot(xs, ys, style, color=colour, alpha=0.25, linewidth=0.8)
            xs, mean = _mean_curve(curves)
            ax.plot(xs, mean, style, color=colour, linewidth=2.0, label=label)
        if panel.get("threshold") is not None:
            ax.axhline(panel["threshold"], color="gray", linestyle=":", linewidth=1,
                       label=f"threshold {panel['threshold']:g}%")
        ax.set_xlabel("epochs")
        ax.set_ylabel(panel["ylabel"])
        ax.set_title(panel["title"], fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save(fig, path)
