"""The oracle's force field as an OpenMM System, built from an ASE structure.

Geometry. Water sits between periodic images of the slab (as in the study's DFT cells), so
the cell is periodic in 3D with no vacuum: Ewald/PME is exact for it and no dipole correction
is needed. Both faces of the slab touch the liquid, so the counter-charge −n_ion·e is split
equally over the atoms of the two surface layers (top and bottom layer of the slab), which keeps
the cell neutral and free of a net slab dipole. The surface charge is therefore a *global*
property of the cell, set by how many ions it holds. Convention: every output calls
σ = −n_ion·e/A the cell's surface charge (A the lateral area; :func:`edlbench.geometry.surface_charge`);
each of the two interfaces carries σ/2. A single-interface cell (water on one face, vacuum and a
dipole correction on the other) with the same σ puts all of it on its one wet face.

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
- Cross terms: Lorentz–Berthelot (σ_ij = (σ_i + σ_j)/2, ε_ij = √(ε_i ε_j)) for every pair except
  metal–ion, which is an explicit pair term (``reference.mixing: explicit``, the default; the
  old rule stays selectable as ``mixing: lorentz-berthelot``, and ``reference.pair_terms``
  overrides any metal pair, e.g. ``{"Au-Na": {sigma: 2.6, epsilon: 0.1}}``):
  Au–Na σ = 3.3 Å, ε = 0.1173 kcal/mol, an effective term. ε is Lorentz–Berthelot of
  Joung–Cheatham Na⁺ with the *dispersion* parameters of Au from UFF (A. K. Rappé, C. J. Casewit,
  K. S. Colwell, W. A. Goddard III, W. M. Skiff, J. Am. Chem. Soc. 114, 10024 (1992): x = 3.293 Å,
  D = 0.039 kcal/mol), because INTERFACE-FF's ε(Au) = 5.29 kcal/mol is fitted to the metal's surface
  tension, i.e. carries metallic cohesion, and mixed with Na⁺ gives ε(Au–Na) = 1.37 kcal/mol.
  σ is a documented choice, not a literature value: with a mixed σ (2.39 Å; 2.55 Å with UFF's Au)
  the Na⁺ sits 2.1–2.3 Å above the surface plane, inside the first water layer, held by the
  −n·e/2 point charges of the nearest surface atoms as much as by LJ; σ = 3.3 Å puts the
  Au–Na wall at ≈ 2.9 Å above a hollow site, and the Na⁺ potential of mean force at n = 1
  (``benchmarks/pmf.py``, benchmarks/RESULTS.md) then lies above its midplane value everywhere
  within 3.5 Å of the surface (mixed: ≈ 2 k_BT below it; both with 2σ ≈ 2 k_BT from 50 ps per
  umbrella window, so this ordering, not its size, is what is established). That is the qualitative picture of
  Roncoroni et al. (F. Roncoroni, A. Faiyad, Y. Li, T. Ye, A. Martini, D. Prendergast,
  arXiv:2507.23031 (2025)), who show that standard mixing rules give qualitatively wrong
  ion–metal adsorption and refit Au–ion cross terms against metadynamics free-energy profiles
  of the UMA MLIP, which shows no specific adsorption of Na⁺ on Au(111). The metal here is not
  polarisable (no image-charge attraction) and its surface charge sits on atom centres: tuned
  metal–ion terms absorb that missing (and that extra) physics, as they do in Roncoroni et al.
- Metal–water stays Lorentz–Berthelot (INTERFACE-FF was fitted with it to water interfaces); the
  oracle's first ρ_O peak is compared with DFT-MD in benchmarks/RESULTS.md.
- Implementation: every LJ pair that involves a metal atom (metal–metal, metal–O, metal–H,
  metal–ion) is a CustomNonbondedForce with a σ/ε table per pair of atom types, restricted by
  interaction groups to those pairs, with the same cutoff and switching as the NonbondedForce,
  which keeps PME Coulomb for all atoms and LJ among the non-metal atoms (metal atoms carry
  ε = 0 there). With ``mixing: lorentz-berthelot`` the table holds the mixed values and the
  energy equals a NonbondedForce-only system's (``tests/test_reference.py``).
- Electrostatics: PME, Ewald error tolerance 5e-4 (OpenMM's default; forces stay the exact
  gradient of the PME energy, which is what the labels need). Real-space cutoff r_c = min(9 Å, 0.49 × the
  shortest cell width) — OpenMM requires r_c < half the box, and the study's cells are small —
  with the LJ term switched smoothly to zero over the last 1 Å so energy is conserved. No
  long-range dispersion correction (it assumes a homogeneous fluid, which an interface is not).
  The short LJ range in small cells makes this oracle cruder than a production force field;
  its point is exact global electrostatics with a known truth, not a better Au/water model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from ase import Atoms
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

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
UFF_AU = LJ(3.293 / 2 ** (1 / 6), 0.039, 0.0)  # dispersion only (Rappé et al. 1992)
AU_NA_SIGMA = 3.3  # Å, chosen by the Na⁺ PMF (module docstring)

Mixing = Literal["explicit", "lorentz-berthelot"]


class PairTerm(TypedDict):
    """One metal pair's Lennard-Jones term, 4ε[(σ/r)¹² − (σ/r)⁶] (a mapping, as params give it)."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    sigma: Annotated[float, Field(gt=0, le=10, description="LJ σ, Å")]
    epsilon: Annotated[float, Field(ge=0, le=50, description="LJ well depth ε, kcal/mol")]


def lorentz_berthelot(a: LJ, b: LJ) -> PairTerm:
    """σ_ij = (σ_i + σ_j)/2, ε_ij = √(ε_i ε_j)."""
    return PairTerm(sigma=(a.sigma + b.sigma) / 2, epsilon=float(np.sqrt(a.epsilon * b.epsilon)))


