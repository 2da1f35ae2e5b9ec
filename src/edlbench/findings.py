"""The study's questions answered from results.nc: a verdict with its Δ ± σ, or "not resolved at
this scale" with the cost of the runs that would resolve it.

A comparison Δ ± e (e its standard error) is resolved when it is significant (95 % after Holm's
correction, between converged, finished runs: :func:`edlbench.statistics.significant`), or when
its runs are converged and |Δ| ≤ τ with 2e ≤ τ, τ the report's tolerance (they agree within τ).
Otherwise it is not resolved, and the projection asks how much longer its MLIP runs must be: long
enough for ≥ 20 independent samples of every analysed series per replica (the convergence
criterion of :mod:`edlbench.profiles`; an unconverged run at least twice as long), and for e to
reach |Δ|/2.5 (a difference of today's size would be significant) or τ/2 (agreement within τ),
whichever comes first, with e falling as 1/√length. The length is a lower bound: a run whose
halves disagree (a drift) may need more than its samples say. The cost is that length times each
run's measured wall-clock seconds per ps and CPU threads (``md_seconds_per_ps``, ``md_cpus``), in
core-hours (GPU-hours for runs on a GPU); the reference's own (classical, cheap) MD is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

#: the study's questions (shared/DESIGN.md §1), as the Findings section names them
QUESTIONS = {1: "Do short-range MLIPs reproduce the interfacial water orientation and the ion distribution?",
             2: "Does mixed-charge training serve each charge state as well as charge-specific training?",
             3: "Does a larger receptive field (message passing) bring a model closer?",
             4: "Can one model cover several surface charges?"}
#: independent samples per series and replica that a converged run has (edlbench.profiles)
MIN_SAMPLES = 20
#: |Δ| / e at which a difference of today's size would be significant (95 %, a few comparisons)
Z_RESOLVE = 2.5
SERIES = ("n_eff_cos_theta_layer1", "n_eff_layer1_waters", "n_eff_ion_height")


@dataclass
class Finding:
    """One answer: its question, what it compares, Δ ± err, the plain answer, and the runs
    (model, train_set, n_ion) it rests on."""

    question: int
    who: str
    answer: str
    resolved: bool
    runs: list[tuple[str, str, int]] = field(default_factory=list)
    delta: float = np.nan
    err: float = np.nan
    tolerance: float = np.nan  #: its τ, where it is not the report's (another quantity)
    remedy: str = "needs models not in this run"  #: what resolves it when no run of it can be lengthened


def resolved(delta: float, err: float, sig: bool, converged: bool, tolerance: float) -> bool:
    """Significant, or converged and agreeing within `tolerance` at that precision (module docstring)."""
    return bool(sig or (converged and abs(delta) <= tolerance and 2 * err <= tolerance))


def answer(sig: bool, done: bool, closer: str, otherwise: str) -> str:
    """A comparison's plain answer: which side is closer when significant, agreement when resolved
    otherwise, else `otherwise` (the numbers, unresolved)."""
    return (closer if sig else "they agree within τ") if done else otherwise


def length_factor(delta: float, err: float, tolerance: float) -> float:
    """How many times longer the runs must be for the error alone to resolve Δ (≥ 1)."""
    wanted = max(abs(delta) / Z_RESOLVE if np.isfinite(delta) else 0.0, tolerance / 2)
    return max(1.0, (err / wanted) ** 2) if np.isfinite(err) and wanted > 0 else np.inf


def _value(run: xr.Dataset, name: str) -> float:
    return float(run[name]) if name in run else np.nan


def projection(ds: xr.Dataset, finding: Finding, tolerance: float) -> str:
    """What resolving `finding` takes: ps per replica of its runs and the cost (module docstring)."""
    lengths, costs = [], {"core-hours": 0.0, "GPU-hours": 0.0}
    for model, train_set, n in finding.runs:
        run = ds.sel(model=model, train_set=train_set, n_ion=n)
        k = max(int(_value(run, "n_replicas")), 1) if np.isfinite(_value(run, "n_replicas")) else 1
        samples = [_value(run, s) / k for s in SERIES if _value(run, s) > 0]
        floor = 1.0 if _value(run, "converged") == 1 else 2.0  # an unconverged run at least doubles (its transient in the first half)
        tau = finding.tolerance if np.isfinite(finding.tolerance) else tolerance
        factor = max([floor, length_factor(finding.delta, finding.err, tau)] + [MIN_SAMPLES / x for x in samples])
        length = np.nan_to_num(_value(run, "t_equilibration")) + factor * _value(run, "time_ps") / k  # ps per replica
        lengths.append(length)
        cpus = _value(run, "md_cpus")
        costs["GPU-hours" if cpus == 0 else "core-hours"] += k * length * _value(run, "md_seconds_per_ps") * (cpus or 1) / 3600
    if not lengths:
        return finding.remedy
    span = f"{min(lengths):.3g}" if f"{min(lengths):.3g}" == f"{max(lengths):.3g}" else f"{min(lengths):.3g}–{max(lengths):.3g}"
    spent = [f"{v:.2g} {unit}" for unit, v in costs.items() if v > 0]
    cost = " + ".join(spent) if np.isfinite(list(costs.values())).all() and spent else "cost not measured in this results file"
    return f"≥ {span} ps per replica of each of its {len(lengths)} runs: {cost}"


def table(ds: xr.Dataset, findings: list[Finding], tolerance: float) -> tuple[list[str], list[list[str]]]:
    """The Findings table: a row per finding, question by question; a question nothing answers
    says so."""
    rows = []
    for q, question in QUESTIONS.items():
        mine = [f for f in findings if f.question == q] or [Finding(q, "—", "no run in this results file answers it", False)]
        for i, f in enumerate(mine):
            delta = f"{f.delta:+.3f} ± {f.err:.3f} ({abs(f.delta) / f.err:.1f} σ)" if np.isfinite(f.delta) and f.err > 0 else "–"
            answer = f.answer if f.resolved else f"not resolved at this scale: {f.answer}"
            rows.append([f"Q{q}. {question}" if i == 0 else "", f.who, delta, answer, "—" if f.resolved else projection(ds, f, tolerance)])
    return ["question", "model: quantity", "Δ ± σ (n σ)", "answer", "to resolve it (MLIP MD)"], rows
