"""The run matrix, computed once from the params file (main.nf fans out over it).

`edlbench plan` validates every section of the params file (types, ranges, enumerations and
unknown keys of every settings class in :mod:`edlbench.config`, each backend's pipeline keys and
its own ``Options``) before any work is scheduled, and writes plan.json: the records main.nf
passes to each task as its ``meta`` (reference runs per charge state, backend × train_set × seed
training runs, backend × train_set × charge MD runs with committee member 0 at every charge state
the model can describe: see `covered`; `cross_charge_md: false` keeps a single-charge model at its
own) and each step's settings. main.nf only wires: it derives nothing the plan decides. Backends
not implemented are rejected by name.
Replicas: ``reference.replicas`` independent reference runs per charge state (replica r: packmol
seed build.seed + 100·r, MD seed seed + 100·r) and ``md.replicas`` MLIP runs per model and charge,
replica r started from reference replica r (so md.replicas ≤ reference.replicas) with thermostat
seed md.seed + r. The training sets come from replica 0, so adding replicas retrains nothing; the
replica counts are left out of the steps' settings, so adding replicas re-runs no finished task.
A pretrained backend (the OC25 eSEN) has the single training set "pretrained"; without a usable
checkpoint it is left out and the reason kept under ``skipped``, so every other model still runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from edlbench import backends as registry
from edlbench.config import check_sections, load_params
from edlbench.errors import InputError
from edlbench.files import atomic_output, existing

#: plan-level keys of step sections: read here, not passed to the step (its cache stays valid)
PLAN_KEYS = ("replicas", "n_ions")


def covered(train_set: str, charges: list[int]) -> list[int]:
    """Charge states a model trained on `train_set` can be run at: those whose elements it has seen.

    A model trained without ions (n0) has no embedding for the ion and cannot be applied to a
    charged cell; every other training set contains the ion, so all charge states are open to it.
    """
    return [n for n in charges if n == 0] if train_set == "n0" else list(charges)


def md_charges(train_set: str, charges: list[int], cross_charge: bool) -> list[int]:
    """Charge states a model runs MD at, of the MD's `charges`: every one it covers, or with
    `cross_charge` false, a single-charge model's own (mixed and pretrained models still run at every charge)."""
    if cross_charge or not train_set.startswith("n"):
        return covered(train_set, charges)
    return [n for n in covered(train_set, charges) if f"n{n}" == train_set]


def _md_ions(sections: dict, where: str, charges: list[int]) -> list[int]:
    """The charge states of the MLIP MD: md.n_ions (each one a built charge state), else all."""
    chosen = sections["md"].n_ions
    unknown = [n for n in chosen or () if n not in charges]
    if unknown:
        raise InputError(f"{where}: md.n_ions: {unknown[0]} ions is not a charge state of build.n_ions {charges}")
    return sorted(set(chosen)) if chosen else charges


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
    def section(name: str) -> dict:
        return {k: v for k, v in params[name].items() if k not in PLAN_KEYS}

    steps = {step: {s: section(s) for s in sections if params.get(s) and section(s)} for step, sections in STEP_SECTIONS.items()}
    steps["train"] = {b: {"backends": {b: params["backends"][b] or {}}} for b in chosen}
    return steps


def _replicas(sections: dict, where: str, imported: bool) -> tuple[int, int]:
    """(reference replicas, MD replicas), checked against each other and the reference's origin."""
    k_ref, k_md = sections["reference"].replicas, sections["md"].replicas
    if imported and k_ref > 1:
        raise InputError(f"{where}: reference.replicas={k_ref}: an imported (--dft) reference has one set of frames per charge state; set it to 1")
    if k_md > k_ref:
        raise InputError(f"{where}: md.replicas={k_md} exceeds reference.replicas={k_ref}: each MLIP replica starts from its own reference replica")
    return k_ref, k_md


