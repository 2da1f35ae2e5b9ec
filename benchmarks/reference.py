"""ns/day of the reference oracle's OpenMM MD at two sizes on this machine.

~110 atoms: 3×4×3 Au(111) + 24 H₂O (the test cell); ~450 atoms: 4×4×4 Au + ~130 H₂O.
Timestep 0.5 fs, Langevin 300 K, PME; timing excludes setup and minimisation.
Usage: python benchmarks/reference.py [--platform CPU] [--steps 2000]
"""

from __future__ import annotations

import argparse
import time

import openmm as mm

from edlbench.build import BuildConfig, build_interface
from edlbench.reference.forcefield import build_system

SYSTEMS = {
    "~110 atoms": BuildConfig(repeats=(3, 4), layers=3, gap=12.3, seed=1),
    "~450 atoms": BuildConfig(repeats=(4, 4), layers=4, gap=36.0, seed=1),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--platform", default="CPU")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--n-ion", type=int, default=2)
    args = ap.parse_args()
    for name, cfg in SYSTEMS.items():
        atoms = build_interface(cfg, args.n_ion)
        system, _ = build_system(atoms)
        integ = mm.LangevinMiddleIntegrator(300, 1.0, 0.5e-3)
        ctx = mm.Context(system, integ, mm.Platform.getPlatformByName(args.platform))
        ctx.setPositions(atoms.positions / 10)
        mm.LocalEnergyMinimizer.minimize(ctx, 10.0, 200)
        ctx.setVelocitiesToTemperature(300, 1)
        integ.step(200)
        t0 = time.perf_counter()
        integ.step(args.steps)
        ctx.getState(getEnergy=True)
        el = time.perf_counter() - t0
        ns_day = args.steps * 0.5e-6 / el * 86400
        print(f"{name:>10}: {len(atoms)} atoms, {args.steps} steps in {el:.2f} s = {1e3 * el / args.steps:.2f} ms/step, {ns_day:.1f} ns/day ({args.platform})")


if __name__ == "__main__":
    main()
