"""Time `edlbench profiles` on a synthetic ~500-atom, 2000-frame trajectory; prints frames/s.

The trajectory is a built Au(111)/water/Na interface whose waters and ions are displaced
rigidly at random each frame (intact molecules), written in edlbench's NetCDF format.
Usage: python benchmarks/profiles.py [--frames 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from edlbench.build import BuildConfig, build_interface
from edlbench.profiles import ProfileConfig, compute_profiles
from edlbench.trajectory import TrajectoryWriter, read_frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=2000)
    args = ap.parse_args()
    atoms = build_interface(BuildConfig(repeats=(4, 4), layers=4, gap=40.0, seed=3), 2)
    rng = np.random.default_rng(0)
    liquid = np.flatnonzero(~(atoms.symbols == "Au"))
    base = atoms.positions.copy()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "traj.nc"
        with TrajectoryWriter(path, atoms, {"ion": "Na"}, {}) as w:
            for k in range(args.frames):
                atoms.positions[liquid] = base[liquid] + rng.normal(0, 0.3, 3) * [1, 1, 0.2]
                w.append(atoms, time_ps=0.05 * k)
        t0 = time.perf_counter()
        frames = read_frames(path)
        t1 = time.perf_counter()
        ds = compute_profiles(frames, ProfileConfig())
        t2 = time.perf_counter()
    n = len(frames)
    print(f"atoms {len(atoms)}  frames {n}  z bins {ds.sizes['z']}  lags {ds.sizes['lag']}")
    print(f"read      {t1 - t0:7.2f} s   {n / (t1 - t0):9.0f} frames/s")
    print(f"analyse   {t2 - t1:7.2f} s   {n / (t2 - t1):9.0f} frames/s")
    print(f"total     {t2 - t0:7.2f} s   {n / (t2 - t0):9.0f} frames/s")


if __name__ == "__main__":
    main()
