"""GRACE-FS: the Finnis–Sinclair member of the GRACE family (ACE-like, one layer, strictly local:
receptive field = cutoff, 6 Å by default), trained with tensorpotential's ``gracemaker`` (preset
``FS``; see :mod:`edlbench.backends.grace` for the options) and exported with ``--save--fs`` to a
YAML model that python-ace evaluates natively in C++ (``pyace.asecalc.PyGRACEFSCalculator``; LAMMPS
runs the same file as ``pair_style grace/fs``). MD and evaluation use that evaluator, on the CPU:
it has no GPU path (training, TensorFlow's, does use a visible GPU). Units: Å, eV.

Uncertainty without a committee: after training, pyace's ``pace_activeset`` selects by MaxVol,
per element, the training atoms whose descriptor projections span the largest volume, and stores
the inverted set as ``FS_model.asi``. The extrapolation grade γ of an atom is then the largest
|coefficient| of its projection in that basis: γ ≤ 1 inside the convex hull of the active set
(every training atom, by construction, up to MaxVol's 1 % tolerance), γ > 1 outside it. pyace's
5 / 25 (its LAMMPS example's dump / halt thresholds) are not calibrated bounds. The set needs, per
element, at least as many atoms as the basis has functions per element: the test preset's 28 fit
the CI data's 34 Na⁺ (two per n2 frame); too few is one InputError line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms

from edlbench.backends import grace, merge
from edlbench.errors import InputError, brief

PRESET = "FS"
Options = grace.Options
#: the basis of tensorpotential's FS preset "small" (its settings), cutoff 6 Å (the function's default)
DEFAULTS = {"cutoff": 6.0, "potential": {"kwargs": {"max_order": 3, "lmax": [5, 5, 4], "n_rad_max": [20, 15, 10], "embedding_size": 32,
                                                    "fs_parameters": [[1.0, 1.0], [1.0, 0.5]]}}}


def receptive_field(config: dict) -> float:
    return grace.receptive_field(merge(DEFAULTS, config))


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    return grace.train(PRESET, train, valid, merge(DEFAULTS, config), workdir, seed, fs=True)


def calculator(model: Path, device: str = "cpu"):
    """pyace's C++ calculator for an FS model (YAML); float64, CPU."""
    from pyace.asecalc import PyGRACEFSCalculator

    return PyGRACEFSCalculator(str(model))


def gamma(model: Path, device: str = "cpu") -> Callable[[Atoms], np.ndarray]:
    """Per-atom MaxVol extrapolation grade (dimensionless; ≤ 1 inside the active set's hull) of
    structures, from the active set beside `model`; a missing or unreadable one is one InputError line."""
    from pyace.asecalc import PyGRACEFSCalculator

    asi = Path(model).with_suffix(".asi")
    if not asi.is_file():
        raise InputError(f"{asi}: no γ model (active set) beside {model} (trained with gamma: false, or the training was interrupted)")
    calc = PyGRACEFSCalculator(str(model))
    try:
        calc.set_active_set(str(asi))
    except (RuntimeError, ValueError) as exc:  # pyace's C++ reader of the .asi (a NumPy zip)
        raise InputError(f"{asi}: cannot load the γ model ({brief(exc)})") from None
    return grace.per_atom_gamma(calc)


def gamma_file(model: Path) -> Path:
    """The file :func:`gamma` reads."""
    return Path(model).with_suffix(".asi")
