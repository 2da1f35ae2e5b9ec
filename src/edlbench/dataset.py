"""Labelled data sets of the study: per-charge train/valid/test splits, the `mixed` set, a manifest.

Frames are taken every ``stride`` frames of each charge state's trajectory (decorrelation),
labelled with the oracle unless they already carry labels (imported DFT data), shuffled with
``seed`` and split into train/valid/test. Training sets: ``n{k}`` (one charge state) and
``mixed`` (every charge state; with ``mixed_equal_size`` it draws an equal share from each
state so that it is no larger than a single-charge set, the study's fair comparison). Test
sets are per charge state. Labels are stored under explicit keys, ``REF_energy`` (eV, info)
and ``REF_forces`` (eV/Å, arrays), so no package silently reads its own default keys. With
``contact_fraction`` > 0 each charge state's training split also holds oracle-labelled
close-contact copies of its frames (:mod:`edlbench.augment`); validation and test hold none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import numpy as np
from ase import Atoms
from ase.io import write
from pydantic import Field
from tqdm import tqdm

from edlbench.augment import contact_frames
from edlbench.config import Seed, Stride, settings
from edlbench.errors import InputError
from edlbench.files import atomic_output
from edlbench.geometry import IONS, lateral_area, surface_charge
from edlbench.trajectory import read_frames
from edlbench.units import Units, consistency_problem, to_ev, unit_problem

ENERGY_KEY, FORCES_KEY = "REF_energy", "REF_forces"


@settings
class DatasetConfig:
    """Frame stride, split fractions, mixed-set sizing, seed; units of pre-labelled frames."""

    stride: Stride = 1
    valid_fraction: Annotated[float, Field(gt=0, lt=1, description="share of frames for validation")] = 0.1
    test_fraction: Annotated[float, Field(gt=0, lt=1, description="share of frames for testing")] = 0.2
    mixed_equal_size: Annotated[bool, Field(description="mixed set no larger than a single-charge set")] = True
    seed: Seed = 0
    ion: Annotated[str, Field(description="counter-ion element")] = "Na"
    units: Annotated[Units, Field(description="units of labels already in the frames (imported data): auto = eV, checked")] = "auto"
    contact_fraction: Annotated[float, Field(ge=0, le=1, description="share of each charge state's training frames added again "
                                             "as oracle-labelled close-contact copies (edlbench.augment); 0 = none")] = 0.0
    contact_push: Annotated[float, Field(gt=0, le=1.5, description="largest push of a first-layer molecule toward the metal, Å")] = 0.5
    contact_layer: Annotated[float, Field(gt=0, description="molecules within this height of a metal face are pushed, Å")] = 3.5

    def __post_init__(self) -> None:
        if self.valid_fraction + self.test_fraction >= 1:
            raise ValueError(f"valid_fraction={self.valid_fraction} + test_fraction={self.test_fraction} must be < 1")
        if self.ion not in IONS:
            raise ValueError(f"ion={self.ion!r} is not a known counter-ion ({', '.join(sorted(IONS))})")


def labelled_frames(path: Path, cfg: DatasetConfig) -> list[Atoms]:
    """Every `stride`-th frame of `path` with REF labels (kept if present, else from the oracle)."""
    frames = read_frames(path, stride=cfg.stride)
    if frames.info.get("status") == "unstable":
        raise InputError(f"{path}: the run ended unstable at step {frames.info.get('status_step')} ({frames.info.get('reason')}); "
                         f"a broken run cannot be a reference")
    images = []
    for k, (pos, cell) in enumerate(zip(frames.positions, frames.cells)):
        atoms = Atoms(frames.symbols, positions=pos, cell=cell, pbc=True)
        atoms.info.update(source=f"{path.name}:{k * cfg.stride}", ion=cfg.ion)
        images.append(atoms)
    if frames.labels is not None:
        for k, (atoms, (energy, forces)) in enumerate(zip(images, frames.labels)):
            energy, forces = to_ev(energy, forces, cfg.units)
            if cfg.units == "auto" and (problem := unit_problem(energy, forces, len(atoms))):
                raise InputError(f"{path}: frame {k * cfg.stride}: {problem}")
            atoms.info.update({ENERGY_KEY: energy, "reference": "imported"})
            atoms.arrays[FORCES_KEY] = forces
        return images
    return oracle_labelled(images, path, frames.info)


def oracle_labelled(images: list[Atoms], path: Path, info: dict) -> list[Atoms]:
    """`images` labelled in place by the oracle with the force field that the run `path` (run info
    `info`) recorded."""
    from edlbench.reference.oracle import OracleCalculator, force_field_of

    calc = OracleCalculator(where=str(path), **force_field_of(info))
    for atoms in tqdm(images, desc=f"label {path.name}", unit="frame", mininterval=2):
        atoms.info["reference"] = "classical-oracle"
        atoms.info[ENERGY_KEY] = calc.get_potential_energy(atoms)
        atoms.arrays[FORCES_KEY] = calc.get_forces(atoms)
    return images


def read_as_calculator_results(path: Path) -> list[Atoms]:
    """Frames of an edlbench extxyz set with their REF labels moved into a SinglePointCalculator
    (energy eV, forces eV/Å): the form in which packages read labels from ASE atoms or extxyz."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import read

    images = read(path, ":")
    for atoms in images:
        energy, forces = atoms.info.pop(ENERGY_KEY), atoms.arrays.pop(FORCES_KEY)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
    return images


