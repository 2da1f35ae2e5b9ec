"""The comparison report: figures, report.md and a self-contained report.html from results.nc.

Every sentence of the report is generated from the numbers with thresholds stated in the report:
a model reproduces the first-layer orientation at a charge when |Δ⟨cos θ⟩₁| ≤ max(τ, 2·SE)
(τ = ``tolerance``, SE the standard error of the difference); a difference is called significant
only at 95 % after Holm's correction and between converged runs (:mod:`edlbench.statistics`), and
a run that ended unstable enters no verdict. "Charge-specific" means the model trained on n{k}
run at charge k; "mixed" the model trained on the mixed set.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from edlbench.backends import SPECS  # noqa: E402
from edlbench.contract import STATUS, load  # noqa: E402
from edlbench.files import staged_folder  # noqa: E402
from edlbench.findings import Finding, answer, resolved  # noqa: E402
from edlbench.findings import table as findings_table  # noqa: E402
from edlbench.metrics import MD_SEED, REFERENCE  # noqa: E402
from edlbench.statistics import significant  # noqa: E402

SIGMA_LABEL = "σ per cell, −n·e/A (µC/cm²; σ/2 per interface)"
#: How each backend sees its environment (shared/DESIGN.md §1).
PROFILES = (("rho_O", "ρ_O (g/cm³)"), ("cos_theta", "⟨cos θ⟩"), ("rho_ion", "ρ_ion (nm⁻³)"))


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  #: its answers to the study's questions (the Findings section)


def models(ds: xr.Dataset) -> list[str]:
    return [str(m) for m in ds.model.values if m != REFERENCE]


def charge_specific(da: xr.DataArray) -> xr.DataArray:
    """`da` of the model trained on n{k}, at each charge k (NaN where that set was not trained)."""
    sets = [str(t) for t in da.train_set.values]
    parts = [da.sel(train_set=f"n{k}" if f"n{k}" in sets else sets[0], n_ion=[k]).drop_vars("train_set") * (1 if f"n{k}" in sets else np.nan)
             for k in da.n_ion.values]
    return xr.concat(parts, dim="n_ion", coords="minimal", compat="override")


def variants(ds: xr.Dataset, name: str, model: str) -> dict[str, xr.DataArray]:
    """{"mixed": …, "charge-specific": …} of one variable of one model (over n_ion)."""
    da = ds[name].sel(model=model)
    out = {"charge-specific": charge_specific(da)}
    if "mixed" in ds.train_set.values:
        out = {"mixed": da.sel(train_set="mixed"), **out}
    return out


def _save(fig, outdir: Path, name: str) -> str:
    for ext in ("png", "svg"):
        fig.savefig(outdir / f"{name}.{ext}", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"{name}.png"


def _reference(ds: xr.Dataset, name: str) -> xr.DataArray:
    ref = ds[name].sel(model=REFERENCE)
    return ref.isel(train_set=0) if "train_set" in ref.dims else ref


STYLE = {"reference": dict(color="k", lw=2), "mixed": dict(color="C0"), "charge-specific": dict(color="C1", ls="--")}
UNSTABLE = dict(alpha=0.35)  # how a run that stopped as unstable is drawn (and labelled "unstable")


def _runs_at(ds: xr.Dataset, name: str, model: str, k: int) -> dict[str, xr.DataArray]:
    """`name` at charge `k` of the reference (where there is one) and of `model`'s variants."""
    ref = {"reference": _reference(ds, name).sel(n_ion=k)} if REFERENCE in ds.model.values else {}
    return ref | {v: da.sel(n_ion=k) for v, da in variants(ds, name, model).items()}


#: ⟨cos θ⟩ is drawn where ρ_O reaches this (g/cm³, 5 % of bulk water): rarer heights average a handful of molecules
RHO_O_MIN = 0.05


def plot_profiles(ds: xr.Dataset, model: str, outdir: Path) -> str:
    """Profiles per charge (rows: the charges `model` ran MD at) and quantity (columns): reference,
    mixed and charge-specific, legends naming model and training set."""
    quantities = [(q, label) for q, label in PROFILES if q in ds]
    ran = {v: np.isfinite(da).any("z").values for v, da in variants(ds, quantities[0][0], model).items()} if quantities else {}
    rows = [k for i, k in enumerate(ds.n_ion.values) if any(r[i] for r in ran.values())] or list(ds.n_ion.values)
    fig, axes = plt.subplots(len(rows), len(quantities), figsize=(4 * len(quantities), 2.4 * len(rows) + 0.4), squeeze=False, sharex=True, layout="constrained")
    for row, k in enumerate(rows):
        trained = {"reference": "reference", "mixed": f"{model} mixed", "charge-specific": f"{model} n{k}"}
        for col, (q, label) in enumerate(quantities):
            ax = axes[row, col]
            ax.set_ylabel(label)
            if q in ("rho_ion", "c_ion") and k == 0:
                ax.text(0.5, 0.5, "no ions at n = 0", transform=ax.transAxes, ha="center", va="center", color="0.4")
                ax.set_yticks([])
                continue
            curves, status = _runs_at(ds, q, model, k), _runs_at(ds, "status", model, k)
            rho = _runs_at(ds, "rho_O", model, k) if "rho_O" in ds else {}
            for name, da in curves.items():
                if q == "cos_theta" and name in rho:
                    da = da.where(rho[name] >= RHO_O_MIN)
                if np.isfinite(da).any():
                    unstable = int(status[name]) == STATUS["unstable"]  # drawn faint, labelled: it enters no verdict
                    ax.plot(ds.z, da, label=f"{trained[name]} (unstable)" if unstable else trained[name], **STYLE[name], **(UNSTABLE if unstable else {}))
            if col == 0:
                ax.set_title(f"n_ion = {k}, σ = {float(ds.sigma.sel(n_ion=k)):.1f} µC/cm² per cell", fontsize=9, loc="left")
    for ax in axes[-1]:
        ax.set_xlabel("z above the surface plane (Å)")
    for ax in axes[:, 0]:  # per charge: which runs there ended unstable
        if ax.lines:
            ax.legend(fontsize=7)
    drawn = [v for v, r in ran.items() if r.any()]
    skipped = [int(k) for k in ds.n_ion.values if k not in rows]
    fig.suptitle(f"{model}: {' vs '.join(drawn) or 'no'} training" + (f" (no MD at n = {', '.join(map(str, skipped))})" if skipped else "")
                 + f"; ⟨cos θ⟩ where ρ_O ≥ {RHO_O_MIN} g/cm³")  # names only what the panels hold
    return _save(fig, outdir, f"profiles_{model}")


