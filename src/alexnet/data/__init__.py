"""Input: :mod:`~alexnet.data.sources` (where images come from: one module
per format, such as :mod:`~alexnet.data.cifar10`, each giving a
:class:`~alexnet.data.splits.Source`),
:mod:`~alexnet.data.pipeline` (crop, flip, colour noise as tf.data maps) and
:mod:`~alexnet.data.datasets` (a source as batched training, validation and
test pipelines)."""
