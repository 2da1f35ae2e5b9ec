"""GRACE (tensorpotential): graph atomic cluster expansion, shared by `grace1l` and `grace2l`.

Training is tensorpotential's own ``gracemaker`` on an ``input.yaml`` made of :data:`BASE`, the
backend's preset (``GRACE_1LAYER_latest``: one ACE layer, local, receptive field = cutoff;
``GRACE_2LAYER_latest``: two layers, message passing, receptive field 2 × cutoff), and
``backends.<name>`` from the params file deep-merged over them (its keys mirror input.yaml:
``cutoff``, ``potential.kwargs``, ``fit``, …). gracemaker reads labels from extxyz calculator
results, so the REF labels are moved there first. The model is the TensorFlow SavedModel
``seed/<seed>/final_model``; MD and evaluation use tensorpotential's ``TPCalculator``. Units: Å, eV.
A training folder that already holds gracemaker's checkpoint (a killed task retried with
``--restart-dir``) continues from it with ``gracemaker --restart-latest``, which restores the epoch.

Uncertainty without a committee: after training, tensorpotential's ``grace_uq build`` fits a
Gaussian mixture to the model's descriptors of the exact training split gracemaker saved
(``seed/<seed>/training_set.pkl.gz``) and exports ``seed/<seed>/uq/saved_model``, the model with a
γ signature. :func:`gamma` evaluates it: per atom, a Mahalanobis distance in that mixture, scaled
per cluster so that γ = 1 sits at the training atoms' robust outlier fence (median +
3 × 1.4826 × MAD); on the CI-size model 2 % of training atoms lie above 1 and none above 2
(RESULTS.md). An element with fewer atoms than the descriptor has dimensions (Na⁺ in small data
sets) gets one cluster, regularised, and the element-wide threshold. ``gamma: false`` skips the
build (≈ 100 s on 2 cores at CI size).

The local environment carries a CPU build of TensorFlow (containers/grace.in); the hpc profile's
``grace-cuda`` image the CUDA build of the same version. TensorFlow places the model on a visible
GPU itself, so ``device`` is only checked (:func:`edlbench.backends.resolve_device`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from ase import Atoms
from pydantic import Field

from edlbench.backends import merge, run_logged
from edlbench.config import settings
from edlbench.errors import InputError, brief
from edlbench.processes import executable

Section = Annotated[dict[str, Any] | None, Field(description="deep-merged into the same section of gracemaker's input.yaml")]


@settings
class Options:
    """``backends.<grace1l|grace2l>``: gracemaker input.yaml keys (section contents are checked by
    gracemaker when it starts)."""

    cutoff: Annotated[float | None, Field(gt=0, le=15, description="radial cutoff, Å")] = None
    potential: Section = None
    fit: Section = None
    data: Section = None
    gamma: Annotated[bool, Field(description="build grace_uq's γ model after training (uncertainty without a committee)")] = True

#: gracemaker's latest checkpoint in ``seed/<seed>/``, written every ``fit.checkpoint_freq`` epochs
CHECKPOINT = "checkpoints/checkpoint.index"
#: the model with grace_uq's γ signature, beside ``final_model`` in ``seed/<seed>/``
GAMMA_MODEL = "uq/saved_model"
#: the GRACE-FS model gracemaker exports (``--save--fs``) beside ``final_model``; its active set ``FS_model.asi``
FS_MODEL = "FS_model.yaml"

#: input.yaml defaults (a small Adam fit); the preset, data files and seed are set per run.
BASE = {
    "cutoff": 5.0,
    # total energies in, total energies out: reference_energy 0 trains on REF_energy itself and
    # potential.shift fits per-element E0s on the training set into the model (its atomic shift map,
    # E0 in the FS export). reference_energy "auto" would subtract fitted E0s from the labels and
    # leave them out of the model: its energies were 0.5 eV/atom off the reference (RESULTS.md).
    "data": {"reference_energy": 0, "save_dataset": True},  # training_set.pkl.gz: grace_uq's input
    "potential": {"kwargs": {}, "scale": True, "shift": True, "param_dtype": "float64"},
    "fit": {
        "loss": {"energy": {"weight": 1.0, "type": "huber", "delta": 0.01},
                 "forces": {"weight": 5.0, "type": "huber", "delta": 0.01}},
        "maxiter": 100,
        "optimizer": "Adam",
        "opt_params": {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.99, "weight_decay": None, "clipnorm": 1.0},
        "scheduler": "cosine_decay",
        "scheduler_params": {"minimum_learning_rate": 0.001},
        "batch_size": 4,
        "test_batch_size": 4,
        "jit_compile": True,
        "checkpoint_freq": 10,
        "progressbar": False,
    },
}



def receptive_field(config: dict, layers: int = 1) -> float:
    """layers × cutoff (Å) of `config` over :data:`BASE`."""
    return float(layers * merge(BASE, config)["cutoff"])


def train(preset: str, train: Path, valid: Path, config: dict, workdir: Path, seed: int, fs: bool = False) -> Path:
    """gracemaker on `train`/`valid` with `preset`, then (unless ``gamma: false``) the γ model:
    grace_uq's, or with `fs` pyace's active set of the exported GRACE-FS model; returns the
    SavedModel folder, or with `fs` the FS model (YAML)."""
    from ase.io import write

    from edlbench.dataset import read_as_calculator_results

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for name, src in (("train", train), ("valid", valid)):
        write(workdir / f"{name}.extxyz", read_as_calculator_results(src), format="extxyz")
    config = dict(config)
    build_gamma = config.pop("gamma", True)
    run = {"seed": seed, "potential": {"preset": preset}, "data": {"filename": "train.extxyz", "test_filename": "valid.extxyz"}}
    (workdir / "input.yaml").write_text(yaml.safe_dump(merge(merge(BASE, run), config), sort_keys=False))
    log = workdir / "train.log"
    folder = workdir / "seed" / str(seed)
    model = folder / (FS_MODEL if fs else "final_model")
    resume = ["--restart-latest"] if (folder / CHECKPOINT).exists() else []  # a killed training's latest checkpoint
    export = ["--save--fs"] if fs else []  # FS_model.yaml beside final_model, for pyace's C++ evaluator
    run_logged("grace: training", [executable("gracemaker", "the 'grace' environment: make envs"), "input.yaml", *resume, *export], log, workdir,
               output=model if fs else model / "saved_model.pb")
    if build_gamma and fs:
        active_set(model, folder / "training_set.pkl.gz", log)
    elif build_gamma:
        threads = os.environ.get("OMP_NUM_THREADS", "auto")  # edlbench --threads: the task's share of the node
        run_logged("grace: γ model", [executable("grace_uq", "the 'grace' environment: make envs"), "build", "--n-workers", "1",
                                     "--threads-per-worker", threads, "--artifact-path", "uq/gmm_artifacts.npz"],
                   log, folder, output=folder / GAMMA_MODEL / "saved_model.pb")
    return model


def active_set(model: Path, data: Path, log: Path) -> Path:
    """pyace's MaxVol active set of a GRACE-FS `model` over every atom of `data` (gracemaker's saved
    training split), ``<model>.asi`` beside it. An element with fewer atoms than the basis has
    functions per element (Na⁺ in a small data set) leaves the set under-determined: one
    InputError line saying so."""
    asi = model.with_suffix(".asi")
    try:  # --all-atoms: the training domain is every training atom (by default pyace drops badly fitted ones)
        run_logged("grace: active set", [executable("pace_activeset", "the 'grace' environment: make envs"), model.name,
                                         "--dataset", str(data), "--all-atoms"], log, model.parent, output=asi)
    except InputError:
        shape = re.search(r"species type (\d+), system is under-determined, projections shape=\((\d+), (\d+)\)", Path(log).read_text())
        if shape is None:
            raise
        element = yaml.safe_load(model.read_text())["elements"][int(shape[1])]
        raise InputError(f"{model}: the active set needs as many {element} atoms as the basis has functions per element "
                         f"({shape[3]}), the training set holds {shape[2]}: add frames, shrink potential.kwargs "
                         "(lmax, n_rad_max) or set gamma: false") from None
    return asi


def calculator(model: Path, device: str = "auto"):
    """tensorpotential's ASE calculator for a SavedModel folder."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow C++ info lines
    from tensorpotential.calculator import TPCalculator

    return TPCalculator(model=str(model))


