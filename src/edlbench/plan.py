"""The run matrix, computed once from the params file (main.nf fans out over it).

`edlbench plan` validates every section of the params file (unknown keys, unknown backends,
empty charge lists, impossible sizes) before any work is scheduled, and writes plan.json:
charge states, training sets, and the backend × train_set × seed training runs and
backend × train_set × charge MD runs (with committee member 0) at every charge state the model
can describe (see `covered`; `cross_charge_md: false` keeps a single-charge model at its own), each with the environment its backend runs in. Backends not implemented are rejected by name.
A pretrained backend (the OC25 eSEN) has the single training set "pretrained"; without a usable
checkpoint it is left out and the reason kept under ``skipped``, so every other model still runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from edlbench import backends as registry
from edlbench.build import BuildConfig
from edlbench.config import load_params, make
from edlbench.dataset import DatasetConfig
from edlbench.errors import InputError
from edlbench.files import atomic_output
from edlbench.profiles import ProfileConfig
from edlbench.reference.oracle import ReferenceConfig


def covered(train_set: str, charges: list[int]) -> list[int]:
    """Charge states a model trained on `train_set` can be run at: those whose elements it has seen.

    A model trained without ions (n0) has no embedding for the ion and cannot be applied to a
    charged cell; every other training set contains the ion, so all charge states are open to it.
    """
    return [0] if train_set == "n0" else list(charges)


def md_charges(train_set: str, charges: list[int], cross_charge: bool) -> list[int]:
    """Charge states a model runs MD at: every one it covers, or with `cross_charge` false, a
    single-charge model's own (mixed and pretrained models still run at every charge)."""
    if cross_charge or not train_set.startswith("n"):
        return covered(train_set, charges)
    return [n for n in covered(train_set, charges) if f"n{n}" == train_set]


def _train_sets(path: str, backend: str, config: dict, train_sets: list[str]) -> list[str]:
    """The training sets of one backend: `train_sets` of its params (validated), else all."""
    chosen = config.get("train_sets", train_sets)
    unknown = [t for t in chosen if t not in train_sets] if isinstance(chosen, list) else chosen
    if unknown or not chosen:
        raise InputError(f"{path}: backends.{backend}.train_sets={chosen!r}: must be a non-empty list of {', '.join(train_sets)}")
    return [t for t in train_sets if t in chosen]


def make_plan(params_path: str | Path) -> dict:
    params = load_params(params_path)
    build = make(BuildConfig, params, "build")
    build.validate()
    make(ReferenceConfig, params, "reference")
    make(DatasetConfig, params, "dataset").validate()
    make(ProfileConfig, params, "profiles")
    backends = params.get("backends") or {}
    for name in backends:
        if name not in registry.REGISTRY:
            raise InputError(f"{params['_path']}: backends.{name}: unknown or not yet implemented backend (implemented: {', '.join(registry.REGISTRY) or 'none'})")
    charges = sorted(build.n_ions)
    if len(set(charges)) != len(charges):
        raise InputError(f"{params['_path']}: build.n_ions={list(build.n_ions)} repeats a charge state")
    train_sets = ["mixed"] + [f"n{n}" for n in charges]
    backends = {b: c for b, c in backends.items() if (c or {}).get("enabled", True)}
    skipped = {b: problem for b, c in backends.items() if b in registry.PRETRAINED
               and (problem := registry.get(b).checkpoint_problem((c or {}).get("checkpoint")))}
    backends = {b: c or {} for b, c in backends.items() if b not in skipped}
    sets = {b: ["pretrained"] if b in registry.PRETRAINED else _train_sets(params["_path"], b, c, train_sets) for b, c in backends.items()}
    committee = {b: 1 if b in registry.PRETRAINED else int(c.get("committee", 1)) for b, c in backends.items()}
    cross = {b: c.get("cross_charge_md", True) for b, c in backends.items()}
    for b, value in cross.items():
        if not isinstance(value, bool):
            raise InputError(f"{params['_path']}: backends.{b}.cross_charge_md={value!r}: expected true or false")
    train = [{"backend": b, "env": registry.REGISTRY[b][1], "train_set": t, "seed": s, "test_charges": covered(t, charges)}
             for b in backends for t in sets[b] for s in range(committee[b])]
    md = [{"backend": b, "env": registry.REGISTRY[b][1], "train_set": t, "n_ion": n, "seed": 0}
          for b in backends for t in sets[b] for n in md_charges(t, charges, cross[b])]
    return {"charges": charges, "train_sets": train_sets, "backends": list(backends), "train": train, "md": md, "skipped": skipped}


def write_plan(params_path: str | Path, output: str | Path) -> dict:
    plan = make_plan(params_path)
    with atomic_output(output) as tmp:
        tmp.write_text(json.dumps(plan, indent=2))
    return plan
