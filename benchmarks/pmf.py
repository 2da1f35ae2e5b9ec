"""Na⁺–surface potential of mean force F(d) of the oracle at n = 1 in the demo cell.

Umbrella sampling with OpenMM (the ion's height d above the lower face of the water film held by
a harmonic bias 0.5·k·(z − z₀)², windows from contact to the film's midplane, each started from
the previous one's end) and MBAR over all windows with pymbar (each window's series subsampled
by its statistical inefficiency, ``timeseries.subsample_correlated_data``; analytical MBAR
errors). F is referenced to the midplane: F(d_mid) = 0, in k_BT. The metal is held fixed so the
surface plane is fixed; the masses only set the dynamics (H mass repartitioning, 1 fs).

Usage:
  python benchmarks/pmf.py sample --mixing explicit -o pmf-explicit.npz [--window-ps 40]
  python benchmarks/pmf.py analyse pmf-explicit.npz pmf-lorentz-berthelot.npz --plot pmf.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edlbench.build import BuildConfig, build_interface
from edlbench.config import load_params, make
from edlbench.interface import surface_planes
from edlbench.reference.forcefield import KCAL

KT_300 = 0.0019872041 * 300.0  # kcal/mol


def sample(args: argparse.Namespace) -> None:
    import openmm as mm

    from edlbench.reference.forcefield import build_system

    atoms = build_interface(make(BuildConfig, load_params(args.params), "build"), 1)
    symbols = np.array(atoms.get_chemical_symbols())
    metal = symbols == "Au"
    ion = int(np.flatnonzero(symbols == "Na")[0])
    lz = atoms.cell[2, 2]
    z_low, z_up = (float(v[0]) for v in surface_planes(atoms.positions[metal, 2][None], np.array([lz]), "demo cell"))
    d_mid = (z_up - z_low) / 2
    centres = np.round(np.arange(d_mid, args.d_min - 1e-9, -args.spacing), 3)  # midplane first, towards contact
    pair_terms = {"Au-Na": {"sigma": args.au_na[0], "epsilon": args.au_na[1]}} if args.au_na else None
    system, _ = build_system(atoms, "demo cell", fixed=metal, hmr=args.hmr, mixing=args.mixing, pair_terms=pair_terms)
    bias = mm.CustomExternalForce("0.5*k_umb*periodicdistance(0, 0, z, 0, 0, z0)^2")
    bias.addGlobalParameter("k_umb", args.k * KCAL * 100.0)  # kJ/mol/nm²
    bias.addGlobalParameter("z0", (z_low + centres[0]) / 10.0)
    bias.addParticle(ion, [])
    system.addForce(bias)
    dt = args.timestep * 1e-3
    integrator = mm.LangevinMiddleIntegrator(300.0, 1.0, dt)
    integrator.setRandomNumberSeed(args.seed)
    ctx = mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"), {"Threads": str(args.threads)})
    ctx.setPositions(atoms.positions / 10.0)
    mm.LocalEnergyMinimizer.minimize(ctx, 10.0, 500)
    ctx.setVelocitiesToTemperature(300.0, args.seed)
    n_eq, n_prod = int(args.eq_ps / dt), int(args.window_ps / dt)
    heights = np.zeros((len(centres), n_prod // args.sample_every))
    t0 = time.perf_counter()
    for w, d0 in enumerate(tqdm(centres, desc=f"windows ({args.mixing})", unit="window")):
        ctx.setParameter("z0", (z_low + d0) / 10.0)
        integrator.step(n_eq * (3 if w == 0 else 1))
        for s in range(heights.shape[1]):
            integrator.step(args.sample_every)
            z = ctx.getState(getPositions=True).getPositions(asNumpy=True)._value[ion, 2] * 10.0
            heights[w, s] = np.mod(z - z_low, lz)
    elapsed = time.perf_counter() - t0
    label = f"Au–Na σ = {args.au_na[0]:g} Å, ε = {args.au_na[1]:g} kcal/mol" if args.au_na else args.mixing
    np.savez(args.output, centres=centres, heights=heights, k=args.k, d_mid=d_mid, lz=lz, mixing=label,
             window_ps=args.window_ps, seconds=elapsed)
    print(f"{args.output}: {len(centres)} windows × {args.window_ps} ps in {elapsed / 60:.1f} min")


def pmf(path: Path, bin_width: float = 0.25, min_count: int = 10) -> dict:
    """MBAR free energy (k_BT) on bins of d, referenced to the midplane bin, with 1σ errors."""
    from pymbar import FES, timeseries

    run = np.load(path)
    centres, heights, k, d_mid = run["centres"], run["heights"], float(run["k"]), float(run["d_mid"])
    kept = [h[timeseries.subsample_correlated_data(h)] for h in heights]
    x_n = np.concatenate(kept)
    n_k = np.array([len(h) for h in kept])
    u_kn = 0.5 * k * (x_n[None, :] - centres[:, None]) ** 2 / KT_300  # the ion stays within ±lz/2 of each centre
    edges = np.arange(np.floor(x_n.min() / bin_width), np.ceil(x_n.max() / bin_width) + 1) * bin_width
    fes = FES(u_kn, n_k)
    fes.generate_fes(np.zeros_like(x_n), x_n, fes_type="histogram", histogram_parameters={"bin_edges": edges})
    mids = (edges[1:] + edges[:-1]) / 2
    counts, _ = np.histogram(x_n, edges)
    mids = mids[(counts >= min_count) & (mids <= d_mid + bin_width / 2)]  # enough independent samples; up to the midplane
    res = fes.get_fes(mids, reference_point="from-specified", fes_reference=float(mids[-1]), uncertainty_method="analytical")
    return {"mixing": str(run["mixing"]), "d": mids, "f": res["f_i"], "df": res["df_i"], "n_independent": n_k,
            "window_ps": float(run["window_ps"]), "minutes": float(run["seconds"]) / 60, "d_mid": d_mid}


def analyse(args: argparse.Namespace) -> None:
    results = [pmf(Path(p), min_count=args.min_count) for p in args.runs]
    for r in results:
        near = r["d"] <= 3.5
        i = int(np.argmin(r["f"][near]))
        print(f"{r['mixing']}: {len(r['n_independent'])} windows × {r['window_ps']:g} ps ({r['minutes']:.0f} min), "
              f"independent samples per window {r['n_independent'].min()}–{r['n_independent'].max()}; "
              f"midplane at d = {r['d_mid']:.2f} Å; within 3.5 Å: min F = {r['f'][near][i]:+.2f} ± {2 * r['df'][near][i]:.2f} "
              f"k_BT (2σ) at d = {r['d'][near][i]:.2f} Å, largest 2σ {2 * r['df'][near].max():.2f} k_BT; "
              f"global min F = {r['f'].min():+.2f} at d = {r['d'][np.argmin(r['f'])]:.2f} Å")
        print("    F (k_BT, ± 2σ) at d (Å): " + ", ".join(f"{d:.2f}: {f:+.1f} ± {2 * e:.1f}" for d, f, e in zip(r["d"], r["f"], r["df"])))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for r in results:
            line, = ax.plot(r["d"], r["f"], marker=".", label=r["mixing"])
            ax.fill_between(r["d"], r["f"] - 2 * r["df"], r["f"] + 2 * r["df"], color=line.get_color(), alpha=0.3, lw=0)
        ax.axhline(0, color="k", lw=0.6)
        ax.axvline(3.5, color="grey", ls=":", lw=0.8)
        ax.set_xlabel("Na⁺ height above the Au surface plane d (Å)")
        ax.set_ylabel("F(d) − F(midplane) (k_BT)")
        ax.set_title("Oracle Na⁺ PMF, n = 1, demo cell (band: 2σ MBAR)", fontsize=10)
        ax.legend(title="Au–Na term")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=130)
        print(args.plot)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--mixing", choices=["explicit", "lorentz-berthelot"], default="explicit")
    s.add_argument("--au-na", type=float, nargs=2, metavar=("SIGMA", "EPSILON"), help="Au–Na term to try (Å, kcal/mol)")
    s.add_argument("--params", default="params/demo.yaml")
    s.add_argument("--d-min", type=float, default=1.5, help="closest window centre, Å above the surface plane")
    s.add_argument("--spacing", type=float, default=0.5, help="between window centres, Å")
    s.add_argument("--k", type=float, default=5.0, help="umbrella spring, kcal/mol/Å²")
    s.add_argument("--eq-ps", type=float, default=4.0)
    s.add_argument("--window-ps", type=float, default=40.0)
    s.add_argument("--timestep", type=float, default=1.0, help="fs")
    s.add_argument("--hmr", type=float, default=1.0, help="amu moved from O to each H")
    s.add_argument("--sample-every", type=int, default=10, help="steps")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("-o", "--output", required=True)
    a = sub.add_parser("analyse")
    a.add_argument("runs", nargs="+")
    a.add_argument("--plot")
    a.add_argument("--min-count", type=int, default=10, help="independent samples a bin needs to be shown")
    args = ap.parse_args()
    (sample if args.command == "sample" else analyse)(args)


if __name__ == "__main__":
    main()
