"""``alexnet reproduce``: the paper's claims as controlled experiments.

:mod:`alexnet.reproduce.experiments` defines the comparisons and trains
their arms; :mod:`alexnet.reproduce.report` turns the runs into tables
(Markdown, JSON) and figures. See REPRODUCTION.md.
"""

from alexnet.reproduce.experiments import EXPERIMENTS, NAMES, run_experiment
from alexnet.reproduce.report import epochs_to_target, speedup

__all__ = ["EXPERIMENTS", "NAMES", "run_experiment", "epochs_to_target", "speedup"]
