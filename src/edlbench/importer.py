"""Import labelled DFT frames (extxyz, VASP OUTCAR/vasprun.xml, anything ASE reads).

Each frame's charge state is its number of counter-ions. Frames are validated and rejected with
one line naming file and frame: no energy or forces, NaN/inf, forces of the wrong shape,
unknown or missing elements, a non-periodic cell, or a per-atom energy (eV) or force (eV/Å)
outside a sane range — the signature of data in the wrong unit (Hartree, kcal/mol, kJ/mol).
The default energy window suits pseudopotential codes (VASP: a few eV/atom below zero);
all-electron total energies need a wider ``energy_range``. Output: ``n{k}.extxyz`` per charge
state with ``REF_energy``/``REF_forces``, which ``edlbench dataset`` uses without relabelling.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

from edlbench.dataset import ENERGY_KEY, FORCES_KEY
from edlbench.errors import InputError
from edlbench.files import atomic_output, existing
from edlbench.geometry import check_slab_cell, metal_symbol


@dataclass(frozen=True)
class ImportConfig:
    ion: str = "Na"
    metal: str | None = None
    energy_range: tuple[float, float] = (-50.0, 5.0)  # eV/atom
    max_force: float = 50.0  # eV/Å


def _labels(atoms: Atoms, where: str) -> tuple[float, np.ndarray]:
    try:
        energy = atoms.get_potential_energy()
    except Exception:
        raise InputError(f"{where}: no energy") from None
    try:
        forces = np.asarray(atoms.get_forces())
    except Exception:
        raise InputError(f"{where}: no forces") from None
    return float(energy), forces


def validate_frame(atoms: Atoms, where: str, cfg: ImportConfig) -> Atoms:
    """A copy of `atoms` with REF labels, or InputError naming `where`."""
    if not atoms.pbc.all() or abs(atoms.cell.volume) < 1e-6:
        raise InputError(f"{where}: cell is not periodic in x, y and z")
    check_slab_cell(atoms.cell.array, where)
    symbols = atoms.get_chemical_symbols()
    metal = metal_symbol(symbols, where, cfg.metal)
    unknown = set(symbols) - {metal, "O", "H", cfg.ion}
    if unknown:
        raise InputError(f"{where}: unknown elements {sorted(unknown)} (expected {metal}, O, H, {cfg.ion})")
    if "O" not in symbols or "H" not in symbols:
        raise InputError(f"{where}: no water (O and H) in the frame")
    energy, forces = _labels(atoms, where)
    if forces.shape != (len(atoms), 3):
        raise InputError(f"{where}: forces have shape {forces.shape}, expected ({len(atoms)}, 3)")
    if not np.isfinite(energy) or not np.all(np.isfinite(forces)):
        raise InputError(f"{where}: energy or forces contain NaN/inf")
    lo, hi = cfg.energy_range
    if not lo <= energy / len(atoms) <= hi:
        raise InputError(f"{where}: energy {energy / len(atoms):.4g} eV/atom outside [{lo}, {hi}] — wrong unit? (eV expected)")
    if np.abs(forces).max() > cfg.max_force:
        raise InputError(f"{where}: force component {np.abs(forces).max():.4g} eV/Å exceeds {cfg.max_force} — wrong unit? (eV/Å expected)")
    clean = Atoms(symbols, positions=atoms.positions, cell=atoms.cell, pbc=True)
    clean.info.update({ENERGY_KEY: energy, "ion": cfg.ion, "n_ion": symbols.count(cfg.ion)})
    clean.arrays[FORCES_KEY] = forces
    return clean


def import_files(paths: list[Path], outdir: Path, cfg: ImportConfig) -> dict[int, int]:
    """Validate every frame of `paths`, write one extxyz per charge state; returns counts."""
    groups: dict[int, list[Atoms]] = defaultdict(list)
    for path in map(Path, paths):
        existing(path, "DFT file")
        try:
            images = read(path, ":")
        except Exception as exc:
            raise InputError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
        for k, atoms in enumerate(images):
            frame = validate_frame(atoms, f"{path}: frame {k}", cfg)
            group = groups[frame.info["n_ion"]]
            if group and frame.get_chemical_symbols() != group[0].get_chemical_symbols():
                raise InputError(f"{path}: frame {k}: atoms differ in kind or order from the first frame with n_ion={frame.info['n_ion']}")
            group.append(frame)
    if not groups:
        raise InputError("import: no frames")
    for n, images in groups.items():
        with atomic_output(Path(outdir) / f"n{n}.extxyz") as tmp:
            write(tmp, images, format="extxyz")
    return {n: len(v) for n, v in sorted(groups.items())}
