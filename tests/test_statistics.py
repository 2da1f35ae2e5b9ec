"""Equilibration, correlation, replicas and significance on synthetic series with known answers."""

import numpy as np
import pytest

from edlbench.statistics import analyse, combine_replicas, equilibration, holm, significant


def ar1(n: int, phi: float, rng: np.random.Generator, sigma: float = 1.0) -> np.ndarray:
    """Stationary AR(1) with unit marginal variance × sigma: g = (1 + φ)/(1 − φ)."""
    x = np.empty(n)
    x[0] = rng.standard_normal()
    noise = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + noise[i]
    return sigma * x


@pytest.mark.parametrize("phi", [0.5, 0.9, 0.97])
def test_statistical_inefficiency_of_ar1_within_20_percent(phi):
    expected = (1 + phi) / (1 - phi)
    x = ar1(40000, phi, np.random.default_rng(1))
    s = analyse(x, t0=0)
    assert s.g == pytest.approx(expected, rel=0.2), (s.g, expected)
    assert s.sem == pytest.approx(np.sqrt(expected / len(x)), rel=0.2)


def test_initial_transient_is_detected_and_discarded():
    """An exponential relaxation from +6σ (τ = 200 frames) before an AR(1) of g = 19: the detected
    start lies after the transient has decayed to about the noise, well before the end, and the
    mean after it is unbiased within its error."""
    rng = np.random.default_rng(2)
    n, tau = 8000, 200
    x = ar1(n, 0.9, rng) + 6 * np.exp(-np.arange(n) / tau)
    t0, g, n_eff = equilibration(x)
    assert 1.5 * tau <= t0 <= 8 * tau, t0
    s = analyse(x)
    assert s.converged and abs(s.mean) < 3 * s.sem, s


def test_outlying_first_frames_do_not_fool_the_detection():
    """Three first frames at ±60σ (the shock of a start far from the model's equilibrium): pymbar
    alone keeps them (t0 = 0), and they make the series look uncorrelated (g ≈ 1.6 instead of 9);
    edlbench's cut starts after them."""
    from pymbar import timeseries

    rng = np.random.default_rng(3)
    x = ar1(2000, 0.8, rng)
    x[:3] = [60.0, -60.0, 60.0]
    assert timeseries.detect_equilibration(x, fast=False)[0] == 0  # the known failure
    t0, _, _ = equilibration(x)
    assert 3 <= t0 < 200, t0
    s = analyse(x)
    assert abs(s.mean) < 3 * s.sem and s.g == pytest.approx(9, rel=0.35)


def test_convergence_flag():
    rng = np.random.default_rng(4)
    assert analyse(ar1(4000, 0.9, rng)).converged
    drift = ar1(4000, 0.9, rng) + np.linspace(0, 3, 4000)  # no equilibrium: halves disagree
    assert not analyse(drift).converged
    short = ar1(150, 0.95, rng)  # 150 frames at g ≈ 39: under 20 independent samples
    assert not analyse(short).converged


def test_replicas_error_is_the_larger_of_scatter_and_within_run():
    means, sems = np.array([1.0, 1.4, 0.6, 1.2]), np.full(4, 0.01)
    c = combine_replicas(means, sems)
    assert c.method == "replica scatter" and c.dof == 3
    assert c.sem == pytest.approx(np.std(means, ddof=1) / 2) and c.mean == pytest.approx(1.05)
    c = combine_replicas(np.array([1.0, 1.001]), np.array([0.1, 0.1]))
    assert c.method == "within-run" and c.sem == pytest.approx(np.sqrt(0.02) / 2) and np.isinf(c.dof)
    # coverage: 2000 sets of K = 3 replicas whose runs scatter 10× their stated errors
    rng = np.random.default_rng(5)
    from scipy import stats

    hits = 0
    for _ in range(2000):
        c = combine_replicas(rng.normal(0.0, 1.0, 3), np.full(3, 0.1))
        hits += abs(c.mean) <= stats.t.ppf(0.975, c.dof) * c.sem
    assert hits / 2000 == pytest.approx(0.95, abs=0.02)


def test_significance_needs_convergence_and_survives_holm():
    deltas, sems, dofs = np.array([1.0, 1.0, 0.05]), np.array([0.1, 0.1, 0.1]), np.full(3, np.inf)
    assert list(significant(deltas, sems, dofs, [True, False, True])) == [True, False, False]  # 10σ but unconverged: no
    p = np.array([0.01, 0.02, 0.03, 0.04])  # each < 0.05 alone; Holm keeps only the first (0.01 ≤ 0.05/4 = 0.0125)
    assert list(holm(p)) == [True, False, False, False]
    assert list(holm(np.array([0.001, np.nan]))) == [True, False]