#: what the first-layer figure draws of each run: mean, error, status, convergence
LAYER1 = ("cos_theta_layer1", "cos_theta_layer1_sem", "status", "converged")


def plot_layer1_orientation(ds: xr.Dataset, outdir: Path) -> str:
    """First-layer ⟨cos θ⟩ against σ, one panel per model, reference overlaid; open markers: not
    converged, red crosses: unstable runs."""
    names = models(ds)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(4 * max(len(names), 1), 3.2), squeeze=False, sharey=True, layout="constrained")
    for ax, model in zip(axes[0], names or [REFERENCE]):
        curves = {"reference": [_reference(ds, q) for q in LAYER1]} if REFERENCE in ds.model.values else {}
        if model != REFERENCE:
            parts = [variants(ds, q, model) for q in LAYER1]
            curves.update({v: [p[v] for p in parts] for v in parts[0]})
        for name, (mean, err, status, converged) in curves.items():
            ax.errorbar(ds.sigma, mean, yerr=err, marker="o", capsize=3, label=name, **STYLE[name])
            flagged = [(converged.values != 1, dict(marker="o", s=30, facecolors="w", edgecolors=STYLE[name]["color"], zorder=3)),
                       (status.values == STATUS["unstable"], dict(marker="x", s=70, color="r", zorder=4))]
            for where, style in flagged:
                ax.scatter(ds.sigma.values[where], mean.values[where], **style)
        ax.scatter([], [], marker="o", facecolors="w", edgecolors="k", label="not converged")
        ax.scatter([], [], marker="x", color="r", label="unstable (no verdict)")
        ax.set_title(model)
        ax.set_xlabel(SIGMA_LABEL)
    axes[0, 0].set_ylabel("first-layer ⟨cos θ⟩")
    axes[0, 0].legend(fontsize=8)
    return _save(fig, outdir, "cos_theta_layer1_vs_sigma")


def plot_rmse_matrix(ds: xr.Dataset, outdir: Path) -> str:
    """Heat map of the committee-mean test force RMSE: trained on (rows) × tested at (columns)."""
    names = models(ds)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.6 * max(len(names), 1), 3.2), squeeze=False, layout="constrained")
    shared = ds.rmse_force_committee.sel(model=names) if names else ds.rmse_force_committee
    scale = dict(vmin=float(shared.min()), vmax=float(shared.max())) if np.isfinite(shared).any() else {}
    im = None
    for ax, model in zip(axes[0], names):
        m = ds.rmse_force_committee.sel(model=model)
        m = m.sel(train_set=[t for t in m.train_set.values if np.isfinite(m.sel(train_set=t)).any()] or m.train_set.values)  # no empty rows
        im = ax.imshow(m.values, cmap="viridis", aspect="auto", **scale)  # one colour scale: equal colours, equal errors
        for (i, j), v in np.ndenumerate(m.values):
            if np.isfinite(v):
                light = scale and v > (scale["vmin"] + scale["vmax"]) / 2  # viridis is light at the top: dark text there
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="k" if light else "w", fontsize=8)
        ax.set_xticks(range(m.n_ion.size), [f"n{k}" for k in m.n_ion.values])
        ax.set_yticks(range(m.train_set.size), [str(t) for t in m.train_set.values])
        ax.set_xlabel("tested at")
        ax.set_title(model)
    if im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), label="test force RMSE, committee mean (meV/Å)")
    axes[0, 0].set_ylabel("trained on")
    return _save(fig, outdir, "rmse_matrix")


#: uncertainty panels along MD: variable, y label, what an empty panel says
UNCERTAINTY_PANELS = (("committee_spread", "committee force spread, frame mean (eV/Å)", "no committees in this run (committee: 1)"),
                      ("gamma_max", "max γ over atoms, frame mean (own γ)", "no model with its own γ in this run"))


def _dodge(ds: xr.Dataset) -> float:
    """x offset (µC/cm²) that keeps coincident points of one σ apart: 2 % of the σ range."""
    return 0.02 * float(np.ptp(ds.sigma.values)) if ds.sizes["n_ion"] > 1 else 1.0


def plot_test_gamma(ds: xr.Dataset, ax) -> None:
    """The fraction of atoms with γ > 1 on the held-out test frames at each σ, per model and
    training set (seed MD_SEED, the model that runs the MD): the in-domain rate at its own charges."""
    ax.set_xlabel("σ of the test frames, " + SIGMA_LABEL.split(", ", 1)[1])
    ax.set_ylabel("fraction of atoms with γ > 1, test frames")
    have = "gamma_above_1_test" in ds and MD_SEED in ds.seed.values
    rate, sem = (ds[q].sel(seed=MD_SEED) for q in ("gamma_above_1_test", "gamma_above_1_test_sem")) if have else (None, None)
    dodge = _dodge(ds)
    for i, model in enumerate(models(ds) if have else []):
        for j, t in enumerate(rate.train_set.values):
            r, e = rate.sel(model=model, train_set=t), sem.sel(model=model, train_set=t)
            if np.isfinite(r).any():
                x = ds.sigma + (j - (rate.sizes["train_set"] - 1) / 2) * dodge
                ax.errorbar(x, r, yerr=e, marker="os^vD"[j % 5], capsize=3, color=f"C{i}", ls=("-", "--", ":", "-.")[j % 4], label=f"{model} ({t})")
    if ax.lines:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no γ on test frames in this run", ha="center", va="center", transform=ax.transAxes)


