"""The run matrix, computed once from the params file (main.nf fans out over it).

`edlbench plan` validates every section of the params file (types, ranges, enumerations and
unknown keys of every settings class in :mod:`edlbench.config`, each backend's pipeline keys and
its own ``Options``) before any work is scheduled, and writes plan.json:
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
from edlbench.config import check_sections, load_params
from edlbench.errors import InputError
from edlbench.files import atomic_output, existing


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


def _train_sets(path: str, backend: str, chosen: tuple[str, ...] | None, train_sets: list[str]) -> list[str]:
    """The training sets of one backend: its `train_sets` (each one known), else all."""
    unknown = [t for t in chosen or () if t not in train_sets]
    if unknown:
        raise InputError(f"{path}: backends.{backend}.train_sets: unknown training set {unknown[0]!r} (known: {', '.join(train_sets)})")
    return [t for t in train_sets if chosen is None or t in chosen]


def make_plan(params_path: str | Path) -> dict:
    params = load_params(params_path)
    where = params["_path"]
    build = check_sections(params)["build"]
    backends = params.get("backends") or {}
    for name in backends:
        if name not in registry.REGISTRY:
            raise InputError(f"{where}: backends.{name}: unknown or not yet implemented backend (implemented: {', '.join(registry.REGISTRY)})")
    pipeline = {b: registry.check_options(b, c, where) for b, c in backends.items()}
    charges = sorted(build.n_ions)
    train_sets = ["mixed"] + [f"n{n}" for n in charges]
    enabled = {b: c or {} for b, c in backends.items() if pipeline[b].enabled}
    skipped = {b: problem for b, c in enabled.items() if b in registry.PRETRAINED
               and (problem := registry.get(b).checkpoint_problem(c.get("checkpoint")))}
    chosen = [b for b in enabled if b not in skipped]
    sets = {b: ["pretrained"] if b in registry.PRETRAINED else _train_sets(where, b, pipeline[b].train_sets, train_sets) for b in chosen}
    committee = {b: 1 if b in registry.PRETRAINED else pipeline[b].committee for b in chosen}
    train = [{"backend": b, "env": registry.REGISTRY[b][1], "train_set": t, "seed": s, "test_charges": covered(t, charges)}
             for b in chosen for t in sets[b] for s in range(committee[b])]
    md = [{"backend": b, "env": registry.REGISTRY[b][1], "train_set": t, "n_ion": n, "seed": 0}
          for b in chosen for t in sets[b] for n in md_charges(t, charges, pipeline[b].cross_charge_md)]
    return {"charges": charges, "train_sets": train_sets, "backends": chosen, "train": train, "md": md, "skipped": skipped}


def read_plan(path: Path) -> dict:
    """plan.json written by `edlbench plan`, checked for the keys the steps read."""
    try:
        plan = json.loads(existing(path, "plan file").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a plan.json from `edlbench plan` (invalid JSON: {exc})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("skipped"), dict):
        raise InputError(f"{path}: not a plan.json from `edlbench plan` (no 'skipped' mapping)")
    return plan


def write_plan(params_path: str | Path, output: str | Path) -> dict:
    plan = make_plan(params_path)
    with atomic_output(output) as tmp:
        tmp.write_text(json.dumps(plan, indent=2))
    return plan
