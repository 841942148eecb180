"""Training: :mod:`~alexnet.training.run` (``train(config)``, one run),
:mod:`~alexnet.training.optim` (optimizers, schedules),
:mod:`~alexnet.training.precision` (``--precision auto``),
:mod:`~alexnet.training.distribute` (``--strategy``) and
:mod:`~alexnet.training.checkpoint` (crash-safe resume)."""
