"""Committee spread along an MD trajectory (DeePMD "model deviation" of forces).

For K models with forces F_i^k on atom i, the per-atom deviation is
ε_i = sqrt(⟨|F_i^k − ⟨F_i⟩_k|²⟩_k) (eV/Å, population average over the committee); per frame we
store its maximum over atoms (``force_deviation_max``, the usual active-learning signal) and its
mean over atoms (``force_deviation_mean``). The values are written into the run's NetCDF
trajectory as two per-frame variables (a copy written beside it, then renamed: never half-written).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import netCDF4
import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from tqdm import tqdm

from edlbench.errors import InputError
from edlbench.files import atomic_output
from edlbench.trajectory import read_frames

VARIABLES = {
    "force_deviation_max": "maximum over atoms of the committee force standard deviation",
    "force_deviation_mean": "mean over atoms of the committee force standard deviation",
}


def force_deviation(forces: np.ndarray) -> np.ndarray:
    """Per-atom committee deviation ε_i (N,) in eV/Å from forces (K models, N atoms, 3)."""
    return np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))


def committee_spread(trajectory: Path, calculators: Sequence[Calculator], stride: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame indices and per-frame max and mean force deviation (eV/Å) over every `stride`-th frame."""
    if len(calculators) < 2:
        raise InputError(f"uncertainty needs a committee of at least 2 models (got {len(calculators)})")
    frames = read_frames(trajectory, stride=stride, allow_empty=True)  # a run unstable before its first frame has none
    index = np.arange(0, len(frames) * stride, stride)
    dev_max, dev_mean = np.empty(len(frames)), np.empty(len(frames))
    for f in tqdm(range(len(frames)), desc="committee spread", unit="frame", mininterval=2):
        atoms = Atoms(frames.symbols, positions=frames.positions[f], cell=frames.cells[f], pbc=True)
        forces = np.array([calc.get_forces(atoms) for calc in calculators])
        eps = force_deviation(forces)
        dev_max[f], dev_mean[f] = eps.max(), eps.mean()
    return index, dev_max, dev_mean


def write_spread(trajectory: Path, output: Path, index: np.ndarray, dev_max: np.ndarray, dev_mean: np.ndarray,
                 models: Sequence[str]) -> None:
    """Copy `trajectory` to `output` with the two per-frame deviation variables (NaN on skipped frames)."""
    with atomic_output(output) as tmp:
        shutil.copyfile(trajectory, tmp)
        with netCDF4.Dataset(tmp, "a") as nc:
            if "frame" not in nc.dimensions:
                raise InputError(f"{trajectory}: not an edlbench trajectory (no 'frame' dimension)")
            n = len(nc.dimensions["frame"])
            for name, values in (("force_deviation_max", dev_max), ("force_deviation_mean", dev_mean)):
                var = nc.variables[name] if name in nc.variables else nc.createVariable(name, "f8", ("frame",), fill_value=np.nan)
                full = np.full(n, np.nan)
                full[index] = values
                var[:] = full
                var.units = "eV/angstrom"
                var.long_name = VARIABLES[name]
            nc.setncattr("committee", json.dumps(list(models)))


def read_spread(trajectory: Path, start: int = 0, stride: int = 1) -> np.ndarray | None:
    """Per-frame ``force_deviation_max`` (eV/Å; NaN where not computed) of frames start::stride, or None."""
    if Path(trajectory).suffix != ".nc":
        return None
    with netCDF4.Dataset(trajectory) as nc:
        if "force_deviation_max" not in nc.variables:
            return None
        return np.asarray(nc.variables["force_deviation_max"][start::stride].filled(np.nan), float)
