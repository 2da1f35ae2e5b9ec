"""One MD driver for every model: ASE NVT with blow-up detection and an incremental trajectory.

Thermostats: Langevin (default; ``friction`` in 1/ps) or a Nosé–Hoover chain (``tdamp`` in fs).
Every ``stride`` steps (and before the first step) the run is checked by
:mod:`edlbench.stability` (overlapping atoms, force, temperature, non-finite energy, an atom
inside the metal, a broken water; the same checks as the oracle's reference MD). A failed check, or an exception from the calculator, stops the run
cleanly with status "unstable" and the step; the frames written so far are kept. The run's cost
is kept with it: wall-clock seconds per ps of the steps this process ran (``seconds_per_ps``) and
its CPU threads (``cpus``; 0 on a GPU).

With a restart file, a restart point (:mod:`edlbench.restart`) is written every
``restart_interval`` steps; a run started again with the same file and key continues from it —
the frames after it are the ones an uninterrupted run writes — and the file is removed when the
run ends.
"""

from __future__ import annotations

import os
import time
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

from edlbench import restart
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
    restart_interval: Annotated[int, Field(ge=1, description="steps between restart points (a multiple of stride)")] = 2000
    thermostat: Annotated[Literal["langevin", "nose-hoover"], Field(description="NVT thermostat")] = "langevin"
    friction: Annotated[float, Field(gt=0, description="Langevin friction, 1/ps")] = 10.0
    tdamp: Annotated[float, Field(gt=0, description="Nosé–Hoover damping time, fs")] = 50.0
    min_distance: MinDistance = 0.6
    max_force: MaxForce = 30.0
    max_temperature: MaxTemperature = 1500.0
    seed: Seed = 0
    replicas: Annotated[int, Field(ge=1, le=100, description="MD runs per model and charge, replica r from reference replica r (read by `edlbench plan`)")] = 1
    n_ions: Annotated[tuple[Annotated[int, Field(ge=0)], ...] | None, Field(min_length=1, description="charge states (ions per cell) of the MLIP MD, a subset of "
                                              "build.n_ions (read by `edlbench plan`; default: every one)")] = None
    precision: Annotated[Literal["trained", "float32", "float64"], Field(
        description="floating-point precision of the MLIP: 'trained' runs each model as it was trained; float32/float64 "
                    "cast the backends that can (MACE, eSEN), the others run as trained")] = "trained"

    def __post_init__(self) -> None:
        if self.stride > self.steps:
            raise ValueError(f"stride={self.stride} exceeds steps={self.steps}: the run would save no frame")
        if self.restart_interval % self.stride:
            raise ValueError(f"restart_interval={self.restart_interval} is not a multiple of stride={self.stride}")


def _dynamics(atoms: Atoms, cfg: MDConfig, rng: np.random.Generator):
    dt = cfg.timestep * units.fs
    if cfg.thermostat == "langevin":
        return Langevin(atoms, dt, temperature_K=cfg.temperature, friction=cfg.friction / (1000 * units.fs), fixcm=False, rng=rng)
    return NoseHooverChainNVT(atoms, dt, temperature_K=cfg.temperature, tdamp=cfg.tdamp * units.fs)


def check(atoms: Atoms, cfg: MDConfig, metal: str) -> str | None:
    """Why the configuration is unstable (:mod:`edlbench.stability`), or None."""
    return unstable_reason(atoms, cfg, metal, lambda: (atoms.get_potential_energy(), atoms.get_forces(), atoms.get_temperature()))


def _resume_log(log: Path, step: int) -> None:
    """Keep the header and the lines up to `step` of a log that a killed run left."""
    lines = Path(log).read_text().splitlines(keepends=True) if Path(log).exists() else []
    kept = [line for line in lines if line.startswith("#") or int(line.split()[0]) <= step]
    Path(log).write_text("".join(kept))


def run_md(atoms: Atoms, calc: Calculator, cfg: MDConfig, trajectory: Path, log: Path, info: dict,
           progress: bool = True, restart_file: Path | None = None, key: str = "") -> dict:
    """Run NVT MD; returns the run info with status ("ok"/"unstable"), status_step, reason.
    With `restart_file`, continue from its restart point if it holds run `key` and the trajectory
    it belongs to, write one every ``cfg.restart_interval`` steps, and remove it at the end."""
    atoms = atoms.copy()
    atoms.calc = calc
    if "fixed" in atoms.arrays and atoms.arrays["fixed"].any():
        atoms.set_constraint(FixAtoms(mask=atoms.arrays["fixed"]))
    metal = metal_symbol(atoms.get_chemical_symbols(), str(trajectory))
    rng = np.random.default_rng(cfg.seed)
    state = restart.load(restart_file, key) if restart_file else None
    if state and TrajectoryWriter.frames_in(trajectory) < state["n_frames"]:
        state = None  # the frames it continues are gone: start over
    if state:
        restart.restore(state, atoms, rng)
    else:
        thermalize_momenta(atoms, temperature_K=cfg.temperature, rng=rng)
    dyn = _dynamics(atoms, cfg, rng)
    info = {**info, "sigma": cell_surface_charge(atoms.get_chemical_symbols(), atoms.cell.array), "status": "running",
            "status_step": -1, "md": asdict(cfg)}
    step = written = 0
    if state:
        restart.restore_thermostat(state, dyn)
        step = written = state["step"]
        info["restarted_at_step"] = step
        _resume_log(log, step)
    dt_ps = cfg.timestep * 1e-3
    first, started = step, time.perf_counter()
    with TrajectoryWriter(trajectory, atoms, info, {"temperature": "K", "potential_energy": "eV"}, resume_at=state["n_frames"] if state else None) as traj, \
            open(log, "a" if state else "w") as out, \
            tqdm(total=cfg.steps, initial=step, unit="step", desc="MD", disable=not progress, mininterval=2) as bar:
        if not state:
            out.write("# step time_ps temperature_K potential_energy_eV\n")
        while True:
            try:
                reason = check(atoms, cfg, metal)
            except Exception as exc:  # a calculator failing on a broken configuration is instability too
                reason = f"{type(exc).__name__}: {exc}"
            if reason:
                info.update(status="unstable", status_step=step, reason=reason)
                break
            if step > written:
                epot, temp = atoms.get_potential_energy(), atoms.get_temperature()
                traj.append(atoms, step * dt_ps, temperature=temp, potential_energy=epot)
                out.write(f"{step} {step * dt_ps:.4f} {temp:.2f} {epot:.6f}\n")
                written = step
                if restart_file and step % cfg.restart_interval == 0 and step < cfg.steps:
                    out.flush()
                    restart.save(restart_file, key, step, traj.n, atoms, rng, dyn)
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
        if step > first:
            info["seconds_per_ps"] = (time.perf_counter() - started) / ((step - first) * dt_ps)
            info["cpus"] = 0 if info.get("device") == "cuda" else int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        traj.set_info(info)
    if restart_file:
        Path(restart_file).unlink(missing_ok=True)
    return info