def gamma(model: Path, device: str = "auto") -> Callable[[Atoms], np.ndarray]:
    """Per-atom γ (dimensionless; 1 = the training atoms' outlier fence) of structures, from the γ
    model grace_uq exported beside `model`; a missing or unreadable one is one InputError line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tensorpotential.calculator import TPCalculator

    path = Path(model).parent / GAMMA_MODEL
    if not gamma_file(model).is_file():
        raise InputError(f"{path}: no γ model beside {model} (trained with gamma: false, or the training was interrupted)")
    try:
        calc = TPCalculator(model=str(path))
        calc.enable_uq("gamma_only")
    except Exception as exc:  # TensorFlow raises many types for a damaged SavedModel
        raise InputError(f"{path}: cannot load the γ model ({brief(exc)})") from None
    return per_atom_gamma(calc)


def per_atom_gamma(calc) -> Callable[[Atoms], np.ndarray]:
    """Structures → the per-atom γ that `calc` (a GRACE calculator with γ enabled) puts in its results."""

    def per_atom(atoms: Atoms) -> np.ndarray:
        atoms = atoms.copy()
        atoms.calc = calc
        atoms.get_potential_energy()
        return np.asarray(calc.results["gamma"], float)

    return per_atom


def gamma_file(model: Path) -> Path:
    """The file of the γ model :func:`gamma` loads."""
    return Path(model).parent / GAMMA_MODEL / "saved_model.pb"
