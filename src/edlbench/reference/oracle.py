"""The oracle as an ASE calculator (labels) and as OpenMM MD (reference trajectories).

Units at the boundary are ASE's: energy eV, forces eV/Å, positions Å, time ps.
Labels use OpenMM's Reference platform (double precision, so finite differences check out);
MD uses CUDA when present, else the CPU platform.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.units import kB, kJ, mol
from tqdm import tqdm

from edlbench.errors import InputError
from edlbench.reference.forcefield import build_system
from edlbench.trajectory import TrajectoryWriter

KJMOL_TO_EV = kJ / mol


def _platform(name: str):
    import openmm as mm

    names = [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
    if name == "auto":
        name = next(n for n in ("CUDA", "CPU", "Reference") if n in names)
    return mm.Platform.getPlatformByName(name)


def _context(atoms: Atoms, integrator, platform: str, fixed=None, hmr: float = 0.0):
    import openmm as mm

    system, q = build_system(atoms, fixed=fixed, hmr=hmr)
    ctx = mm.Context(system, integrator, _platform(platform))
    ctx.setPositions(atoms.positions / 10.0)
    return ctx, system, q


class OracleCalculator(Calculator):
    """Energy (eV) and forces (eV/Å) of the classical oracle for any frame of the same system."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, platform: str = "Reference", **kwargs):
        super().__init__(**kwargs)
        self.platform = platform
        self._ctx = None
        self._numbers = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        import openmm as mm

        super().calculate(atoms, properties, system_changes)
        if self._ctx is None or not np.array_equal(self._numbers, self.atoms.numbers):
            self._ctx, _, self.charges = _context(self.atoms, mm.VerletIntegrator(1e-3), self.platform)
            self._numbers = self.atoms.numbers.copy()
        self._ctx.setPeriodicBoxVectors(*(mm.Vec3(*v) for v in self.atoms.cell.array / 10.0))
        self._ctx.setPositions(self.atoms.positions / 10.0)
        state = self._ctx.getState(getEnergy=True, getForces=True)
        energy = state.getPotentialEnergy()._value * KJMOL_TO_EV
        forces = np.asarray(state.getForces(asNumpy=True)._value) * KJMOL_TO_EV / 10.0
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}


@dataclass(frozen=True)
class ReferenceConfig:
    """Reference MD: temperature K, timestep fs, friction 1/ps, lengths ps, stride in steps."""

    temperature: float = 300.0
    timestep: float = 0.5
    friction: float = 1.0
    equilibration: float = 2.0
    production: float = 10.0
    stride: int = 20
    fixed_layers: int = 0
    hmr: float = 0.0
    platform: str = "auto"
    minimize: bool = True


def run_reference_md(atoms: Atoms, cfg: ReferenceConfig, trajectory: Path, log: Path, seed: int,
                     progress: bool = True) -> int:
    """Equilibrate, then write production frames every `stride` steps; returns frames written."""
    import openmm as mm

    fixed = None
    if cfg.fixed_layers and "layer" in atoms.arrays:
        layer = atoms.arrays["layer"]
        fixed = layer > layer.max() - cfg.fixed_layers
    dt_ps = cfg.timestep * 1e-3
    integrator = mm.LangevinMiddleIntegrator(cfg.temperature, cfg.friction, dt_ps)
    integrator.setRandomNumberSeed(seed)
    ctx, system, _ = _context(atoms, integrator, cfg.platform, fixed, cfg.hmr)
    if cfg.minimize:
        mm.LocalEnergyMinimizer.minimize(ctx, 10.0, 500)
    ctx.setVelocitiesToTemperature(cfg.temperature, seed)
    n_mobile = sum(system.getParticleMass(i)._value > 0 for i in range(system.getNumParticles()))
    dof = 3 * n_mobile
    n_eq = int(round(cfg.equilibration / dt_ps))
    n_frames = int(round(cfg.production / dt_ps)) // cfg.stride
    info = {"n_ion": atoms.info.get("n_ion"), "ion": atoms.info.get("ion", "Na"), "model": "reference",
            "status": "ok", "config": asdict(cfg), "seed": seed}
    frame = atoms.copy()
    with TrajectoryWriter(trajectory, atoms, info, {"temperature": "K", "potential_energy": "eV"}) as traj, \
            open(log, "w") as out:
        out.write("# step time_ps temperature_K potential_energy_eV\n")
        bar = tqdm(total=n_eq + n_frames * cfg.stride, unit="step", desc="reference MD", disable=not progress, mininterval=2)
        step = 0
        try:
            for done in range(0, n_eq, 1000):
                integrator.step(min(1000, n_eq - done))
                step += min(1000, n_eq - done)
                bar.update(min(1000, n_eq - done))
            for k in range(n_frames):
                integrator.step(cfg.stride)
                step += cfg.stride
                bar.update(cfg.stride)
                state = ctx.getState(getPositions=True, getEnergy=True)
                frame.positions = np.asarray(state.getPositions(asNumpy=True)._value) * 10.0
                temp = 2 * state.getKineticEnergy()._value * KJMOL_TO_EV / (dof * kB)
                epot = state.getPotentialEnergy()._value * KJMOL_TO_EV
                if not math.isfinite(epot):
                    raise mm.OpenMMException("non-finite energy")
                time_ps = (k + 1) * cfg.stride * dt_ps
                traj.append(frame, time_ps, temperature=temp, potential_energy=epot)
                out.write(f"{step} {time_ps:.4f} {temp:.2f} {epot:.6f}\n")
        except mm.OpenMMException as exc:
            info.update(status="unstable", status_step=step, reason=str(exc).split(".")[0])
        bar.close()
        traj.set_info(info)
    if traj.n == 0:
        raise InputError(f"{trajectory}: oracle MD unstable at step {step} before the first frame ({info['reason']})")
    return traj.n
