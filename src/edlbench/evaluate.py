"""Test-set errors of a trained model per charge state (errors.nc of the data contract).

Energy errors are per atom, (E_pred − E_ref)/N in meV/atom; force errors are over all Cartesian
components in meV/Å. References are the ``REF_energy``/``REF_forces`` labels of the test sets.
For a model with its own per-atom extrapolation grade γ, also γ on the same frames: the in-domain
rate of atoms beyond γ = 1 that a run's γ along MD is judged against (the fence leaves a tail).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.io import read
from tqdm import tqdm

from edlbench.dataset import ENERGY_KEY, FORCES_KEY
from edlbench.errors import InputError
from edlbench.files import existing


def predictions(calc: Calculator, images: list[Atoms], path: Path) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n_ion, per-atom energies (pred, ref) in eV and forces (pred, ref) in eV/Å for the frames of
    one test set (read from `path`)."""
    n_ion = {int(a.info.get("n_ion", -1)) for a in images}
    if len(n_ion) != 1 or -1 in n_ion:
        raise InputError(f"{path}: test frames must share one n_ion in their info (found {sorted(n_ion)})")
    e_pred, e_ref, f_pred, f_ref = [], [], [], []
    for k, atoms in enumerate(tqdm(images, desc=f"evaluate {Path(path).name}", unit="frame", mininterval=2)):
        if ENERGY_KEY not in atoms.info or FORCES_KEY not in atoms.arrays:
            raise InputError(f"{path}: frame {k}: no {ENERGY_KEY}/{FORCES_KEY} labels")
        e_ref.append(atoms.info[ENERGY_KEY] / len(atoms))
        f_ref.append(atoms.arrays[FORCES_KEY])
        atoms.calc = calc
        e_pred.append(atoms.get_potential_energy() / len(atoms))
        f_pred.append(atoms.get_forces())
    return n_ion.pop(), np.array(e_pred), np.array(e_ref), np.concatenate(f_pred), np.concatenate(f_ref)


def error_metrics(e_pred, e_ref, f_pred, f_ref) -> dict[str, float]:
    """RMSE/MAE of per-atom energies (meV/atom) and force components (meV/Å)."""
    de, df = 1e3 * (np.asarray(e_pred) - e_ref), 1e3 * (np.asarray(f_pred) - f_ref)
    return {
        "rmse_energy": float(np.sqrt(np.mean(de**2))),
        "mae_energy": float(np.mean(np.abs(de))),
        "rmse_force": float(np.sqrt(np.mean(df**2))),
        "mae_force": float(np.mean(np.abs(df))),
    }


def gamma_metrics(per_atom: Callable[[Atoms], np.ndarray], images: list[Atoms], path: Path) -> dict[str, float]:
    """Frame means of the maximum γ over atoms and of the fraction of atoms with γ > 1 on the
    frames of one test set, and the latter's standard error (test frames taken as independent)."""
    gamma = [np.asarray(per_atom(atoms)) for atoms in tqdm(images, desc=f"γ {Path(path).name}", unit="frame", mininterval=2)]
    above = np.array([(g > 1).mean() for g in gamma])
    sem = float(above.std(ddof=1) / np.sqrt(len(above))) if len(above) > 1 else np.nan
    return {"gamma_max_test": float(np.mean([g.max() for g in gamma])), "gamma_above_1_test": float(above.mean()),
            "gamma_above_1_test_sem": sem}


def evaluate(calc: Calculator, test_sets: list[Path], model: str, train_set: str, seed: int,
             gamma: Callable[[Atoms], np.ndarray] | None = None) -> xr.Dataset:
    """errors dataset (dim n_ion) for `calc` on each per-charge test set, with the model's γ on
    them where `gamma` (its per-atom γ) is given."""
    rows = {}
    for path in test_sets:
        images = read(existing(path, "test set"), ":")
        n_ion, *arrays = predictions(calc, images, path)
        rows[n_ion] = {**error_metrics(*arrays), "n_frames": len(arrays[0]), **(gamma_metrics(gamma, images, path) if gamma else {})}
    charges = sorted(rows)
    data = {k: ("n_ion", [rows[n][k] for n in charges]) for k in rows[charges[0]]}
    return xr.Dataset(data, coords={"n_ion": charges, "model": model, "train_set": train_set, "seed": seed})
