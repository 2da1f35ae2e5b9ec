"""DP-σ: the σ-aware baseline — the `dp` model (se_e2_a) with the surface charge as a global input.

How σ enters: σ = −n_ion·e/A (µC/cm²) of the whole cell is a deepmd frame parameter
(``fitting_net.numb_fparam = 1``), appended to every atom's descriptor at the input of the
fitting network, so each atomic energy is ε_i(environment of i, σ). The model therefore knows
the charge state even where no ion is within r_c — exactly what a short-range model lacks. It
is meant to be trained on the `mixed` set (on a single-charge set σ is constant and carries no
information). Trained with ``dp --pt train`` (see :mod:`edlbench.backends.deepmd`).
"""

from __future__ import annotations

from pathlib import Path

from edlbench.backends import deepmd
from edlbench.backends.dp import DESCRIPTOR


def receptive_field(config: dict) -> float:
    return deepmd.receptive_field(DESCRIPTOR, config)


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    return deepmd.train("dpsigma", DESCRIPTOR, train, valid, config, workdir, seed, sigma_input=True)


def calculator(model: Path, device: str = "auto"):
    """deepmd's DP calculator, passing each cell's σ (µC/cm²) as the frame parameter."""
    deepmd.select_device(device)
    from ase.calculators.calculator import all_changes
    from deepmd.calculator import DP

    from edlbench.geometry import cell_surface_charge

    class SigmaDP(DP):
        def calculate(self, atoms=None, properties=("energy", "forces", "virial"), system_changes=all_changes):
            atoms = (atoms if atoms is not None else self.atoms).copy()
            atoms.info["fparam"] = [cell_surface_charge(atoms.get_chemical_symbols(), atoms.cell.array)]
            super().calculate(atoms, list(properties), system_changes)

    return SigmaDP(model=str(model))


Options = deepmd.Options
