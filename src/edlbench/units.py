"""Energy/force units of labelled data: declared conversions and the plausibility bounds that
catch data in the wrong unit.

Labels inside edlbench are eV and eV/Å. Data from other codes may come in Hartree (forces
Hartree/Bohr, as CP2K and most Gaussian-basis codes write them), Rydberg (Ry/Bohr, Quantum
ESPRESSO), kcal/mol or kJ/mol (per Å). With ``units: auto`` (the default) labels are taken as
eV and eV/Å and checked against two documented physical bounds:

- per-atom energy inside ``energy_range`` (default −50…5 eV/atom: pseudopotential total
  energies of Au, O, H, Na are −0.5…−15 eV/atom; all-electron totals need a wider range), and
- the RMS force component of a frame in [0.1, 12] eV/Å: atoms of a room-temperature liquid
  feel RMS force components of ≈ 0.5–3 eV/Å (bond vibrations of water dominate), so Hartree/Bohr
  data read as eV/Å are ≈ 50× too small and kcal/mol/Å ≈ 23× too large. A relaxed structure
  (forces near zero) also fails the lower bound: declare its units (``eV``) to import it.

A declared unit converts the labels to eV and eV/Å and skips the unit check (only finiteness
and shape are then checked), so valid data is never rejected without recourse.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from ase.units import Bohr, Hartree, Rydberg, kcal, kJ, mol

Units = Literal["auto", "eV", "hartree", "Ry", "kcal/mol", "kJ/mol"]
#: unit name → (eV per energy unit, eV/Å per force unit)
FACTORS: dict[str, tuple[float, float]] = {
    "eV": (1.0, 1.0),
    "hartree": (Hartree, Hartree / Bohr),
    "Ry": (Rydberg, Rydberg / Bohr),
    "kcal/mol": (kcal / mol, kcal / mol),
    "kJ/mol": (kJ / mol, kJ / mol),
}
ENERGY_RANGE = (-50.0, 5.0)  # eV/atom, plausible per-atom total energies
FORCE_RMS_RANGE = (0.1, 12.0)  # eV/Å, RMS force component of a thermal frame
TYPICAL_FORCE_RMS = 1.5  # eV/Å


def to_ev(energy: float, forces: np.ndarray, units: str) -> tuple[float, np.ndarray]:
    """Energy (eV) and forces (eV/Å) of labels given in `units` ("auto" means eV already)."""
    e, f = FACTORS["eV" if units == "auto" else units]
    return energy * e, np.asarray(forces) * f


def likely_unit(force_rms: float) -> str:
    """The declared unit that would bring `force_rms` (read as eV/Å) closest to a thermal value."""
    return min(FACTORS, key=lambda u: abs(np.log(force_rms * FACTORS[u][1] / TYPICAL_FORCE_RMS)))


def unit_problem(energy: float, forces: np.ndarray, n_atoms: int,
                 energy_range: tuple[float, float] = ENERGY_RANGE) -> str | None:
    """Why eV/eV-per-Å labels look like another unit (with the likely one), or None."""
    per_atom = energy / n_atoms
    rms = float(np.sqrt(np.mean(np.square(forces))))
    hint = "declare the units with import.units / --units (eV keeps the values as they are)"
    lo, hi = FORCE_RMS_RANGE
    if not lo <= rms <= hi:
        unit = likely_unit(rms) if rms > 0 else "a relaxed structure"
        return (f"RMS force component {rms:.3g} eV/Å is outside the thermal range [{lo}, {hi}] eV/Å — wrong unit? "
                f"looks like {unit}{' forces' if rms > 0 else ''}; {hint}")
    if not energy_range[0] <= per_atom <= energy_range[1]:
        return (f"energy {per_atom:.4g} eV/atom outside [{energy_range[0]}, {energy_range[1]}] eV/atom — wrong unit "
                f"(kcal/mol, kJ/mol?) or all-electron totals (widen import.energy_range); {hint}")
    return None


def consistency_problem(per_atom: dict[str, float]) -> str | None:
    """Why per-atom energies (eV/atom, median per file) of one system's charge states cannot share
    one unit and energy zero (more than 1 eV/atom and a factor 2 apart), or None."""
    items = sorted(per_atom.items(), key=lambda kv: kv[1])
    (lo_name, lo), (hi_name, hi) = items[0], items[-1]
    if hi - lo > 1.0 and max(abs(lo), abs(hi)) > 2 * min(abs(lo), abs(hi)):
        return (f"{hi_name}: per-atom energy {hi:.4g} eV/atom against {lo:.4g} in {lo_name} — mixed units or energies "
                f"from different codes in one data set")
    return None