def make_plan(params_path: str | Path, seed: int = 1, imported: bool = False) -> dict:
    """The run matrix of a params file, as records main.nf passes along as each task's ``meta``:
    ``reference`` (charge state × replica, with the seeds of its build and MD), ``train`` (backend ×
    train_set × committee member, with its test sets), ``md`` (backend × train_set × charge ×
    replica, run with committee member 0), each naming its environment, committee size, whether
    its backend gives its own γ, and output ``id``; plus the per-step ``settings``, the backends
    ``skipped`` and each backend's ``receptive_field`` (Å, from its options; none where the
    checkpoint decides). `imported`: the reference
    is the user's DFT frames (``--dft``), which allows one replica."""
    params = load_params(params_path)
    where = params["_path"]
    sections = check_sections(params)
    build = sections["build"]
    k_ref, k_md = _replicas(sections, where, imported)
    backends = params.get("backends") or {}
    for name in backends:
        if name not in registry.SPECS:
            raise InputError(f"{where}: backends.{name}: unknown or not yet implemented backend (implemented: {', '.join(registry.SPECS)})")
    pipeline = {b: registry.check_options(b, c, where) for b, c in backends.items()}
    charges = sorted(build.n_ions)
    train_sets = ["mixed"] + [f"n{n}" for n in charges]
    md_ions = _md_ions(sections, where, charges)
    spec = registry.SPECS
    enabled = {b: c or {} for b, c in backends.items() if pipeline[b].enabled}
    skipped = {b: problem for b, c in enabled.items() if spec[b].pretrained
               and (problem := registry.get(b).checkpoint_problem(c.get("checkpoint")))}
    chosen = [b for b in enabled if b not in skipped]
    sets = {b: ["pretrained"] if spec[b].pretrained else _train_sets(where, b, pipeline[b].train_sets, train_sets) for b in chosen}
    committee = {b: 1 if spec[b].pretrained else pipeline[b].committee for b in chosen}
    gamma = {b: spec[b].gamma is not None and enabled[b].get("gamma", True) for b in chosen}  # the backend's own γ, unless switched off
    reference = [{"id": f"reference-n{n}-r{r}", "role": "reference", "backend": "reference", "env": "core", "train_set": "none",
                  "charge": f"n{n}", "n_ion": n, "replica": r, "seed": seed + 100 * r, "build_seed": build.seed + 100 * r}
                 for n in charges for r in range(k_ref)]
    train = [{"id": f"{b}-{t}-seed{s}", "role": "member", "backend": b, "env": spec[b].env, "train_set": t, "seed": s,
              "model": f"{b}/{t}", "committee": committee[b], "gamma": gamma[b], "cpu_only": spec[b].cpu_calculator, "test_charges": covered(t, charges),
              "test_sets": [f"test/n{n}.extxyz" for n in covered(t, charges)]}
             for b in chosen for t in sets[b] for s in range(committee[b])]
    md = [{"id": f"{b}-{t}-n{n}-r{r}", "role": "md", "backend": b, "env": spec[b].env, "train_set": t, "seed": 0,
           "model": f"{b}/{t}", "committee": committee[b], "gamma": gamma[b], "cpu_only": spec[b].cpu_calculator, "serial": spec[b].serial, "charge": f"n{n}", "n_ion": n, "replica": r,
           "md_seed": sections["md"].seed + r}
          for b in chosen for t in sets[b] for n in md_charges(t, md_ions, pipeline[b].cross_charge_md) for r in range(k_md)]
    reach = {b: registry.get(b).receptive_field(registry.options(enabled[b])) for b in chosen}
    return {"charges": charges, "train_sets": train_sets, "backends": chosen, "replicas": {"reference": k_ref, "md": k_md},
            "reference": reference, "train": train, "md": md, "settings": _settings(params, chosen), "skipped": skipped,
            "receptive_field": {b: r for b, r in reach.items() if math.isfinite(r)}}


def read_plan(path: Path) -> dict:
    """plan.json written by `edlbench plan`, checked for the keys the steps read."""
    try:
        plan = json.loads(existing(path, "plan file").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a plan.json from `edlbench plan` (invalid JSON: {exc})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("skipped"), dict):
        raise InputError(f"{path}: not a plan.json from `edlbench plan` (no 'skipped' mapping)")
    return plan


def write_plan(params_path: str | Path, output: str | Path, seed: int = 1, imported: bool = False) -> dict:
    plan = make_plan(params_path, seed, imported)
    with atomic_output(output) as tmp:
        tmp.write_text(json.dumps(plan, indent=2))
    return plan
