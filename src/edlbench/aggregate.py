"""Stack per-run profiles.nc and per-model errors.nc files into one results.nc.

Profiles go on model × train_set × n_ion (one MD run each; the seed of the model that ran it
is kept as ``md_seed``); errors on model × train_set × n_ion × seed (every committee member).
The reference (model = "reference", trained on nothing) is broadcast to every train_set so
that ``ds.rho_O - ds.rho_O.sel(model="reference")`` compares like with like. The comparison
metrics of :mod:`edlbench.metrics` are added.
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from edlbench.contract import STATUS, load
from edlbench.errors import InputError
from edlbench.metrics import REFERENCE, add_metrics


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
    ds = ds.expand_dims(["model", "n_ion"]).transpose("model", "train_set", "n_ion", ...)
    return ds.assign_coords(sigma=("n_ion", [sigma]))


def aggregate(paths: list[str | Path], skipped: dict[str, str] | None = None) -> xr.Dataset:
    """One dataset from any mix of profiles and errors files (outer join, NaN where absent);
    `skipped` (model → reason, from the plan) is kept as the JSON attribute ``skipped_models``."""
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
        key = (str(ds.model.values), str(ds.train_set.values), int(ds.n_ion))
        if key in seen:
            raise InputError(f"{path}: duplicate run model={key[0]} train_set={key[1]} n_ion={key[2]} (also in {seen[key]})")
        seen[key] = path
    train_sets = sorted({k[1] for k in seen if k[0] != REFERENCE} | {str(e.train_set.values) for _, e in errors})
    parts = [_profile_cube(ds, train_sets) for _, ds in profiles]
    for _, ds in errors:
        ds = ds.rename(n_frames="n_test_frames")
        parts.append(ds.drop_vars([c for c in ("sigma",) if c in ds.coords]).expand_dims(["model", "train_set", "seed"]))
    try:
        out = xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="drop")
    except xr.MergeError as exc:
        raise InputError(f"aggregate: inputs disagree ({str(exc).splitlines()[0]})") from None
    if "status" in out:
        out["status"] = out.status.fillna(STATUS["missing"]).astype("i1")
    out = add_metrics(out)
    out.attrs["sources"] = " ".join(str(p) for p, _ in profiles + errors)
    out.attrs["skipped_models"] = json.dumps(skipped or {})
    return out
