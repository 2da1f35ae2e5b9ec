"""MLIP backends behind one small interface, registered by name.

A backend is a module with two functions; its ML package is imported only inside them, so the
core installs and runs without any ML package:

- ``train(train, valid, config, workdir, seed) -> Path``: train with the package's own entry
  point on extxyz files labelled ``REF_energy`` (eV) / ``REF_forces`` (eV/Å); returns the model file.
- ``calculator(model, device) -> ase.calculators.calculator.Calculator``: the package's own ASE
  calculator for a trained model (energy eV, forces eV/Å) in the floating-point precision the model
  was trained in; `device` is "auto" (CUDA when a GPU is visible, else CPU), "cpu" or "cuda". A
  backend whose package can run a model in another precision (``castable``) also takes
  ``precision`` ("float32"/"float64"; ``md.precision`` sets it for MD).
- optionally ``gamma(model, device) -> Callable[[Atoms], ndarray]``: the package's own per-atom
  extrapolation grade γ of one model (dimensionless, 1 = edge of the training domain), for a backend
  whose spec names it (``gamma``), and ``gamma_file(model) -> Path``, the file it reads; every
  backend's committee gives the force spread.

``SPECS`` holds one :class:`BackendSpec` per backend: module, environment (``.venvs/<env>``,
``containers/<env>.def``), locality and receptive field, recorded packages, training command.
``edlbench train`` writes the model into a folder with a ``model.json`` manifest, so later steps
take the folder whatever the package's file format.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

from pydantic import Field

from edlbench.config import construct, settings
from edlbench.errors import InputError, brief
from edlbench.files import atomic_output
from edlbench.processes import popen


@dataclass(frozen=True)
class BackendSpec:
    """Everything the pipeline knows about one backend, read by the plan, the CLI, the report,
    provenance, the environment tests and the backend tests."""

    module: str  #: the backend module (its ML package is imported inside its functions only)
    env: str  #: environment it runs in: .venvs/<env>, containers/<env>.{lock,def}
    kind: str  #: locality, as the report groups models: "local" or "message passing" (+ detail)
    receptive_field: str  #: how it follows from the options (the module's ``receptive_field(config)`` gives Å)
    packages: tuple[str, ...]  #: distributions whose versions every output records
    trainer: str | None  #: the package's own training command (None: pretrained, no fitting)
    castable: bool = False  #: its calculator can run a model in another precision than it was trained in
    framework: str = "torch"  #: "torch" or "tensorflow": which one says whether a GPU is visible
    gamma: str | None = None  #: the package's own per-atom extrapolation grade γ, as the report names it (None: none)
    cpu_calculator: bool = False  #: its calculator runs on the CPU only (training may still use a GPU)
    serial: bool = False  #: its calculator runs in one thread: its MD task asks for one CPU

    @property
    def pretrained(self) -> bool:
        """Runs a user's checkpoint as it is: the training set is "pretrained" and the module's
        ``checkpoint_problem(path)`` says why a checkpoint is unusable."""
        return self.trainer is None


_DEEPMD = ("deepmd-kit", "torch")
_GRACE = ("tensorpotential", "python-ace", "tensorflow-cpu")
_GMM = "GMM γ (grace_uq)"
_MAXVOL = "MaxVol grade (pyace active set)"
_FAIRCHEM = ("fairchem-core", "torch")
#: backend name -> its spec
SPECS: dict[str, BackendSpec] = {
    "dp": BackendSpec("edlbench.backends.dp", "deepmd", "local", "r_c", _DEEPMD, "dp"),
    "dpmp": BackendSpec("edlbench.backends.dpmp", "deepmd", "message passing", "nlayers × e_rcut", _DEEPMD, "dp"),
    "dpsigma": BackendSpec("edlbench.backends.dpsigma", "deepmd", "local + σ input", "r_c", _DEEPMD, "dp"),
    "mace": BackendSpec("edlbench.backends.mace", "mace", "message passing", "num_interactions × r_max", ("mace-torch", "torch"), "mace_run_train", castable=True),
    "grace1l": BackendSpec("edlbench.backends.grace1l", "grace", "local", "r_c", _GRACE, "gracemaker", framework="tensorflow",
                           gamma=_GMM),
    "grace2l": BackendSpec("edlbench.backends.grace2l", "grace", "message passing", "2 × r_c", _GRACE, "gracemaker",
                           framework="tensorflow", gamma=_GMM),
    "gracefs": BackendSpec("edlbench.backends.gracefs", "grace", "local (Finnis–Sinclair ACE, C++ evaluator)", "r_c", _GRACE, "gracemaker",
                           framework="tensorflow", gamma=_MAXVOL, cpu_calculator=True, serial=True),
    "esen": BackendSpec("edlbench.backends.esen", "fairchem", "message passing", "num_layers × r_c", _FAIRCHEM, "fairchem", castable=True),
    "esen_oc25": BackendSpec("edlbench.backends.esen_oc25", "fairchem", "message passing (OC25, zero-shot)", "checkpoint's", _FAIRCHEM, None,
                             castable=True),
}


@settings
class PipelineOptions:
    """The keys of ``backends.<name>`` that the pipeline reads; the rest are the backend's own
    options, declared by its module as a settings class ``Options``."""

    committee: Annotated[int, Field(ge=1, le=64, description="number of seeds per training set")] = 1
    train_sets: Annotated[tuple[str, ...] | None, Field(min_length=1, description="training sets to train on (default: all)")] = None
    enabled: Annotated[bool, Field(description="false keeps a backend's settings in the file without running it")] = True
    cross_charge_md: Annotated[bool, Field(description="false runs a single-charge model's MD at its own charge only; "
                                                       "its forces are still tested at every charge")] = True


PIPELINE_KEYS = tuple(PipelineOptions.__dataclass_fields__)


def options(config: dict | None) -> dict:
    """The backend's own training options: `config` without the pipeline's keys."""
    return {k: v for k, v in (config or {}).items() if k not in PIPELINE_KEYS}


def check_options(name: str, config: Any, where: str) -> PipelineOptions:
    """Validate ``backends.<name>`` of the params file (pipeline keys and the backend's own
    ``Options``); returns the pipeline keys. One InputError line names the key and the problem."""
    section = f"backends.{name}"
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InputError(f"{where}: {section} must be a mapping of options, got {type(config).__name__}")
    pipeline = construct(PipelineOptions, {k: v for k, v in config.items() if k in PIPELINE_KEYS}, where, section)
    construct(get(name).Options, options(config), where, section)
    return pipeline


def merge(base: dict, override: dict) -> dict:
    """`base` with `override` merged in recursively (override wins; lists are replaced)."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def get(name: str) -> ModuleType:
    """The backend module `name`, or a one-line error listing the known ones."""
    if name not in SPECS:
        raise InputError(f"unknown backend {name!r} (known: {', '.join(SPECS)})")
    spec = SPECS[name]
    try:
        return importlib.import_module(spec.module)
    except ImportError as exc:
        raise InputError(f"backend {name!r} needs the '{spec.env}' environment (.venvs/{spec.env}, make envs): {exc}") from None


