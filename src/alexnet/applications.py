"""``keras.applications``-style helpers.

Models built here carry their preprocessing inside (the ``preprocess``
layer), so :func:`preprocess_input` has nothing to normalize: it only checks
the layout and returns float32 pixels on the 0-255 scale, which is what every
AlexNet of this package takes, whatever its training convention (Caffe's BGR
means, torchvision's mean and std, a dataset's own statistics).
"""

from __future__ import annotations

import numpy as np

from alexnet.imagenet import decode_predictions

__all__ = ["decode_predictions", "preprocess_input"]


def preprocess_input(x, data_format=None):
    """Returns ``x`` (RGB, 0-255, channels-last) as float32, unchanged.

    ``data_format="channels_first"`` input is moved to channels-last.
    """
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}.")
    x = np.asarray(x, np.float32)
    if data_format == "channels_first":
        x = np.moveaxis(x, -3, -1)
    return x
