"""Gives a :class:`~alexnet.data.splits.Source` the colour mode a model
takes: a grey model on an RGB folder, an RGB model on grey Fashion-MNIST.

Files are converted as they are decoded (``Source.channels`` is what
:func:`alexnet.data.pipeline.decode_image` produces); arrays in memory are
converted once here, with the same ITU-R 601 luma for RGB to grey.
"""

from __future__ import annotations

import numpy as np

from alexnet.data.splits import Source

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # as pipeline.rgb_to_gray


def convert_array(images: np.ndarray, channels: int) -> np.ndarray:
    """``uint8`` (N, H, W, C) images with ``channels`` (1 or 3) channels."""
    have = images.shape[-1]
    if have == channels:
        return images
    if channels == 3 and have == 1:
        return np.repeat(images, 3, axis=-1)
    if channels == 1 and have == 3:
        gray = np.rint(images.astype(np.float32) @ LUMA)
        return np.clip(gray, 0, 255).astype(np.uint8)[..., None]
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels")


def convert_channels(source: Source, channels: int) -> Source:
    """``source`` itself, changed to yield ``channels``-channel images."""
    if source.channels == channels:
        return source
    seen = []
    for name in ("train", "val", "test"):
        split = getattr(source, name)
        if split is not None and split.images is not None and not any(split is s for s in seen):
            split.images = convert_array(split.images, channels)
            seen.append(split)  # test is often the val split itself
    source.channels = channels
    return source
