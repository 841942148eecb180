"""``alexnet reproduce``: the paper's claims as pre-registered experiments.

:mod:`~alexnet.reproduce.protocol` fixes the arms, budgets, seeds and
thresholds (REPRODUCTION.md says the same in words); :mod:`~.runner` trains
them, resumably; :mod:`~.analysis` turns paired runs into effects, 95%
intervals and verdicts; :mod:`~.experiments` ties them together and writes
``summary.json``; :mod:`~.figures` draws each experiment.
"""

from alexnet.reproduce.experiments import EXPERIMENTS, NAMES, run_experiment

__all__ = ["EXPERIMENTS", "NAMES", "run_experiment"]
