"""Derived comparison metrics of results.nc (added by `edlbench aggregate`).

Per model × train_set × n_ion, against the reference row (model = "reference"):

- ``<q>_rmsd`` for q = rho_O, cos_theta, rho_ion: root-mean-square deviation over the profile's
  z range, sqrt(Σ w (q − q_ref)² / Σ w), over bins where both are finite; w = 1 for densities
  and w = ρ_O,ref for ⟨cos θ⟩ (bins without water carry no orientation). ``<q>_rmsd_noise`` is
  the same average of sem² + sem_ref² (block standard errors): the RMSD sampling noise alone
  would give. A deviation well above its noise is a real difference.
- ``rho_O_peak_height`` (g/cm³) and ``rho_O_peak_z`` (Å): maximum of ρ_O within the first layer.
- ``cos_theta_layer1_dev`` = ⟨cos θ⟩₁ − ⟨cos θ⟩₁,ref with ``cos_theta_layer1_dev_sem``
  = sqrt(sem² + sem_ref²) and ``cos_theta_layer1_dev_dof`` the smaller of the two degrees of
  freedom (a conservative Student-t interval; inf where both errors are within-run).
- ``acf_decay_time`` (ps): first lag at which the first-layer dipole ACF falls below 1/e
  (linear interpolation; NaN if it never does within the computed lags).
- ``unstable_fraction`` (model × train_set): fraction of the MD runs (charges × replicas) that
  stopped as unstable.
- ``rmse_force_committee``/``rmse_energy_committee``: test RMSEs averaged over the committee
  (seeds): with train_set × n_ion this is the cross-charge error matrix (trained on S, tested on n).
- ``gamma_above_1_domain`` (model × train_set × n_ion), with ``_sem``: the in-domain rate a run
  of the model that runs the MD (seed 0) at charge n is judged against — the fraction of atoms with
  its own γ above 1 on held-out test frames of a charge it was trained on: n itself where the
  training set holds n (mixed), else the training set's own charge k (n_k). The rate depends on
  the composition (an ion's environments are the rarest), so the charge itself is the baseline
  where the model was trained on it; a single-charge model run elsewhere has none closer than k.
- ``gamma_above_1_excess`` = ``gamma_above_1`` − ``gamma_above_1_domain`` per MD run, with
  ``_sem`` = sqrt(sem² + sem_domain²) and ``_dof`` the run's: a run whose excess is
  significantly positive went beyond its training data.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from edlbench.contract import STATUS

REFERENCE = "reference"
MD_SEED = 0  # the committee member that runs the MD (its γ is the run's)
DEVIATIONS = ("rho_O", "cos_theta", "rho_ion")


def _root_weighted_mean(squares: xr.DataArray, weight: xr.DataArray) -> xr.DataArray:
    """sqrt(Σ_z w·squares / Σ_z w) over bins where both are finite (NaN where no weight)."""
    ok = np.isfinite(squares) & np.isfinite(weight)
    w = weight.where(ok, 0.0)
    return np.sqrt((squares.where(ok, 0.0) * w).sum("z") / w.sum("z")).where(w.sum("z") > 0)


def profile_deviations(ds: xr.Dataset, ref: xr.Dataset) -> xr.Dataset:
    """RMS deviations of the profiles from the reference and their sampling-noise level."""
    out = xr.Dataset()
    for q in DEVIATIONS:
        if q not in ds:
            continue
        weight = ref.rho_O if q == "cos_theta" else xr.ones_like(ref[q])
        out[f"{q}_rmsd"] = _root_weighted_mean((ds[q] - ref[q]) ** 2, weight)
        if f"{q}_sem" in ds:
            out[f"{q}_rmsd_noise"] = _root_weighted_mean(ds[f"{q}_sem"] ** 2 + ref[f"{q}_sem"] ** 2, weight)
    return out


def first_peak(ds: xr.Dataset) -> xr.Dataset:
    """Height (g/cm³) and position (Å) of the ρ_O maximum within the first layer."""
    rho = ds.rho_O.where(ds.z <= ds.layer1_cutoff) if "layer1_cutoff" in ds else ds.rho_O
    found = rho.notnull().any("z")
    height = rho.max("z").where(found)
    z = rho.fillna(-np.inf).idxmax("z").where(found)
    return xr.Dataset({"rho_O_peak_height": height, "rho_O_peak_z": z.drop_vars([c for c in z.coords if c not in height.coords])})


def decay_time(acf: xr.DataArray) -> xr.DataArray:
    """First lag (ps) where `acf` drops below 1/e, linearly interpolated; NaN if it never does."""
    def one(c: np.ndarray, lag: np.ndarray) -> float:
        below = np.flatnonzero(c < np.exp(-1))
        if not len(below) or below[0] == 0 or not np.isfinite(c[: below[0] + 1]).all():
            return np.nan
        k = below[0]
        return float(lag[k - 1] + (np.exp(-1) - c[k - 1]) * (lag[k] - lag[k - 1]) / (c[k] - c[k - 1]))

    return xr.apply_ufunc(one, acf, acf.lag, input_core_dims=[["lag"], ["lag"]], vectorize=True)


def add_metrics(ds: xr.Dataset, runs: xr.Dataset | None = None) -> xr.Dataset:
    """`ds` (an aggregated results dataset: replica means) with the metrics of this module added;
    `runs` (every run, with a replica dimension) gives the unstable fraction where there is one."""
    out = ds.copy()
    if "rho_O" in ds:
        if REFERENCE in ds.model.values:
            ref = ds.sel(model=REFERENCE)
            out = out.assign(profile_deviations(ds, ref).data_vars)
            if "cos_theta_layer1" in ds:
                out["cos_theta_layer1_dev"] = ds.cos_theta_layer1 - ref.cos_theta_layer1
                out["cos_theta_layer1_dev_sem"] = np.sqrt(ds.cos_theta_layer1_sem ** 2 + ref.cos_theta_layer1_sem ** 2)
                if "cos_theta_layer1_dof" in ds:
                    out["cos_theta_layer1_dev_dof"] = np.minimum(ds.cos_theta_layer1_dof, ref.cos_theta_layer1_dof)
        out = out.assign(first_peak(ds).data_vars)
        if "dipole_acf" in ds:
            out["acf_decay_time"] = decay_time(ds.dipole_acf)
    status = (runs if runs is not None else ds).get("status")
    if status is not None:
        over = [d for d in status.dims if d not in ("model", "train_set")]
        ran = status.isin([STATUS["ok"], STATUS["unstable"]])
        out["unstable_fraction"] = ((status == STATUS["unstable"]).sum(over) / ran.sum(over)).where(ran.any(over))
    for q in ("rmse_force", "rmse_energy"):
        if q in ds and "seed" in ds[q].dims:
            out[f"{q}_committee"] = ds[q].mean("seed", skipna=True)
    if "gamma_above_1_test" in ds and MD_SEED in ds.seed.values:
        out = out.assign(in_domain_gamma(ds.sel(seed=MD_SEED)).data_vars)
        if "gamma_above_1" in ds:
            out["gamma_above_1_excess"] = ds.gamma_above_1 - out.gamma_above_1_domain
            out["gamma_above_1_excess_sem"] = np.hypot(ds.gamma_above_1_sem, out.gamma_above_1_domain_sem)
            if "gamma_above_1_dof" in ds:
                out["gamma_above_1_excess_dof"] = ds.gamma_above_1_dof
    return out


def own_charge(train_set: str, charges) -> int | None:
    """The one charge a single-charge training set n_k holds (None: mixed, or k not among `charges`)."""
    return next((int(k) for k in charges if f"n{k}" == train_set), None)  # the plan's naming: n{k}


def in_domain_gamma(errors: xr.Dataset) -> xr.Dataset:
    """``gamma_above_1_domain`` and its ``_sem`` (model × train_set × n_ion) from one seed's
    test-frame rates: at n_ion itself, except for a single-charge set n_k: at k."""
    def baseline(da: xr.DataArray) -> xr.DataArray:
        out = da.copy()
        for t in da.train_set.values:
            if (k := own_charge(str(t), da.n_ion.values)) is not None:
                out.loc[{"train_set": t}] = da.sel(train_set=t, n_ion=k, drop=True)  # broadcast over n_ion by name
        return out

    return xr.Dataset({"gamma_above_1_domain": baseline(errors.gamma_above_1_test),
                       "gamma_above_1_domain_sem": baseline(errors.gamma_above_1_test_sem)})
