"""The demo's reference, run as independent replicas: interfacial numbers per charge state.

For each replica r and n_ion in build.n_ions: `build_interface` (packmol seed build.seed + 100·r)
and `run_reference_md` (seed 100·r + n) with the params file's build/reference sections, then
`compute_profiles`. Prints, per n and replica: first-layer ⟨cos θ⟩ ± block error, the first ρ_O peak
(height at position), the first minimum of ρ_O (the first water layer's outer bound), where ρ_Na
is largest and the Na⁺ closest approach to the surface plane (both over all frames, Å), and the
run's status. Runs two MD tasks at a time (one OpenMM CPU thread each).
Usage: python benchmarks/reference_replicas.py [--params params/demo.yaml] [--replicas 2] [-o DIR]
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from edlbench.build import BuildConfig, build_interface
from edlbench.config import load_params, make
from edlbench.metrics import first_peak
from edlbench.profiles import ProfileConfig, compute_profiles
from edlbench.reference.oracle import ReferenceConfig, run_reference_md
from edlbench.trajectory import read_frames


def run(params_path: str, outdir: Path, replica: int, n_ion: int) -> Path:
    os.environ["OPENMM_CPU_THREADS"] = "1"
    params = load_params(params_path)
    build = make(BuildConfig, params, "build")
    atoms = build_interface(replace(build, seed=build.seed + 100 * replica), n_ion)
    path = outdir / f"r{replica}-n{n_ion}.nc"
    run_reference_md(atoms, make(ReferenceConfig, params, "reference"), path, path.with_suffix(".log"),
                     seed=100 * replica + n_ion, progress=False)
    return path


def summary(path: Path, cfg: ProfileConfig) -> str:
    frames = read_frames(path)
    ds = compute_profiles(frames, cfg)
    peak = first_peak(ds)
    line = (f"{path.stem}: {frames.info['status']:>8}, ⟨cos θ⟩₁ {float(ds.cos_theta_layer1):+.3f} ± "
            f"{float(ds.cos_theta_layer1_sem):.3f}, ρ_O peak {float(peak.rho_O_peak_height):.2f} g/cm³ at "
            f"{float(peak.rho_O_peak_z):.2f} Å, first ρ_O minimum {float(ds.layer1_cutoff):.2f} Å")
    if np.isfinite(float(ds.ion_closest_approach)):
        line += (f", ρ_Na max at {float(ds.rho_ion.idxmax('z')):.2f} Å, "
                 f"Na⁺ closest approach {float(ds.ion_closest_approach):.2f} Å")
    return line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("-o", "--outdir", type=Path, default=Path("reference-replicas"))
    args = ap.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    params = load_params(args.params)
    n_ions = make(BuildConfig, params, "build").n_ions
    jobs = [(r, n) for r in range(args.replicas) for n in n_ions]
    with ProcessPoolExecutor(2) as pool:
        paths = list(pool.map(run, [args.params] * len(jobs), [args.outdir] * len(jobs), *zip(*jobs)))
    cfg = make(ProfileConfig, params, "profiles")
    for path in paths:
        print(summary(path, cfg), flush=True)


if __name__ == "__main__":
    main()