def plot_uncertainty(ds: xr.Dataset, outdir: Path) -> str:
    """Along each model's MD against σ: the mean maximum committee force deviation, and the mean
    maximum of the backend's own per-atom γ (1, dotted: GRACE's GMM outlier fence, the edge of
    GRACE-FS's active-set hull), with their standard errors; a black × marks a run that stopped
    as unstable; and the γ > 1 rate on the test frames (:func:`plot_test_gamma`). A quantity no run
    has (no committee, no γ) gets no panel."""
    panels = [p for p in UNCERTAINTY_PANELS if p[0] in ds and np.isfinite(ds[p[0]]).any()] or list(UNCERTAINTY_PANELS)
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4.5 * (len(panels) + 1), 3.4), layout="constrained")
    plot_test_gamma(ds, axes[-1])
    dodge = _dodge(ds)
    for ax, (name, label, empty) in zip(axes, panels):
        ax.set_xlabel(SIGMA_LABEL)
        ax.set_ylabel(label)
        marked = False
        for i, model in enumerate(models(ds)):
            sems, status = variants(ds, f"{name}_sem", model) if f"{name}_sem" in ds else {}, _flag(ds, "status", model, STATUS["ok"])
            for v, da in variants(ds, name, model).items() if name in ds else ():
                if not np.isfinite(da).any():
                    continue
                x = ds.sigma.values + (0.5 if v == "charge-specific" else -0.5) * dodge  # coincident points stay apart
                ax.errorbar(x, da, yerr=sems.get(v), marker="o" if v == "mixed" else "s", capsize=3, color=f"C{i}", ls=STYLE[v].get("ls", "-"), label=f"{model} ({v})")
                unstable = (status[v] == STATUS["unstable"]) & np.isfinite(da.values)
                if unstable.any():
                    ax.plot(x[unstable], da.values[unstable], "x", color="k", ms=9, mew=2,
                            label="_nolegend_" if marked else "run stopped unstable")
                    marked = True
        if not ax.lines:
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
            continue
        if name == "gamma_max":
            ax.axhline(1.0, color="k", ls=":", lw=1, label="γ = 1: edge of the training domain")
            if float(ds.gamma_max.max()) > 10 * max(float(ds.gamma_max.min()), 0.1):
                ax.set_yscale("log")  # MaxVol grades of an ion outside its hull reach tens while the rest sit near 1
        ax.legend(fontsize=8)
    return _save(fig, outdir, "uncertainty")


def _fmt(mean: float, err: float | None = None) -> str:
    if not np.isfinite(mean):
        return "–"
    return f"{mean:+.3f} ± {err:.3f}" if err is not None and np.isfinite(err) else f"{mean:.3g}"


def mean_abs_on_common(*das: xr.DataArray) -> tuple[list[float], np.ndarray]:
    """Mean |x| of each array over the charges where all of them are finite (so the means compare
    like with like: charge-specific models exist only at their own charges), and that mask."""
    common = np.logical_and.reduce([np.isfinite(da.values) for da in das])
    return [float(np.abs(da.values[common]).mean()) if common.any() else np.nan for da in das], common


def _flag(ds: xr.Dataset, name: str, model: str, fill: float) -> dict[str, np.ndarray]:
    """Per-charge values of a run flag (status, converged) of each variant of `model`."""
    if name not in ds:
        return {v: np.full(ds.sizes["n_ion"], fill) for v in variants(ds, "cos_theta_layer1_dev", model)}
    return {v: da.values for v, da in variants(ds, name, model).items()}


def _delta(x: float, err: float, significant: bool) -> str:
    """'Δ = x ± err (n σ), significant/not significant'."""
    n = abs(x) / err if err > 0 else np.inf
    return f"Δ = {x:+.3f} ± {err:.3f} ({n:.1f} σ), {'significant' if significant else 'not significant'}"


def _worst(ds: xr.Dataset, question: int, who: str, runs: list[tuple], tolerance: float, unstable: int = 0) -> Finding:
    """Q1/Q4 for one model and quantity from its finished runs (model, variant, n_ion, Δ, e, converged,
    significant): no if a deviation is significant, yes if every run agrees within `tolerance`, else
    the largest |Δ|, unresolved; `unstable` runs of the same model enter no verdict and are named."""
    def where(r: tuple) -> str:
        return f"σ = {float(ds.sigma.sel(n_ion=r[2])):.1f} ({r[1]})"

    stopped = f"; {unstable} more stopped unstable (no verdict)" if unstable else ""
    if not runs:
        remedy = "needs a model that stays stable here (more training data or epochs)" if unstable else Finding.remedy
        return Finding(question, who, f"no finished run{stopped}", False, tolerance=tolerance, remedy=remedy)
    keys = [(r[0], "mixed" if r[1] == "mixed" else f"n{r[2]}", r[2]) for r in runs]
    worst = max(runs, key=lambda r: abs(r[3]))
    hits = [r for r in runs if r[6]]
    if hits:
        r = max(hits, key=lambda r: abs(r[3]))
        return Finding(question, who, f"no — off the reference at {where(r)}; {len(hits)} of {len(runs)} runs significantly off{stopped}",
                       True, keys, r[3], r[4], tolerance)
    if all(resolved(r[3], r[4], False, r[5], tolerance) for r in runs):
        return Finding(question, who, f"yes — all {len(runs)} runs within τ = {tolerance} (largest at {where(worst)}){stopped}", True,
                       keys, worst[3], worst[4], tolerance)
    return Finding(question, who, f"largest deviation at {where(worst)}; {sum(r[5] for r in runs)} of {len(runs)} runs converged{stopped}",
                   False, keys, worst[3], worst[4], tolerance)


#: τ of the ion height: models agree with the reference within it (Å; a tenth of the ~2.5 Å between water layers)
ION_TOLERANCE = 0.25


def ion_height_findings(ds: xr.Dataset) -> list[Finding]:
    """Q1's ion distribution: the mean ion height above the nearer surface plane of each model
    where it was trained (charge-specific, else mixed) against the reference's, Δ ± both errors,
    significant after Holm's correction over all these runs, between converged, finished runs."""
    if "ion_height" not in ds or REFERENCE not in ds.model.values:
        return []
    ref, ref_e, ref_c = (_reference(ds, q).values for q in ("ion_height", "ion_height_sem", "converged"))
    cells = []
    for model in models(ds):
        v = "charge-specific" if np.isfinite(variants(ds, "ion_height", model)["charge-specific"]).any() else "mixed"
        if v not in variants(ds, "ion_height", model):
            continue
        h, e, status, conv = (variants(ds, q, model)[v].values for q in ("ion_height", "ion_height_sem", "status", "converged"))
        dof = variants(ds, "ion_height_dof", model)[v].values if "ion_height_dof" in ds else np.full(len(h), np.inf)
        cells += [(model, v, int(ds.n_ion.values[i]), h[i] - ref[i], float(np.hypot(e[i], ref_e[i])), bool(conv[i] == 1 and ref_c[i] == 1), dof[i])
                  for i in range(len(h)) if np.isfinite(h[i] - ref[i]) and status[i] == STATUS["ok"]]
    if not cells:
        return []
    sig = significant(*(np.array([c[k] for c in cells]) for k in (3, 4, 6)), [c[5] for c in cells])
    runs = [(*c[:6], bool(x)) for c, x in zip(cells, sig)]
    return [_worst(ds, 1, f"{m} ({runs_m[0][1]}): ion height (Å)", runs_m, ION_TOLERANCE)
            for m in dict.fromkeys(c[0] for c in runs) if (runs_m := [r for r in runs if r[0] == m])]


