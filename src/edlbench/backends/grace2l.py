"""GRACE-2L: two-layer GRACE (message passing; receptive field 2 × cutoff), trained with
tensorpotential's ``gracemaker`` (see :mod:`edlbench.backends.grace`)."""

from __future__ import annotations

from pathlib import Path

from edlbench.backends import grace

PRESET = "GRACE_2LAYER_latest"


def receptive_field(config: dict) -> float:
    return grace.receptive_field(config, layers=2)


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    return grace.train(PRESET, train, valid, config, workdir, seed)


calculator = grace.calculator
gamma = grace.gamma
gamma_file = grace.gamma_file
Options = grace.Options
