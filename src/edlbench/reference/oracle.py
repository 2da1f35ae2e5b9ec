"""The oracle as an ASE calculator (labels) and as OpenMM MD (reference trajectories).

Units at the boundary are ASE's: energy eV, forces eV/Å, positions Å, time ps.
Labels use OpenMM's Reference platform (double precision, so finite differences check out);
MD uses CUDA when present, else the CPU platform.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.units import kB, kJ, mol
from pydantic import Field
from tqdm import tqdm

from edlbench.config import MaxForce, MaxTemperature, MinDistance, Stride, Temperature, Timestep, settings
from edlbench.errors import InputError
from edlbench.geometry import metal_symbol
from edlbench.reference.forcefield import Mixing, PairTerm, build_system, pair_symbols
from edlbench.stability import unstable_reason
from edlbench.trajectory import TrajectoryWriter

KJMOL_TO_EV = kJ / mol


def _platform(name: str):
    import openmm as mm

    names = [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
    if name == "auto":
        name = next(n for n in ("CUDA", "CPU", "Reference") if n in names)
    if name not in names:
        raise InputError(f"reference.platform={name!r}: OpenMM has no such platform here (available: {', '.join(names)})")
    return mm.Platform.getPlatformByName(name)


def _context(atoms: Atoms, integrator, platform: str, fixed=None, hmr: float = 0.0, where: str = "structure",
             terms: dict | None = None):
    import openmm as mm

    system, q = build_system(atoms, where, fixed=fixed, hmr=hmr, **(terms or {}))
    ctx = mm.Context(system, integrator, _platform(platform))
    ctx.setPositions(atoms.positions / 10.0)
    return ctx, system, q


class OracleCalculator(Calculator):
    """Energy (eV) and forces (eV/Å) of the classical oracle for any frame of the same system."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, platform: str = "Reference", where: str = "structure", mixing: Mixing = "explicit",
                 pair_terms: dict | None = None, **kwargs):
        """`where` names the frames' source in error messages; `mixing`, `pair_terms` as in
        :class:`ReferenceConfig` (:func:`force_field_of` reads them from a reference run)."""
        super().__init__(**kwargs)
        self.platform = platform
        self.where = where
        self.terms = {"mixing": mixing, "pair_terms": pair_terms}
        self._ctx = None
        self._numbers = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        import openmm as mm

        super().calculate(atoms, properties, system_changes)
        if self._ctx is None or not np.array_equal(self._numbers, self.atoms.numbers):
            self._ctx, _, self.charges = _context(self.atoms, mm.VerletIntegrator(1e-3), self.platform, where=self.where,
                                                  terms=self.terms)
            self._numbers = self.atoms.numbers.copy()
        self._ctx.setPeriodicBoxVectors(*(mm.Vec3(*v) for v in self.atoms.cell.array / 10.0))
        self._ctx.setPositions(self.atoms.positions / 10.0)
        state = self._ctx.getState(getEnergy=True, getForces=True)
        energy = state.getPotentialEnergy()._value * KJMOL_TO_EV
        forces = np.asarray(state.getForces(asNumpy=True)._value) * KJMOL_TO_EV / 10.0
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}


def force_field_of(info: dict) -> dict:
    """The pair-term settings (mixing, pair_terms) a reference run recorded in its info, so that
    its frames are labelled with the force field that made them (a reference run that records no
    mixing predates the explicit terms: Lorentz–Berthelot); the defaults for any other frames."""
    config = info.get("config") or {}
    legacy = info.get("model") == "reference" and "mixing" not in config
    return {"mixing": "lorentz-berthelot" if legacy else config.get("mixing", "explicit"),
            "pair_terms": config.get("pair_terms") or {}}


@settings
class ReferenceConfig:
    """Reference MD: temperature K, timestep fs, friction 1/ps, lengths ps, stride in steps; the
    stability bounds of the MLIP MD driver (:mod:`edlbench.stability`)."""

    temperature: Temperature = 300.0
    timestep: Timestep = 0.5
    friction: Annotated[float, Field(gt=0, description="Langevin friction, 1/ps")] = 1.0
    equilibration: Annotated[float, Field(ge=0, description="equilibration before the first frame, ps")] = 2.0
    production: Annotated[float, Field(gt=0, description="production run, ps")] = 10.0
    stride: Stride = 20
    fixed_layers: Annotated[int, Field(ge=0, description="bottom metal layers held fixed")] = 0
    hmr: Annotated[float, Field(ge=0, le=4, description="hydrogen mass repartitioning: H mass added, amu")] = 0.0
    platform: Annotated[Literal["auto", "CPU", "CUDA", "OpenCL", "Reference"], Field(description="OpenMM platform")] = "auto"
    minimize: Annotated[bool, Field(description="energy-minimise before the dynamics")] = True
    min_distance: MinDistance = 0.6
    max_force: MaxForce = 30.0
    max_temperature: MaxTemperature = 1500.0
    mixing: Annotated[Mixing, Field(description="metal–ion LJ: explicit pair terms or Lorentz–Berthelot")] = "explicit"
    replicas: Annotated[int, Field(ge=1, le=100, description="independent reference runs per charge state: own packed start and seeds (read by `edlbench plan`)")] = 1
    pair_terms: Annotated[dict[str, PairTerm], Field(description="metal pair LJ overrides, e.g. Au-Na: {sigma: Å, epsilon: kcal/mol}")] \
        = dataclass_field(default_factory=dict)

    @property
    def terms(self) -> dict:
        """The pair-term settings as :func:`build_system` takes them."""
        return {"mixing": self.mixing, "pair_terms": self.pair_terms}

    def __post_init__(self) -> None:
        for key in self.pair_terms:
            pair_symbols(key)
        if self.production * 1e3 / self.timestep < self.stride:
            raise ValueError(f"production={self.production} ps is shorter than one stride ({self.stride} steps of "
                             f"{self.timestep} fs): no frame would be written")