def run_logged(what: str, args: list[str], log: Path, cwd: Path, env: dict | None = None,
               output: Path | None = None) -> None:
    """Run a package's own command (its training entry point) with stdout and stderr appended to
    `log`, showing elapsed time and the command's latest output line; a non-zero exit, or a
    missing `output` afterwards, is a one-line InputError naming `what` and the log."""
    from tqdm import tqdm

    with open(log, "a") as out, tqdm(desc=what, unit=" log lines", mininterval=2) as bar:
        proc = popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                text=True, errors="replace")
        for line in proc.stdout:
            out.write(line)
            if line.strip():
                bar.set_postfix_str(line.strip()[-80:], refresh=False)
            bar.update()
        code = proc.wait()
    if code != 0 or (output is not None and not Path(output).exists()):
        tail = Path(log).read_text().strip().splitlines()[-1:]
        raise InputError(f"{what} failed (exit {code}; see {log}): {' '.join(tail)}")


def calculator(name: str, model: Path, device: str = "auto", precision: str = "trained"):
    """The ASE calculator of backend `name` for a trained `model` (folder or file), in the precision
    the model was trained in, or in `precision` ("float32"/"float64") where the backend is
    castable (elsewhere the model runs as trained); a missing ML package or an unreadable model is
    one InputError line."""
    backend, path = get(name), model_file(model)
    env = SPECS[name].env
    cast = {"precision": precision} if precision != "trained" and SPECS[name].castable else {}
    device = resolve_device(name, device)
    try:
        return backend.calculator(path, device, **cast)
    except ImportError as exc:
        raise InputError(f"backend {name!r} needs the '{env}' environment (.venvs/{env}, make envs): {exc}") from None
    except InputError:
        raise
    except Exception as exc:  # the packages raise many types for a file they cannot load
        raise InputError(f"{path}: {name} cannot load this model ({brief(exc)})") from None