def orientation_section(ds: xr.Dataset, tolerance: float) -> Section:
    """Q1, Q2, Q4: first-layer orientation of mixed vs charge-specific models against the reference.
    A run that ended unstable enters no verdict or mean; a difference is significant at 95 % after
    Holm's correction over the section's comparisons, and only between converged runs."""
    sec = Section("Water orientation: mixed vs charge-specific training (questions 1, 2, 4)")
    sec.text.append(f"Criteria: a model reproduces the reference at a charge when |Δ⟨cos θ⟩₁| ≤ max({tolerance}, 2·SE), SE the "
                    "standard error of the difference (std·√(g/N) of each run's equilibrated first-layer series; with replicas, the "
                    "larger of that and the replica scatter/√K, with Student's t on K − 1 degrees of freedom). A deviation is "
                    "significant at 95 % after Holm's correction for all comparisons in this section, and only when both the "
                    "model's run and the reference are converged (t_equilibration in the first half, ≥ 20 independent samples, "
                    "halves agreeing); unstable runs are shown as such and enter no verdict.")
    header = ["model", "training"] + [f"σ = {s:.1f}" for s in ds.sigma.values] + ["significant Δ", "reproduced"]
    ref_conv = _reference(ds, "converged").values == 1 if "converged" in ds else np.zeros(ds.sizes["n_ion"], bool)
    rows, cells, summaries, stopped = [], [], {}, {}
    for model in models(ds):
        dev, sem = variants(ds, "cos_theta_layer1_dev", model), variants(ds, "cos_theta_layer1_dev_sem", model)
        status, conv = _flag(ds, "status", model, STATUS["ok"]), _flag(ds, "converged", model, 0)
        dof = _flag(ds, "cos_theta_layer1_dev_dof", model, np.inf)
        for v in dev:
            ok_run = status[v] == STATUS["ok"]
            d, e = np.where(ok_run, dev[v].values, np.nan), sem[v].values
            if not (np.isfinite(dev[v].values) | (status[v] == STATUS["unstable"])).any():
                continue  # e.g. a backend trained on the mixed set only
            ok = np.abs(d) <= np.maximum(tolerance, 2 * e)
            have = np.isfinite(d)
            stopped[model, v] = int((status[v] == STATUS["unstable"]).sum())
            summaries.setdefault(model, {})[v] = (d, e, (conv[v] == 1) & ref_conv, int((ok & have).sum()), int(have.sum()), dof[v])
            cells += [(len(rows), d[i], e[i], bool(conv[v][i] == 1 and ref_conv[i]), dof[v][i], i) for i in range(len(d)) if have[i]]
            rows.append([model, v] + ["unstable" if status[v][i] == STATUS["unstable"] else _fmt(d[i], e[i]) for i in range(len(d))]
                        + [None, f"{int((ok & have).sum())}/{int(have.sum())}"])
    sig = significant(*(np.array([c[k] for c in cells]) for k in (1, 2, 4)), [c[3] for c in cells]) if cells else []
    for r, row in enumerate(rows):
        mine = [bool(x) for c, x in zip(cells, sig) if c[0] == r]
        row[-2] = f"{sum(mine)}/{len(mine)}"
    runs = [(rows[c[0]][0], rows[c[0]][1], int(ds.n_ion.values[c[5]]), *c[1:4], bool(x)) for c, x in zip(cells, sig)]
    for model in summaries:  # Q1: each model where it was trained (charge-specific, else mixed); Q4: its mixed model
        mine = {v: [r for r in runs if r[:2] == (model, v)] for v in ("charge-specific", "mixed")}
        best = "charge-specific" if mine["charge-specific"] else "mixed"
        sec.findings.append(_worst(ds, 1, f"{model} ({best}): first-layer ⟨cos θ⟩", mine[best], tolerance, stopped.get((model, best), 0)))
        if "mixed" in summaries[model]:
            sec.findings.append(_worst(ds, 4, f"{model} (mixed) at every charge it ran: first-layer ⟨cos θ⟩", mine["mixed"], tolerance,
                                       stopped.get((model, "mixed"), 0)))
    sec.findings += ion_height_findings(ds)
    comparisons = []
    for model, summary in summaries.items():
        if len(summary) < 2:
            continue
        (md, me, mc, m_ok, m_n, m_dof), (cd, ce, cc, c_ok, c_n, c_dof) = summary["mixed"], summary["charge-specific"]
        common = np.isfinite(md) & np.isfinite(cd)
        if not common.any():
            sec.findings.append(Finding(2, f"{model}: mixed vs charge-specific", "no charge where both finished (an unstable run "
                                                                                  "enters no verdict)", False,
                                        remedy="needs a mixed and a charge-specific run that both finish at one charge"))
            continue
        k = int(common.sum())
        m_dev, c_dev = float(np.abs(md[common]).mean()), float(np.abs(cd[common]).mean())
        err = float(np.hypot(np.sqrt(np.sum(me[common] ** 2)), np.sqrt(np.sum(ce[common] ** 2))) / k)
        comparisons.append((model, m_ok, m_n, c_ok, c_n, k, m_dev, c_dev, err, bool(mc[common].all() and cc[common].all()),
                            float(min(m_dof[common].min(), c_dof[common].min()))))  # conservative: the fewest degrees of freedom
    verdict = significant(np.array([c[6] - c[7] for c in comparisons]), np.array([c[8] for c in comparisons]),
                          np.array([c[10] for c in comparisons]), [c[9] for c in comparisons]) if comparisons else []
    for (model, m_ok, m_n, c_ok, c_n, k, m_dev, c_dev, err, converged, _), sig_k in zip(comparisons, verdict):
        closer = ("charge-specific is closer" if c_dev < m_dev else "mixed is closer") if sig_k else "no verdict on which is closer"
        why = "" if converged else " (not every run involved is converged)"
        sec.text.append(f"{model}: mixed training reproduces the reference at {m_ok}/{m_n} charges, charge-specific at {c_ok}/{c_n}; "
                        f"at the {k} charges both ran, mean |Δ⟨cos θ⟩₁| {m_dev:.3f} (mixed) vs {c_dev:.3f} (charge-specific): "
                        f"{_delta(m_dev - c_dev, err, sig_k)}{why} — {closer}.")
        common = ds.n_ion.values[np.isfinite(summaries[model]["mixed"][0]) & np.isfinite(summaries[model]["charge-specific"][0])]
        done = resolved(m_dev - c_dev, err, sig_k, converged, tolerance)
        sec.findings.append(Finding(2, f"{model}: mixed − charge-specific, mean abs Δ⟨cos θ⟩₁ over {k} charges",
                                    answer(sig_k, done, closer, f"{m_dev:.3f} (mixed) vs {c_dev:.3f} (charge-specific){why}"), done,
                                    [(model, t, int(n)) for n in common for t in ("mixed", f"n{n}")], m_dev - c_dev, err))
    sec.tables.append((header, rows))
    return sec