def run_reference_md(atoms: Atoms, cfg: ReferenceConfig, trajectory: Path, log: Path, seed: int,
                     progress: bool = True, where: str = "structure") -> dict:
    """Equilibrate, then write production frames every `stride` steps; returns the run info
    (status, status_step, reason, n_frames), as :func:`edlbench.md.run_md` does.

    The trajectory says status "running" until the run ends ("ok"), or "unstable" with the step
    and reason when a frame fails the checks of :mod:`edlbench.stability` or OpenMM fails; the
    equilibration is checked every 1000 steps the same way."""
    import openmm as mm

    fixed = None
    if cfg.fixed_layers and "layer" in atoms.arrays:
        layer = atoms.arrays["layer"]
        fixed = layer > layer.max() - cfg.fixed_layers
    metal = metal_symbol(atoms.get_chemical_symbols(), where)
    dt_ps = cfg.timestep * 1e-3
    integrator = mm.LangevinMiddleIntegrator(cfg.temperature, cfg.friction, dt_ps)
    integrator.setRandomNumberSeed(seed)
    ctx, system, _ = _context(atoms, integrator, cfg.platform, fixed, cfg.hmr, where, cfg.terms)
    if cfg.minimize:
        mm.LocalEnergyMinimizer.minimize(ctx, 10.0, 500)
    ctx.setVelocitiesToTemperature(cfg.temperature, seed)
    n_mobile = sum(system.getParticleMass(i)._value > 0 for i in range(system.getNumParticles()))
    dof = 3 * n_mobile
    n_eq = int(round(cfg.equilibration / dt_ps))
    n_frames = int(round(cfg.production / dt_ps)) // cfg.stride
    info = {"n_ion": atoms.info.get("n_ion"), "ion": atoms.info.get("ion", "Na"), "model": "reference",
            "status": "running", "status_step": -1, "config": asdict(cfg), "seed": seed}
    frame = atoms.copy()

    def state() -> tuple[float, float, str | None]:
        """Temperature K, potential energy eV and why the current state is unstable (or None)."""
        st = ctx.getState(getPositions=True, getEnergy=True, getForces=True)
        frame.positions = np.asarray(st.getPositions(asNumpy=True)._value) * 10.0
        temp = 2 * st.getKineticEnergy()._value * KJMOL_TO_EV / (dof * kB)
        epot = st.getPotentialEnergy()._value * KJMOL_TO_EV
        forces = np.asarray(st.getForces(asNumpy=True)._value) * KJMOL_TO_EV / 10.0
        return temp, epot, unstable_reason(frame, cfg, metal, lambda: (epot, forces, temp))

    with TrajectoryWriter(trajectory, atoms, info, {"temperature": "K", "potential_energy": "eV"}) as traj, \
            open(log, "w") as out:
        out.write("# step time_ps temperature_K potential_energy_eV\n")
        bar = tqdm(total=n_eq + n_frames * cfg.stride, unit="step", desc="reference MD", disable=not progress, mininterval=2)
        step, reason = 0, None
        try:
            while step < n_eq and reason is None:
                chunk = min(1000, n_eq - step)
                integrator.step(chunk)
                step += chunk
                bar.update(chunk)
                reason = state()[2]
            for k in range(n_frames if reason is None else 0):
                integrator.step(cfg.stride)
                step += cfg.stride
                bar.update(cfg.stride)
                temp, epot, reason = state()
                if reason:
                    break
                time_ps = (k + 1) * cfg.stride * dt_ps
                traj.append(frame, time_ps, temperature=temp, potential_energy=epot)
                out.write(f"{step} {time_ps:.4f} {temp:.2f} {epot:.6f}\n")
        except mm.OpenMMException as exc:
            reason = str(exc).split(".")[0]
        bar.close()
        info.update(status="ok") if reason is None else info.update(status="unstable", status_step=step, reason=reason)
        traj.set_info(info)
    return {**info, "n_frames": traj.n}
