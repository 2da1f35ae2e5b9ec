"""The ``edlbench`` command line: one subcommand per pipeline step (DESIGN.md §3)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn, get_args

from edlbench import __version__
from edlbench.errors import InputError
from edlbench.files import atomic_output, existing, output_dir
from edlbench.threads import limit_threads

Handler = Callable[[argparse.Namespace], None]


def status_line(trajectory: Path, info: dict) -> str:
    """'<trajectory>: ok', or ': unstable at step N (reason)', from a run's info."""
    if info["status"] == "unstable":
        return f"{trajectory}: unstable at step {info['status_step']} ({info['reason']})"
    return f"{trajectory}: {info['status']}"


def _plan(args: argparse.Namespace) -> None:
    from edlbench.plan import write_plan

    if args.params is None:
        raise InputError("plan: --params is required")
    plan = write_plan(args.params, args.output, args.seed, args.imported)
    print(f"{args.output}: {len(plan['charges'])} charge states, {len(plan['reference'])} reference runs, "
          f"{len(plan['train'])} training runs, {len(plan['md'])} MD runs")
    for backend, reason in plan["skipped"].items():
        print(f"warning: {backend} left out: {reason}", file=sys.stderr)


def _build(args: argparse.Namespace) -> None:
    from edlbench.build import BuildConfig, build_all
    from edlbench.config import load_params, make

    output_dir(args.outdir)
    cfg = make(BuildConfig, load_params(args.params), "build", metal=args.metal, repeats=args.repeats,
               layers=args.layers, gap=args.gap, ion=args.ion, n_ions=args.n_ions, seed=args.seed)
    for path in build_all(cfg, args.outdir):
        print(path)


def _profiles(args: argparse.Namespace) -> None:
    from edlbench.config import load_params, make
    from edlbench.profiles import ProfileConfig, profiles_file

    cfg = make(ProfileConfig, load_params(args.params), "profiles", dz=args.dz, z_max=args.z_max,
               n_blocks=args.blocks, layer_cutoff=args.layer_cutoff, frame_interval=args.frame_interval)
    profiles_file(args.trajectory, args.output, cfg, model=args.model, train_set=args.train_set,
                  seed=args.seed, start=args.start, stride=args.stride, replica=args.replica)
    print(args.output)


def _reference_md(args: argparse.Namespace) -> None:
    from edlbench.config import load_params, make
    from edlbench.reference.oracle import ReferenceConfig, run_reference_md
    from edlbench.trajectory import read_structure

    cfg = make(ReferenceConfig, load_params(args.params), "reference", temperature=args.temperature, timestep=args.timestep,
               equilibration=args.equilibration, production=args.production, stride=args.stride, platform=args.platform)
    atoms = read_structure(args.structure)
    traj = output_dir(args.outdir) / "trajectory.nc"
    info = run_reference_md(atoms, cfg, traj, args.outdir / "thermo.log", seed=args.seed, where=str(args.structure))
    print(f"{status_line(traj, info)}, {info['n_frames']} frames")


def _dataset(args: argparse.Namespace) -> None:
    from edlbench.config import load_params, make
    from edlbench.dataset import DatasetConfig, build_datasets

    cfg = make(DatasetConfig, load_params(args.params), "dataset", stride=args.stride, seed=args.seed, units=args.units)
    manifest = build_datasets(args.trajectories, args.outdir, cfg)
    print(json.dumps(manifest["counts"]))


def _import(args: argparse.Namespace) -> None:
    from edlbench.config import load_params, make
    from edlbench.importer import ImportConfig, import_files

    cfg = make(ImportConfig, load_params(args.params), "import", ion=args.ion, metal=args.metal, units=args.units)
    print(json.dumps(import_files(args.files, args.outdir, cfg)))


