"""Cell and charge bookkeeping shared by the builder, the oracle and the analysis.

Conventions: the surface normal is z; the cell's third vector must be parallel to z and
the first two must lie in the xy plane (any fcc(111) slab cell, orthogonal or hexagonal).
Lengths in Å, surface charge in µC/cm².
"""

from __future__ import annotations

import numpy as np
from ase.geometry import minkowski_reduce
from ase.units import _e

from edlbench.errors import InputError

#: Elements treated as the metal electrode when no metal is named.
METALS = frozenset(
    "Li Be Na Mg Al K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd "
    "In Sn Cs Ba La Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi".split()
)
#: Common counter-ions (never taken for the electrode).
IONS = frozenset("Li Na K Rb Cs Mg Ca F Cl Br I".split())


def check_slab_cell(cell: np.ndarray, where: str) -> None:
    """Raise InputError unless `cell` (3×3, Å) has c ∥ z and a, b in the xy plane."""
    cell = np.asarray(cell, dtype=float)
    if abs(np.linalg.det(cell)) < 1e-6:
        raise InputError(f"{where}: cell is not periodic in 3D (zero volume); a slab cell with water between periodic images is required")
    if np.any(np.abs(cell[:2, 2]) > 1e-6) or np.any(np.abs(cell[2, :2]) > 1e-6):
        raise InputError(f"{where}: cell must have its third vector along z and the first two in the xy plane, got {cell.round(3).tolist()}")


def lateral_area(cell: np.ndarray) -> float:
    """Area |a × b| of the surface cell in Å²."""
    cell = np.asarray(cell, dtype=float)
    return float(abs(np.cross(cell[0], cell[1])[2]))


def lateral_period(cell: np.ndarray) -> float:
    """Shortest in-plane lattice translation |i·a + j·b| (Å; i, j not both 0) of the cell, from ASE's
    Minkowski reduction: an atom's periodic images lie this far apart, so within a receptive field
    beyond half of it an ion and its image can both lie, and beyond the whole of it an atom's own."""
    reduced, _ = minkowski_reduce(np.asarray(cell, dtype=float), pbc=[True, True, False])  # in 2D its basis holds the shortest
    return float(np.linalg.norm(reduced[:2], axis=1).min())


def surface_charge(n_ion: int, area: float, ion_charge: int = 1) -> float:
    """Metal surface charge per cell σ = −n·q·e/A in µC/cm² for `area` in Å² (counter-ions of
    charge q): the σ of every output. A slab wet on both faces (the oracle's cells) carries σ/2 at
    each interface; a single-interface cell carries all of σ on its wet face."""
    return -n_ion * ion_charge * _e / (area * 1e-16) * 1e6


def cell_surface_charge(symbols: list[str], cell: np.ndarray) -> float:
    """σ in µC/cm² of a cell from its counter-ions (monovalent, as in the study) and lateral area."""
    return surface_charge(sum(s in IONS for s in symbols), lateral_area(cell))


def metal_symbol(symbols: list[str], where: str, metal: str | None = None) -> str:
    """The electrode element: `metal` if given, else the one metallic non-ion element present."""
    present = set(symbols)
    if metal is not None:
        if metal not in present:
            raise InputError(f"{where}: no {metal} atoms (metal) found")
        return metal
    found = sorted((present & METALS) - IONS)
    if not found:
        raise InputError(f"{where}: no metal atoms found (elements: {' '.join(sorted(present))})")
    if len(found) > 1:
        raise InputError(f"{where}: several metals {found}; name the electrode with --metal")
    return found[0]


def wrap_vectors(d: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Minimum-image displacement vectors d (..., 3) for a cell (..., 3, 3) in Å."""
    frac = np.einsum("...i,...ij->...j", d, np.linalg.inv(cell))
    frac -= np.round(frac)
    return np.einsum("...i,...ij->...j", frac, cell)
