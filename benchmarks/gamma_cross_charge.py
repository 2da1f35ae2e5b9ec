"""Does a model's own γ see a charge state it was not trained on? (issue 19, point 3)

Evaluates a trained model's per-atom γ (``edlbench.backends.gamma``: GRACE's grace_uq GMM γ) on
labelled frames of several charge states and prints, per file, the frame mean of the maximum γ,
the fraction of atoms above 1 (the training atoms' outlier fence), and the maximum γ per element,
each frame mean with its standard error over frames. The model's own training charge is the
in-domain baseline; a γ built on local descriptors need not rise elsewhere, so this is a
measurement, not a test.
Usage: python benchmarks/gamma_cross_charge.py --backend grace1l --model MODEL --frames test/n0.extxyz test/n2.extxyz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase.io import read

from edlbench import backends


def mean_sem(values: np.ndarray) -> str:
    """Mean ± standard error over frames (frames 80 fs apart, taken as independent)."""
    return f"{values.mean():.3f} ± {values.std(ddof=1) / np.sqrt(len(values)):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", required=True)
    ap.add_argument("--model", type=Path, required=True, help="training folder (model.json) or the model")
    ap.add_argument("--frames", type=Path, nargs="+", required=True, help="extxyz files, one per charge state")
    args = ap.parse_args()
    gamma = backends.gamma(args.backend, args.model, "cpu")
    print(f"{'frames':<28} {'n':>3} {'max γ (frame mean)':>20} {'fraction γ > 1':>18}  max γ per element")
    for path in args.frames:
        frames = read(path, ":")
        values = [gamma(atoms) for atoms in frames]
        symbols = np.array(frames[0].get_chemical_symbols())
        per_element = {el: mean_sem(np.array([g[symbols == el].max() for g in values])) for el in sorted(set(symbols))}
        print(f"{str(path):<28} {len(frames):>3} {mean_sem(np.array([g.max() for g in values])):>20} "
              f"{mean_sem(np.array([(g > 1).mean() for g in values])):>18}  "
              + ", ".join(f"{el} {v}" for el, v in per_element.items()))


if __name__ == "__main__":
    main()