def _train(args: argparse.Namespace) -> None:
    from edlbench import backends
    from edlbench.config import load_params

    params = load_params(args.params)
    given = (params.get("backends") or {}).get(args.backend)
    backends.check_options(args.backend, given, params.get("_path", "command line"))
    config = backends.options(given)
    data = args.datasets / args.train_set
    for split in ("train", "valid"):
        existing(data / f"{split}.extxyz", f"{args.train_set} {split} set (from `edlbench dataset`)")
    device = backends.resolve_device(args.backend, args.device, calculator=False)  # the package's trainer takes a visible GPU itself
    out = output_dir(args.outdir)
    work = out
    if args.restart_dir:  # the package's checkpoints live where a retry in another folder finds them
        from edlbench.restart import files_key

        key = files_key([data / "train.extxyz", data / "valid.extxyz"],
                        {"backend": args.backend, "train_set": args.train_set, "seed": args.seed, "options": config})
        work = output_dir(args.restart_dir / f"train-{key}")
    model = backends.get(args.backend).train(data / "train.extxyz", data / "valid.extxyz", config, work, args.seed)
    if work != out:  # finished: the training folder into the output folder, and its restart folder goes
        shutil.copytree(work, out, symlinks=True, dirs_exist_ok=True)
        model = out / Path(os.path.abspath(model)).relative_to(os.path.abspath(work))
        shutil.rmtree(work)
    backends.write_manifest(out, args.backend, args.train_set, args.seed, model, device)
    print(model)


def _evaluate(args: argparse.Namespace) -> None:
    from edlbench import backends
    from edlbench.contract import write
    from edlbench.evaluate import evaluate

    if args.gamma and backends.SPECS[args.backend].gamma is None:
        raise InputError(f"--gamma: backend {args.backend!r} has no per-atom uncertainty of its own")
    model = backends.model_file(args.model)  # a wrong path is named before a missing package
    device = backends.resolve_device(args.backend, args.device)
    gamma = backends.gamma(args.backend, model, device) if args.gamma else None
    ds = evaluate(backends.calculator(args.backend, model, device), args.test_sets, args.backend, args.train_set, args.seed, gamma)
    ds.attrs["device"] = device
    write(ds, args.output, "errors", seed=args.seed)
    print(args.output)


def _md(args: argparse.Namespace) -> None:
    from edlbench import backends
    from edlbench.config import load_params, make
    from edlbench.md import MDConfig, run_md
    from edlbench.restart import run_key
    from edlbench.trajectory import read_structure

    cfg = make(MDConfig, load_params(args.params), "md", steps=args.steps, stride=args.stride, seed=args.seed,
               temperature=args.temperature, thermostat=args.thermostat)
    atoms = read_structure(args.structure)
    model = backends.model_file(args.model)
    device = backends.resolve_device(args.backend, args.device)
    calc = backends.calculator(args.backend, model, device, cfg.precision)
    out = output_dir(args.outdir)
    info = {"model": args.backend, "train_set": args.train_set, "ion": atoms.info.get("ion", "Na"), "device": device}
    key = run_key(model, atoms, {"backend": args.backend, "train_set": args.train_set, "md": asdict(cfg)})
    run_dir = output_dir(args.restart_dir / key) if args.restart_dir else out
    info = run_md(atoms, calc, cfg, run_dir / "trajectory.nc", run_dir / "thermo.log", info, restart_file=run_dir / "restart.npz", key=key)
    if run_dir != out:  # finished: into the output folder, and the run's restart folder goes
        for name in ("trajectory.nc", "thermo.log"):
            with atomic_output(out / name) as tmp:
                shutil.copyfile(run_dir / name, tmp)
        shutil.rmtree(run_dir)
    print(status_line(out / "trajectory.nc", info))


