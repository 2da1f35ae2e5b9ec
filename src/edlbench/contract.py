"""The NetCDF data contract (DESIGN.md §5): variable specs, validation and atomic writes.

Three kinds of file, told apart by the global attribute ``edlbench_kind``:

- ``profiles``: one MD run; dims z, cos_bin, lag; scalar coords model, train_set, n_ion,
  sigma, seed, replica.
- ``errors``: one trained model; dim n_ion (test charge); scalar coords model, train_set, seed.
- ``results``: the aggregate; profiles on model × train_set × n_ion as the mean over replicas
  (errors combined, :mod:`edlbench.aggregate`), every run on model × train_set × n_ion × replica
  in the NetCDF group ``replicas``; errors on model × train_set × n_ion × seed.

Every variable carries CF ``units`` and ``long_name``; ``status`` is a CF flag variable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from edlbench import provenance
from edlbench.errors import InputError
from edlbench.files import atomic_output, existing

Spec = dict[str, tuple[str, str]]  # name -> (units, long_name)

COORDS: Spec = {
    "z": ("angstrom", "height above the metal surface plane"),
    "cos_bin": ("1", "cosine of the water dipole angle to the surface normal (bin centre)"),
    "lag": ("ps", "time lag"),
    "n_ion": ("1", "number of counter-ions (charge state)"),
    "sigma": ("uC cm-2", "metal surface charge per cell, -n_ion*e/A (two wet faces: sigma/2 at each interface)"),
    "model": ("", "model (backend) name; 'reference' for the reference"),
    "train_set": ("", "training set"),
    "seed": ("1", "model seed (committee member)"),
    "replica": ("1", "replica: an independent run (own start structure and seeds)"),
}

_PROFILES = {
    "rho_O": ("g cm-3", "water density from oxygen positions"),
    "rho_H": ("g cm-3", "water density from hydrogen positions"),
    "rho_water": ("g cm-3", "water mass density"),
    "rho_ion": ("nm-3", "ion number density"),
    "c_ion": ("mol L-1", "ion molar concentration"),
    "cos_theta": ("1", "mean cosine of the water dipole angle to the surface normal"),
    "p_cos_theta_layer1": ("1", "probability density of cos(theta) in the first water layer"),
    "cos_theta_layer1": ("1", "mean cosine of the water dipole angle in the first water layer"),
    "dipole_acf": ("1", "first-layer water dipole autocorrelation"),
}
PROFILE_VARS: Spec = {
    **_PROFILES,
    **{f"{k}_sem": (u, f"standard error of {ln} (block average)") for k, (u, ln) in _PROFILES.items()},
    "ion_closest_approach": ("angstrom", "ion distance of closest approach to the surface plane"),
    "layer1_cutoff": ("angstrom", "upper bound of the first water layer"),
    "gap": ("angstrom", "mean plane-to-plane thickness of the liquid"),
    "lateral_period": ("angstrom", "shortest in-plane lattice translation of the cell (periodic images of an atom lie this far apart)"),
    "n_frames": ("1", "number of analysed frames"),
    "time_ps": ("ps", "analysed trajectory length"),
    "committee_spread": ("eV angstrom-1", "mean over frames of the maximum committee force deviation (NaN: no committee)"),
    "gamma_max": ("1", "mean over frames of the maximum per-atom extrapolation grade gamma of the run's model (NaN: none)"),
    "gamma_above_1": ("1", "mean over frames of the fraction of atoms with gamma above 1, the training data's fence (NaN: no gamma)"),
    "committee_spread_sem": ("eV angstrom-1", "standard error of committee_spread (std * sqrt(g/N) of its per-frame series)"),
    "gamma_max_sem": ("1", "standard error of gamma_max (std * sqrt(g/N) of its per-frame series)"),
    "gamma_above_1_sem": ("1", "standard error of gamma_above_1 (std * sqrt(g/N) of its per-frame series)"),
    "status": ("1", "run status"),
    "status_step": ("1", "MD step at which the run stopped (-1: ran to the end)"),
    "md_seconds_per_ps": ("s ps-1", "wall-clock seconds per ps of the run's MD (NaN: not measured, e.g. the reference)"),
    "md_cpus": ("1", "CPU threads the run's MD used (0: on a GPU)"),
    "cos_theta_layer1_sem": ("1", "standard error of cos_theta_layer1: std * sqrt(g/N) of its per-frame series"),
    "t_equilibration": ("ps", "start of the analysed part: the latest transient end pymbar detects in the first-layer and ion series"),
    "converged": ("1", "1 if every series is equilibrated in the first half, has >= 20 independent samples and agreeing halves"),
    "layer1_waters": ("1", "mean number of first-layer waters per face"),
    "layer1_waters_sem": ("1", "standard error of layer1_waters (std * sqrt(g/N))"),
    "ion_height": ("angstrom", "mean ion height above the nearer surface plane"),
    "ion_height_sem": ("angstrom", "standard error of ion_height (std * sqrt(g/N))"),
    **{f"n_eff_{name}": ("1", f"effectively independent samples of the per-frame {name} series after t_equilibration")
       for name in ("cos_theta_layer1", "layer1_waters", "ion_height")},
}
ERROR_VARS: Spec = {
    "rmse_energy": ("meV atom-1", "root-mean-square energy error per atom"),
    "mae_energy": ("meV atom-1", "mean absolute energy error per atom"),
    "rmse_force": ("meV angstrom-1", "root-mean-square force component error"),
    "mae_force": ("meV angstrom-1", "mean absolute force component error"),
    "n_frames": ("1", "number of test frames"),
    "gamma_max_test": ("1", "mean over test frames of the maximum per-atom extrapolation grade gamma (NaN: none)"),
    "gamma_above_1_test": ("1", "mean over test frames of the fraction of atoms with gamma above 1 (NaN: none)"),
    "gamma_above_1_test_sem": ("1", "standard error of gamma_above_1_test (test frames taken as independent)"),
}
STATUS = {"missing": -1, "ok": 0, "unstable": 1, "skipped": 2}
#: Derived metrics of results.nc (filled in by edlbench.aggregate).
RESULT_VARS: Spec = {
    "n_test_frames": ("1", "number of test frames"),
    "md_seed": ("1", "seed of the model that ran the MD"),
    "rho_O_rmsd": ("g cm-3", "RMS deviation of rho_O from the reference"),
    "rho_O_rmsd_noise": ("g cm-3", "RMS deviation of rho_O expected from sampling noise (block errors)"),
    "cos_theta_rmsd": ("1", "water-density-weighted RMS deviation of <cos theta> from the reference"),
    "cos_theta_rmsd_noise": ("1", "RMS deviation of <cos theta> expected from sampling noise (block errors)"),
    "rho_ion_rmsd": ("nm-3", "RMS deviation of the ion number density from the reference"),
    "rho_ion_rmsd_noise": ("nm-3", "RMS deviation of the ion density expected from sampling noise (block errors)"),
    "rho_O_peak_height": ("g cm-3", "height of the first rho_O peak"),
    "rho_O_peak_z": ("angstrom", "position of the first rho_O peak above the surface plane"),
    "cos_theta_layer1_dev": ("1", "first-layer mean <cos theta> minus the reference's"),
    "cos_theta_layer1_dev_sem": ("1", "standard error of cos_theta_layer1_dev"),
    "cos_theta_layer1_dev_dof": ("1", "degrees of freedom of cos_theta_layer1_dev's interval (inf: normal)"),
    "n_replicas": ("1", "replicas that finished"),
    "n_replicas_unstable": ("1", "replicas that stopped as unstable"),
    "acf_decay_time": ("ps", "lag at which the first-layer dipole ACF falls below 1/e"),
    "unstable_fraction": ("1", "fraction of MD runs stopped as unstable"),
    "receptive_field": ("angstrom", "model's receptive field: cutoff, times the message-passing layers (from its training options)"),
    "rmse_force_committee": ("meV angstrom-1", "test force RMSE averaged over the committee"),
    "rmse_energy_committee": ("meV atom-1", "test energy RMSE per atom averaged over the committee"),
    "gamma_above_1_domain": ("1", "in-domain rate of a run: fraction of atoms with gamma above 1 on test frames at its charge, or at n_k's own (MD model)"),
    "gamma_above_1_domain_sem": ("1", "standard error of gamma_above_1_domain"),
    "gamma_above_1_excess": ("1", "gamma_above_1 of the MD run minus gamma_above_1_domain (positive: beyond the training data)"),
    "gamma_above_1_excess_sem": ("1", "standard error of gamma_above_1_excess"),
}
KINDS = {
    "profiles": (("model", "train_set", "n_ion", "sigma", "seed", "replica"), ("rho_O", "rho_H", "rho_water", "rho_ion", "cos_theta", "p_cos_theta_layer1", "dipole_acf", "status", "n_frames", "time_ps")),
    "errors": (("model", "train_set", "seed", "n_ion"), ("rmse_energy", "rmse_force", "mae_energy", "mae_force", "n_frames")),
    "results": (("model", "train_set", "n_ion", "sigma"), ("rho_O", "cos_theta", "status")),
}


SPECS: Spec = {**COORDS, **PROFILE_VARS, **ERROR_VARS, **RESULT_VARS}


def spec(name: str) -> tuple[str, str] | None:
    """(units, long_name) the contract gives variable `name` (``ref_X`` as X; ``X_dof`` the
    degrees of freedom of X's replica interval), or None."""
    if name.endswith("_dof") and name not in SPECS and name[:-4] in SPECS:
        return ("1", f"degrees of freedom of the replica interval of {name[:-4]} (inf: normal, within-run error)")
    return SPECS.get(name) or (SPECS.get(name[4:]) if name.startswith("ref_") else None)


def annotate(ds: xr.Dataset) -> xr.Dataset:
    """Attach CF units (where none are set: differing ones are left for `validate` to reject) and
    long_name to every known variable and coordinate; status flags."""
    for name in list(ds.variables):
        if (known := spec(name)) is not None:
            units, long_name = known
            if units:
                ds[name].attrs.setdefault("units", units)
            ds[name].attrs["long_name"] = long_name
    if "status" in ds:
        ds["status"].attrs.update(flag_values=np.array(list(STATUS.values()), "i1"), flag_meanings=" ".join(STATUS))
        ds["status"].attrs.pop("units", None)
    return ds



def validate(ds: xr.Dataset, kind: str, where: str) -> None:
    """Raise InputError (one line, naming `where`) unless `ds` satisfies the `kind` contract."""
    if kind not in KINDS:
        raise InputError(f"{where}: unknown file kind {kind!r}")
    coords, variables = KINDS[kind]
    if ds.attrs.get("edlbench_kind") != kind:
        raise InputError(f"{where}: not an edlbench {kind} file (edlbench_kind={ds.attrs.get('edlbench_kind')!r})")
    for name in coords:
        if name not in ds.coords:
            raise InputError(f"{where}: missing coordinate {name!r}")
    for name in variables:
        if name not in ds:
            raise InputError(f"{where}: missing variable {name!r}")
        if name != "status" and "units" not in ds[name].attrs:
            raise InputError(f"{where}: variable {name!r} has no units attribute")
    for name in ds.variables:
        known = spec(str(name))
        if known and known[0] and ds[name].attrs.get("units", known[0]) != known[0]:
            raise InputError(f"{where}: variable {name!r} is in {ds[name].attrs['units']!r}, the contract says {known[0]!r}")
    for name in ("edlbench_version", "git_commit", "created"):
        if name not in ds.attrs:
            raise InputError(f"{where}: missing provenance attribute {name!r}")


def write(ds: xr.Dataset | xr.DataTree, path: str | Path, kind: str, params: dict | None = None, seed: int | None = None) -> Path:
    """Annotate, stamp provenance, validate and atomically write `ds` as a `kind` file; a tree's
    root is the `kind` dataset and its children are written as NetCDF groups beside it."""
    tree = ds if isinstance(ds, xr.DataTree) else xr.DataTree(ds)
    root = annotate(tree.to_dataset(inherit=False).copy())
    root.attrs.update(provenance.attributes(params, seed))
    root.attrs["edlbench_kind"] = kind
    root.attrs["Conventions"] = "CF-1.8"
    validate(root, kind, str(path))
    with atomic_output(path) as tmp:
        root.to_netcdf(tmp, engine="netcdf4")
        for name, child in tree.children.items():  # each group self-contained: its coordinates written in it
            annotate(child.to_dataset(inherit=True).copy()).to_netcdf(tmp, mode="a", group=name, engine="netcdf4")
    return Path(path)


def load(path: str | Path, kind: str) -> xr.Dataset:
    """Open and validate a contract file; InputError names the file and what is wrong."""
    path = existing(path, f"{kind} file")
    try:
        with xr.open_dataset(path) as opened:
            ds = opened.load()
    except Exception as exc:  # netCDF4/xarray raise many types for unreadable files
        raise InputError(f"{path}: not a readable NetCDF file ({type(exc).__name__})") from None
    validate(ds, kind, str(path))
    return ds


def run_coords(ds: xr.Dataset, model: str, train_set: str, n_ion: int, sigma: float, seed: int, replica: int = 0) -> xr.Dataset:
    """Attach the scalar coordinates that identify one profiles run."""
    return ds.assign_coords(model=model, train_set=train_set, n_ion=int(n_ion), sigma=float(sigma), seed=int(seed), replica=int(replica))
