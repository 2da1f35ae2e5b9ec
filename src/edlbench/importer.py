"""Import labelled DFT frames (extxyz, VASP OUTCAR/vasprun.xml, anything ASE reads).

Each frame's charge state is its number of counter-ions. Frames are validated and rejected with
one line naming file and frame: no energy or forces, NaN/inf, forces of the wrong shape,
unknown or missing elements, a non-periodic cell, or labels that look like another unit
(:mod:`edlbench.units`: per-atom energy and RMS force bounds, naming the likely unit; a declared
``units`` converts instead). A VASP OUTCAR or vasprun.xml that ends inside a frame is rejected
as truncated (ASE would silently drop the partial frame). Output: ``n{k}.extxyz`` per charge
state with ``REF_energy``/``REF_forces``, which ``edlbench dataset`` uses without relabelling.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import numpy as np
from ase import Atoms
from ase.io import read, write
from ase.io.formats import filetype
from pydantic import Field

from edlbench.config import settings
from edlbench.dataset import ENERGY_KEY, FORCES_KEY
from edlbench.errors import InputError, brief
from edlbench.files import atomic_output, existing
from edlbench.geometry import IONS, METALS, check_slab_cell, metal_symbol
from edlbench.units import ENERGY_RANGE, Units, likely_unit, to_ev, unit_problem


@settings
class ImportConfig:
    """Import settings: elements, unit handling and the plausibility bounds of :mod:`edlbench.units`."""

    ion: Annotated[str, Field(description="counter-ion element")] = "Na"
    metal: Annotated[str | None, Field(description="electrode element (default: the metal present)")] = None
    units: Annotated[Units, Field(description="units of the labels: auto (eV, eV/Å, checked) or a declared unit (converted)")] = "auto"
    energy_range: Annotated[tuple[float, float], Field(description="plausible per-atom energies, eV/atom")] = ENERGY_RANGE
    max_force: Annotated[float, Field(gt=0, description="largest plausible force component, eV/Å")] = 50.0

    def __post_init__(self) -> None:
        if self.ion not in IONS:
            raise ValueError(f"ion={self.ion!r} is not a known counter-ion ({', '.join(sorted(IONS))})")
        if self.metal is not None and (self.metal not in METALS or self.metal in IONS):
            raise ValueError(f"metal={self.metal!r} is not a metal element")
        if self.energy_range[0] >= self.energy_range[1]:
            raise ValueError(f"energy_range={list(self.energy_range)} must be [low, high] with low < high")


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


def check_labels(energy: float, forces: np.ndarray, n_atoms: int, where: str, cfg: ImportConfig) -> None:
    """InputError naming `where` for non-finite labels or (with units "auto") labels in the wrong unit."""
    if forces.shape != (n_atoms, 3):
        raise InputError(f"{where}: forces have shape {forces.shape}, expected ({n_atoms}, 3)")
    if not np.isfinite(energy) or not np.all(np.isfinite(forces)):
        raise InputError(f"{where}: energy or forces contain NaN/inf")
    if cfg.units != "auto":
        return
    if np.abs(forces).max() > cfg.max_force:
        raise InputError(f"{where}: force component {np.abs(forces).max():.4g} eV/Å exceeds {cfg.max_force} — wrong unit? looks like "
                         f"{likely_unit(float(np.sqrt(np.mean(np.square(forces)))))} (eV/Å expected; declare the units with import.units / --units)")
    if problem := unit_problem(energy, forces, n_atoms, cfg.energy_range):
        raise InputError(f"{where}: {problem}")


def validate_frame(atoms: Atoms, where: str, cfg: ImportConfig) -> Atoms:
    """A copy of `atoms` with REF labels in eV and eV/Å, or InputError naming `where`."""
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
    if forces.shape == (len(atoms), 3):
        energy, forces = to_ev(energy, forces, cfg.units)
    check_labels(energy, forces, len(atoms), where, cfg)
    clean = Atoms(symbols, positions=atoms.positions, cell=atoms.cell, pbc=True)
    clean.info.update({ENERGY_KEY: energy, "ion": cfg.ion, "n_ion": symbols.count(cfg.ion)})
    clean.arrays[FORCES_KEY] = forces
    return clean


def truncation(path: Path, n_read: int) -> str | None:
    """Why a VASP output file is truncated (ASE silently drops a partial last frame), or None."""
    try:
        fmt = filetype(path)
    except Exception:
        return None
    if fmt == "vasp-out":
        step = re.compile(r"Iteration\s+(\d+)\(\s*\d+\)")
        with open(path, errors="replace") as lines:  # streamed: a DFT-MD OUTCAR can be GBs
            started = len({m.group(1) for line in lines if "Iteration" in line and (m := step.search(line))})
        if started > n_read:
            return f"truncated VASP OUTCAR: ionic step {n_read + 1} is incomplete (the file ends inside it; {n_read} complete)"
    if fmt == "vasp-xml":
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 4096))
            if b"</modeling>" not in f.read():
                return "truncated vasprun.xml: no closing </modeling> tag (the run was cut off or is still going)"
    return None


def import_files(paths: list[Path], outdir: Path, cfg: ImportConfig) -> dict[int, int]:
    """Validate every frame of `paths`, write one extxyz per charge state; returns counts."""
    groups: dict[int, list[Atoms]] = defaultdict(list)
    paths = [Path(p) for p in paths]
    for path in paths:
        existing(path, "DFT file")
        try:
            images = read(path, ":")
        except Exception as exc:  # ASE raises many types for files it cannot parse
            raise InputError(f"{path}: cannot read as labelled frames ({brief(exc)})") from None
        if problem := truncation(path, len(images)):
            raise InputError(f"{path}: {problem}")
        if not images:
            raise InputError(f"{path}: no frames")
        for k, atoms in enumerate(images):
            frame = validate_frame(atoms, f"{path}: frame {k}", cfg)
            group = groups[frame.info["n_ion"]]
            if group and frame.get_chemical_symbols() != group[0].get_chemical_symbols():
                raise InputError(f"{path}: frame {k}: atoms differ in kind or order from the first frame with n_ion={frame.info['n_ion']}")
            group.append(frame)
    if not groups:
        raise InputError(f"{', '.join(map(str, paths))}: no frames")
    for n, images in groups.items():
        with atomic_output(Path(outdir) / f"n{n}.extxyz") as tmp:
            write(tmp, images, format="extxyz")
    return {n: len(v) for n, v in sorted(groups.items())}
