"""The Findings: when a comparison counts as resolved, and what resolving it would cost."""

import numpy as np
import pytest
import xarray as xr

from edlbench.findings import Finding, length_factor, projection, resolved


def test_resolved_means_significant_or_agreeing_within_tau_at_that_precision():
    assert resolved(0.30, 0.01, sig=True, converged=True, tolerance=0.05)
    assert resolved(0.02, 0.02, sig=False, converged=True, tolerance=0.05)  # |Δ| ≤ τ and 2σ ≤ τ
    assert not resolved(0.02, 0.02, sig=False, converged=False, tolerance=0.05)  # not converged
    assert not resolved(0.02, 0.03, sig=False, converged=True, tolerance=0.05)  # 2σ > τ: too imprecise to agree
    assert not resolved(0.08, 0.02, sig=False, converged=True, tolerance=0.05)  # beyond τ, yet not significant


def test_length_factor_is_the_squared_ratio_of_today_s_error_to_the_one_that_resolves():
    assert length_factor(0.10, 0.10, 0.05) == pytest.approx((0.10 / 0.04) ** 2)  # |Δ|/2.5 = 0.04 > τ/2
    assert length_factor(0.01, 0.05, 0.05) == pytest.approx((0.05 / 0.025) ** 2)  # τ/2 first
    assert length_factor(0.30, 0.01, 0.05) == 1.0


def _run(cpus: float, converged: int = 0) -> xr.Dataset:
    """One MLIP run of two replicas: 10 ps analysed in all after a 1-ps transient, 8 independent
    first-layer samples in all, 36 s per ps on `cpus` CPU threads."""
    values = dict(n_replicas=2, time_ps=10.0, t_equilibration=1.0, n_eff_cos_theta_layer1=8.0, n_eff_layer1_waters=40.0,
                  n_eff_ion_height=np.nan, converged=converged, md_seconds_per_ps=36.0, md_cpus=cpus)
    return xr.Dataset({k: (("model", "train_set", "n_ion"), [[[v]]]) for k, v in values.items()},
                      coords={"model": ["dp"], "train_set": ["mixed"], "n_ion": [0]})


def test_projection_known_answer():
    """Δ = 0.1 ± 0.1 with τ = 0.05 needs σ = 0.04: 6.25× the 5 ps per replica (more than the 5× that
    20 samples per replica need, and than doubling) after the 1-ps transient → 32.25 ps per replica;
    2 replicas × 32.25 ps × 36 s/ps × 2 CPUs = 1.29 core-hours, or 0.645 GPU-hours on a GPU."""
    finding = Finding(1, "dp", "", False, [("dp", "mixed", 0)], 0.1, 0.1)
    assert projection(_run(2.0), finding, 0.05) == "≥ 32.2 ps per replica of each of its 1 runs: 1.3 core-hours"
    assert projection(_run(0.0), finding, 0.05) == "≥ 32.2 ps per replica of each of its 1 runs: 0.65 GPU-hours"
    precise = Finding(1, "dp", "", False, [("dp", "mixed", 0)], 0.1, 0.001)  # samples decide: 5× → 26 ps; converged: no doubling floor
    assert projection(_run(2.0, converged=1), precise, 0.05).startswith("≥ 26 ps per replica")
    assert projection(_run(2.0).drop_vars("md_seconds_per_ps"), finding, 0.05).endswith("cost not measured in this results file")
    assert projection(_run(2.0), Finding(3, "—", "", False), 0.05) == "needs models not in this run"
