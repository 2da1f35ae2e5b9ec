"""Restart points of an MD run, so a run killed by a walltime limit continues instead of starting over,
and the keys of the folders in which MD runs and trainings keep their restart points.

A restart point holds what the next steps depend on, in float64: positions, momenta, the random
generator's state (Langevin noise), the Nosé–Hoover chain's thermostat variables, the step and the
number of frames written. It is written atomically every ``restart_interval`` steps beside the
trajectory and carries the run's key (a hash of everything that defines the run: model file,
start structure, settings), so a changed run never continues a stale one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from ase import Atoms

from edlbench.files import atomic_output


def _update_with_files(digest, path: Path) -> None:
    """Feed the bytes of `path` (every file of a folder, with its relative name) into `digest`."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)


def files_key(files: list[Path], settings: dict) -> str:
    """A 16-hex-digit key of a run defined by input files (their bytes) and settings: a training's
    data sets and options, so that a retried training resumes only its own checkpoints."""
    digest = hashlib.sha256()
    for path in files:
        _update_with_files(digest, path)
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def run_key(model: Path, start: Atoms, settings: dict) -> str:
    """A 16-hex-digit key of an MD run: its model's bytes (every file of a model folder), start
    positions, cell and atoms, and its settings."""
    digest = hashlib.sha256()
    _update_with_files(digest, model)
    digest.update(np.ascontiguousarray(start.numbers, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(start.positions, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(start.cell.array, dtype=np.float64).tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def save(path: Path, key: str, step: int, n_frames: int, atoms: Atoms, rng: np.random.Generator, dyn) -> None:
    """Write the restart point of `dyn` (ASE Langevin or NoseHooverChainNVT) after `step`."""
    thermostat = getattr(dyn, "_thermostat", None)  # NoseHooverChainNVT's chain (ASE keeps it private)
    extra = {"eta": thermostat._eta, "p_eta": thermostat._p_eta} if thermostat is not None else {}
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, key=key, step=step, n_frames=n_frames, positions=atoms.positions, momenta=atoms.get_momenta(),
                 rng=json.dumps(rng.bit_generator.state), **extra)


def load(path: Path, key: str) -> dict | None:
    """The restart point at `path` if it belongs to the run `key`, else None (no file, another
    run's, or damaged: the run starts over)."""
    try:
        with np.load(path) as f:
            state = {name: f[name] for name in f.files}
    except (OSError, ValueError, EOFError):
        return None
    if str(state.get("key")) != key:
        return None
    state["rng"] = json.loads(str(state["rng"]))
    state["step"], state["n_frames"] = int(state["step"]), int(state["n_frames"])
    return state


def restore(state: dict, atoms: Atoms, rng: np.random.Generator) -> None:
    """Put a restart point's positions, momenta and generator state back (before the dynamics is made)."""
    atoms.positions = state["positions"]
    atoms.set_momenta(state["momenta"])
    rng.bit_generator.state = state["rng"]


def restore_thermostat(state: dict, dyn) -> None:
    """Put the Nosé–Hoover chain variables back into a freshly made `dyn` (Langevin has none)."""
    if "eta" in state:
        dyn._thermostat._eta[:] = state["eta"]
        dyn._thermostat._p_eta[:] = state["p_eta"]
