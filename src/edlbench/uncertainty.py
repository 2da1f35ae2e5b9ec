"""Uncertainty along an MD trajectory, written into the run's NetCDF as per-frame variables (a
copy written beside it, then renamed: never half-written). Two signals:

- the committee spread of forces (DeePMD's "model deviation"): for K models with forces F_i^k on
  atom i, ε_i = sqrt(⟨|F_i^k − ⟨F_i⟩_k|²⟩_k) (eV/Å, population average over the committee); per
  frame its maximum over atoms (``force_deviation_max``, the usual active-learning signal) and mean
  (``force_deviation_mean``);
- a backend's own per-atom extrapolation grade γ of the model that ran the MD (GRACE-1L/2L:
  grace_uq's GMM γ, 1 = the training atoms' outlier fence; GRACE-FS: pyace's MaxVol grade, > 1
  outside the active set's hull): per frame ``gamma_max``, ``gamma_mean``,
  ``gamma_above_1`` (fraction of atoms with γ > 1) and ``gamma_max_<El>``/``gamma_mean_<El>`` per
  element.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import netCDF4
import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from tqdm import tqdm

from edlbench.errors import InputError
from edlbench.files import atomic_output
from edlbench.trajectory import read_frames

#: per-frame variable -> (values over the evaluated frames, units, long_name)
Series = dict[str, tuple[np.ndarray, str, str]]


def force_deviation(forces: np.ndarray) -> np.ndarray:
    """Per-atom committee deviation ε_i (N,) in eV/Å from forces (K models, N atoms, 3)."""
    return np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))


def _frames(trajectory: Path, stride: int, what: str) -> tuple[np.ndarray, list[str], Iterator[Atoms]]:
    """Indices of every `stride`-th frame, the atom symbols, and those frames as Atoms (with progress)."""
    frames = read_frames(trajectory, stride=stride, allow_empty=True)  # a run unstable before its first frame has none
    index = np.arange(0, len(frames) * stride, stride)
    atoms = (Atoms(frames.symbols, positions=frames.positions[f], cell=frames.cells[f], pbc=True)
             for f in tqdm(range(len(frames)), desc=what, unit="frame", mininterval=2))
    return index, frames.symbols, atoms


def committee_spread(trajectory: Path, calculators: Sequence[Calculator], stride: int = 1) -> tuple[np.ndarray, Series]:
    """Frame indices and the per-frame max and mean committee force deviation (eV/Å)."""
    if len(calculators) < 2:
        raise InputError(f"a committee spread needs at least 2 models (got {len(calculators)})")
    index, _, frames = _frames(trajectory, stride, "committee spread")
    eps = [force_deviation(np.array([calc.get_forces(atoms) for calc in calculators])) for atoms in frames]
    return index, {
        "force_deviation_max": (np.array([e.max() for e in eps]), "eV/angstrom",
                                "maximum over atoms of the committee force standard deviation"),
        "force_deviation_mean": (np.array([e.mean() for e in eps]), "eV/angstrom",
                                 "mean over atoms of the committee force standard deviation"),
    }


def gamma_series(trajectory: Path, per_atom: Callable[[Atoms], np.ndarray], kind: str, stride: int = 1) -> tuple[np.ndarray, Series]:
    """Frame indices and per-frame statistics of the per-atom extrapolation grade γ (`kind` names it)."""
    index, symbols, frames = _frames(trajectory, stride, "γ")
    gamma = np.array([per_atom(atoms) for atoms in frames]).reshape(len(index), len(symbols))
    symbols = np.array(symbols)
    series = {"gamma_max": (gamma.max(axis=1), "1", f"maximum over atoms of the {kind}"),
              "gamma_mean": (gamma.mean(axis=1), "1", f"mean over atoms of the {kind}"),
              "gamma_above_1": ((gamma > 1).mean(axis=1), "1", f"fraction of atoms with {kind} above 1 (beyond the training data's fence)")}
    for element in sorted(set(symbols)):
        mine = gamma[:, symbols == element]
        series[f"gamma_max_{element}"] = (mine.max(axis=1), "1", f"maximum over {element} atoms of the {kind}")
        series[f"gamma_mean_{element}"] = (mine.mean(axis=1), "1", f"mean over {element} atoms of the {kind}")
    return index, series


def write_series(trajectory: Path, output: Path, index: np.ndarray, series: Series, attrs: dict[str, str]) -> None:
    """Copy `trajectory` to `output` with the per-frame `series` (NaN on frames not evaluated) and
    the global `attrs` (which models gave them)."""
    with atomic_output(output) as tmp:
        shutil.copyfile(trajectory, tmp)
        with netCDF4.Dataset(tmp, "a") as nc:
            if "frame" not in nc.dimensions:
                raise InputError(f"{trajectory}: not an edlbench trajectory (no 'frame' dimension)")
            n = len(nc.dimensions["frame"])
            for name, (values, units, long_name) in series.items():
                var = nc.variables[name] if name in nc.variables else nc.createVariable(name, "f8", ("frame",), fill_value=np.nan)
                full = np.full(n, np.nan)
                full[index] = values
                var[:] = full
                var.units = units
                var.long_name = long_name
            nc.setncatts(attrs)


def read_series(trajectory: Path, name: str, start: int = 0, stride: int = 1) -> np.ndarray | None:
    """Per-frame variable `name` (NaN where not computed) of frames start::stride, or None if absent."""
    if Path(trajectory).suffix != ".nc":
        return None
    with netCDF4.Dataset(trajectory) as nc:
        if name not in nc.variables:
            return None
        return np.asarray(nc.variables[name][start::stride].filled(np.nan), float)
