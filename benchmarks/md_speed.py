"""MD speed per backend: ms/step of edlbench's MD (`edlbench md`: the model as trained, DeePMD
compressed) against the other ways to run the same model on the same structure and machine.

Paths per backend (each a full `edlbench.md.run_md` of `--steps` steps, after a warm-up; the paths
alternate `--repeats` times and medians are reported, since single timings on a shared machine
scatter by ±25 %):
- every backend: ``edlbench`` — what `edlbench md` runs (md.precision "trained");
- DeePMD with a compressed model: ``frozen`` — the uncompressed model `dp --pt freeze` wrote
  (what edlbench ran before compression);
- MACE, eSEN: ``float64`` / ``float32`` — the model cast to the other precision (edlbench ran
  MACE and eSEN in float64 before; MACE models train in float64 unless default_dtype says otherwise);
- ``--compare BACKEND MODEL``: another backend's model on the same start, named by its backend
  (e.g. gracefs's C++ evaluator against grace1l's TensorFlow one).
Not measured here: LAMMPS (`pair_style deepmd`, ML-IAP), cuEquivariance and batched GPU MD need
packages or a GPU this script does not assume (see RESULTS.md).
Usage: python benchmarks/md_speed.py --backend dp --model MODEL_DIR_OR_FILE [--params params/demo.yaml] [--n-ion 2]
       [--compare BACKEND MODEL ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from md_overhead import relaxed_start

from edlbench import backends
from edlbench.build import BuildConfig
from edlbench.config import load_params, make
from edlbench.md import MDConfig, run_md


def paths(backend: str, model: Path, device: str) -> dict[str, object]:
    """Calculator per path name; "edlbench" first."""
    out = {"edlbench": backends.calculator(backend, model, device)}
    file = backends.model_file(model)
    if file.name.endswith("_compressed.pth"):
        out["frozen"] = backends.calculator(backend, file.with_name(file.name.replace("_compressed", "")), device)
    if backends.SPECS[backend].castable:
        for precision in ("float32", "float64"):
            out[precision] = backends.calculator(backend, model, device, precision)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", required=True, choices=list(backends.SPECS))
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--params", type=Path, default=Path(__file__).parents[1] / "params/demo.yaml", help="its build section gives the cell")
    ap.add_argument("--n-ion", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="MD steps per repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--compare", nargs=2, action="append", default=[], metavar=("BACKEND", "MODEL"),
                    help="another backend's model, timed on the same start")
    args = ap.parse_args()
    cell = make(BuildConfig, load_params(args.params), "build")
    atoms = relaxed_start(cell, args.n_ion)
    calcs = paths(args.backend, args.model, args.device)
    for backend, model in args.compare:
        calcs[backend] = backends.calculator(backend, Path(model), args.device)
    times: dict[str, list[float]] = {name: [] for name in calcs}
    with tempfile.TemporaryDirectory() as tmp:
        def md(calc, steps: int, seed: int) -> tuple[float, str]:
            t0 = time.perf_counter()
            info = run_md(atoms, calc, MDConfig(steps=steps, stride=10, seed=seed), Path(tmp) / "t.nc", Path(tmp) / "t.log", {}, progress=False)
            return 1e3 * (time.perf_counter() - t0) / steps, info["status"]

        for calc in calcs.values():
            md(calc, 20, 0)  # warm-up: lazy initialisation, JIT, caches
        for rep in range(args.repeats):  # interleaved, so machine load affects every path alike
            for name, calc in calcs.items():
                ms, status = md(calc, args.steps, rep)
                times[name].append(ms if status == "ok" else np.nan)
    ours = float(np.nanmedian(times["edlbench"]))
    print(f"{args.backend}: {args.model}, {len(atoms)} atoms ({args.params.name} cell, n_ion {args.n_ion}), "
          f"{args.steps} steps × {args.repeats} interleaved repeats")
    print(f"{'path':<10} {'ms/step':>9} {'scatter':>9} {'÷ edlbench':>11} {'finished':>9}")  # an unstable run times nothing
    for name, t in times.items():
        median = float(np.nanmedian(t))
        print(f"{name:<10} {median:9.1f} {np.nanstd(t):9.1f} {median / ours:11.2f} {np.isfinite(t).sum():>5}/{len(t)}")


if __name__ == "__main__":
    main()
