"""DeePMD-kit (PyTorch backend), shared by the `dp`, `dpmp` and `dpsigma` backends.

Training data are converted with dpdata (ASE frames labelled with REF_energy/REF_forces →
``deepmd/npy``, one system per composition); training is deepmd-kit's own ``dp --pt train``
followed by ``dp --pt freeze`` and, for descriptors that support it (:data:`COMPRESSIBLE`; se_e2_a of dp
and dpsigma), deepmd's model compression ``dp --pt compress`` (the embedding nets tabulated as
fifth-order piecewise polynomials, step 0.01: forces within 1e-6 eV/Å of the frozen model and
about twice as fast on a CPU, benchmarks/RESULTS.md); MD, evaluation and the committee spread then
use the compressed model through deepmd's ASE calculator ``deepmd.calculator.DP``. A training
that finds deepmd's checkpoint in its folder (a killed run's, written every ``training.save_freq``
steps) continues from it with ``dp --pt train --restart``: step, learning rate and optimiser state.

The training input is deepmd's ``input.json``: a backend's defaults (its descriptor), deep-merged
with ``backends.<name>`` from the params file, whose keys mirror input.json (``model``,
``learning_rate``, ``loss``, ``training``; the pipeline's own keys are removed first). Units: Å, eV.

With ``sigma_input`` the surface charge σ (µC/cm², from the cell's counter-ions and lateral area)
is a frame parameter: deepmd's ``numb_fparam = 1`` feeds it to the fitting network of every atom,
``fparam.npy`` carries it in the training data, and the calculator sets ``atoms.info["fparam"]``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from edlbench.backends import merge, run_logged
from edlbench.config import settings
from edlbench.processes import executable

Section = Annotated[dict[str, Any] | None, Field(description="deep-merged into the same section of deepmd's input.json")]


@settings
class Options:
    """``backends.<dp|dpmp|dpsigma>``: sections of deepmd's input.json (their contents are checked by
    deepmd's own argument checker when ``dp --pt train`` starts)."""

    model: Section = None
    learning_rate: Section = None
    loss: Section = None
    training: Section = None

#: input.json common to dp and dpmp; the descriptor comes from the backend module.
BASE = {
    "model": {"fitting_net": {"neuron": [120, 120, 120], "resnet_dt": True, "precision": "float64"}},
    "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-5, "decay_steps": 100},
    "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1.0, "start_pref_f": 1000.0, "limit_pref_f": 1.0,
             "start_pref_v": 0.0, "limit_pref_v": 0.0},
    "training": {"numb_steps": 1000, "disp_freq": 50, "save_freq": 1000, "training_data": {"batch_size": "auto"},
                 "validation_data": {"batch_size": 1, "numb_btch": 2}},
}

#: deepmd's link to its latest checkpoint (``training.save_ckpt`` + ".pt", written every ``save_freq`` steps)
CHECKPOINT = "model.ckpt.pt"

#: descriptors whose embedding nets `dp --pt compress` tabulates (deepmd's model-compression docs)
COMPRESSIBLE = frozenset({"se_e2_a", "se_e2_r", "se_e3"})


def to_deepmd_npy(extxyz: Path, outdir: Path, type_map: list[str]) -> list[Path]:
    """Write an extxyz data set as deepmd/npy systems (one per composition) with dpdata."""
    import dpdata

    from edlbench.dataset import read_as_calculator_results

    systems = [dpdata.LabeledSystem(atoms, fmt="ase/structure", type_map=type_map) for atoms in read_as_calculator_results(extxyz)]
    multi = dpdata.MultiSystems(*systems, type_map=type_map)
    multi.to_deepmd_npy(str(outdir))
    return sorted(p for p in outdir.iterdir() if p.is_dir())


