"""One MD driver for every model: ASE NVT with blow-up detection and an incremental trajectory.

Thermostats: Langevin (default; ``friction`` in 1/ps) or a Nosé–Hoover chain (``tdamp`` in fs).
Every ``stride`` steps (and before the first step) the run is checked by
:mod:`edlbench.stability` (overlapping atoms, force, temperature, non-finite energy, an atom
inside the metal, a broken water; the same checks as the oracle's reference MD). A failed check, or an exception from the calculator, stops the run
cleanly with status "unstable" and the step; the frames written so far are kept.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.constraints import FixAtoms
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.velocitydistribution import thermalize_momenta
from pydantic import Field
from tqdm import tqdm

from edlbench.config import MaxForce, MaxTemperature, MinDistance, Seed, Stride, Temperature, Timestep, settings
from edlbench.geometry import cell_surface_charge, metal_symbol
from edlbench.stability import unstable_reason
from edlbench.trajectory import TrajectoryWriter


@settings
class MDConfig:
    """NVT MD: temperature K, timestep fs, length in steps, stride steps; stability bounds."""

    temperature: Temperature = 300.0
    timestep: Timestep = 0.5
    steps: Annotated[int, Field(ge=1, description="MD steps")] = 2000
    stride: Stride = 20
    thermostat: Annotated[Literal["langevin", "nose-hoover"], Field(description="NVT thermostat")] = "langevin"
    friction: Annotated[float, Field(gt=0, description="Langevin friction, 1/ps")] = 10.0
    tdamp: Annotated[float, Field(gt=0, description="Nosé–Hoover damping time, fs")] = 50.0
    min_distance: MinDistance = 0.6
    max_force: MaxForce = 30.0
    max_temperature: MaxTemperature = 1500.0
    seed: Seed = 0
    precision: Annotated[Literal["trained", "float32", "float64"], Field(
        description="floating-point precision of the MLIP: 'trained' runs each model as it was trained; float32/float64 "
                    "cast the backends that can (MACE, eSEN), the others run as trained")] = "trained"

    def __post_init__(self) -> None:
        if self.stride > self.steps:
            raise ValueError(f"stride={self.stride} exceeds steps={self.steps}: the run would save no frame")


def _dynamics(atoms: Atoms, cfg: MDConfig, rng: np.random.Generator):
    dt = cfg.timestep * units.fs
    if cfg.thermostat == "langevin":
        return Langevin(atoms, dt, temperature_K=cfg.temperature, friction=cfg.friction / (1000 * units.fs), fixcm=False, rng=rng)
    return NoseHooverChainNVT(atoms, dt, temperature_K=cfg.temperature, tdamp=cfg.tdamp * units.fs)


def check(atoms: Atoms, cfg: MDConfig, metal: str) -> str | None:
    """Why the configuration is unstable (:mod:`edlbench.stability`), or None."""
    return unstable_reason(atoms, cfg, metal, lambda: (atoms.get_potential_energy(), atoms.get_forces(), atoms.get_temperature()))


def run_md(atoms: Atoms, calc: Calculator, cfg: MDConfig, trajectory: Path, log: Path, info: dict,
           progress: bool = True) -> dict:
    """Run NVT MD; returns the run info with status ("ok"/"unstable"), status_step, reason."""
    atoms = atoms.copy()
    atoms.calc = calc
    if "fixed" in atoms.arrays and atoms.arrays["fixed"].any():
        atoms.set_constraint(FixAtoms(mask=atoms.arrays["fixed"]))
    metal = metal_symbol(atoms.get_chemical_symbols(), str(trajectory))
    rng = np.random.default_rng(cfg.seed)
    thermalize_momenta(atoms, temperature_K=cfg.temperature, rng=rng)
    dyn = _dynamics(atoms, cfg, rng)
    info = {**info, "sigma": cell_surface_charge(atoms.get_chemical_symbols(), atoms.cell.array), "status": "running",
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
        if info["status"] == "running":
            info["status"] = "ok"
        traj.set_info(info)
    return info