def gamma(name: str, model: Path, device: str = "auto"):
    """Backend `name`'s per-atom γ of a trained `model` (a function of ase.Atoms), or a one-line
    InputError for a backend without one."""
    if SPECS[name].gamma is None:
        raise InputError(f"backend {name!r} has no per-atom uncertainty of its own (a committee of two or more models gives the force spread)")
    env = SPECS[name].env
    try:
        return get(name).gamma(model_file(model), resolve_device(name, device))
    except ImportError as exc:
        raise InputError(f"backend {name!r} needs the '{env}' environment (.venvs/{env}, make envs): {exc}") from None


def resolve_device(name: str, device: str, calculator: bool = True) -> str:
    """The device backend `name` runs on (its `calculator`, else its training): "cuda" if asked for
    or ("auto") visible to its framework, else "cpu"; "cuda" asked for with no GPU visible, or for
    a CPU-only calculator, is one InputError line (never a silent CPU run)."""
    if device == "cpu":
        return device
    spec = SPECS[name]
    if calculator and spec.cpu_calculator:
        if device == "cuda":
            raise InputError(f"--device cuda: backend {name!r} evaluates its model on the CPU only (its package has no GPU path); "
                             "use --device cpu or auto")
        return "cpu"
    try:
        if spec.framework == "tensorflow":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import tensorflow as tf

            visible = bool(tf.config.list_physical_devices("GPU"))
        else:
            import torch

            visible = torch.cuda.is_available()
    except ImportError as exc:
        raise InputError(f"backend {name!r} needs the '{spec.env}' environment (.venvs/{spec.env}, make envs): {exc}") from None
    if device == "cuda" and not visible:
        raise InputError(f"--device cuda: {spec.framework} sees no GPU here (no GPU on this node, no --nv for Apptainer, "
                         f"or a CPU build in the '{spec.env}' environment)")
    return "cuda" if visible else "cpu"


def torch_device(device: str = "auto") -> str:
    """Resolve "auto" to "cuda" when PyTorch sees a GPU, else "cpu"; other values pass through."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def write_manifest(folder: Path, backend: str, train_set: str, seed: int, model: Path, device: str) -> Path:
    """Record a trained model in `folder`/model.json (file name relative to the folder; the device it trained on)."""
    manifest = Path(folder) / "model.json"
    relative = Path(os.path.abspath(model)).relative_to(os.path.abspath(folder))  # a link stays a link
    with atomic_output(manifest) as tmp:  # written last: a folder without it is an unfinished training
        tmp.write_text(json.dumps({"backend": backend, "train_set": train_set, "seed": seed, "model": str(relative), "device": device}))
    return manifest


def model_file(path: Path) -> Path:
    """The model itself, given the model (a file, or a TensorFlow SavedModel folder) or a training
    folder with model.json."""
    path = Path(path)
    if path.is_dir() and not (path / "saved_model.pb").is_file():
        manifest = path / "model.json"
        if not manifest.is_file():
            raise InputError(f"{path}: a model folder needs the model.json written by `edlbench train` (unfinished training?)")
        try:
            path = path / json.loads(manifest.read_text())["model"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(f"{manifest}: damaged manifest (JSON with a 'model' entry expected)") from None
    if not path.exists():
        raise InputError(f"{path}: no such model file")
    return path
