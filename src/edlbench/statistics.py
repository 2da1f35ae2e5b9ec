"""Equilibration, correlation and significance of per-frame time series.

- Equilibration and statistical inefficiency come from pymbar's ``timeseries``
  (``detect_equilibration``: the start t₀, among ~200 evenly spaced candidates, that maximises the
  number of effectively independent samples N_eff = (N − t₀)/g; ``statistical_inefficiency``
  g = 1 + 2Σ(1 − t/N)C(t)).
  pymbar's choice is fooled by a few outlying first frames (an MLIP run started from a reference
  frame often begins so): they inflate the variance, the normalised autocorrelation looks short
  and t₀ = 0 wins. So frames of the first half lying more than :data:`OUTLIER` robust standard
  deviations (1.4826 × MAD) from the second half's median are cut first, and pymbar runs on the
  rest; the second half is the run's best estimate of its own equilibrium.
- The standard error of the mean of the equilibrated part is std·√(g/N) (N frames after t₀).
- A run is ``converged`` when t₀ falls in the first half, N_eff ≥ :data:`MIN_SAMPLES`, and the
  means of the first and second half of the equilibrated part agree within 2σ of their
  difference (each half's error from its own g).
- Replicas (K ≥ 2 independent runs): the mean of the replica means; its error is the larger of the
  replica scatter/√K (ddof = 1) and the within-run error of the mean √(Σσᵢ²)/K, with Student's t
  on K − 1 degrees of freedom for the scatter (normal for the within-run estimate).
- A difference of two estimates is significant at level α after Holm's step-down correction for
  the number of comparisons, and only when both are converged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

#: robust standard deviations from the second half's median beyond which a first-half frame is a transient
OUTLIER = 6.0
#: effectively independent samples a converged run needs after its transient
MIN_SAMPLES = 20


@dataclass(frozen=True)
class Series:
    """Equilibrated statistics of one series: start frame t0, inefficiency g (frames), N_eff,
    mean and its standard error over frames t0…, and whether it counts as converged."""

    t0: int
    g: float
    n_eff: float
    mean: float
    sem: float
    converged: bool


def _inefficiency(x: np.ndarray) -> float:
    from pymbar import timeseries

    if len(x) < 3 or np.ptp(x) == 0:
        return 1.0
    return float(timeseries.statistical_inefficiency(x, fast=False))


def _outlier_cut(x: np.ndarray) -> int:
    """First frame after the last first-half frame lying far outside the second half's spread."""
    half = x[len(x) // 2:]
    scale = 1.4826 * np.median(np.abs(half - np.median(half)))
    if scale == 0:
        return 0
    far = np.flatnonzero(np.abs(x[: len(x) // 2] - np.median(half)) > OUTLIER * scale)
    return int(far[-1]) + 1 if len(far) else 0


def equilibration(x: np.ndarray) -> tuple[int, float, float]:
    """(t0, g, N_eff) of a per-frame series: outlying first frames cut, then pymbar's detection."""
    from pymbar import timeseries

    x = np.asarray(x, dtype=float)
    cut = _outlier_cut(x)
    rest = x[cut:]
    if len(rest) < 4 or np.ptp(rest) == 0:
        return cut, 1.0, float(len(rest))
    t0, g, n_eff = timeseries.detect_equilibration(rest, fast=True, nskip=max(1, len(rest) // 200))  # ~200 candidate starts
    return cut + int(t0), float(g), float(n_eff)


def analyse(x: np.ndarray, t0: int | None = None) -> Series:
    """Statistics of series `x` from `t0` (default: its own detected start)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 4:
        return Series(0, np.nan, float(len(x)), float(np.mean(x)) if len(x) else np.nan, np.nan, False)
    if t0 is None:
        t0 = equilibration(x)[0]
    t0 = min(int(t0), len(x) - 2)
    rest = x[t0:]
    g = _inefficiency(rest)
    n_eff = len(rest) / g
    sem = float(np.std(rest, ddof=1) * np.sqrt(g / len(rest)))
    halves = np.array_split(rest, 2)
    parts = [(h.mean(), np.std(h, ddof=1) * np.sqrt(_inefficiency(h) / len(h))) for h in halves]
    agree = abs(parts[0][0] - parts[1][0]) <= 2 * np.hypot(parts[0][1], parts[1][1])
    converged = bool(t0 < len(x) / 2 and n_eff >= MIN_SAMPLES and agree)
    return Series(t0, g, n_eff, float(rest.mean()), sem, converged)


@dataclass(frozen=True)
class Combined:
    """Replica means: value, standard error, degrees of freedom of its interval (inf: normal)
    and which estimate the error is ("replica scatter" or "within-run"); scalars for one set of
    replicas, arrays (or DataArrays) when combined along an axis of many."""

    mean: Any
    sem: Any
    dof: Any
    method: Any


def _combine(means: np.ndarray, sems: np.ndarray, axis: int = -1) -> tuple[np.ndarray, ...]:
    """(mean, sem, dof, uses the scatter) over `axis`, ignoring NaN replicas."""
    k = np.isfinite(means).sum(axis)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: no replica ran
        mean = np.nanmean(means, axis)
        within = np.sqrt(np.sum(np.where(np.isfinite(means), sems, 0.0) ** 2, axis)) / k  # a used replica's NaN error stays NaN
        between = np.where(k >= 2, np.nanstd(means, axis, ddof=1) / np.sqrt(k), np.nan)
    scatter = between >= within  # False where either is NaN (K < 2)
    return mean, np.where(scatter, between, within), np.where(scatter, k - 1.0, np.inf), scatter


def combine_replicas(means, sems, axis: int | str = 0) -> Combined:
    """The mean of K replica means with the larger of the between- and within-run errors, over
    `axis` (a dimension name for DataArrays); replicas with a NaN mean are left out."""
    if isinstance(means, xr.DataArray):
        mean, sem, dof, scatter = xr.apply_ufunc(_combine, means, sems, input_core_dims=[[axis], [axis]],
                                                 output_core_dims=[[], [], [], []])
    else:
        mean, sem, dof, scatter = (x[()] for x in _combine(np.asarray(means, float), np.asarray(sems, float), axis))
    return Combined(mean, sem, dof, xr.where(scatter, "replica scatter", "within-run") if isinstance(scatter, xr.DataArray)
                    else np.where(scatter, "replica scatter", "within-run")[()])


def p_value(delta: float, sem: float, dof: float = np.inf) -> float:
    """Two-sided p of a difference `delta` with standard error `sem` (Student's t with `dof`)."""
    z = abs(delta) / sem
    return float(2 * (stats.norm.sf(z) if np.isinf(dof) else stats.t.sf(z, dof)))


def holm(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Which of the hypotheses with p-values `p` Holm's step-down procedure rejects at level α."""
    p = np.asarray(p, float)
    p = np.where(np.isfinite(p), p, 1.0)  # an undefined comparison rejects nothing
    reject = np.zeros(len(p), bool)
    for rank, i in enumerate(np.argsort(p)):
        if p[i] > alpha / (len(p) - rank):
            break
        reject[i] = True
    return reject


def significant(deltas: np.ndarray, sems: np.ndarray, dofs: np.ndarray, converged: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Differences significant at α after Holm's correction over all of them; a comparison with
    an unconverged run (converged False) is never significant."""
    p = np.array([p_value(d, s, k) for d, s, k in zip(deltas, sems, dofs)])
    return holm(p, alpha) & np.asarray(converged, bool)
