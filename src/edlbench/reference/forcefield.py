"""The oracle's force field as an OpenMM System, built from an ASE structure.

Geometry. Water sits between periodic images of the slab (as in the study's DFT cells), so
the cell is periodic in 3D with no vacuum: Ewald/PME is exact for it and no dipole correction
is needed. Both faces of the slab touch the liquid, so the counter-charge −n_ion·e is split
equally over the atoms of the two surface layers (top and bottom layer of the slab), which keeps
the cell neutral and free of a net slab dipole. The surface charge is therefore a *global*
property of the cell, set by how many ions it holds.

Parameters (every one with its source):
- Au: 12-6 Lennard-Jones σ = 2.629 Å, ε = 5.29 kcal/mol, INTERFACE force field
  (H. Heinz, R. A. Vaia, B. L. Farmer, R. R. Naik, J. Phys. Chem. C 112, 17281 (2008)).
- Water: flexible SPC/Fw (Y. Wu, H. L. Tepper, G. A. Voth, J. Chem. Phys. 124, 024503 (2006)):
  q_O = −0.82 e, q_H = +0.41 e, σ_OO = 3.165492 Å, ε_OO = 0.1554253 kcal/mol;
  H carries the small LJ core of CHARMM's modified TIP3P, σ = 0.4 Å, ε = 0.046 kcal/mol
  (A. D. MacKerell Jr. et al., J. Phys. Chem. B 102, 3586 (1998)). Without it a flexible
  H has no repulsion at all and collapses onto a foreign O or a charged metal atom from a
  packed start (seen: NaN in the first steps of a 4×4 cell); at H-bond distances it changes
  the O···H energy by < 0.05 kcal/mol;
  harmonic bond k_b = 1059.162 kcal/mol/Å², r₀ = 1.012 Å; angle k_θ = 75.90 kcal/mol/rad²,
  θ₀ = 113.24° (energies k/2·(x − x₀)², the convention OpenMM uses).
- Na⁺: σ = 2.159538 Å, ε = 0.3526418 kcal/mol, q = +1 e (I. S. Joung, T. E. Cheatham III,
  J. Phys. Chem. B 112, 9020 (2008), SPC/E set, the SPC-family water model of that paper).
- Cross terms: Lorentz–Berthelot (OpenMM's NonbondedForce rule).
- Electrostatics: PME, Ewald error tolerance 5e-4 (OpenMM's default; forces stay the exact
  gradient of the PME energy, which is what the labels need). Real-space cutoff r_c = min(9 Å, 0.49 × the
  shortest cell width) — OpenMM requires r_c < half the box, and the study's cells are small —
  with the LJ term switched smoothly to zero over the last 1 Å so energy is conserved. No
  long-range dispersion correction (it assumes a homogeneous fluid, which an interface is not).
  The short LJ range in small cells makes this oracle cruder than a production force field;
  its point is exact global electrostatics with a known truth, not a better Au/water model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from edlbench.errors import InputError
from edlbench.geometry import check_slab_cell, metal_symbol
from edlbench.interface import surface_planes, water_hydrogens

KCAL = 4.184  # kJ per kcal
SWITCH_WIDTH = 0.1  # nm over which LJ is switched off
CUTOFF_MAX = 0.9  # nm


@dataclass(frozen=True)
class LJ:
    sigma: float  # Å
    epsilon: float  # kcal/mol
    charge: float  # e


AU = LJ(2.629, 5.29, 0.0)
O_SPCFW = LJ(3.165492, 0.1554253, -0.82)
H_SPCFW = LJ(0.4, 0.046, 0.41)
IONS = {"Na": LJ(2.159538, 0.3526418, 1.0)}
METALS = {"Au": AU}
BOND_K, BOND_R0 = 1059.162, 1.012  # kcal/mol/Å², Å
ANGLE_K, ANGLE_T0 = 75.90, 113.24  # kcal/mol/rad², degrees


def surface_layers(atoms: Atoms, metal: str, tol: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the metal atoms in the slab's top and bottom layers (those facing the liquid)."""
    idx = np.flatnonzero(np.array(atoms.get_chemical_symbols()) == metal)
    lz = np.array([atoms.cell[2, 2]])
    z = atoms.positions[idx, 2]
    z_low, z_up = surface_planes(z[None], lz, "structure")
    top = np.abs(np.mod(z - z_low[0] + lz[0] / 2, lz[0]) - lz[0] / 2) < tol
    bottom = np.abs(np.mod(z - z_up[0] + lz[0] / 2, lz[0]) - lz[0] / 2) < tol
    return idx[top], idx[bottom]