def _uncertainty(args: argparse.Namespace) -> None:
    import numpy as np

    from edlbench import backends
    from edlbench.uncertainty import committee_spread, gamma_series, write_series

    def mean(values: np.ndarray) -> float:  # over frames; NaN for a run unstable before its first frame
        return float(values.mean()) if len(values) else float("nan")

    kind = backends.SPECS[args.backend].gamma
    if args.gamma and kind is None:
        raise InputError(f"--gamma: backend {args.backend!r} has no per-atom uncertainty of its own")
    if len(args.models) < 2 and not args.gamma:
        raise InputError(f"--models: a committee spread needs two or more models (got {len(args.models)}); --gamma gives a "
                         "backend's own per-atom uncertainty from one")
    files = [backends.model_file(m) for m in args.models]
    index, series, attrs, summary = None, {}, {}, []
    if len(files) > 1:
        index, spread = committee_spread(args.trajectory, [backends.calculator(args.backend, f, args.device) for f in files], args.stride)
        series |= spread
        attrs["committee"] = json.dumps([str(f) for f in files])
        summary.append(f"committee of {len(files)}, mean max force deviation {mean(spread['force_deviation_max'][0]):.3f} eV/Å")
    if args.gamma:
        index, gamma = gamma_series(args.trajectory, backends.gamma(args.backend, files[0], args.device), kind, args.stride)
        series |= gamma
        attrs["gamma_model"], attrs["gamma_kind"] = str(files[0]), kind
        summary.append(f"{kind} of {files[0]}: mean max γ {mean(gamma['gamma_max'][0]):.2f}")
    output = args.output or args.trajectory
    write_series(args.trajectory, output, index, series, attrs)
    print(f"{output}: {'; '.join(summary)}")


def _aggregate(args: argparse.Namespace) -> None:
    from edlbench.aggregate import aggregate
    from edlbench.contract import write
    from edlbench.plan import read_plan

    plan = read_plan(args.plan) if args.plan else {}
    write(aggregate(args.files, plan.get("skipped", {}), plan.get("receptive_field", {})), args.output, "results")
    print(args.output)


def _report(args: argparse.Namespace) -> None:
    from edlbench.report import build_report

    print(build_report(args.results, args.outdir, args.tolerance))


