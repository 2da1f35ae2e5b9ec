"""When an MD configuration counts as blown up — one set of checks for the MLIP driver and the oracle.

A configuration is unstable when two atoms are closer than ``min_distance`` Å, a force
component exceeds ``max_force`` eV/Å, the temperature exceeds ``max_temperature`` K, the energy
or forces are not finite, a water/ion atom sits more than ``SLAB_DEPTH`` inside the metal slab, or
a water is no longer intact (an O without exactly two H within 1.3 Å: a proton hop or a
dissociation, which the non-reactive reference never shows and the analysis cannot read).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list
from scipy.spatial import cKDTree

from edlbench.errors import InputError
from edlbench.interface import heights, surface_planes, water_hydrogens

#: Å past a surface plane (the mean height of the metal's outer layer) that counts as inside the
#: metal: about half the Au(111) interlayer spacing (2.35 Å); an H sitting in a hollow site at the
#: plane's height is not inside
SLAB_DEPTH = 1.0


class Bounds(Protocol):
    min_distance: float  # Å
    max_force: float  # eV/Å
    max_temperature: float  # K


def overlap(atoms: Atoms, bounds: Bounds) -> str | None:
    """Two atoms closer than ``min_distance`` (checked before a model is asked about them), or None.
    An orthorhombic cell uses a periodic k-d tree (scipy; ~20× faster than ASE's neighbour list
    for a 200-atom cell), any other cell ASE's neighbour list."""
    cell = atoms.cell.array
    if np.allclose(cell, np.diag(np.diag(cell))) and atoms.pbc.all():
        box = np.diag(cell)
        pairs = cKDTree(np.mod(atoms.positions, box), boxsize=box).query_pairs(bounds.min_distance, output_type="ndarray")
        if not len(pairs):
            return None
        d = atoms.positions[pairs[:, 0]] - atoms.positions[pairs[:, 1]]
        return f"atoms {np.linalg.norm(d - box * np.round(d / box), axis=1).min():.2f} Å apart"
    d = neighbor_list("d", atoms, bounds.min_distance)
    return f"atoms {d.min():.2f} Å apart" if len(d) else None


def unstable_reason(atoms: Atoms, bounds: Bounds, metal: str,
                    thermo: Callable[[], tuple[float, np.ndarray, float]]) -> str | None:
    """Why the configuration is unstable, or None. `thermo` gives energy (eV), forces (eV/Å) and
    temperature (K); it is called only once no atoms overlap, so a model is never asked about them."""
    if reason := overlap(atoms, bounds):
        return reason
    energy, forces, temperature = thermo()
    if not math.isfinite(energy) or not np.all(np.isfinite(forces)):
        return "non-finite energy or forces"
    if np.abs(forces).max() > bounds.max_force:
        return f"force {np.abs(forces).max():.1f} eV/Å"
    if not temperature <= bounds.max_temperature:
        return f"temperature {temperature:.0f} K"
    symbols = np.array(atoms.get_chemical_symbols())
    is_metal = symbols == metal
    lz = np.array([atoms.cell[2, 2]])
    z_low, z_up = surface_planes(atoms.positions[is_metal, 2][None], lz, "md")
    h = heights(atoms.positions[~is_metal, 2][None], z_low, lz)[0]  # in [0, L_z): past the lower face wraps to ≈ L_z
    if np.any((h > (z_up - z_low)[0] + SLAB_DEPTH) & (h < lz[0] - SLAB_DEPTH)):
        return "a water or ion atom entered the metal slab"
    try:
        water_hydrogens(atoms.positions[None], atoms.cell.array[None], np.flatnonzero(symbols == "O"),
                        np.flatnonzero(symbols == "H"), "md")
    except InputError as exc:
        return str(exc).split(": ", 2)[-1]
    return None