def cutoff_nm(cell: np.ndarray) -> float:
    """Real-space cutoff (nm): 9 Å, or 0.49 × the shortest width of the cell (Å) if smaller."""
    widths = [cell[0, 0], cell[1, 1], cell[2, 2]]
    return min(CUTOFF_MAX, 0.049 * min(widths))


def charges(atoms: Atoms, where: str, metal: str | None = None, ion: str | None = None) -> np.ndarray:
    """Partial charges (e): SPC/Fw water, +1 per ion, −n_ion·e/2 spread over each surface layer."""
    symbols = np.array(atoms.get_chemical_symbols())
    metal = metal_symbol(list(symbols), where, metal)
    ion = ion or atoms.info.get("ion", "Na")
    q = np.zeros(len(atoms))
    q[symbols == "O"] = O_SPCFW.charge
    q[symbols == "H"] = H_SPCFW.charge
    q[symbols == ion] = IONS[ion].charge
    n_ion = int((symbols == ion).sum())
    top, bottom = surface_layers(atoms, metal)
    q[top] -= 0.5 * n_ion * IONS[ion].charge / len(top)
    q[bottom] -= 0.5 * n_ion * IONS[ion].charge / len(bottom)
    return q


def build_system(atoms: Atoms, where: str = "structure", fixed: np.ndarray | None = None, hmr: float = 0.0):
    """OpenMM System for `atoms` (slab + SPC/Fw water + ions); also returns the charges (e).

    `fixed` marks atoms held in place (mass 0); `hmr` > 0 moves that many amu from each water O
    to each of its H (hydrogen mass repartitioning, for longer time steps).
    """
    import openmm as mm

    check_slab_cell(atoms.cell.array, where)
    symbols = np.array(atoms.get_chemical_symbols())
    metal = metal_symbol(list(symbols), where)
    ion = atoms.info.get("ion", "Na")
    if metal not in METALS:
        raise InputError(f"{where}: the oracle has parameters for metals {sorted(METALS)}, not {metal}")
    unknown = set(symbols) - {metal, "O", "H", ion}
    if unknown or ion not in IONS:
        raise InputError(f"{where}: the oracle has no parameters for {sorted(unknown | ({ion} - set(IONS)))}")
    o_idx, h_idx = np.flatnonzero(symbols == "O"), np.flatnonzero(symbols == "H")
    hyd = water_hydrogens(atoms.positions[None], atoms.cell.array[None], o_idx, h_idx, where)[0]
    q = charges(atoms, where, metal, ion)

    system = mm.System()
    cell_nm = atoms.cell.array / 10.0
    system.setDefaultPeriodicBoxVectors(*(mm.Vec3(*v) for v in cell_nm))
    masses = atoms.get_masses().copy()
    if hmr:
        masses[hyd.ravel()] += hmr
        masses[o_idx] -= 2 * hmr
    if fixed is not None:
        masses[np.asarray(fixed, bool)] = 0.0
    for m in masses:
        system.addParticle(float(m))

    params = {metal: METALS[metal], "O": O_SPCFW, "H": H_SPCFW, ion: IONS[ion]}
    rc = cutoff_nm(atoms.cell.array)
    nb = mm.NonbondedForce()
    nb.setNonbondedMethod(mm.NonbondedForce.PME)
    nb.setCutoffDistance(rc)
    nb.setUseSwitchingFunction(True)
    nb.setSwitchingDistance(rc - SWITCH_WIDTH)
    nb.setUseDispersionCorrection(False)
    nb.setEwaldErrorTolerance(5e-4)
    for s, charge in zip(symbols, q):
        p = params[s]
        nb.addParticle(float(charge), p.sigma / 10.0, p.epsilon * KCAL)

    bonds, angles = mm.HarmonicBondForce(), mm.HarmonicAngleForce()
    kb = BOND_K * KCAL * 100.0  # kJ/mol/nm²
    ka = ANGLE_K * KCAL
    for o, (h1, h2) in zip(o_idx, hyd):
        bonds.addBond(int(o), int(h1), BOND_R0 / 10.0, kb)
        bonds.addBond(int(o), int(h2), BOND_R0 / 10.0, kb)
        angles.addAngle(int(h1), int(o), int(h2), np.radians(ANGLE_T0), ka)
        for i, j in ((o, h1), (o, h2), (h1, h2)):
            nb.addException(int(i), int(j), 0.0, 1.0, 0.0)
    for force in (nb, bonds, angles):
        system.addForce(force)
    return system, q