def locality_section(ds: xr.Dataset, tolerance: float) -> Section:
    """Q3: locality vs message passing, from deviations, errors and stability of the mixed models."""
    sec = Section("Locality, message passing and robustness (question 3)")
    period = float(ds.lateral_period.sel(model=REFERENCE).mean()) if "lateral_period" in ds and REFERENCE in ds.model.values else np.nan
    header = ["model", "kind", "receptive field", "÷ lateral period", "mean abs Δ⟨cos θ⟩₁ (mixed)", "mean ρ_O RMSD (mixed, g/cm³)", "force RMSE (mixed, meV/Å)", "unstable runs"]
    rows, by_kind = [], {}
    for model in models(ds):
        if "mixed" not in ds.train_set.values or (ds.status.sel(model=model, train_set="mixed") == STATUS["missing"]).all():
            continue  # no mixed-trained model (the zero-shot OC25 eSEN has its own section)
        sel = {"model": model, "train_set": "mixed"}
        finished = ds.status.sel(**sel).values == STATUS["ok"]  # an unstable run enters no mean
        d = np.where(finished, ds.cos_theta_layer1_dev.sel(**sel).values, np.nan) if "cos_theta_layer1_dev" in ds else np.full(len(finished), np.nan)
        e = ds.cos_theta_layer1_dev_sem.sel(**sel).values if "cos_theta_layer1_dev_sem" in ds else np.full(len(finished), np.nan)
        dof = ds.cos_theta_layer1_dev_dof.sel(**sel).values if "cos_theta_layer1_dev_dof" in ds else np.full(len(finished), np.inf)
        have = np.isfinite(d)
        dev = float(np.abs(d[have]).mean()) if have.any() else np.nan
        dev_err = float(np.sqrt(np.sum(e[have] ** 2)) / have.sum()) if have.any() else np.nan
        converged = bool("converged" in ds and (ds.converged.sel(**sel).values[have] == 1).all()
                         and (_reference(ds, "converged").values[have] == 1).all())
        rmsd = float(ds.rho_O_rmsd.sel(**sel).mean()) if "rho_O_rmsd" in ds else np.nan
        rmse = float(ds.rmse_force_committee.sel(**sel).mean()) if "rmse_force_committee" in ds else np.nan
        unstable = float(ds.unstable_fraction.sel(**sel).mean()) if "unstable_fraction" in ds else np.nan
        spec = SPECS.get(model)
        kind, how = (spec.kind, spec.receptive_field) if spec else ("?", "?")
        field = float(ds.receptive_field.sel(model=model)) if "receptive_field" in ds else np.nan
        reach = f"{field:.1f} Å ({how})" if np.isfinite(field) else how
        if np.isfinite(dev):  # grouped by kind before its detail: gracefs is local, dpsigma (σ input) apart
            by_kind.setdefault(kind.split(" (")[0], []).append((dev, dev_err, converged, float(dof[have].min()), model, ds.n_ion.values[have]))
        rows.append([model, kind, reach, _fmt(field / period), _fmt(dev), _fmt(rmsd), _fmt(rmse), _fmt(unstable)])
    sec.tables.append((header, rows))
    if np.isfinite(period):
        sec.text.append(f"The cell's shortest lateral period is {period:.1f} Å. Within a receptive field beyond half of it (ratio > 0.5) "
                        "an ion and its periodic image can both lie; beyond all of it (ratio > 1) an atom sees its own image. Such "
                        "a model sees the ions' lateral order, and, at this cell size, more of the cell's charge than a local "
                        "model would at a larger one: 'local' means local below 0.5.")
    if "local" in by_kind and "message passing" in by_kind:
        (local, l_err, l_conv, l_dof), (mp, m_err, m_conv, m_dof) = (
            (np.mean([x[0] for x in by_kind[k]]), np.sqrt(np.sum([x[1] ** 2 for x in by_kind[k]])) / len(by_kind[k]),
             all(x[2] for x in by_kind[k]), min(x[3] for x in by_kind[k])) for k in ("local", "message passing"))
        err = float(np.hypot(l_err, m_err))
        sig = bool(significant(np.array([local - mp]), np.array([err]), np.array([min(l_dof, m_dof)]), [l_conv and m_conv])[0])
        closer = f"{'message passing' if mp < local else 'locality'} is closer to the reference" if sig else "no verdict"
        sec.text.append(f"Mixed-trained local models deviate by {local:.3f} on average (finished runs), message-passing models by "
                        f"{mp:.3f}: {_delta(local - mp, err, sig)}{'' if l_conv and m_conv else ' (not every run is converged)'} — {closer}.")
        done = resolved(local - mp, err, sig, l_conv and m_conv, tolerance)
        runs = [(x[4], "mixed", int(n)) for kind in ("local", "message passing") for x in by_kind[kind] for n in x[5]]
        numbers = f"local {local:.3f} vs message passing {mp:.3f}{'' if l_conv and m_conv else ' (not every run converged)'}"
        sec.findings.append(Finding(3, "local − message passing: mean abs Δ⟨cos θ⟩₁ of the mixed models", answer(sig, done, closer, numbers),
                                    done, runs, local - mp, err))
    else:
        missing = " and ".join(k for k in ("local", "message passing") if k not in by_kind)
        sec.findings.append(Finding(3, "local vs message passing (mixed)", f"no finished mixed-trained {missing} model in this run", False))
    return sec


