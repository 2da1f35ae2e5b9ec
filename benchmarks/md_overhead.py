"""MD driver overhead per backend: ms/step of `edlbench.md.run_md` vs the calculator's bare force call.

The system is the ~110-atom test cell (3×4×3 Au + 23 H₂O + 2 Na). After a warm-up, MD runs and
bare energy+force calls on the configurations that MD visited alternate `--repeats` times
(medians reported), so load on a shared machine affects both alike. For a trained model pass its
file; the oracle (OpenMM Reference platform through ASE) needs none.
Usage: python benchmarks/md_overhead.py --backend mace --model model.model [--steps 200]
       python benchmarks/md_overhead.py --backend oracle
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from edlbench import backends
from edlbench.build import BuildConfig, build_interface
from edlbench.md import MDConfig, run_md
from edlbench.reference.oracle import OracleCalculator, ReferenceConfig, run_reference_md
from edlbench.trajectory import read_frames

TEST_CELL = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=6)


def relaxed_start(cell: BuildConfig, n_ion: int):
    """The packed interface after 0.55 ps of oracle MD, so that MD is stable for any model."""
    atoms = build_interface(cell, n_ion)
    with tempfile.TemporaryDirectory() as tmp:
        run_reference_md(atoms, ReferenceConfig(equilibration=0.5, production=0.05, stride=100), Path(tmp) / "eq.nc",
                         Path(tmp) / "eq.log", 1, progress=False)
        atoms.positions = read_frames(Path(tmp) / "eq.nc", start=-1).positions[0]
    return atoms


def timed(calc) -> list[float]:
    """Wrap `calc.calculate` to accumulate the seconds spent inside it (returned list's element 0)."""
    total = [0.0]
    inner = calc.calculate

    def calculate(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            total[0] += time.perf_counter() - t0

    calc.calculate = calculate
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", required=True)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--steps", type=int, default=200, help="MD steps per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    calc = OracleCalculator() if args.backend == "oracle" else backends.get(args.backend).calculator(args.model, args.device)
    atoms = relaxed_start(TEST_CELL, 2)
    with tempfile.TemporaryDirectory() as tmp:
        run_md(atoms, calc, MDConfig(steps=20, stride=10), Path(tmp) / "warm.nc", Path(tmp) / "warm.log", {}, progress=False)
        inside = timed(calc)
        md, bare, share = [], [], []
        for rep in range(args.repeats):  # alternate, so machine load affects both alike
            inside[0] = 0.0
            t0 = time.perf_counter()
            info = run_md(atoms, calc, MDConfig(steps=args.steps, stride=10, seed=rep), Path(tmp) / "md.nc", Path(tmp) / "md.log", {}, progress=False)
            md.append((time.perf_counter() - t0) / args.steps)
            share.append(md[-1] * args.steps / inside[0] - 1)
            # the bare calculator on the configurations this MD visited (fresh positions: no cache)
            frames = read_frames(Path(tmp) / "md.nc")
            for pos in frames.positions:
                probe = atoms.copy()
                probe.positions = pos
                t0 = time.perf_counter()
                calc.calculate(probe, ["energy", "forces"], ["positions"])
                bare.append(time.perf_counter() - t0)
        bare_ms, md_ms = 1e3 * float(np.median(bare)), 1e3 * float(np.median(md))
    print(f"{args.backend}: {len(atoms)} atoms, status {info['status']}")
    print(f"  bare energy+forces : {bare_ms:8.2f} ms  (median over {len(bare)} MD configurations)")
    print(f"  MD step (driver)   : {md_ms:8.2f} ms  (median of {len(md)} runs of {args.steps} steps)")
    print(f"  driver overhead    : {100 * (md_ms / bare_ms - 1):6.1f} %   (MD step vs bare call; target ≤ 10 %)")
    print(f"  time outside calc  : {100 * float(np.median(share)):6.1f} %   (same runs: MD wall time / time inside calculate − 1)")


if __name__ == "__main__":
    main()
