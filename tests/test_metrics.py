"""Comparison metrics on synthetic results with known answers."""

import numpy as np
import pytest
import xarray as xr

from edlbench.contract import STATUS
from edlbench.metrics import add_metrics, decay_time

Z = np.arange(0.05, 8.0, 0.1)
LAG = np.arange(0.0, 5.0, 0.05)


def one(da: xr.DataArray) -> float:
    return float(da.squeeze().item())


def peak(z0: float, height: float = 3.0) -> np.ndarray:
    """A water-like ρ_O(z): a Gaussian first layer at z0 on a bulk of 1 g/cm³ (zero inside the metal)."""
    return np.where(Z > 2.0, 1.0 + (height - 1) * np.exp(-((Z - z0) ** 2) / (2 * 0.2**2)), 0.0)


def results(rows: dict[str, dict]) -> xr.Dataset:
    """A results-like dataset: one train_set "mixed", one charge, profiles per model."""
    models = list(rows)
    def stack(name, default):
        return np.array([rows[m].get(name, default) for m in models])[:, None, None]
    dims3 = ("model", "train_set", "n_ion")
    return xr.Dataset(
        {
            "rho_O": (dims3 + ("z",), stack("rho_O", peak(2.95))),
            "rho_O_sem": (dims3 + ("z",), stack("rho_O_sem", np.full(Z.size, 0.01))),
            "cos_theta": (dims3 + ("z",), stack("cos_theta", np.where(Z > 2.0, -0.2, np.nan))),
            "cos_theta_sem": (dims3 + ("z",), stack("cos_theta_sem", np.where(Z > 2.0, 0.02, np.nan))),
            "cos_theta_layer1": (dims3, stack("cos_theta_layer1", -0.2)),
            "cos_theta_layer1_sem": (dims3, stack("cos_theta_layer1_sem", 0.01)),
            "layer1_cutoff": (dims3, stack("layer1_cutoff", 4.0)),
            "dipole_acf": (dims3 + ("lag",), stack("dipole_acf", np.exp(-LAG / 2.0))),
            "status": (dims3, stack("status", STATUS["ok"]).astype("i1")),
            "rmse_force": (dims3 + ("seed",), stack("rmse_force", [100.0, 120.0])),
        },
        coords={"model": models, "train_set": ["mixed"], "n_ion": [2], "z": Z, "lag": LAG, "seed": [0, 1]},
    )


def test_identical_profiles_deviate_by_zero_with_a_noise_level():
    m = add_metrics(results({"reference": {}, "dp": {}}))
    for q in ("rho_O", "cos_theta"):
        assert one(m[f"{q}_rmsd"].sel(model="dp")) == 0.0
    # noise: sqrt(sem² + sem_ref²) averaged over the range: 0.01·√2 for the flat sem of ρ_O
    assert one(m.rho_O_rmsd_noise.sel(model="dp")) == pytest.approx(0.01 * np.sqrt(2))
    assert one(m.cos_theta_layer1_dev.sel(model="dp")) == 0.0
    assert one(m.cos_theta_layer1_dev_sem.sel(model="dp")) == pytest.approx(0.01 * np.sqrt(2))


def test_shifted_peak_gives_the_shift_and_a_known_rmsd():
    m = add_metrics(results({"reference": {}, "dp": {"rho_O": peak(3.45), "cos_theta": np.where(Z > 2.0, 0.1, np.nan)}}))
    shift = one(m.rho_O_peak_z.sel(model="dp") - m.rho_O_peak_z.sel(model="reference"))
    assert shift == pytest.approx(0.5, abs=1e-9)
    assert one(m.rho_O_peak_height.sel(model="dp")) == pytest.approx(3.0, rel=1e-12)
    expected = np.sqrt(np.mean((peak(3.45) - peak(2.95)) ** 2))  # unit weights over every bin
    assert one(m.rho_O_rmsd.sel(model="dp")) == pytest.approx(expected, rel=1e-12)
    # ⟨cos θ⟩ off by 0.3 everywhere there is water: the density-weighted RMSD is exactly 0.3
    assert one(m.cos_theta_rmsd.sel(model="dp")) == pytest.approx(0.3, rel=1e-12)


def test_acf_decay_time_of_an_exponential_is_its_time_constant():
    m = add_metrics(results({"reference": {}, "mace": {"dipole_acf": np.exp(-LAG / 0.8)}}))
    assert one(m.acf_decay_time.sel(model="reference")) == pytest.approx(2.0, rel=2e-3)
    assert one(m.acf_decay_time.sel(model="mace")) == pytest.approx(0.8, rel=2e-3)
    never = decay_time(xr.DataArray(np.ones(LAG.size), coords={"lag": LAG}, dims="lag"))
    assert np.isnan(float(never))


def test_unstable_fraction_and_committee_rmse():
    m = add_metrics(results({"reference": {}, "dp": {"status": STATUS["unstable"]}}))
    assert one(m.unstable_fraction.sel(model="dp", train_set="mixed")) == 1.0
    assert one(m.unstable_fraction.sel(model="reference", train_set="mixed")) == 0.0
    assert one(m.rmse_force_committee.sel(model="dp")) == 110.0


def test_in_domain_gamma_rate_and_the_excess_of_each_run():
    """Seed 0's test-frame rates (train_set × n_ion): the mixed model's baseline at each charge is
    that charge's rate, n2's is its n2 rate at every charge; a run's excess is its MD rate minus
    that, errors in quadrature, with the run's degrees of freedom."""
    sets, charges = ["mixed", "n2"], [0, 2, 4]
    rate = np.array([[[0.02, 0.04, 0.06], [0.30, 0.10, 0.50]], [[9.0] * 3] * 2])  # seed × train_set × n_ion
    sem = np.array([[[0.003, 0.004, 0.005], [0.01, 0.02, 0.03]], [[1.0] * 3] * 2])  # seed 1 has no say
    dims = ("seed", "train_set", "n_ion")
    ds = xr.Dataset({"gamma_above_1_test": (dims, rate), "gamma_above_1_test_sem": (dims, sem),
                     "gamma_above_1": (dims[1:], [[0.04, 0.04, 0.04], [0.1, 0.1, 0.2]]),
                     "gamma_above_1_sem": (dims[1:], np.full((2, 3), 0.01)), "gamma_above_1_dof": (dims[1:], np.full((2, 3), 2.0))},
                    coords={"seed": [0, 1], "train_set": sets, "n_ion": charges})
    m = add_metrics(ds)
    np.testing.assert_allclose(m.gamma_above_1_domain.sel(train_set="mixed"), [0.02, 0.04, 0.06])
    np.testing.assert_allclose(m.gamma_above_1_domain_sem.sel(train_set="mixed"), [0.003, 0.004, 0.005])
    np.testing.assert_allclose(m.gamma_above_1_domain.sel(train_set="n2"), [0.10] * 3)
    np.testing.assert_allclose(m.gamma_above_1_excess.sel(train_set="mixed"), [0.02, 0.0, -0.02], atol=1e-12)
    np.testing.assert_allclose(m.gamma_above_1_excess.sel(train_set="n2"), [0.0, 0.0, 0.1], atol=1e-12)
    np.testing.assert_allclose(m.gamma_above_1_excess_sem.sel(train_set="n2"), np.hypot(0.01, 0.02))
    assert (m.gamma_above_1_excess_dof == 2.0).all()