def sigma_section(ds: xr.Dataset, tolerance: float, aware: str = "dpsigma", base: str = "dp") -> Section | None:
    """The σ-aware baseline: does knowing σ close the gap between mixed and charge-specific training?
    Mean |Δ⟨cos θ⟩₁| of three variants on the charges all of them finished; the gap (base mixed −
    base charge-specific) and the improvement (base mixed − σ-aware) are tested with Holm's
    correction over the two, between converged runs; a closure is stated only for a significant gap."""
    if not {aware, base} <= set(models(ds)) or "cos_theta_layer1_dev" not in ds:
        return None
    sec = Section("σ-aware baseline")

    def finished(model: str, name: str) -> dict[str, xr.DataArray]:  # an unstable run enters no mean
        return {v: da.where(variants(ds, "status", model)[v] == STATUS["ok"]) for v, da in variants(ds, name, model).items()}

    names = {"σ-aware, mixed": (aware, "mixed"), f"{base}, mixed": (base, "mixed"), f"{base}, charge-specific": (base, "charge-specific")}
    names = {k: (m, v) for k, (m, v) in names.items() if v in variants(ds, "cos_theta_layer1_dev", m)}
    pick = {q: {k: finished(m, q)[v] for k, (m, v) in names.items()}
            for q in ("cos_theta_layer1_dev", "cos_theta_layer1_dev_sem", "cos_theta_layer1_dev_dof", "converged") if q in ds}
    means, common = mean_abs_on_common(*pick["cos_theta_layer1_dev"].values())
    k = int(common.sum())
    mean = dict(zip(names, means))
    err = {n: float(np.sqrt(np.sum(e.values[common] ** 2)) / k) if k else np.nan for n, e in pick["cos_theta_layer1_dev_sem"].items()}
    dof = min((float(d.values[common].min()) for d in pick.get("cos_theta_layer1_dev_dof", {}).values()), default=np.inf) if k else np.inf
    conv = pick.get("converged")
    converged = bool(k and conv is not None and all((c.values[common] == 1).all() for c in conv.values())
                     and (_reference(ds, "converged").values[common] == 1).all())
    sigmas = ", ".join(f"{s:.1f}" for s in ds.sigma.values[common])
    sec.tables.append((["model", f"mean abs Δ⟨cos θ⟩₁ at σ = {sigmas} µC/cm²"], [[n, _fmt(v, err[n])] for n, v in mean.items()]))
    m, c, a = f"{base}, mixed", f"{base}, charge-specific", "σ-aware, mixed"
    if not ({m, c} <= set(mean) and np.isfinite(mean[m]) and np.isfinite(mean[c])):
        sec.text.append(f"No charge where mixed and charge-specific {base} both finished: no gap to compare.")
        return sec
    gap, gap_err = mean[m] - mean[c], float(np.hypot(err[m], err[c]))
    tests = [(gap, gap_err)] + ([(mean[m] - mean[a], float(np.hypot(err[m], err[a])))] if a in mean and np.isfinite(mean[a]) else [])
    sig = significant(np.array([t[0] for t in tests]), np.array([t[1] for t in tests]), np.full(len(tests), dof), [converged] * len(tests))
    why = "" if converged else " (not every run involved is converged)"
    sec.text.append(f"Gap between mixed ({mean[m]:.3f}) and charge-specific ({mean[c]:.3f}) {base} training over the {k} charges "
                    f"all three finished: {_delta(gap, gap_err, bool(sig[0]))}{why}.")
    if len(tests) < 2:
        return sec
    improvement, imp_err = tests[1]
    done = resolved(improvement, imp_err, bool(sig[1]), converged, tolerance)
    closer = "σ as an input brings it closer" if improvement > 0 else "σ as an input takes it further"
    sec.findings.append(Finding(4, f"mixed {base} − σ-aware {aware}: mean abs Δ⟨cos θ⟩₁ at σ = {sigmas}",
                                answer(bool(sig[1]), done, closer, f"{mean[a]:.3f} (σ-aware) vs {mean[m]:.3f} (mixed {base}){why}"), done,
                                [(x, "mixed", int(n)) for x in (aware, base) for n in ds.n_ion.values[common]], improvement, imp_err))
    if sig[0] and gap > 0:
        closed = improvement / gap  # error with the shared base-mixed term: cov(improvement, gap) = err[m]²
        closed_err = np.sqrt(imp_err ** 2 / gap ** 2 + improvement ** 2 * gap_err ** 2 / gap ** 4 - 2 * improvement * err[m] ** 2 / gap ** 3)
        sec.text.append(f"{aware} receives σ as an input of its fitting network and is trained on the mixed set; against mixed "
                        f"{base}: {_delta(improvement, imp_err, bool(sig[1]))} — it closes {100 * closed:.0f} ± {100 * closed_err:.0f} % of the gap.")
    else:
        sec.text.append(f"No significant gap to close: {aware} against mixed {base} {_delta(improvement, imp_err, bool(sig[1]))}; "
                        "no gap closure is stated.")
    return sec


def _run_state(status: int, converged: float, finished: float, unstable: float) -> str:
    """One table cell: how a run (or its replicas) ended and whether its analysis converged."""
    if status == STATUS["missing"]:
        return "–"
    replicas = f" ({int(finished)}/{int(finished + unstable)} finished)" if finished + unstable > 1 else ""
    if status == STATUS["unstable"]:
        return f"unstable{replicas}"
    return ("converged" if converged == 1 else "not converged") + replicas