def write_sigma_fparam(system: Path) -> None:
    """Add fparam.npy (σ in µC/cm² per frame) to every set of a deepmd/npy system."""
    from edlbench.geometry import cell_surface_charge

    type_map = (system / "type_map.raw").read_text().split()
    symbols = [type_map[int(t)] for t in (system / "type.raw").read_text().split()]
    for frames in system.glob("set.*"):
        boxes = np.load(frames / "box.npy").reshape(-1, 3, 3)
        np.save(frames / "fparam.npy", np.array([[cell_surface_charge(symbols, box)] for box in boxes]))


def _elements(*paths: Path) -> list[str]:
    from ase.io import iread

    return sorted({s for p in paths for a in iread(p, ":") for s in a.get_chemical_symbols()})


def _run(args: list[str], log: Path, cwd: Path, what: str) -> None:
    env = {**os.environ, "DP_INTER_OP_PARALLELISM_THREADS": os.environ.get("DP_INTER_OP_PARALLELISM_THREADS", "1")}
    run_logged(f"deepmd: {what}", args, log, cwd, env)


def receptive_field(descriptor: dict, config: dict) -> float:
    """Receptive field (Å) of `descriptor` under the ``model.descriptor`` of `config`: r_c, or
    nlayers × e_rcut for DPA-3's RepFlow message passing."""
    d = merge(descriptor, config.get("model", {}).get("descriptor", {}))
    return float(d["repflow"]["nlayers"] * d["repflow"]["e_rcut"]) if "repflow" in d else float(d["rcut"])


def train(name: str, descriptor: dict, train: Path, valid: Path, config: dict, workdir: Path, seed: int,
          sigma_input: bool = False) -> Path:
    """`dp --pt train` + `dp --pt freeze` (+ `dp --pt compress` for a descriptor in :data:`COMPRESSIBLE`);
    returns `<workdir>/<name>_seed<seed>.pth` (compressed: `<name>_seed<seed>_compressed.pth`, beside it)."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    type_map = _elements(train, valid)
    jdata = merge(merge(BASE, {"model": {"descriptor": descriptor}}), config)
    jdata["model"]["type_map"] = type_map
    jdata["model"]["descriptor"]["seed"] = jdata["model"]["fitting_net"]["seed"] = jdata["training"]["seed"] = seed
    for key, data in (("training_data", train), ("validation_data", valid)):
        systems = to_deepmd_npy(Path(data), workdir / "data" / key, type_map)
        if sigma_input:
            for system in systems:
                write_sigma_fparam(system)
        jdata["training"][key]["systems"] = [str(p) for p in systems]
    if sigma_input:
        jdata["model"]["fitting_net"]["numb_fparam"] = 1
    (workdir / "input.json").write_text(json.dumps(jdata, indent=2))
    log = workdir / "train.log"
    log.write_text("")
    dp = executable("dp", "the 'deepmd' environment: make envs")
    resume = ["--restart", CHECKPOINT] if (workdir / CHECKPOINT).exists() else []  # a killed training's latest save_freq checkpoint
    _run([dp, "--pt", "train", "input.json", *resume], log, workdir, "training" + (" (resumed)" if resume else ""))
    model = workdir / f"{name}_seed{seed}.pth"
    _run([dp, "--pt", "freeze", "-o", model.name], log, workdir, "freezing")
    if jdata["model"]["descriptor"]["type"] not in COMPRESSIBLE:
        return model
    compressed = model.with_name(f"{model.stem}_compressed.pth")
    _run([dp, "--pt", "compress", "-i", model.name, "-o", compressed.name], log, workdir, "compressing")
    return compressed


def select_device(device: str) -> None:
    """deepmd picks its device when first imported: "cpu" forces the CPU; "auto"/"cuda" use CUDA if present."""
    if device == "cpu":
        os.environ["DEVICE"] = "cpu"


def calculator(model: Path, device: str = "auto"):
    """deepmd's ASE calculator for a frozen .pth model."""
    select_device(device)
    from deepmd.calculator import DP

    return DP(model=str(model))
