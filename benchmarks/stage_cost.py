"""Projected CPU wall time of one backend's share of a params file's pipeline, from short timed runs.

Labels a small data set in the params file's cell (a short oracle run per charge state), trains
the backend's preset twice with short lengths (LENGTH: epochs or steps) to separate start-up from
the cost per epoch or step, times MD steps of the trained model, and projects the plan's TRAIN,
EVALUATE and MD tasks of that backend at full length. The cost of an epoch is scaled from the
small training set to the params file's set size; a step's cost is not. On the local profile
TRAIN and MD ask for both cores, so tasks run one at a time and their times add. MD runs that stop
as unstable end early: the projection is an upper bound. Run it in the backend's environment; it
trains and runs MD on the GPU where PyTorch sees one.
Usage: python benchmarks/stage_cost.py --params params/demo.yaml --backend mace [--frames 40]
       [--override '{"hidden_irreps": "16x0e + 16x1o"}']   (merged into the preset: try sizes)
       [--data DIR]  (a timing set saved by --save-data, for a machine without OpenMM, e.g. a GPU node)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ase.io import read

from edlbench import backends
from edlbench.build import BuildConfig, build_interface
from edlbench.config import load_params, make
from edlbench.dataset import DatasetConfig, build_datasets
from edlbench.md import MDConfig, run_md
from edlbench.plan import make_plan
from edlbench.reference.oracle import ReferenceConfig, run_reference_md

#: where each backend's preset sets its training length, and whether that counts epochs or steps
LENGTH = {"mace": (("max_num_epochs",), "epoch"), "grace1l": (("fit", "maxiter"), "epoch"),
          "grace2l": (("fit", "maxiter"), "epoch"), "dp": (("training", "numb_steps"), "step"),
          "dpmp": (("training", "numb_steps"), "step"), "dpsigma": (("training", "numb_steps"), "step"),
          "esen": (("steps",), "step")}
SHORT = {"epoch": (1, 3), "step": (20, 100)}


def nested(keys: tuple[str, ...], value) -> dict:
    """{k1: {k2: value}} for keys (k1, k2)."""
    for key in reversed(keys):
        value = {key: value}
    return value


def set_frames(params: dict) -> tuple[int, int]:
    """(train + valid, test) frames per charge state of the params file's data sets."""
    ref, data = make(ReferenceConfig, params, "reference"), make(DatasetConfig, params, "dataset")
    frames = int(ref.production * 1000 / ref.timestep / ref.stride) // data.stride
    n_test = max(1, round(data.test_fraction * frames))
    return frames - n_test, n_test


def small_data(params: dict, frames: int, out: Path) -> Path:
    """Data sets of about `frames` frames per charge state (10 fs apart) in the params file's cell."""
    build = make(BuildConfig, params, "build")
    trajs = []
    for n in sorted(build.n_ions):
        trajs.append(out / f"n{n}.nc")
        run_reference_md(build_interface(build, n), ReferenceConfig(equilibration=0.5, production=frames * 0.01, stride=20),
                         trajs[-1], out / f"n{n}.log", seed=n + 1, progress=False)
    build_datasets(trajs, out / "datasets", DatasetConfig(stride=1, seed=0))
    return out / "datasets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", type=Path, required=True)
    ap.add_argument("--backend", required=True, choices=sorted(LENGTH))
    ap.add_argument("--frames", type=int, default=40, help="frames per charge state of the timing data set")
    ap.add_argument("--md-steps", type=int, default=40)
    ap.add_argument("--override", type=json.loads, default={}, help="JSON merged into the preset")
    ap.add_argument("--lengths", type=int, nargs=2, help="the two short training lengths (default: 1 3 epochs, 20 100 steps)")
    ap.add_argument("--data", type=Path, help="use this timing set (from --save-data) instead of labelling one")
    ap.add_argument("--save-data", type=Path, help="label the timing set into this folder and stop")
    args = ap.parse_args()
    params = load_params(args.params)
    if args.save_data:
        args.save_data.mkdir(parents=True, exist_ok=True)
        small_data(params, args.frames, args.save_data)
        return
    keys, unit = LENGTH[args.backend]
    lengths = args.lengths or SHORT[unit]
    preset = backends.merge(backends.options(params["backends"][args.backend]), args.override)
    full = preset
    for key in keys:
        full = full[key]
    module = backends.get(args.backend)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data / "datasets" if args.data else small_data(params, args.frames, Path(tmp))
        train_set = data / "mixed"
        n_small = len(read(train_set / "train.extxyz", ":")) + len(read(train_set / "valid.extxyz", ":"))
        times = []
        for length in lengths:
            t0 = time.perf_counter()
            model = module.train(train_set / "train.extxyz", train_set / "valid.extxyz",
                                 backends.merge(preset, nested(keys, length)), Path(tmp) / f"{length}", seed=0)
            times.append(time.perf_counter() - t0)
        per_unit = (times[1] - times[0]) / (lengths[1] - lengths[0])
        start_up = times[0] - per_unit * lengths[0]
        calc = module.calculator(model)
        md = make(MDConfig, params, "md")
        start = read(data / "test" / f"n{max(make(BuildConfig, params, 'build').n_ions)}.extxyz", "0")
        run_md(start, calc, replace(md, steps=4, stride=2), Path(tmp) / "warm.nc", Path(tmp) / "warm.log", {},
               progress=False)  # the first calls compile or load
        t0 = time.perf_counter()
        info = run_md(start, calc, replace(md, steps=args.md_steps, stride=20), Path(tmp) / "md.nc", Path(tmp) / "md.log", {},
                      progress=False)
        steps = args.md_steps if info["status"] == "ok" else info["status_step"]
        per_step = (time.perf_counter() - t0) / max(steps, 1)

    fit_frames, test_frames = set_frames(params)
    scale = fit_frames / n_small if unit == "epoch" else 1.0
    plan = make_plan(args.params)
    trains = [r for r in plan["train"] if r["backend"] == args.backend]
    mds = [r for r in plan["md"] if r["backend"] == args.backend]
    train_s = len(trains) * (start_up + per_unit * scale * full)
    evaluate_s = sum(len(r["test_charges"]) for r in trains) * test_frames * per_step
    md_s = len(mds) * md.steps * per_step
    print(f"{args.backend} on {args.params} ({len(start)} atoms; timing set {n_small} frames, the params' sets {fit_frames}):")
    print(f"  training: start-up {start_up:.0f} s, {per_unit:.2f} s per {unit} at {n_small} frames "
          f"(short runs of {lengths[0]} and {lengths[1]} {unit}s: {times[0]:.0f} s, {times[1]:.0f} s)")
    print(f"  MD: {per_step * 1000:.0f} ms/step ({info['status']} after {steps} steps)")
    print(f"  projected: TRAIN {len(trains)} × {full} {unit}s = {train_s / 60:.0f} min, "
          f"EVALUATE {evaluate_s / 60:.1f} min, MD {len(mds)} × {md.steps} steps = {md_s / 60:.0f} min; "
          f"total {(train_s + evaluate_s + md_s) / 60:.0f} min (+ ~15 s start-up per task)")


if __name__ == "__main__":
    main()
