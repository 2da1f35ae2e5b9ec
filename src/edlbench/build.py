"""Starting structures: an fcc(111) slab with liquid water and n counter-ions between its images.

The metal slab (``ase.build.fcc111``, orthogonal cell) sits at the bottom of the cell; the
liquid fills the gap of width ``gap`` (Å, top surface plane to the next image's bottom plane).
Water is packed by packmol at ``density`` (g/cm³) into the effective liquid volume
A·(gap − 2·``wall``), where ``wall`` is the metal–water exclusion distance (Å) that no water
atom may cross; the number of waters is the same for every charge state. Ions are packed at
least ``ion_distance`` (Å) from either surface plane. Each charge state has
σ = −n_ion·e/A (µC/cm²), the charge the metal carries in a periodic DFT cell.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
from ase import Atoms
from ase.build import fcc111
from ase.data import atomic_masses
from ase.io import read, write
from ase.units import _Nav
from pydantic import Field

from edlbench.config import Seed, settings
from edlbench.errors import InputError
from edlbench.files import atomic_output
from edlbench.geometry import IONS, METALS, lateral_area, surface_charge
from edlbench.processes import executable
from edlbench.processes import run as run_child

#: Water geometry of SPC/Fw (Wu, Tepper, Voth, J. Chem. Phys. 124, 024503 (2006)): r_OH Å, HOH deg.
WATER_R_OH = 1.012
WATER_ANGLE = 113.24
WATER_MASS = atomic_masses[8] + 2 * atomic_masses[1]  # g/mol
ION_MARGIN = 0.25  # Å, safety margin inside the ion packing box
PACK_TOLERANCE = 2.0  # Å, packmol's minimum distance between atoms of different molecules


@settings
class BuildConfig:
    """Parameters of the interface; lengths in Å, density in g/cm³."""

    metal: Annotated[str, Field(description="electrode element (a metal)")] = "Au"
    lattice: Annotated[float, Field(gt=1.0, lt=10.0, description="fcc lattice constant, Å")] = 4.078
    repeats: Annotated[tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=2)]],
                       Field(description="lateral fcc(111) repeats (second even)")] = (4, 4)
    layers: Annotated[int, Field(ge=2, description="metal layers")] = 4
    gap: Annotated[float, Field(gt=0, description="top surface plane to the next image's bottom plane, Å")] = 16.0
    wall: Annotated[float, Field(ge=1.0, description="closest approach of water atoms to a surface plane, Å")] = 2.0
    density: Annotated[float, Field(gt=0.1, le=2.0, description="water density at packing, g/cm³")] = 1.0
    ion: Annotated[str, Field(description="counter-ion element")] = "Na"
    n_ions: Annotated[tuple[Annotated[int, Field(ge=0)], ...], Field(min_length=1, description="charge states: ions per cell")] = (0, 1, 2, 3, 4)
    ion_distance: Annotated[float, Field(ge=1.5, description="closest approach of ions to a surface plane at packing, Å")] = 2.5
    seed: Seed = 1
    fixed_layers: Annotated[int, Field(ge=0, description="bottom metal layers marked fixed")] = 0

    def __post_init__(self) -> None:
        if self.metal not in METALS or self.metal in IONS:
            raise ValueError(f"metal={self.metal!r} is not a metal element (e.g. Au, Pt, Ag, Cu)")
        if self.ion not in IONS:
            raise ValueError(f"ion={self.ion!r} is not a known counter-ion ({', '.join(sorted(IONS))})")
        if self.repeats[1] % 2:
            raise ValueError(f"repeats={list(self.repeats)}: the second lateral repeat must be even (orthogonal fcc(111) cell)")
        if self.fixed_layers >= self.layers:
            raise ValueError(f"fixed_layers={self.fixed_layers} must be fewer than layers={self.layers}")
        if self.gap - 2 * self.wall < 3.0:
            raise ValueError(f"gap={self.gap} Å leaves no room for liquid (need gap − 2·wall ≥ 3 Å, wall={self.wall} Å)")
        if self.gap - 2 * (self.ion_distance + ION_MARGIN) < 0.5:
            raise ValueError(f"ion_distance={self.ion_distance} Å does not fit in gap={self.gap} Å")
        if len(set(self.n_ions)) != len(self.n_ions):
            raise ValueError(f"n_ions={list(self.n_ions)} repeats a charge state")


def slab(cfg: BuildConfig) -> Atoms:
    """The bare metal slab in its final cell (c = slab thickness + gap), bottom layer at z = 0."""
    metal = fcc111(cfg.metal, size=(*cfg.repeats, cfg.layers), a=cfg.lattice, orthogonal=True)
    top = metal.positions[:, 2].max()
    metal.cell[2] = [0.0, 0.0, top + cfg.gap]
    metal.pbc = True
    # fcc111 tags layers 1 (top) … layers (bottom); keep that as the layer index.
    metal.set_array("layer", metal.get_tags().copy())
    return metal


def n_waters(cfg: BuildConfig, area: float) -> int:
    """Waters for `density` (g/cm³) in the effective liquid volume A·(gap − 2·wall)."""
    volume_cm3 = area * (cfg.gap - 2 * cfg.wall) * 1e-24
    return int(round(cfg.density * volume_cm3 * _Nav / WATER_MASS))


def _water_template() -> Atoms:
    half = np.radians(WATER_ANGLE) / 2
    return Atoms(
        "OH2",
        positions=[
            [0, 0, 0],
            [WATER_R_OH * np.sin(half), 0, WATER_R_OH * np.cos(half)],
            [-WATER_R_OH * np.sin(half), 0, WATER_R_OH * np.cos(half)],
        ],
    )



def pack_liquid(cfg: BuildConfig, metal: Atoms, n_water: int, n_ion: int) -> Atoms:
    """Pack `n_water` waters and `n_ion` ions with packmol above the slab; returns them alone."""
    a, b = metal.cell[0, 0], metal.cell[1, 1]
    top = metal.positions[:, 2].max()
    lo, hi = top + cfg.wall, top + cfg.gap - cfg.wall
    # packmol meets box constraints only to its precision: keep a margin, check afterwards.
    ilo, ihi = top + cfg.ion_distance + ION_MARGIN, top + cfg.gap - cfg.ion_distance - ION_MARGIN
    with tempfile.TemporaryDirectory(prefix="edlbench-packmol-") as tmp:
        tmpdir = Path(tmp)
        write(tmpdir / "water.xyz", _water_template())
        write(tmpdir / "ion.xyz", Atoms(cfg.ion, positions=[[0, 0, 0]]))
        # The periodic box spans the lateral cell; along z the liquid's own period is used so that
        # molecules near the two walls also keep the tolerance (conservative, never too close).
        lines = [
            f"tolerance {PACK_TOLERANCE}",
            "filetype xyz",
            "output packed.xyz",
            f"seed {cfg.seed}",
            f"pbc 0. 0. {lo - 1.0:.4f} {a:.4f} {b:.4f} {hi + 1.0:.4f}",
            "structure water.xyz",
            f"  number {n_water}",
            f"  inside box 0. 0. {lo:.4f} {a:.4f} {b:.4f} {hi:.4f}",
            "end structure",
        ]
        if n_ion:
            lines += [
                "structure ion.xyz",
                f"  number {n_ion}",
                f"  inside box 0. 0. {ilo:.4f} {a:.4f} {b:.4f} {ihi:.4f}",
                "end structure",
            ]
        (tmpdir / "pack.inp").write_text("\n".join(lines) + "\n")
        with open(tmpdir / "pack.inp") as stdin:
            run = run_child([executable("packmol", "pip install packmol")], stdin=stdin, cwd=tmpdir, capture_output=True, text=True)
        out = tmpdir / "packed.xyz"
        if run.returncode != 0 or not out.exists() or "Success!" not in run.stdout:
            tail = run.stdout.strip().splitlines()[-3:] if run.stdout else []
            raise InputError(f"build: packmol could not pack {n_water} waters + {n_ion} {cfg.ion} into the "
                             f"{a:.2f} × {b:.2f} × {hi - lo:.2f} Å liquid box at density {cfg.density} g/cm³ "
                             f"({' '.join(tail) or f'exit {run.returncode}'})")
        liquid = read(out)
    ion_z = liquid.positions[liquid.symbols == cfg.ion, 2]
    if np.any((ion_z < top + cfg.ion_distance) | (ion_z > top + cfg.gap - cfg.ion_distance)):
        raise InputError(f"build: packmol placed an ion closer than ion_distance={cfg.ion_distance} Å to the surface; try another seed")
    return liquid


def build_interface(cfg: BuildConfig, n_ion: int) -> Atoms:
    """Slab + water + `n_ion` ions, with info n_ion, ion, metal, sigma (µC/cm²), n_water."""
    metal = slab(cfg)
    area = lateral_area(metal.cell)
    n_water = n_waters(cfg, area)
    liquid = pack_liquid(cfg, metal, n_water, n_ion)
    # packmol writes waters first, then ions: keep metal | waters (O H H …) | ions.
    system = metal.copy()
    system.info.clear()
    liquid.set_array("layer", np.zeros(len(liquid), dtype=int))
    system += liquid
    system.pbc = True
    system.wrap()
    fixed = system.arrays["layer"] > cfg.layers - cfg.fixed_layers
    system.set_array("fixed", fixed & (system.arrays["layer"] > 0))
    system.info.update(
        n_ion=n_ion,
        ion=cfg.ion,
        metal=cfg.metal,
        n_water=n_water,
        sigma=surface_charge(n_ion, area),
        seed=cfg.seed,
        gap=cfg.gap,
    )
    return system


def build_all(cfg: BuildConfig, outdir: Path) -> list[Path]:
    """One extxyz per charge state, named ``n{n_ion}.extxyz``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in cfg.n_ions:
        path = outdir / f"n{n}.extxyz"
        atoms = build_interface(cfg, n)  # packed before the output file is opened: a kill leaves nothing
        with atomic_output(path) as tmp:
            write(tmp, atoms, format="extxyz")
        paths.append(path)
    return paths