def convergence_section(ds: xr.Dataset) -> Section:
    """Which runs finished, which stopped as unstable, and which are converged (every replica)."""
    sec = Section("Convergence and stability of every run")
    sec.text.append("Converged: the equilibration pymbar detects in the first-layer ⟨cos θ⟩, first-layer water count and ion "
                    "height ends in the first half of the run, ≥ 20 independent samples remain, and the two halves agree within "
                    "2σ — for every replica averaged. Only converged, finished runs enter a significant verdict; an unstable run "
                    "(stopped by the stability checks) enters no verdict or mean, and its model's unstable fraction is reported "
                    "in the locality table.")
    counts = [ds[q] if q in ds else xr.zeros_like(ds.status) + (1 if q == "n_replicas" else 0) for q in ("n_replicas", "n_replicas_unstable")]
    converged = ds.converged if "converged" in ds else xr.zeros_like(ds.status)
    rows = []
    for model in [REFERENCE] * (REFERENCE in ds.model.values) + models(ds):
        for t in (ds.train_set.values[:1] if model == REFERENCE else ds.train_set.values):
            sel = dict(model=model, train_set=t)
            status = ds.status.sel(**sel).values
            if (status == STATUS["missing"]).all():
                continue
            cells = [_run_state(*(float(x) for x in v)) for v in zip(status, converged.sel(**sel).values,
                                                                      *(c.sel(**sel).values for c in counts))]
            rows.append([model, "—" if model == REFERENCE else str(t)] + cells)
    sec.tables.append((["model", "training"] + [f"σ = {s:.1f}" for s in ds.sigma.values], rows))
    return sec


def errors_section(ds: xr.Dataset) -> Section:
    sec = Section("Cross-charge test errors")
    if "rmse_force_committee" not in ds:
        sec.text.append("No test errors in this results file (no errors.nc among the aggregated files).")
        return sec
    sec.text.append("Committee-mean test force RMSE (meV/Å): rows are training sets, columns the charge tested.")
    for model in models(ds):
        m = ds.rmse_force_committee.sel(model=model)
        trained_on = [t for t in m.train_set.values if np.isfinite(m.sel(train_set=t)).any()]
        sec.tables.append(([model] + [f"n{k}" for k in m.n_ion.values],
                           [[str(t)] + [_fmt(float(v)) for v in m.sel(train_set=t).values] for t in trained_on]))
    return sec


def domain_section(ds: xr.Dataset) -> Section | None:
    """Which MD runs left their training domain by their model's own γ: the run's fraction of atoms
    with γ > 1 against its in-domain rate on held-out test frames (``gamma_above_1_excess``, see
    :mod:`edlbench.metrics`); significant at 95 % after Holm's correction over all runs in the
    table, and only for finished, converged runs."""
    if "gamma_above_1_excess" not in ds:
        return None
    sec = Section("Which runs left the training domain")
    sec.text.append("Criterion: a run left its training domain when its fraction of atoms with γ > 1 along the MD exceeds its "
                    "model's in-domain rate — the same fraction on held-out test frames (the reference's configurations) at the "
                    "run's charge where the model was trained on it (mixed; n_k at k), else at the training set's own charge k — "
                    "significantly: Δ > 0 at 95 % after Holm's correction over every run in this table, with the run's error "
                    "std·√(g/N) of its per-frame series (with replicas, the larger of that and their scatter/√K) and the test "
                    "frames' standard error (frames taken as independent) in quadrature, and only for finished, converged runs. "
                    "γ = 1 is the training data's own fence (GRACE-1L/2L: median + 3 × 1.4826 × MAD of the training atoms' GMM "
                    "distance; GRACE-FS: the active set's hull), so a rate above 0 on the test frames is the model's in-domain "
                    "baseline, not an error. The rate depends on the composition (the ion's environments are the rarest), which "
                    "is why the run's own charge is the baseline where it can be; a single-charge model run at another charge "
                    "is compared with its own charge's frames, so its Δ mixes a new composition with new configurations. γ is "
                    "local: a wrong σ whose local environments look like the training data's does not raise it.")
    conv = ds.converged if "converged" in ds else xr.zeros_like(ds.status)
    dof = ds.gamma_above_1_excess_dof if "gamma_above_1_excess_dof" in ds else xr.full_like(ds.gamma_above_1_excess, np.inf)
    rows, cells = [], []
    for model in models(ds):
        for t in map(str, ds.train_set.values):
            sel = dict(model=model, train_set=t)
            base, d, e, status = (ds[q].sel(**sel).values for q in
                                  ("gamma_above_1_domain", "gamma_above_1_excess", "gamma_above_1_excess_sem", "status"))
            if not np.isfinite(base).any() or not (np.isfinite(d) | (status == STATUS["unstable"])).any():
                continue  # no γ of its own (or not trained on this set), or no run
            cells += [(len(rows), i, d[i], e[i], float(dof.sel(**sel).values[i]), bool(conv.sel(**sel).values[i] == 1))
                      for i in range(len(d)) if np.isfinite(d[i]) and status[i] == STATUS["ok"]]
            rows.append([model, t] + ["unstable" if status[i] == STATUS["unstable"] else "–" for i in range(len(d))])
    sig = significant(*(np.array([c[k] for c in cells]) for k in (2, 3, 4)), [c[5] for c in cells]) if cells else []
    left = []
    for (r, i, d, e, _, converged), sig_k in zip(cells, sig):
        sel = dict(model=rows[r][0], train_set=rows[r][1], n_ion=ds.n_ion.values[i])
        verdict = ("left" if d > 0 else "below its test frames") if sig_k else ("within" if converged else "no verdict (not converged)")
        rows[r][2 + i] = f"{float(ds.gamma_above_1.sel(**sel)):.3f} vs {float(ds.gamma_above_1_domain.sel(**sel)):.3f}: {_fmt(d, e)} {verdict}"
        if sig_k and d > 0:
            left.append(f"{rows[r][0]} ({rows[r][1]}) at σ = {float(ds.sigma[i]):.1f}")
    sec.text.append("Runs beyond their training domain: " + (", ".join(left) if left else "none") + f" (of {len(cells)} finished runs).")
    sec.tables.append((["model", "training"] + [f"σ = {s:.1f}: MD vs test frames, Δ" for s in ds.sigma.values], rows))
    return sec


