"""Does an MLIP's MD stay in the oracle's ensemble? The oracle's energy along the run against the model's.

Every `--every`-th frame of each trajectory is labelled with the oracle (the force field its
reference run recorded: `--reference`); the model's own potential energy is the one `edlbench md`
stored per frame. Both are taken relative to the run's first frame, so the per-element energy
zero drops out, and their difference per atom, gap(t) = [ΔE_oracle(t) − ΔE_model(t)] / N (meV/atom),
is the error of the model on the configurations its own MD visits, to set beside its test RMSE on
thermal frames. A reference trajectory run through it gives ≈ 0 (the oracle against itself).

  .venvs/core/bin/python benchmarks/md_fidelity.py RUN.nc ... --reference REF.nc [--every 25] [--plot gap.png] [--tmax PS]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase import Atoms
from tqdm import tqdm

from edlbench.reference.oracle import OracleCalculator, force_field_of
from edlbench.trajectory import read_frames


def gap(path: Path, calc: OracleCalculator, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Times (ps) and gap (meV/atom) at every `every`-th frame of `path`."""
    import netCDF4

    frames = read_frames(path, stride=every)
    with netCDF4.Dataset(path) as nc:  # our trajectory's per-frame thermo (eV), beside the AMBER variables
        if "potential_energy" not in nc.variables:
            raise SystemExit(f"{path}: no per-frame potential energy to compare")
        model = np.asarray(nc["potential_energy"][::every], dtype=float)
    oracle = np.array([calc.get_potential_energy(Atoms(frames.symbols, positions=p, cell=c, pbc=True))
                       for p, c in tqdm(zip(frames.positions, frames.cells), total=len(frames), desc=f"oracle {path.parent.name}",
                                        leave=False)])
    return frames.times, 1000 * ((oracle - oracle[0]) - (model - model[0])) / len(frames.symbols)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trajectories", nargs="+", type=Path)
    p.add_argument("--reference", type=Path, required=True, help="a reference run of the same system (its force field)")
    p.add_argument("--every", type=int, default=25, help="label every k-th frame")
    p.add_argument("--plot", type=Path)
    p.add_argument("--tmax", type=float, help="last time drawn, ps (default: the longest run)")
    args = p.parse_args(argv)
    calc = OracleCalculator(where=str(args.reference), **force_field_of(read_frames(args.reference, stop=1).info))
    series = {}
    for path in args.trajectories:
        t, g = gap(path, calc, args.every)
        series[path.parent.name] = (t, g)
        print(f"{path.parent.name:28s} {t[-1]:6.1f} ps  gap mean {g[1:].mean():7.1f}  max {g.max():7.1f}  last {g[-1]:7.1f} meV/atom")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.6))
        for name, (t, g) in series.items():
            ax.plot(t - t[0], g, label=name)
        ax.axhline(0, color="k", lw=0.8)
        if args.tmax:
            ax.set_xlim(0, args.tmax)
        ax.set(xlabel="time in the run (ps)", ylabel="oracle − model energy\nrelative to the first frame (meV/atom)",
               title="How far each run leaves the oracle's ensemble")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=130)
        print(args.plot)


if __name__ == "__main__":
    main()