#: the explicit metal–ion terms of ``mixing: explicit`` (sources in the module docstring)
EXPLICIT = {("Au", "Na"): PairTerm(sigma=AU_NA_SIGMA, epsilon=lorentz_berthelot(UFF_AU, IONS["Na"])["epsilon"])}
PARTNERS = {"O": O_SPCFW, "H": H_SPCFW, **IONS}


def pair_symbols(key: str) -> tuple[str, str]:
    """("Au", "Na") for the params key "Au-Na" (or "Na-Au"); ValueError unless it names a metal
    with the oracle's metal, water or ion species."""
    parts = key.split("-")
    species = {**METALS, **PARTNERS}
    if len(parts) != 2 or not set(parts) <= set(species) or not set(parts) & set(METALS):
        raise ValueError(f"pair_terms key {key!r}: expected 'metal-partner' with metal in {sorted(METALS)} and partner in "
                         f"{sorted(species)}")
    a, b = parts
    return (a, b) if a in METALS else (b, a)


def metal_pair_terms(metal: str, ion: str, mixing: Mixing = "explicit",
                     overrides: Mapping[str, PairTerm] | None = None) -> dict[str, PairTerm]:
    """LJ term of `metal` with each species of the cell {metal, O, H, ion}: the metal's own,
    Lorentz–Berthelot with water, explicit (or mixed) with the ion, `overrides` on top."""
    terms = {metal: PairTerm(sigma=METALS[metal].sigma, epsilon=METALS[metal].epsilon)}
    terms |= {s: lorentz_berthelot(METALS[metal], PARTNERS[s]) for s in ("O", "H", ion)}
    if mixing == "explicit" and (metal, ion) in EXPLICIT:
        terms[ion] = EXPLICIT[metal, ion]
    for key, term in (overrides or {}).items():
        m, partner = pair_symbols(key)
        if m == metal and partner in terms:
            terms[partner] = PairTerm(sigma=term["sigma"], epsilon=term["epsilon"])
    return terms


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


def metal_lj_force(symbols: np.ndarray, metal: str, terms: dict[str, PairTerm], rc: float, switch: float):
    """CustomNonbondedForce for every LJ pair involving a `metal` atom, σ/ε from `terms` (partner
    symbol → PairTerm); cutoff `rc` and switching distance `switch` in nm."""
    import openmm as mm

    kinds = [metal] + [s for s in terms if s != metal]  # type index 0 is the metal
    n = len(kinds)
    sigma, epsilon = np.ones((n, n)), np.zeros((n, n))  # only metal rows/columns are ever used
    for j, s in enumerate(kinds):
        sigma[0, j] = sigma[j, 0] = terms[s]["sigma"] / 10.0
        epsilon[0, j] = epsilon[j, 0] = terms[s]["epsilon"] * KCAL
    force = mm.CustomNonbondedForce("4*eps*((sig/r)^12 - (sig/r)^6); sig = sigma(k1, k2); eps = epsilon(k1, k2)")
    force.addTabulatedFunction("sigma", mm.Discrete2DFunction(n, n, sigma.ravel(order="F").tolist()))
    force.addTabulatedFunction("epsilon", mm.Discrete2DFunction(n, n, epsilon.ravel(order="F").tolist()))
    force.addPerParticleParameter("k")
    force.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
    force.setCutoffDistance(rc)
    force.setUseSwitchingFunction(True)
    force.setSwitchingDistance(switch)
    force.setUseLongRangeCorrection(False)
    for s in symbols:
        force.addParticle([float(kinds.index(s))])
    is_metal = symbols == metal
    force.addInteractionGroup(np.flatnonzero(is_metal).tolist(), np.flatnonzero(is_metal).tolist())
    force.addInteractionGroup(np.flatnonzero(is_metal).tolist(), np.flatnonzero(~is_metal).tolist())
    return force


def build_system(atoms: Atoms, where: str = "structure", fixed: np.ndarray | None = None, hmr: float = 0.0,
                 mixing: Mixing = "explicit", pair_terms: Mapping[str, PairTerm] | None = None):
    """OpenMM System for `atoms` (slab + SPC/Fw water + ions); also returns the charges (e).

    `fixed` marks atoms held in place (mass 0); `hmr` > 0 moves that many amu from each water O
    to each of its H (hydrogen mass repartitioning, for longer time steps); `mixing` and
    `pair_terms` set the metal pair terms (:func:`metal_pair_terms`).
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

    params = {metal: LJ(1.0, 0.0, 0.0), "O": O_SPCFW, "H": H_SPCFW, ion: IONS[ion]}  # metal LJ: metal_lj_force
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
    metal_lj = metal_lj_force(symbols, metal, metal_pair_terms(metal, ion, mixing, pair_terms), rc, rc - SWITCH_WIDTH)

    bonds, angles = mm.HarmonicBondForce(), mm.HarmonicAngleForce()
    kb = BOND_K * KCAL * 100.0  # kJ/mol/nm²
    ka = ANGLE_K * KCAL
    for o, (h1, h2) in zip(o_idx, hyd):
        bonds.addBond(int(o), int(h1), BOND_R0 / 10.0, kb)
        bonds.addBond(int(o), int(h2), BOND_R0 / 10.0, kb)
        angles.addAngle(int(h1), int(o), int(h2), np.radians(ANGLE_T0), ka)
        for i, j in ((o, h1), (o, h2), (h1, h2)):
            nb.addException(int(i), int(j), 0.0, 1.0, 0.0)
            metal_lj.addExclusion(int(i), int(j))  # never a metal pair; GPU platforms want equal exclusions
    for force in (nb, metal_lj, bonds, angles):
        system.addForce(force)
    return system, q
