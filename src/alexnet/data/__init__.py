"""Input: :mod:`~alexnet.data.sources` (where images come from),
:mod:`~alexnet.data.pipeline` (crop, flip, colour noise as tf.data maps) and
:mod:`~alexnet.data.datasets` (a source as batched training, validation and
test pipelines)."""
