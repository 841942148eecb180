"""A per-layer table: output shape, parameters and multiply-adds (MACs)."""

from __future__ import annotations

import keras


def layer_macs(layer) -> int:
    """Multiply-accumulates of one forward pass for one image: convolutions
    and dense layers only (LRN, pooling and activations are not counted)."""
    if isinstance(layer, keras.layers.Conv2D):
        _, height, width, filters = layer.output.shape
        kh, kw = layer.kernel_size
        in_channels = layer.input.shape[-1]
        return height * width * filters * kh * kw * (in_channels // layer.groups)
    if isinstance(layer, keras.layers.Dense):
        return layer.input.shape[-1] * layer.units
    return 0


def summarize(model):
    """One row per layer: (name, type, output shape, params, MACs)."""
    rows = []
    for layer in model.layers:
        shape = layer.output.shape
        rows.append((layer.name, type(layer).__name__, tuple(shape[1:]), layer.count_params(), layer_macs(layer)))
    return rows


def format_summary(model) -> str:
    rows = summarize(model)
    header = ("layer", "type", "output shape", "params", "MACs")
    table = [header] + [(n, t, "x".join(str(d) for d in s), f"{p:,}", f"{m:,}") for n, t, s, p, m in rows]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = []
    for i, row in enumerate(table):
        lines.append("  ".join(
            cell.ljust(w) if j < 3 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))))
        if i == 0:
            lines.append("-" * len(lines[0]))
    params = sum(r[3] for r in rows)
    macs = sum(r[4] for r in rows)
    lines.append("-" * len(lines[0]))
    lines.append(f"{model.name}: {params:,} parameters, {macs:,} multiply-adds per image "
                 f"({2 * macs / 1e9:.2f} GFLOP forward)")
    return "\n".join(lines)