def count(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer ≥ `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be ≥ {minimum}")
        return value
    return parse


def nonnegative(text: str) -> float:
    """argparse type: a finite number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{value} must be a finite number ≥ 0")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (exit 2), like every other edlbench error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    from edlbench.backends import SPECS
    from edlbench.units import Units

    units = get_args(Units)
    backend_names = list(SPECS)
    p = _Parser(prog="edlbench", description=__doc__)
    p.add_argument("--version", action="version", version=f"edlbench {__version__}")
    p.add_argument("--threads", type=count(1), help="CPU threads for every package (the pipeline passes task.cpus; default: the packages' own)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        c.add_argument("--params", type=Path, help="params YAML (e.g. params/test.yaml)")
        c.set_defaults(handler=handler)
        return c

    def device(c: argparse.ArgumentParser) -> None:
        c.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                       help="auto (GPU if visible), cpu, or cuda (a one-line error when no GPU is visible)")

    c = command("plan", _plan, "validate the params file and write the run matrix (plan.json) for main.nf")
    c.add_argument("-o", "--output", type=Path, default=Path("plan.json"))
    c.add_argument("--seed", type=int, default=1, help="seed of the reference MD runs (default 1; replica r: seed + 100·r)")
    c.add_argument("--imported", action="store_true", help="the reference is imported DFT frames (--dft): one replica")

    c = command("build", _build, "starting structures: fcc(111) slab + water + n ions, one extxyz per charge state")
    c.add_argument("-o", "--outdir", type=Path, default=Path("."), help="output folder (default .)")
    c.add_argument("--metal", help="electrode element (default Au)")
    c.add_argument("--repeats", type=int, nargs=2, help="lateral repeats (second must be even)")
    c.add_argument("--layers", type=int, help="metal layers")
    c.add_argument("--gap", type=float, help="surface-to-surface liquid thickness, Å")
    c.add_argument("--ion", help="counter-ion element (default Na)")
    c.add_argument("--n-ions", type=int, nargs="+", help="charge states (ions per cell)")
    c.add_argument("--seed", type=int, help="packmol seed")

    c = command("profiles", _profiles, "water/ion profiles along the surface normal from a trajectory")
    c.add_argument("trajectory", type=Path, help="any ASE-readable trajectory or an edlbench .nc trajectory")
    c.add_argument("-o", "--output", type=Path, default=Path("profiles.nc"))
    c.add_argument("--model", default="reference")
    c.add_argument("--train-set", default="none")
    c.add_argument("--seed", type=int, default=0, help="seed of the model that ran the MD")
    c.add_argument("--replica", type=count(0), default=0, help="replica of the run (independent start and seeds)")
    c.add_argument("--start", type=count(0), default=0, help="first frame (skip equilibration)")
    c.add_argument("--stride", type=count(1), default=1)
    c.add_argument("--dz", type=float, help="bin width, Å (default 0.1)")
    c.add_argument("--z-max", type=float, help="profile range from the surface, Å (default 10)")
    c.add_argument("--blocks", type=int, help="blocks for standard errors (default 10)")
    c.add_argument("--layer-cutoff", type=float, help="first-layer bound, Å (default: first minimum of rho_O)")
    c.add_argument("--frame-interval", type=float, help="ps between frames (default: from the trajectory)")

    c = command("reference-md", _reference_md, "reference MD of one charge state with the classical oracle (OpenMM)")
    c.add_argument("structure", type=Path, help="starting structure (extxyz from edlbench build)")
    c.add_argument("-o", "--outdir", type=Path, default=Path("."), help="writes trajectory.nc and thermo.log")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--temperature", type=float, help="K (default 300)")
    c.add_argument("--timestep", type=float, help="fs (default 0.5)")
    c.add_argument("--equilibration", type=float, help="ps")
    c.add_argument("--production", type=float, help="ps")
    c.add_argument("--stride", type=int, help="steps between saved frames")
    c.add_argument("--platform", help="OpenMM platform: auto, CPU, CUDA, Reference")

    c = command("dataset", _dataset, "label frames with the oracle and write the train/valid/test sets + manifest")
    c.add_argument("trajectories", nargs="+", type=Path, help="one trajectory per charge state")
    c.add_argument("-o", "--outdir", type=Path, default=Path("datasets"))
    c.add_argument("--stride", type=int, help="take every k-th frame")
    c.add_argument("--seed", type=int)
    c.add_argument("--units", choices=units, help="units of labels already in the frames (default auto: eV, checked)")

    c = command("import", _import, "validate labelled DFT frames and group them by charge state for `dataset`")
    c.add_argument("files", nargs="+", type=Path, help="extxyz, OUTCAR, vasprun.xml, … (anything ASE reads)")
    c.add_argument("-o", "--outdir", type=Path, default=Path("imported"))
    c.add_argument("--ion", help="counter-ion element (default Na)")
    c.add_argument("--metal", help="electrode element (default: the metal present)")
    c.add_argument("--units", choices=units, help="units of the labels: auto (eV, eV/Å, checked; default) or the unit to convert from")

    c = command("train", _train, "train one model with its package's own training entry point")
    c.add_argument("--backend", required=True, choices=backend_names, metavar="BACKEND", help=f"one of: {', '.join(backend_names)}")
    c.add_argument("--train-set", required=True, help="mixed, n0, n1, …")
    c.add_argument("--datasets", type=Path, default=Path("datasets"), help="folder written by `edlbench dataset`")
    c.add_argument("--seed", type=int, default=0, help="model seed (committee member)")
    device(c)
    c.add_argument("--restart-dir", type=Path, help="train in a folder of this training's key here, so that a retry in another "
                                                     "folder resumes from the package's own checkpoint (default: the output folder)")
    c.add_argument("-o", "--outdir", type=Path, default=Path("model"))

    c = command("evaluate", _evaluate, "energy/force errors of a trained model per test charge state → errors.nc")
    c.add_argument("test_sets", nargs="+", type=Path, help="test/n*.extxyz from `edlbench dataset`")
    c.add_argument("--backend", required=True, choices=backend_names, metavar="BACKEND", help=f"one of: {', '.join(backend_names)}")
    c.add_argument("--model", type=Path, required=True, help="model folder from `edlbench train` (or the model file)")
    c.add_argument("--train-set", required=True)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--gamma", action="store_true", help="also the backend's own per-atom γ on the test frames (the in-domain rate beyond γ = 1)")
    device(c)
    c.add_argument("-o", "--output", type=Path, default=Path("errors.nc"))

    c = command("md", _md, "NVT MD with a trained model (same driver for every backend); unstable runs exit 0")
    c.add_argument("structure", type=Path)
    c.add_argument("--backend", required=True, choices=backend_names, metavar="BACKEND", help=f"one of: {', '.join(backend_names)}")
    c.add_argument("--model", type=Path, required=True, help="model folder from `edlbench train` (or the model file)")
    c.add_argument("--train-set", default="none")
    device(c)
    c.add_argument("--steps", type=int)
    c.add_argument("--stride", type=int)
    c.add_argument("--seed", type=int)
    c.add_argument("--temperature", type=float)
    c.add_argument("--thermostat", choices=["langevin", "nose-hoover"])
    c.add_argument("--restart-dir", type=Path, help="keep the running trajectory and its restart points in a folder of this "
                                                     "run's key here (a retry in another folder continues it; default: the output folder)")
    c.add_argument("-o", "--outdir", type=Path, default=Path("md"))

    c = command("uncertainty", _uncertainty, "committee force spread and the backend's own γ along an MD trajectory, written into its NetCDF")
    c.add_argument("trajectory", type=Path, help="trajectory.nc from `edlbench md`")
    c.add_argument("--backend", required=True, choices=backend_names, metavar="BACKEND", help=f"one of: {', '.join(backend_names)}")
    c.add_argument("--models", type=Path, nargs="+", required=True, help="model folders or files: the run's own model first (its γ with --gamma), then the rest "
                   "of its committee (two or more: the force spread)")
    c.add_argument("--gamma", action="store_true", help="also the backend's own per-atom extrapolation grade γ of the first model")
    c.add_argument("--stride", type=count(1), default=1, help="every k-th frame (others get NaN)")
    device(c)
    c.add_argument("-o", "--output", type=Path, help="output trajectory (default: update TRAJECTORY in place, atomically)")

    c = command("aggregate", _aggregate, "stack profiles.nc and errors.nc files into results.nc")
    c.add_argument("files", nargs="+", type=Path)
    c.add_argument("--plan", type=Path, help="plan.json: models the plan left out are recorded with the reason")
    c.add_argument("-o", "--output", type=Path, default=Path("results.nc"))

    c = command("report", _report, "figures, report.md and self-contained report.html from results.nc")
    c.add_argument("results", type=Path, help="results.nc from `edlbench aggregate`")
    c.add_argument("-o", "--outdir", type=Path, default=Path("report"))
    c.add_argument("--tolerance", type=nonnegative, default=0.05, help="|Δ first-layer <cos θ>| counted as agreement (default 0.05)")
    return p


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler's or Nextflow's kill) unwinds like Ctrl-C, so temporary files are removed."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.threads:
        limit_threads(args.threads)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        args.handler(args)
    except InputError as exc:
        print(f"edlbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edlbench {args.command}: interrupted; no partial output kept", file=sys.stderr)
        return 130
    except OSError as exc:  # a path the user named: missing, a folder, no permission, disk full
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"edlbench {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not a user mistake: one line, the traceback on request
        if os.environ.get("EDLBENCH_DEBUG"):
            raise
        print(f"edlbench {args.command}: internal error: {type(exc).__name__}: {exc} (EDLBENCH_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1
    return 0
