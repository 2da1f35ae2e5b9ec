"""Does the reference reproduce itself within its stated errors? Two results.nc of the same params
run with different seeds (build.seed and --seed), each with K replicas per charge state.

For each quantity q (first-layer ⟨cos θ⟩, first-layer waters per face, mean ion height) and σ,
z = (q_a − q_b)/√(sem_a² + sem_b²) from the replica means and their combined errors
(:mod:`edlbench.aggregate`); Σ z² over the σ values is compared with χ² on as many degrees of
freedom (p > 0.01: the errors are honest). With K = 2 the replica-scatter errors rest on one degree
of freedom each, so z has heavier tails than a normal: the script also gives p with each z read as
a Student t on the Welch–Satterthwaite dof of its two errors (mapped to a normal quantile first) —
the right test, and a weak one at K = 2.
Also prints, per run and replica, where ρ_Na is largest against the first minimum of ρ_O (the
first water layer's outer bound), each series' time per independent sample, and plots q against
σ for both runs with every replica.
Usage: python benchmarks/reproducibility.py A/results.nc B/results.nc [--plot benchmarks/reproducibility.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from scipy import stats  # noqa: E402

QUANTITIES = {"cos_theta_layer1": "first-layer ⟨cos θ⟩", "layer1_waters": "first-layer waters per face", "ion_height": "mean Na⁺ height (Å)"}


def reference(path: Path, group: str | None = None) -> xr.Dataset:
    ds = xr.open_dataset(path, group=group) if group else xr.open_dataset(path)
    ref = ds.sel(model="reference")
    return ref.isel(train_set=0) if "train_set" in ref.dims else ref


def chi2(a: xr.Dataset, b: xr.Dataset, q: str) -> tuple[np.ndarray, float, int, float, float]:
    """(z per σ, Σ z², degrees of freedom, p as if z were normal, p with z read as Student t) of
    quantity `q` between runs a and b. Errors resting on few replicas make z a t variable with the
    Welch–Satterthwaite dof of the two errors (`{q}_dof`: K − 1 where the replica scatter set the
    error, ∞ where the within-run error did); each z is mapped to the normal quantile of its t
    probability before Σ is compared with χ²."""
    sa, sb = a[f"{q}_sem"].values, b[f"{q}_sem"].values
    z = (a[q].values - b[q].values) / np.sqrt(sa ** 2 + sb ** 2)
    finite = np.isfinite(z)
    total = float(np.sum(z[finite] ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (sa ** 2 + sb ** 2) ** 2 / (sa ** 4 / a[f"{q}_dof"].values + sb ** 4 / b[f"{q}_dof"].values)
    u = stats.norm.isf(stats.t.sf(np.abs(z[finite]), np.where(np.isfinite(dof[finite]), dof[finite], 1e6)))
    k = int(finite.sum())
    p_normal = float(stats.chi2.sf(total, k)) if k else np.nan
    p_t = float(stats.chi2.sf(np.sum(u ** 2), k)) if k else np.nan
    return z, total, k, p_normal, p_t


def ion_layers(path: Path) -> list[str]:
    """Per replica and charge: ρ_Na maximum and first ρ_O minimum (Å), and whether it lies beyond."""
    runs = reference(path, "replicas")
    lines = []
    for r in runs.replica.values:
        for n in runs.n_ion.values[runs.n_ion.values > 0]:
            run = runs.sel(replica=r, n_ion=n)
            peak, bound = float(run.rho_ion.idxmax("z")), float(run.layer1_cutoff)
            lines.append(f"  replica {r}, n = {n}: ρ_Na max {peak:.2f} Å, first ρ_O minimum {bound:.2f} Å, "
                         f"closest approach {float(run.ion_closest_approach):.2f} Å: {'outside' if peak > bound else 'INSIDE'} the first layer")
    return lines


def correlation_times(path: Path) -> list[str]:
    """Per charge: the time per independent sample, τ = (analysed time after t_equilibration)/N_eff (ps), of each
    series in each replica, and the run length 40·τ_max that the convergence flag's ≥ 20 samples
    in the second half need."""
    runs = reference(path, "replicas")
    lines = []
    for n in runs.n_ion.values:
        run = runs.sel(n_ion=n)
        tau = {q: (run.time_ps / run[f"n_eff_{q}"]).values for q in QUANTITIES}  # time_ps: the analysed part, after t_eq
        longest = np.nanmax(np.concatenate(list(tau.values())))
        lines.append(f"  n = {n}: t_eq {np.round(run.t_equilibration.values, 1)} ps; τ " + ", ".join(
            f"{q} {np.round(t, 2)}" for q, t in tau.items()) + f" ps; 40·τ_max = {40 * longest:.0f} ps")
    return lines


def plot(paths: list[Path], output: Path) -> None:
    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4.2 * len(QUANTITIES), 3.4), layout="constrained")
    for i, path in enumerate(paths):
        mean, runs = reference(path), reference(path, "replicas")
        shift = (i - 0.5) * 0.8  # µC/cm², so the two runs' bars do not overlap
        for ax, (q, label) in zip(axes, QUANTITIES.items()):
            ax.errorbar(mean.sigma + shift, mean[q], yerr=mean[f"{q}_sem"], marker="o", capsize=3, color=f"C{i}",
                        label=f"run {i + 1}: mean of {runs.sizes['replica']} replicas")
            for r in runs.replica.values:
                ax.scatter(mean.sigma + 3 * shift, runs[q].sel(replica=r), marker="x", s=25, color=f"C{i}", zorder=3,
                           label=f"run {i + 1}: one replica" if (q, r) == (next(iter(QUANTITIES)), 0) else None)
            ax.set_xlabel("σ per cell (µC/cm²; σ/2 per interface)")
            ax.set_ylabel(label)
    axes[0].legend(fontsize=8)
    fig.suptitle("Reference run twice with different seeds: replica means ± combined error (crosses: the replicas)")
    fig.savefig(output, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs=2, type=Path)
    ap.add_argument("--plot", type=Path, default=Path("benchmarks/reproducibility.png"))
    args = ap.parse_args()
    a, b = (reference(p) for p in args.results)
    print("sigma (uC/cm2):", ", ".join(f"{s:.1f}" for s in a.sigma.values))
    for q in QUANTITIES:
        z, total, dof, p, p_t = chi2(a, b, q)
        print(f"{q}: a {np.round(a[q].values, 3)} ± {np.round(a[f'{q}_sem'].values, 3)}; b {np.round(b[q].values, 3)} ± "
              f"{np.round(b[f'{q}_sem'].values, 3)}; z {np.round(z, 2)}; sum z^2 = {total:.2f} on {dof} dof, p = {p:.3f} "
              f"(z as Student t with the errors' dof: p = {p_t:.3f})")
    for i, path in enumerate(args.results):
        print(f"run {i + 1}: {path}")
        print("\n".join(ion_layers(path)))
        print("\n".join(correlation_times(path)))
    plot(list(args.results), args.plot)
    print(args.plot)


if __name__ == "__main__":
    main()
