"""Close-contact frames: training data on the repulsive wall that thermal frames never reach.

A 300-K reference run keeps every water O and ion more than ≈ 2 Å above the metal's surface
plane, so a model trained on its frames alone learns nothing about closer approach: the demo's
GRACE-FS rises only 1.1 eV where the oracle rises 7.5 eV for a water pushed 1 Å toward the metal
(benchmarks/contact_wall.py). A copy of a training frame in which every first-layer molecule is
pushed toward its nearest metal face, labelled by the oracle like any other frame, puts that wall
into the data: with half as many copies as frames the same model follows the oracle's wall to
0.8 Å (RESULTS.md, session 25). That alone did not keep its 20-ps MD stable, which also drifts
along directions a push along z does not sample. This is the oracle-labelled counterpart of
pyace's ZBL augmentation (``pyace.data_aug``), for a reference that can label any structure.

Each water moves rigidly (O and its two H together, so the intramolecular geometry stays
thermal), each ion on its own, along the surface normal by δ ~ U(0, push) Å; molecules whose O
or ion lies above ``layer`` Å from both faces stay where they are. Test frames are never
augmented: test errors stay errors on thermal frames.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from edlbench.geometry import metal_symbol
from edlbench.interface import heights, surface_planes, water_hydrogens


def first_layer(atoms: Atoms, layer: float, ion: str) -> list[tuple[np.ndarray, float]]:
    """Every water (O and its two H) and `ion` within `layer` Å of a metal face, as (atom indices,
    direction toward that face along z: −1 for the lower face, +1 for the upper)."""
    where = atoms.info.get("source", "frame")
    symbols = np.array(atoms.get_chemical_symbols())
    metal = metal_symbol(list(symbols), where)
    lz = np.array([atoms.cell[2, 2]])
    z_low, z_up = surface_planes(atoms.positions[symbols == metal, 2][None], lz, where)
    o_idx, h_idx = np.flatnonzero(symbols == "O"), np.flatnonzero(symbols == "H")
    hydrogens = water_hydrogens(atoms.positions[None], atoms.cell.array[None], o_idx, h_idx, where)[0]
    ions = np.flatnonzero(symbols == ion)
    members = [np.array([o, *hs]) for o, hs in zip(o_idx, hydrogens)] + [np.array([i]) for i in ions]
    h_low = heights(atoms.positions[np.concatenate([o_idx, ions]), 2][None], z_low, lz)[0]
    h_up = (z_up - z_low)[0] - h_low
    return [(m, -1.0 if lo < up else 1.0) for m, lo, up in zip(members, h_low, h_up) if min(lo, up) < layer]


def pushed_toward_metal(atoms: Atoms, push: float, layer: float, ion: str, rng: np.random.Generator) -> Atoms:
    """A copy of `atoms` with every molecule of :func:`first_layer` moved toward its face by
    δ ~ U(0, `push`) Å (waters rigidly); info ``source`` gains ``+contact``."""
    pos = atoms.positions.copy()
    for members, toward in first_layer(atoms, layer, ion):
        pos[members, 2] += toward * rng.uniform(0.0, push)
    out = Atoms(atoms.get_chemical_symbols(), positions=pos, cell=atoms.cell, pbc=atoms.pbc)
    out.info.update({k: v for k, v in atoms.info.items() if k in ("ion", "n_ion", "sigma")},
                    source=f"{atoms.info.get('source', 'frame')}+contact")
    return out


def contact_frames(images: list[Atoms], fraction: float, push: float, layer: float, ion: str,
                   rng: np.random.Generator) -> list[Atoms]:
    """Pushed copies (unlabelled) of round(`fraction` · len(images)) frames drawn without replacement (`fraction` ≤ 1)."""
    chosen = sorted(rng.choice(len(images), int(round(fraction * len(images))), replace=False))
    return [pushed_toward_metal(images[i], push, layer, ion, rng) for i in chosen]
