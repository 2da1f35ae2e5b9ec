"""MD stability of a trained model: how many short NVT runs stay intact.

Runs `edlbench.md.run_md` (the pipeline's driver and its checks: contacts, forces, temperature,
atoms through the metal, intact waters) from several start frames × thermostat seeds and prints
each run's status, the step where it stopped and why, and the fraction that finished.
Usage: python benchmarks/md_stability.py --backend grace1l --model MODEL --frames test/n2.extxyz
       [--starts 0 3] [--seeds 3] [--steps 400]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ase.io import read

from edlbench import backends
from edlbench.md import MDConfig, run_md


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", required=True)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--frames", type=Path, required=True, help="extxyz of start configurations")
    ap.add_argument("--starts", type=int, nargs="+", default=[0, 3], help="frame indices to start from")
    ap.add_argument("--seeds", type=int, default=3, help="thermostat seeds per start frame")
    ap.add_argument("--steps", type=int, default=400)
    args = ap.parse_args()
    calc = backends.get(args.backend).calculator(args.model)
    ok = 0
    with tempfile.TemporaryDirectory() as tmp:
        for start in args.starts:
            for seed in range(args.seeds):
                cfg = MDConfig(steps=args.steps, stride=20, seed=seed)
                info = run_md(read(args.frames, str(start)), calc, cfg, Path(tmp) / "t.nc", Path(tmp) / "t.log", {}, progress=False)
                ok += info["status"] == "ok"
                stop = "" if info["status"] == "ok" else f" at step {info['status_step']}: {info['reason']}"
                print(f"{args.backend} start frame {start} seed {seed}: {info['status']}{stop}", flush=True)
    total = len(args.starts) * args.seeds
    print(f"{args.backend}: {ok}/{total} runs of {args.steps} steps finished intact")


if __name__ == "__main__":
    main()
