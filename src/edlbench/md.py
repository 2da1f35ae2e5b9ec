"""One MD driver for every model: ASE NVT with blow-up detection and an incremental trajectory.

Thermostats: Langevin (default; ``friction`` in 1/ps) or a Nosé–Hoover chain (``tdamp`` in fs).
Every ``stride`` steps (and before the first step) the run is checked: shortest interatomic
distance below ``min_distance`` Å, a force component above ``max_force`` eV/Å, temperature above
``max_temperature`` K, a non-finite energy, a water/ion atom inside the metal slab (it left the
liquid through the metal), or a water that is no longer intact (an O without exactly two H within
1.3 Å: a proton hop or a dissociation, which the non-reactive reference never shows and which the
profile analysis cannot read). A failed check, or an exception from the calculator, stops the run
cleanly with status "unstable" and the step; the frames written so far are kept.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.constraints import FixAtoms
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.velocitydistribution import thermalize_momenta
from ase.neighborlist import neighbor_list
from tqdm import tqdm

from edlbench.errors import InputError
from edlbench.geometry import cell_surface_charge, metal_symbol
from edlbench.interface import heights, surface_planes, water_hydrogens
from edlbench.trajectory import TrajectoryWriter


@dataclass(frozen=True)
class MDConfig:
    """NVT MD: temperature K, timestep fs, length in steps, stride steps; stability bounds."""

    temperature: float = 300.0
    timestep: float = 0.5
    steps: int = 2000
    stride: int = 20
    thermostat: str = "langevin"
    friction: float = 10.0  # 1/ps
    tdamp: float = 50.0  # fs
    min_distance: float = 0.6  # Å
    max_force: float = 30.0  # eV/Å
    max_temperature: float = 1500.0  # K
    seed: int = 0

    def validate(self) -> None:
        if self.thermostat not in ("langevin", "nose-hoover"):
            raise InputError(f"md: thermostat={self.thermostat!r}: use 'langevin' or 'nose-hoover'")
        if self.steps < 1 or self.stride < 1 or self.timestep <= 0:
            raise InputError(f"md: steps={self.steps}, stride={self.stride}, timestep={self.timestep} must be positive")


def _dynamics(atoms: Atoms, cfg: MDConfig, rng: np.random.Generator):
    dt = cfg.timestep * units.fs
    if cfg.thermostat == "langevin":
        return Langevin(atoms, dt, temperature_K=cfg.temperature, friction=cfg.friction / (1000 * units.fs), fixcm=False, rng=rng)
    return NoseHooverChainNVT(atoms, dt, temperature_K=cfg.temperature, tdamp=cfg.tdamp * units.fs)


def check(atoms: Atoms, cfg: MDConfig, metal: str) -> str | None:
    """Why the configuration is unstable, or None."""
    d = neighbor_list("d", atoms, cfg.min_distance)
    if len(d):
        return f"atoms {d.min():.2f} Å apart"
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    if not math.isfinite(energy) or not np.all(np.isfinite(forces)):
        return "non-finite energy or forces"
    if np.abs(forces).max() > cfg.max_force:
        return f"force {np.abs(forces).max():.1f} eV/Å"
    if atoms.get_temperature() > cfg.max_temperature:
        return f"temperature {atoms.get_temperature():.0f} K"
    symbols = np.array(atoms.get_chemical_symbols())
    is_metal = symbols == metal
    lz = np.array([atoms.cell[2, 2]])
    z_low, z_up = surface_planes(atoms.positions[is_metal, 2][None], lz, "md")
    h = heights(atoms.positions[~is_metal, 2][None], z_low, lz)[0]
    if np.any(h > (z_up - z_low)[0] + 0.5):
        return "a water or ion atom entered the metal slab"
    try:
        water_hydrogens(atoms.positions[None], atoms.cell.array[None], np.flatnonzero(symbols == "O"), np.flatnonzero(symbols == "H"), "md")
    except InputError as exc:
        return str(exc).split(": ", 2)[-1]
    return None


def run_md(atoms: Atoms, calc: Calculator, cfg: MDConfig, trajectory: Path, log: Path, info: dict,
           progress: bool = True) -> dict:
    """Run NVT MD; returns the run info with status ("ok"/"unstable"), status_step, reason."""
    cfg.validate()
    atoms = atoms.copy()
    atoms.calc = calc
    if "fixed" in atoms.arrays and atoms.arrays["fixed"].any():
        atoms.set_constraint(FixAtoms(mask=atoms.arrays["fixed"]))
    metal = metal_symbol(atoms.get_chemical_symbols(), str(trajectory))
    rng = np.random.default_rng(cfg.seed)
    thermalize_momenta(atoms, temperature_K=cfg.temperature, rng=rng)
    dyn = _dynamics(atoms, cfg, rng)
    info = {**info, "sigma": cell_surface_charge(atoms.get_chemical_symbols(), atoms.cell.array), "status": "ok",
            "status_step": -1, "md": asdict(cfg)}
    dt_ps = cfg.timestep * 1e-3
    with TrajectoryWriter(trajectory, atoms, info, {"temperature": "K", "potential_energy": "eV"}) as traj, \
            open(log, "w") as out, tqdm(total=cfg.steps, unit="step", desc="MD", disable=not progress, mininterval=2) as bar:
        out.write("# step time_ps temperature_K potential_energy_eV\n")
        step = 0
        while True:
            try:
                reason = check(atoms, cfg, metal)
            except Exception as exc:  # a calculator failing on a broken configuration is instability too
                reason = f"{type(exc).__name__}: {exc}"
            if reason:
                info.update(status="unstable", status_step=step, reason=reason)
                break
            if step:
                epot, temp = atoms.get_potential_energy(), atoms.get_temperature()
                traj.append(atoms, step * dt_ps, temperature=temp, potential_energy=epot)
                out.write(f"{step} {step * dt_ps:.4f} {temp:.2f} {epot:.6f}\n")
            if step >= cfg.steps:
                break
            try:
                dyn.run(cfg.stride)
            except Exception as exc:
                info.update(status="unstable", status_step=step, reason=f"{type(exc).__name__}: {exc}")
                break
            step += cfg.stride
            bar.update(cfg.stride)
        traj.set_info(info)
    return info
