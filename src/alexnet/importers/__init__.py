"""Importers of published AlexNet weights; see :mod:`alexnet.weights`."""