def _write(images: list[Atoms], path: Path) -> str:
    with atomic_output(path) as tmp:
        write(tmp, images, format="extxyz")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_datasets(trajectories: Iterable[Path], outdir: Path, cfg: DatasetConfig) -> dict:
    """Write the splits under `outdir`; returns (and writes) the manifest."""
    outdir = Path(outdir)
    rng = np.random.default_rng(cfg.seed)
    contact_rng = np.random.default_rng([cfg.seed, 1])  # its own stream: the splits do not depend on contact_fraction
    by_charge: dict[int, dict[str, list[Atoms]]] = {}
    labelled: dict[str, float] = {}  # pre-labelled file → median per-atom energy, eV
    for path in map(Path, trajectories):
        images = labelled_frames(path, cfg)
        imported = images[0].info["reference"] == "imported"
        if imported:
            labelled[str(path)] = float(np.median([a.info[ENERGY_KEY] / len(a) for a in images]))
        n_ion = int(sum(s == cfg.ion for s in images[0].get_chemical_symbols()))
        sigma = surface_charge(n_ion, lateral_area(images[0].cell))
        for atoms in images:
            atoms.info.update(n_ion=n_ion, sigma=sigma)
        if n_ion in by_charge:
            raise InputError(f"{path}: a second trajectory for n_ion={n_ion}")
        n_test = max(1, int(round(cfg.test_fraction * len(images))))
        n_valid = max(1, int(round(cfg.valid_fraction * len(images))))
        if len(images) < n_test + n_valid + 1:
            raise InputError(f"{path}: {len(images)} frames after stride {cfg.stride} are too few to split")
        order = rng.permutation(len(images))
        parts = {"test": order[:n_test], "valid": order[n_test:n_test + n_valid], "train": order[n_test + n_valid:]}
        by_charge[n_ion] = {name: [images[i] for i in sorted(idx)] for name, idx in parts.items()}
        if cfg.contact_fraction:
            if imported:
                raise InputError(f"{path}: dataset.contact_fraction={cfg.contact_fraction} needs the oracle to label the pushed "
                                 f"frames, and these frames carry imported labels (set it to 0)")
            pushed = contact_frames(by_charge[n_ion]["train"], cfg.contact_fraction, cfg.contact_push, cfg.contact_layer,
                                    cfg.ion, contact_rng)
            by_charge[n_ion]["train"] += oracle_labelled(pushed, path, read_frames(path, stop=1).info)
    if not by_charge:
        raise InputError("dataset: no trajectories given")
    if len(labelled) > 1 and (problem := consistency_problem(labelled)):
        raise InputError(problem)

    files, counts = {}, {}
    for n, splits in sorted(by_charge.items()):
        for split in ("train", "valid"):
            files[f"n{n}/{split}"] = _write(splits[split], outdir / f"n{n}" / f"{split}.extxyz")
        files[f"test/n{n}"] = _write(splits["test"], outdir / "test" / f"n{n}.extxyz")
        counts[f"n{n}"] = {k: len(v) for k, v in splits.items()}
        counts[f"n{n}"]["contact"] = sum(a.info["source"].endswith("+contact") for a in splits["train"])
    for split in ("train", "valid"):
        mixed = []
        share = min(len(s[split]) for s in by_charge.values()) // len(by_charge) if cfg.mixed_equal_size else None
        for splits in by_charge.values():
            chosen = splits[split]
            if share is not None:
                chosen = [chosen[i] for i in sorted(rng.choice(len(chosen), max(1, share), replace=False))]
            mixed += chosen
        files[f"mixed/{split}"] = _write(mixed, outdir / "mixed" / f"{split}.extxyz")
        counts.setdefault("mixed", {})[split] = len(mixed)
    manifest = {
        "charges": sorted(by_charge),
        "train_sets": ["mixed"] + [f"n{n}" for n in sorted(by_charge)],
        "counts": counts,
        "sha256": files,
        "labels": {"energy": ENERGY_KEY, "forces": FORCES_KEY, "units": "eV, eV/angstrom"},
        "params": asdict(cfg),
    }
    with atomic_output(outdir / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2))
    return manifest
