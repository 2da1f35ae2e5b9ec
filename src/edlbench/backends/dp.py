"""DP: DeePMD-kit's local Deep Potential with the smooth-edition descriptor se_e2_a (two-body
embedding, full radial + angular information, cutoff r_c = 6 Å by default; receptive field r_c).
Trained with ``dp --pt train`` (see :mod:`edlbench.backends.deepmd`)."""

from __future__ import annotations

from pathlib import Path

from edlbench.backends import deepmd

DESCRIPTOR = {"type": "se_e2_a", "sel": "auto", "rcut": 6.0, "rcut_smth": 0.5, "neuron": [25, 50, 100],
              "axis_neuron": 16, "resnet_dt": False, "precision": "float64"}


def receptive_field(config: dict) -> float:
    return deepmd.receptive_field(DESCRIPTOR, config)


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    return deepmd.train("dp", DESCRIPTOR, train, valid, config, workdir, seed)


calculator = deepmd.calculator
Options = deepmd.Options
