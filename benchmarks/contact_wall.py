"""The metal's repulsive wall as each model sees it, against the oracle.

From a reference run's last frame, each first-layer water (O within LAYER Å of a metal face) is
pushed alone and rigidly toward its face by δ = 0, 0.1, …, DMAX Å; the oracle's energy rise
ΔE(δ) = E(δ) − E(0) is the wall the model should reproduce. Thermal frames hold no O below
≈ 2.2 Å, so the larger pushes show what a model's data taught it about closer approach: the score is the median over waters of ΔE_model / ΔE_oracle at each δ (1 = the wall,
< 1 softer). Two steps, since the oracle (OpenMM) lives in the core environment and each model in
its own:

  .venvs/core/bin/python benchmarks/contact_wall.py frames REF_TRAJECTORY.nc ... -o wall.extxyz
  .venvs/<env>/bin/python benchmarks/contact_wall.py score wall.extxyz --backend B --model M [--label L] ...
      [--plot wall.png]

`frames` writes the pushed frames with the oracle's energy (info ``REF_energy``, eV), the water's
index and δ; `score` prints the table of medians per δ and, with --plot, draws ΔE(δ) per model
over the oracle's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

from edlbench.augment import first_layer
from edlbench.trajectory import read_frames


def pushed(path: Path, layer: float, deltas: np.ndarray) -> list[Atoms]:
    """Copies of the last frame of `path`, each with one first-layer water moved by one δ, oracle-labelled."""
    from edlbench.dataset import oracle_labelled

    last = read_frames(path, start=-1)
    atoms = Atoms(last.symbols, positions=last.positions[0], cell=last.cells[0], pbc=True)
    out = []
    waters = [(m, toward) for m, toward in first_layer(atoms, layer, ion="Na") if len(m) == 3]
    for k, (members, toward) in enumerate(waters):
        for d in deltas:
            a = atoms.copy()
            a.positions[members, 2] += toward * d
            a.info.update(source=f"{path.parent.name}", water=k, delta=float(d))
            out.append(a)
    return oracle_labelled(out, path, read_frames(path, stop=1).info)


def score(frames: list[Atoms], energies: np.ndarray) -> dict[float, tuple[float, float, float]]:
    """Per δ > 0: medians over waters of ΔE_oracle, ΔE_model (eV) and their ratio (frames of one water share `source`, `water`)."""
    keys = [(a.info["source"], a.info["water"]) for a in frames]
    rise, ref = {}, {}
    for key in dict.fromkeys(keys):
        rows = [i for i, k in enumerate(keys) if k == key]
        for i in rows[1:]:
            d = round(frames[i].info["delta"], 3)
            rise.setdefault(d, []).append(energies[i] - energies[rows[0]])
            ref.setdefault(d, []).append(frames[i].info["REF_energy"] - frames[rows[0]].info["REF_energy"])
    return {d: (float(np.median(ref[d])), float(np.median(rise[d])), float(np.median(np.divide(rise[d], ref[d])))) for d in rise}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="step", required=True)
    f = sub.add_parser("frames")
    f.add_argument("trajectories", nargs="+", type=Path)
    f.add_argument("--layer", type=float, default=3.0, help="first-layer bound, Å")
    f.add_argument("--dmax", type=float, default=1.0, help="largest push, Å")
    f.add_argument("-o", "--output", type=Path, default=Path("wall.extxyz"))
    s = sub.add_parser("score")
    s.add_argument("frames", type=Path)
    s.add_argument("--backend", action="append", required=True)
    s.add_argument("--model", action="append", required=True, type=Path)
    s.add_argument("--label", action="append")
    s.add_argument("--plot", type=Path)
    args = p.parse_args(argv)
    if args.step == "frames":
        deltas = np.round(np.arange(0.0, args.dmax + 1e-9, 0.1), 3)
        images = [a for path in args.trajectories for a in pushed(path, args.layer, deltas)]
        write(args.output, images, format="extxyz")
        print(f"{args.output}: {len(images)} frames, {len(images) // len(deltas)} waters × {len(deltas)} pushes")
        return
    from edlbench import backends

    frames = read(args.frames, ":")
    labels = args.label or [f"{b} {m}" for b, m in zip(args.backend, args.model)]
    table = {}
    for backend, model, label in zip(args.backend, args.model, labels):
        calc = backends.calculator(backend, backends.model_file(model), "cpu", "trained")
        energies = np.array([_energy(a, calc) for a in frames])
        table[label] = score(frames, energies)
    deltas = sorted(next(iter(table.values())))
    width = max(map(len, labels)) + 12
    print("δ (Å)".ljust(width) + "".join(f"{d:>7.1f}" for d in deltas))
    print("oracle ΔE (eV)".ljust(width) + "".join(f"{table[labels[0]][d][0]:7.2f}" for d in deltas))
    for label, rows in table.items():
        print(f"{label} ΔE (eV)".ljust(width) + "".join(f"{rows[d][1]:7.2f}" for d in deltas))
        print(f"{label} ΔE/oracle".ljust(width) + "".join(f"{rows[d][2]:7.2f}" for d in deltas))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.plot(deltas, [table[labels[0]][d][0] for d in deltas], "k-", lw=2.5, label="oracle")
        for label, rows in table.items():
            ax.plot(deltas, [rows[d][1] for d in deltas], "o--", label=label)
        ax.set(xlabel="push of one first-layer water toward the metal, δ (Å)", ylabel="median energy rise ΔE (eV)",
               title="The metal's repulsive wall")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=130)
        print(args.plot)


def _energy(atoms: Atoms, calc) -> float:
    atoms = atoms.copy()
    atoms.calc = calc
    return float(atoms.get_potential_energy())


if __name__ == "__main__":
    sys.exit(main())