def oc25_section(ds: xr.Dataset) -> Section:
    sec = Section("eSEN trained on OC25 (question 5)")
    if "esen_oc25" in ds.model.values:
        dev = ds.cos_theta_layer1_dev.sel(model="esen_oc25", train_set="pretrained")
        sec.text.append("Zero-shot OC25 eSEN, Δ⟨cos θ⟩₁ per σ: " + ", ".join(f"{s:.1f}: {d:+.3f}" for s, d in zip(ds.sigma.values, dev.values)))
        rmse = ds.rmse_force_committee.sel(model="esen_oc25", train_set="pretrained") if "rmse_force_committee" in ds else None
        if rmse is not None:
            sec.text.append("Its test force RMSE per charge (meV/Å): " + ", ".join(f"n{n}: {_fmt(float(v))}" for n, v in zip(rmse.n_ion.values, rmse.values)))
    else:
        skipped = json.loads(ds.attrs.get("skipped_models", "{}"))
        reason = skipped.get("esen_oc25", "esen_oc25 is not in the params file (backends.esen_oc25.checkpoint)")
        sec.text.append(f"Not in this run: {reason}.")
    return sec


FINDINGS_CRITERIA = ("Each question answered from the MLIP runs against the reference — the first-layer ⟨cos θ⟩ and the "
                     "ion height above the nearer surface plane — as Δ ± σ (n σ). An answer is given only when the "
                     "difference is significant (95 % after Holm's correction, converged and finished runs) or when "
                     "converged runs agree within τ ({tolerance} for ⟨cos θ⟩, " + f"{ION_TOLERANCE} Å for the ion height) with 2σ ≤ τ; "
                     "otherwise it is not resolved at this scale, and the projection says how long its MLIP runs would "
                     "at least have to be (≥ 20 independent samples per series and replica; σ falling as 1/√length until a "
                     "difference of today's size is 2.5 σ or 2σ ≤ τ; a drift that makes a run's halves disagree is not "
                     "projected) and what that costs at the runs' measured speed (the reference's MD not counted).")


def build_report(results: Path, outdir: Path, tolerance: float = 0.05) -> Path:
    """Figures (PNG + SVG), report.md and self-contained report.html in `outdir`; returns report.html."""
    ds = load(results, "results")
    with staged_folder(outdir) as stage:
        _write_report(ds, Path(results), stage, tolerance)
    return Path(outdir) / "report.html"


def _write_report(ds: xr.Dataset, results: Path, outdir: Path, tolerance: float) -> None:
    sections = []
    if models(ds):
        profiles = Section("Profiles", ["Reference (black), mixed-trained (blue) and charge-specific (orange, dashed) models; faint curves "
                                         "labelled 'unstable' are runs stopped by the stability checks (no verdict uses them)."],
                           figures=[plot_profiles(ds, m, outdir) for m in models(ds)])
        orientation, errors = orientation_section(ds, tolerance), errors_section(ds)
        orientation.figures.append(plot_layer1_orientation(ds, outdir))
        if "rmse_force_committee" in ds:
            errors.figures.append(plot_rmse_matrix(ds, outdir))
        sections += [profiles, orientation, locality_section(ds, tolerance), errors, oc25_section(ds)]
        sections += [s for s in [sigma_section(ds, tolerance)] if s is not None] + [convergence_section(ds)]
        findings = [f for sec in sections for f in sec.findings]
        sections.insert(0, Section("Findings", [FINDINGS_CRITERIA.format(tolerance=tolerance)], [findings_table(ds, findings, tolerance)]))
        if "committee_spread" in ds or "gamma_max" in ds:
            sections.append(Section("Model uncertainty", [
                "Along each model's MD, averaged over frames: the committee's force spread (maximum over atoms), and the maximum "
                "over atoms of the backend's own γ of the model that ran it — for GRACE-1L/2L grace_uq's, a distance of each atom's "
                "descriptor from the model's training atoms, 1 at their outlier fence (median + 3 × 1.4826 × MAD); for GRACE-FS "
                "pyace's MaxVol grade, above 1 outside the convex hull of its active set of training atoms (extrapolation). "
                "γ sees local environments only: a model run at a σ it was not trained on raises it only where the local "
                "environments differ. Right: the fraction of atoms with γ > 1 on the held-out test frames at each σ, for every "
                "training set — at a set's own charges its in-domain rate; at others, whether γ sees the other charge."],
                figures=[plot_uncertainty(ds, outdir)]))
            sections += [s for s in [domain_section(ds)] if s is not None]
    else:
        sections.append(Section("Reference only", ["No MLIP in this run: the reference's orientation against σ."], figures=[plot_layer1_orientation(ds, outdir)]))
        sections.append(convergence_section(ds))
    title = "edlbench report"
    meta = f"{results.name}: models {', '.join(models(ds)) or 'none'}; σ = {', '.join(f'{s:.1f}' for s in ds.sigma.values)} µC/cm² per cell (−n·e/A; σ/2 at each of the slab's two interfaces); created {ds.attrs.get('created', '?')}"
    (outdir / "report.md").write_text(to_markdown(title, meta, sections))
    (outdir / "report.html").write_text(to_html(title, meta, sections, outdir))


def to_markdown(title: str, meta: str, sections: list[Section]) -> str:
    lines = [f"# {title}", "", meta, ""]
    for sec in sections:
        lines += [f"## {sec.title}", ""] + [t + "\n" for t in sec.text]
        for header, rows in sec.tables:
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows] + [""]
        lines += [f"![{f}]({f})\n" for f in sec.figures]
    return "\n".join(lines)


#: a table cell that starts as a number does (right-aligned in the HTML)
NUMBER = re.compile(r"^[-+−]?[\d.]|^[–—]$")


def to_html(title: str, meta: str, sections: list[Section], outdir: Path) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
             "body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right;white-space:nowrap}th,td.text{text-align:left;white-space:normal}img{max-width:100%}</style></head><body>",
             f"<h1>{e(title)}</h1><p>{e(meta)}</p>"]
    for sec in sections:
        parts.append(f"<h2>{e(sec.title)}</h2>" + "".join(f"<p>{e(t)}</p>" for t in sec.text))
        for header, rows in sec.tables:
            parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" if NUMBER.match(c) else f"<td class='text'>{e(c)}</td>" for c in r)
                                   + "</tr>" for r in rows) + "</table>")  # words read left-aligned, numbers right
        for f in sec.figures:
            data = base64.b64encode((outdir / f).read_bytes()).decode()
            parts.append(f"<figure><img alt='{e(f)}' src='data:image/png;base64,{data}'></figure>")
    return "".join(parts) + "</body></html>"
