"""Stack per-run profiles.nc and per-model errors.nc files into one results.nc.

Every MD run goes on model × train_set × n_ion × replica, in the NetCDF group ``replicas`` (the
seed of the model that ran it kept as ``md_seed``). The root holds the replica mean on
model × train_set × n_ion (:func:`replica_means`) and errors on model × train_set × n_ion × seed
(every committee member). The reference (model = "reference", trained on nothing) is broadcast to
every train_set so that ``ds.rho_O - ds.rho_O.sel(model="reference")`` compares like with like.
The comparison metrics of :mod:`edlbench.metrics` are added to the root.

Replica mean (``xr.open_dataset("results.nc")``; each run: ``…, group="replicas"``): every
quantity X with a standard error X_sem is the mean over the replicas that finished (over those
that ran when none finished), and X_sem the larger of the replica scatter/√K (ddof 1) and the
within-run error √(Σ sem²)/K (:func:`edlbench.statistics.combine_replicas`); the scalars carry
X_dof, the degrees of freedom of their Student-t interval (K − 1 where the scatter is the larger,
inf where the within-run error is). ``status`` is the worst of the replicas' (unstable if any
replica is), ``converged`` 1 only if every replica averaged is, counts (frames, time,
effective samples) are summed and the ion's closest approach is the closest of any replica; ``n_replicas`` and ``n_replicas_unstable`` count the runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from edlbench.contract import STATUS, load
from edlbench.errors import InputError
from edlbench.metrics import REFERENCE, add_metrics
from edlbench.statistics import combine_replicas

#: run quantities whose replica combination is a sum (the others: a mean)
SUMMED = ("n_frames", "time_ps", "n_eff_cos_theta_layer1", "n_eff_layer1_waters", "n_eff_ion_height")
#: run quantities whose replica combination is the minimum
MINIMUM = ("ion_closest_approach",)
#: run variables of the replicas group only
PER_RUN = ("md_seed", "status_step")


def _kind(path: Path) -> str:
    try:
        with xr.open_dataset(path) as ds:
            return str(ds.attrs.get("edlbench_kind", ""))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as exc:
        raise InputError(f"{path}: not a readable NetCDF file ({type(exc).__name__})") from None


def _profile_cube(ds: xr.Dataset, train_sets: list[str]) -> xr.Dataset:
    sigma = round(float(ds.sigma), 6)
    ds = ds.drop_vars(["sigma", "seed"]).assign(md_seed=((), int(ds.seed)))
    if str(ds.model.values) == REFERENCE and train_sets:
        ds = ds.drop_vars("train_set").expand_dims(train_set=train_sets)
    else:
        ds = ds.expand_dims("train_set")
    ds = ds.expand_dims(["model", "n_ion", "replica"]).transpose("model", "train_set", "n_ion", "replica", ...)
    return ds.assign_coords(sigma=("n_ion", [sigma]))


def replica_means(runs: xr.Dataset) -> xr.Dataset:
    """The runs (model × train_set × n_ion × replica) combined over replicas, as the module says."""
    ran = runs.status.isin([STATUS["ok"], STATUS["unstable"]])
    ok = runs.status == STATUS["ok"]
    use = ok | (ran & ~ok.any("replica"))  # the finished replicas; the unstable ones only where none finished
    out = xr.Dataset(coords={c: v for c, v in runs.coords.items() if "replica" not in v.dims})
    for name, da in runs.data_vars.items():
        if name.endswith("_sem") or name in PER_RUN or "replica" not in da.dims:
            continue
        if name == "status":
            out[name] = da.max("replica")
        elif name == "converged":
            out[name] = da.where(use).min("replica").fillna(0).astype("i1")
        elif name in SUMMED:
            out[name] = da.where(use).sum("replica", min_count=1)
        elif name in MINIMUM:
            out[name] = da.where(use).min("replica")
        elif f"{name}_sem" in runs:
            c = combine_replicas(da.where(use), runs[f"{name}_sem"].where(use), axis="replica")
            out[name], out[f"{name}_sem"] = c.mean, c.sem
            if not set(da.dims) - {"model", "train_set", "n_ion", "replica"}:
                out[f"{name}_dof"] = c.dof
        else:
            out[name] = da.where(use).mean("replica")
    out["n_replicas"] = ok.sum("replica").astype("i2")
    out["n_replicas_unstable"] = (runs.status == STATUS["unstable"]).sum("replica").astype("i2")
    return out


def aggregate(paths: list[str | Path], skipped: dict[str, str] | None = None, receptive_field: dict[str, float] | None = None) -> xr.DataTree:
    """results.nc's tree from any mix of profiles and errors files (outer join, NaN where absent):
    the replica means, errors and metrics at the root, every run in the child ``replicas``;
    `skipped` (model → reason, from the plan) is kept as the JSON attribute ``skipped_models``,
    `receptive_field` (model → Å, from the plan) as the variable of that name (NaN: not known)."""
    profiles, errors = [], []
    for path in map(Path, paths):
        kind = _kind(path)
        if kind == "profiles":
            profiles.append((path, load(path, "profiles")))
        elif kind == "errors":
            errors.append((path, load(path, "errors")))
        else:
            raise InputError(f"{path}: not an edlbench profiles or errors file (edlbench_kind={kind!r})")
    if not profiles and not errors:
        raise InputError("aggregate: no input files")
    seen: dict[tuple, Path] = {}
    for path, ds in profiles:
        key = (str(ds.model.values), str(ds.train_set.values), int(ds.n_ion), int(ds.replica))
        if key in seen:
            raise InputError(f"{path}: duplicate run model={key[0]} train_set={key[1]} n_ion={key[2]} replica={key[3]} (also in {seen[key]})")
        seen[key] = path
    train_sets = sorted({k[1] for k in seen if k[0] != REFERENCE} | {str(e.train_set.values) for _, e in errors})
    errors_parts = [ds.rename(n_frames="n_test_frames").drop_vars([c for c in ("sigma",) if c in ds.coords])
                    .expand_dims(["model", "train_set", "seed"]) for _, ds in errors]
    runs = _merge([_profile_cube(ds, train_sets) for _, ds in profiles])
    if "status" in runs:
        runs["status"] = runs.status.fillna(STATUS["missing"]).astype("i1")
    root = _merge(([replica_means(runs)] if profiles else []) + errors_parts)
    root = add_metrics(root, runs if profiles else None)
    if receptive_field:
        root["receptive_field"] = ("model", [float(receptive_field.get(str(m), np.nan)) for m in root.model.values])
    root.attrs["sources"] = " ".join(str(p) for p, _ in profiles + errors)
    root.attrs["skipped_models"] = json.dumps(skipped or {})
    root.attrs["replica_error"] = ("X_sem: the larger of the replica scatter/sqrt(K) (Student t, X_dof = K - 1) and the "
                                   "within-run error sqrt(sum sem^2)/K (normal, X_dof = inf) over the K finished replicas")
    tree = xr.DataTree(root)
    if profiles:  # on the root's model/train_set/n_ion (errors may add some), as a group must be
        runs = runs.reindex({d: root[d] for d in ("model", "train_set", "n_ion")})
        runs["status"] = runs.status.fillna(STATUS["missing"]).astype("i1")
        runs["status_step"] = runs.status_step.fillna(-1).astype("i4")
        tree["replicas"] = xr.DataTree(runs)
    return tree


def _merge(parts: list[xr.Dataset]) -> xr.Dataset:
    try:
        return xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="drop")
    except xr.MergeError as exc:
        raise InputError(f"aggregate: inputs disagree ({str(exc).splitlines()[0]})") from None
