"""The run matrix, computed once from the params file (main.nf fans out over it).

`edlbench plan` validates every section of the params file (types, ranges, enumerations and
unknown keys of every settings class in :mod:`edlbench.config`, each backend's pipeline keys and
its own ``Options``) before any work is scheduled, and writes plan.json: the records main.nf
passes to each task as its ``meta`` (reference runs per charge state, backend × train_set × seed
training runs, backend × train_set × charge MD runs with committee member 0 at every charge state
the model can describe: see `covered`; `cross_charge_md: false` keeps a single-charge model at its
own) and each step's settings. main.nf only wires: it derives nothing the plan decides. Backends
not implemented are rejected by name.
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


#: the params sections each step reads: its settings (plan.json "settings") hold only these, so
#: editing one section re-runs only the steps that read it (Nextflow caches the rest)
STEP_SECTIONS = {"build": ("build",), "reference": ("reference",), "import": ("import",),
                 "dataset": ("dataset",), "md": ("md",), "profiles": ("profiles",)}


def _settings(params: dict, chosen: list[str]) -> dict[str, dict]:
    """Per-step settings: a params mapping of the step's sections as the user wrote them (read by
    the step with ``--params``); TRAIN gets its backend's section only."""
    steps = {step: {s: params[s] for s in sections if params.get(s)} for step, sections in STEP_SECTIONS.items()}
    steps["train"] = {b: {"backends": {b: params["backends"][b] or {}}} for b in chosen}
    return steps


def make_plan(params_path: str | Path, seed: int = 1) -> dict:
    """The run matrix of a params file, as records main.nf passes along as each task's ``meta``:
    ``reference`` (one per charge state, `seed` for the reference MD), ``train`` (backend ×
    train_set × committee member, with its test sets), ``md`` (backend × train_set × charge, run
    with committee member 0), each naming its environment, committee size and output ``id``;
    plus the per-step ``settings`` and the backends ``skipped``."""
    params = load_params(params_path)
    where = params["_path"]
    build = check_sections(params)["build"]
    backends = params.get("backends") or {}
    for name in backends:
        if name not in registry.SPECS:
            raise InputError(f"{where}: backends.{name}: unknown or not yet implemented backend (implemented: {', '.join(registry.SPECS)})")
    pipeline = {b: registry.check_options(b, c, where) for b, c in backends.items()}
    charges = sorted(build.n_ions)
    train_sets = ["mixed"] + [f"n{n}" for n in charges]
    spec = registry.SPECS
    enabled = {b: c or {} for b, c in backends.items() if pipeline[b].enabled}
    skipped = {b: problem for b, c in enabled.items() if spec[b].pretrained
               and (problem := registry.get(b).checkpoint_problem(c.get("checkpoint")))}
    chosen = [b for b in enabled if b not in skipped]
    sets = {b: ["pretrained"] if spec[b].pretrained else _train_sets(where, b, pipeline[b].train_sets, train_sets) for b in chosen}
    committee = {b: 1 if spec[b].pretrained else pipeline[b].committee for b in chosen}
    reference = [{"id": f"reference-n{n}", "role": "reference", "backend": "reference", "env": "core", "train_set": "none",
                  "charge": f"n{n}", "n_ion": n, "seed": seed} for n in charges]
    train = [{"id": f"{b}-{t}-seed{s}", "role": "member", "backend": b, "env": spec[b].env, "train_set": t, "seed": s,
              "model": f"{b}/{t}", "committee": committee[b], "test_charges": covered(t, charges),
              "test_sets": [f"test/n{n}.extxyz" for n in covered(t, charges)]}
             for b in chosen for t in sets[b] for s in range(committee[b])]
    md = [{"id": f"{b}-{t}-n{n}", "role": "md", "backend": b, "env": spec[b].env, "train_set": t, "seed": 0,
           "model": f"{b}/{t}", "committee": committee[b], "charge": f"n{n}", "n_ion": n}
          for b in chosen for t in sets[b] for n in md_charges(t, charges, pipeline[b].cross_charge_md)]
    return {"charges": charges, "train_sets": train_sets, "backends": chosen, "reference": reference, "train": train, "md": md,
            "settings": _settings(params, chosen), "skipped": skipped}


def read_plan(path: Path) -> dict:
    """plan.json written by `edlbench plan`, checked for the keys the steps read."""
    try:
        plan = json.loads(existing(path, "plan file").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a plan.json from `edlbench plan` (invalid JSON: {exc})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("skipped"), dict):
        raise InputError(f"{path}: not a plan.json from `edlbench plan` (no 'skipped' mapping)")
    return plan


def write_plan(params_path: str | Path, output: str | Path, seed: int = 1) -> dict:
    plan = make_plan(params_path, seed)
    with atomic_output(output) as tmp:
        tmp.write_text(json.dumps(plan, indent=2))
    return plan
