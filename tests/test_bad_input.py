"""Bad input, by class, through every subcommand: exit 2 and one line naming the file, frame or
parameter — no traceback, nothing written. Cases run in-process (``edlbench.cli.main``), so the
whole table takes seconds; none of them reaches packmol, OpenMM or an ML package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.units import Bohr, Hartree, kcal, mol

from edlbench.aggregate import aggregate
from edlbench.build import BuildConfig, build_interface
from edlbench import cli
from edlbench.contract import run_coords
from edlbench.contract import write as write_contract
from edlbench.trajectory import TrajectoryWriter
from synthetic import columns, errors_ds, frames, profiles_ds

TEST_PARAMS = Path(__file__).parents[1] / "params" / "test.yaml"
UP = np.array([0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Valid inputs of every kind, each to be damaged by one case."""
    d = tmp_path_factory.mktemp("valid")
    f = frames(columns(6, np.full((6, 16), 5.0)), np.broadcast_to(UP, (6, 16, 3)))
    from ase import Atoms

    atoms = Atoms(f.symbols, positions=f.positions[0], cell=f.cells[0], pbc=True)
    with TrajectoryWriter(d / "traj.nc", atoms, {"status": "running"}, {"temperature": "K"}) as traj:
        for k, (p, c) in enumerate(zip(f.positions, f.cells)):
            atoms.positions, atoms.cell = p, c
            traj.append(atoms, 0.1 * (k + 1), temperature=300.0)
        traj.set_info({"status": "ok"})
    write_contract(run_coords(profiles_ds(), "dp", "mixed", 0, 0.0, 0), d / "profiles.nc", "profiles")
    write_contract(errors_ds("dp", "mixed", 0), d / "errors.nc", "errors")
    write_contract(aggregate([d / "profiles.nc", d / "errors.nc"]), d / "results.nc", "results")
    (d / "plan.json").write_text(json.dumps({"charges": [0, 2], "skipped": {}}))
    cell = build_interface(BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=2), 1)
    write(d / "structure.extxyz", cell)
    for name, (e_unit, f_unit) in {"ev": (1.0, 1.0), "hartree": (Hartree, Hartree / Bohr), "kcal": (kcal / mol, kcal / mol)}.items():
        rng = np.random.default_rng(0)  # the same labels, in three units
        images = []
        for k in range(12):
            a = cell.copy()
            a.calc = SinglePointCalculator(a, energy=(-4.0 - 0.01 * k) * len(a) / e_unit,
                                           forces=rng.normal(0, 1.2, (len(a), 3)) / f_unit)
            images.append(a)
        write(d / f"dft_{name}.extxyz", images)
    model = d / "model"
    model.mkdir()
    (model / "m.model").write_text("not a real model")
    (model / "model.json").write_text(json.dumps({"backend": "mace", "train_set": "mixed", "seed": 0, "model": "m.model"}))
    return d


def params(tmp: Path, text: str) -> Path:
    path = tmp / "params.yaml"
    path.write_text(text)
    return path


def changed_params(tmp_path: Path, keys: tuple[str, ...], value: str) -> Path:
    """params/test.yaml with the entry at `keys` (e.g. ("md", "steps")) set to `value` (YAML text)."""
    import yaml

    p = yaml.safe_load(TEST_PARAMS.read_text())
    node = p
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = yaml.safe_load(value)
    return params(tmp_path, yaml.safe_dump(p))


# (section, key, YAML value, words the error line must hold)
PLAN_VALUES = [
    ("md", "steps", "-5", "md.steps=-5"),
    ("md", "steps", "2.5", "md.steps=2.5"),
    ("md", "stepz", "5", "md.stepz: unknown parameter"),
    ("md", "thermostat", "berendsen", "md.thermostat='berendsen'"),
    ("md", "temperature", ".nan", "md.temperature"),
    ("md", "timestep", "0", "md.timestep=0"),
    ("md", "stride", "500", "exceeds steps"),
    ("reference", "production", "-1", "reference.production=-1"),
    ("reference", "production", "0.001", "no frame would be written"),
    ("reference", "stride", "0", "reference.stride=0"),
    ("reference", "platform", "GPU", "reference.platform='GPU'"),
    ("reference", "timestep", "-0.5", "reference.timestep=-0.5"),
    ("reference", "temperature", "-300", "reference.temperature=-300"),
    ("reference", "minimize", "'yes'", "reference.minimize='yes'"),
    ("reference", "mixing", "geometric", "reference.mixing='geometric'"),
    ("reference", "pair_terms", "{Au-K: {sigma: 3.0, epsilon: 0.1}}", "pair_terms key 'Au-K'"),
    ("reference", "pair_terms", "{Au-Na: {sigma: -3.0, epsilon: 0.1}}", "reference.pair_terms.Au-Na.sigma=-3.0"),
    ("reference", "pair_terms", "{Au-Na: {sigma: 3.0}}", "reference.pair_terms.Au-Na.epsilon: Field required"),
    ("profiles", "dz", "-0.1", "profiles.dz=-0.1"),
    ("profiles", "n_blocks", "0", "profiles.n_blocks=0"),
    ("profiles", "z_max", "0.1", "profiles: z_max=0.1"),
    ("profiles", "metal", "O", "metal='O' is not a metal"),
    ("build", "n_ions", "'0,1'", "build.n_ions='0,1'"),
    ("build", "n_ions", "[]", "build.n_ions"),
    ("build", "n_ions", "[0, 0]", "repeats a charge state"),
    ("build", "n_ions", "[0, -1]", "build.n_ions.1"),
    ("build", "repeats", "[0, 4]", "build.repeats.0"),
    ("build", "repeats", "[-2, 4]", "build.repeats.0"),
    ("build", "repeats", "[3, 3]", "second lateral repeat must be even"),
    ("build", "repeats", "[3, 4, 5]", "build.repeats"),
    ("build", "metal", "O", "metal='O' is not a metal"),
    ("build", "ion", "Xx", "ion='Xx'"),
    ("build", "wall", "-1", "build.wall=-1"),
    ("build", "ion_distance", "-2", "build.ion_distance=-2"),
    ("build", "density", "0", "build.density=0"),
    ("build", "lattice", "-4.078", "build.lattice=-4.078"),
    ("build", "gap", "4", "leaves no room for liquid"),
    ("build", "layers", "'three'", "build.layers='three'"),
    ("dataset", "stride", "0", "dataset.stride=0"),
    ("dataset", "valid_fraction", "0.9", "must be < 1"),
    ("dataset", "units", "furlongs", "dataset.units='furlongs'"),
    ("import", "units", "furlongs", "import.units='furlongs'"),
    ("import", "energy_range", "[5, -50]", "low < high"),
]


@pytest.mark.parametrize("section, key, value, needle", PLAN_VALUES, ids=[f"{s}.{k}={v}" for s, k, v, _ in PLAN_VALUES])
def test_plan_rejects_bad_value(tmp_path, capsys, section, key, value, needle):
    path = changed_params(tmp_path, (section, key), value)
    assert_one_line_error(capsys, main(["plan", "--params", str(path), "-o", str(tmp_path / "plan.json")]),
                          "params.yaml", needle)
    assert not (tmp_path / "plan.json").exists()


BACKEND_VALUES = [
    ("committee", "two", "backends.dp.committee='two'"),
    ("committee", "0", "backends.dp.committee=0"),
    ("committee", "true", "backends.dp.committee=True"),
    ("train_sets", "[n7]", "unknown training set 'n7'"),
    ("train_sets", "mixed", "backends.dp.train_sets='mixed'"),
    ("enabled", "'yes'", "backends.dp.enabled='yes'"),
    ("cross_charge_md", "1", "backends.dp.cross_charge_md=1"),
    ("model", "5", "backends.dp.model=5"),
    ("trainig", "{numb_steps: 5}", "backends.dp.trainig: unknown parameter"),
]


@pytest.mark.parametrize("key, value, needle", BACKEND_VALUES, ids=[f"dp.{k}={v}" for k, v, _ in BACKEND_VALUES])
def test_plan_rejects_bad_backend_option(tmp_path, capsys, key, value, needle):
    path = changed_params(tmp_path, ("backends", "dp", key), value)
    assert_one_line_error(capsys, main(["plan", "--params", str(path), "-o", str(tmp_path / "plan.json")]),
                          "params.yaml", needle)


PLAN_FILES = [
    ("backends:\n  - dp\n", "section 'backends' must be a mapping"),
    ("build: [1, 2]\n", "section 'build' must be a mapping"),
    ("- build\n", "top level must be a mapping"),
    ("buidl:\n  gap: 3\n", "unknown section 'buidl'"),
    ("build: {gap: [\n", "not valid YAML"),
    ("backends:\n  nosuch: {}\n", "backends.nosuch: unknown"),
    ("backends:\n  dp: [1]\n", "backends.dp must be a mapping"),
    ("backends:\n  mace: {max_num_epochs: 0}\n", "backends.mace.max_num_epochs=0"),
    ("backends:\n  mace: {swa_lr: 0.1}\n", "backends.mace.swa_lr: unknown parameter"),
    ("backends:\n  mace: {default_dtype: float16}\n", "backends.mace.default_dtype='float16'"),
    ("backends:\n  esen: {steps: -1}\n", "backends.esen.steps=-1"),
    ("backends:\n  grace1l: {cutoff: 0}\n", "backends.grace1l.cutoff=0"),
]


@pytest.mark.parametrize("text, needle", PLAN_FILES, ids=[n for _, n in PLAN_FILES])
def test_plan_rejects_bad_file(tmp_path, capsys, text, needle):
    assert_one_line_error(capsys, main(["plan", "--params", str(params(tmp_path, text)), "-o", str(tmp_path / "plan.json")]),
                          "params.yaml", needle)


def test_plan_needs_params_and_names_a_folder(tmp_path, capsys):
    assert_one_line_error(capsys, main(["plan", "-o", str(tmp_path / "p.json")]), "--params")
    assert_one_line_error(capsys, main(["plan", "--params", str(tmp_path)]), str(tmp_path), "is a folder")
    assert_one_line_error(capsys, main(["plan", "--params", str(TEST_PARAMS), "-o", str(tmp_path)]), str(tmp_path), "is a folder")


BUILD_ARGS = [
    (["--repeats", "0", "4"], "build.repeats.0"),
    (["--repeats", "-2", "4"], "build.repeats.0"),
    (["--metal", "O"], "metal='O'"),
    (["--ion", "Au"], "ion='Au'"),
    (["--gap", "2"], "leaves no room"),
    (["--layers", "1"], "build.layers=1"),
    (["--n-ions", "0,1"], "--n-ions"),
    (["--seed", "-1"], "build.seed=-1"),
]


@pytest.mark.parametrize("args, needle", BUILD_ARGS, ids=[" ".join(a) for a, _ in BUILD_ARGS])
def test_build_rejects(tmp_path, capsys, args, needle):
    assert_one_line_error(capsys, main(["build", "-o", str(tmp_path / "out"), *args]), needle)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_build_output_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert_one_line_error(capsys, main(["build", "-o", str(tmp_path / "f")]), str(tmp_path / "f"), "not a folder")


def damage_traj(data: Path, tmp: Path, how: str) -> Path:
    path = tmp / "t.nc"
    shutil.copy(data / "traj.nc", path)
    if how == "truncated":
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "text":
        path.write_text("this is not NetCDF\n")
    elif how == "running":
        with netCDF4.Dataset(path, "a") as nc:
            nc.edlbench_info = json.dumps({"status": "running"})
    elif how == "nan":
        with netCDF4.Dataset(path, "a") as nc:
            nc.variables["coordinates"][2, 0, 0] = np.nan
    else:  # drop a variable: rewrite without it
        with netCDF4.Dataset(data / "traj.nc") as src, netCDF4.Dataset(path, "w") as dst:
            for name, dim in src.dimensions.items():
                dst.createDimension(name, None if dim.isunlimited() else len(dim))
            for name, var in src.variables.items():
                if name != how:
                    dst.createVariable(name, var.dtype, var.dimensions)[:] = var[:]
            dst.setncatts({k: src.getncattr(k) for k in src.ncattrs()})
    return path


PROFILE_CASES = [
    ("truncated", [], "truncated trajectory"),
    ("text", [], "not a readable NetCDF"),
    ("atom_types", [], "missing variable 'atom_types'"),
    ("cell_lengths", [], "missing variable 'cell_lengths'"),
    ("running", [], "incomplete trajectory"),
    ("nan", [], "frame 2 has non-finite"),
    (None, ["--dz", "-0.1"], "profiles.dz=-0.1"),
    (None, ["--blocks", "0"], "profiles.n_blocks=0"),
    (None, ["--z-max", "-3"], "profiles.z_max=-3"),
    (None, ["--start", "100"], "no frames"),
    (None, ["--stride", "0"], "--stride"),
    (None, ["--layer-cutoff", "-1"], "profiles.layer_cutoff=-1"),
]


@pytest.mark.parametrize("how, args, needle", PROFILE_CASES, ids=[f"{h}{a}" for h, a, _ in PROFILE_CASES])
def test_profiles_rejects(data, tmp_path, capsys, how, args, needle):
    traj = damage_traj(data, tmp_path, how) if how else data / "traj.nc"
    out = tmp_path / "out" / "profiles.nc"
    assert_one_line_error(capsys, main(["profiles", str(traj), "-o", str(out), *args]), needle)
    assert not out.exists() and not list(tmp_path.glob("out/.*"))


def test_profiles_of_a_folder(tmp_path, capsys):
    assert_one_line_error(capsys, main(["profiles", str(tmp_path)]), str(tmp_path), "is a folder")


def test_aggregate_rejects(data, tmp_path, capsys):
    out = str(tmp_path / "r.nc")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "noskip.json").write_text(json.dumps({"charges": [0]}))
    for plan, needle in (("bad.json", "invalid JSON"), ("missing.json", "no such plan file"), ("noskip.json", "no 'skipped'")):
        assert_one_line_error(capsys, main(["aggregate", str(data / "profiles.nc"), "--plan", str(tmp_path / plan), "-o", out]), plan, needle)
    (tmp_path / "x.nc").write_text("text")
    assert_one_line_error(capsys, main(["aggregate", str(tmp_path / "x.nc"), "-o", out]), "x.nc", "not a readable NetCDF")
    assert not (tmp_path / "r.nc").exists()


def test_aggregate_rejects_wrong_units(data, tmp_path, capsys):
    ds = run_coords(profiles_ds(), "dp", "mixed", 0, 0.0, 0)
    ds["rho_O"] = ds.rho_O * 1000
    ds.rho_O.attrs["units"] = "kg m-3"
    ds.attrs.update(edlbench_kind="profiles", edlbench_version="0", git_commit="x", created="now")
    for name in ds.variables:
        if name not in ("rho_O", "status"):
            ds[name].attrs.setdefault("units", "1")
    ds.to_netcdf(tmp_path / "kg.nc")
    assert_one_line_error(capsys, main(["aggregate", str(tmp_path / "kg.nc"), "-o", str(tmp_path / "r.nc")]),
                          "kg.nc", "'rho_O' is in 'kg m-3'", "g cm-3")


def test_cli_flags_checked_by_argparse(data, tmp_path, capsys):
    assert_one_line_error(capsys, main(["report", str(data / "results.nc"), "--tolerance", "-1"]), "--tolerance")
    assert_one_line_error(capsys, main(["md", str(data / "structure.extxyz"), "--backend", "dp", "--model", str(data / "model"),
                                        "--device", "gpu"]), "--device")
    assert_one_line_error(capsys, main(["uncertainty", str(data / "traj.nc"), "--backend", "dp", "--models", "a", "b",
                                        "--stride", "0"]), "--stride")
    assert_one_line_error(capsys, main(["uncertainty", str(data / "traj.nc"), "--backend", "dp", "--models", str(data / "model")]),
                          "--models", "two or more")
    assert_one_line_error(capsys, main(["uncertainty", str(data / "traj.nc"), "--backend", "dp", "--models", str(data / "model"),
                                        "--gamma"]), "--gamma", "no per-atom uncertainty")
    assert_one_line_error(capsys, main(["nosuchcommand"]), "nosuchcommand")


def test_report_rejects_other_kinds(data, tmp_path, capsys):
    assert_one_line_error(capsys, main(["report", str(data / "profiles.nc"), "-o", str(tmp_path / "rep")]), "not an edlbench results file")
    assert not (tmp_path / "rep").exists() or not any((tmp_path / "rep").iterdir())


REFERENCE_ARGS = [
    (["--production", "0"], "reference.production=0"),
    (["--stride", "0"], "reference.stride=0"),
    (["--platform", "GPU"], "reference.platform='GPU'"),
    (["--timestep", "-1"], "reference.timestep=-1"),
    (["--temperature", "-5"], "reference.temperature=-5"),
    (["--equilibration", "-1"], "reference.equilibration=-1"),
]


@pytest.mark.parametrize("args, needle", REFERENCE_ARGS, ids=[" ".join(a) for a, _ in REFERENCE_ARGS])
def test_reference_md_rejects(data, tmp_path, capsys, args, needle):
    assert_one_line_error(capsys, main(["reference-md", str(data / "structure.extxyz"), "-o", str(tmp_path / "out"), *args]), needle)
    assert not (tmp_path / "out" / "trajectory.nc").exists()


def test_damaged_structures_and_frames(data, tmp_path, capsys):
    from ase.io import read

    atoms = read(data / "structure.extxyz")
    bad = atoms.copy()
    bad.positions[5] = np.nan
    write(tmp_path / "nan.extxyz", bad)
    assert_one_line_error(capsys, main(["reference-md", str(tmp_path / "nan.extxyz")]), "nan.extxyz", "non-finite positions")
    assert_one_line_error(capsys, main(["profiles", str(tmp_path / "nan.extxyz")]), "nan.extxyz", "frame 0 has non-finite")
    bad = atoms.copy()
    bad.pbc = False
    write(tmp_path / "open.extxyz", bad)
    assert_one_line_error(capsys, main(["reference-md", str(tmp_path / "open.extxyz")]), "open.extxyz", "not periodic")
    images = [atoms.copy() for _ in range(4)]
    images[0].info["REF_energy"], images[0].arrays["REF_forces"] = -400.0, np.ones((len(atoms), 3))
    write(tmp_path / "partial.extxyz", images)
    assert_one_line_error(capsys, main(["dataset", str(tmp_path / "partial.extxyz"), "-o", str(tmp_path / "ds")]),
                          "partial.extxyz", "frame 1 lacks the REF_energy/REF_forces")
    (tmp_path / "garbage.extxyz").write_bytes(bytes(range(256)) * 8)
    for cmd in ("profiles", "reference-md", "import"):
        assert_one_line_error(capsys, main([cmd, str(tmp_path / "garbage.extxyz")]), "garbage.extxyz", "cannot read")
    assert not (tmp_path / "ds").exists()


def test_reference_md_missing_structure(tmp_path, capsys):
    assert_one_line_error(capsys, main(["reference-md", str(tmp_path / "none.extxyz")]), "none.extxyz", "no such structure")


def test_ml_steps_without_their_package(data, tmp_path, capsys):
    """The core environment has no mace: md/evaluate say which environment, on one line."""
    pytest.importorskip("ase")
    try:
        import mace  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.fail("this test runs in the core environment, which must not hold mace")
    assert_one_line_error(capsys, main(["md", str(data / "structure.extxyz"), "--backend", "mace", "--model", str(data / "model"),
                                        "-o", str(tmp_path / "md")]), "'mace' environment")
    assert_one_line_error(capsys, main(["evaluate", str(data / "dft_ev.extxyz"), "--backend", "mace", "--model", str(data / "model"),
                                        "--train-set", "mixed", "-o", str(tmp_path / "e.nc")]), "'mace' environment")
    assert_one_line_error(capsys, main(["evaluate", str(data / "dft_ev.extxyz"), "--backend", "dp", "--model", str(data / "model"),
                                        "--train-set", "mixed", "--gamma", "-o", str(tmp_path / "e.nc")]), "'dp'", "no per-atom uncertainty")
    assert not (tmp_path / "e.nc").exists()
    assert_one_line_error(capsys, main(["md", str(data / "structure.extxyz"), "--backend", "nosuch", "--model", str(data / "model")]),
                          "--backend", "invalid choice: 'nosuch'", "mace")
    assert_one_line_error(capsys, main(["md", str(data / "structure.extxyz"), "--backend", "mace", "--model", str(tmp_path / "none")]),
                          "none", "no such model")
    assert_one_line_error(capsys, main(["md", str(data / "structure.extxyz"), "--backend", "mace", "--model", str(data / "model"),
                                        "--steps", "-5"]), "md.steps=-5")
    assert not (tmp_path / "md" / "trajectory.nc").exists() and not (tmp_path / "e.nc").exists()


def test_import_names_the_likely_unit(data, tmp_path, capsys):
    out = str(tmp_path / "imp")
    assert_one_line_error(capsys, main(["import", str(data / "dft_hartree.extxyz"), "-o", out]), "dft_hartree.extxyz", "frame 0", "hartree")
    assert_one_line_error(capsys, main(["import", str(data / "dft_kcal.extxyz"), "-o", out]), "dft_kcal.extxyz", "frame 0", "kcal/mol")
    assert_one_line_error(capsys, main(["import", str(tmp_path)]), "is a folder")
    assert_one_line_error(capsys, main(["import", str(data / "dft_ev.extxyz"), "--units", "furlongs"]), "--units")
    assert not (tmp_path / "imp").exists() or not any((tmp_path / "imp").iterdir())


def test_declared_units_convert(data, tmp_path, capsys):
    """--units hartree imports the Hartree data as the same eV labels as the eV file."""
    from ase.io import read

    assert main(["import", str(data / "dft_hartree.extxyz"), "--units", "hartree", "-o", str(tmp_path / "h")]) == 0
    assert main(["import", str(data / "dft_ev.extxyz"), "-o", str(tmp_path / "e")]) == 0
    h, e = read(tmp_path / "h/n1.extxyz", ":"), read(tmp_path / "e/n1.extxyz", ":")
    np.testing.assert_allclose([a.info["REF_energy"] for a in h], [a.info["REF_energy"] for a in e], rtol=1e-7)
    np.testing.assert_allclose(h[3].arrays["REF_forces"], e[3].arrays["REF_forces"], atol=1e-5)  # extxyz keeps 8 digits


def test_truncated_outcar_is_named(tmp_path, capsys):
    import ase

    outcar = Path(ase.__file__).parent / "test/testdata/vasp/OUTCAR_example_1"
    text = outcar.read_text()
    (tmp_path / "OUTCAR").write_text(text[: text.index("TOTAL-FORCE")])
    assert_one_line_error(capsys, main(["import", str(tmp_path / "OUTCAR")]), "OUTCAR", "truncated VASP OUTCAR", "ionic step 1")
    (tmp_path / "OUTCAR").write_text(text)  # complete (Ni only): rejected for its content, not as truncated
    assert_one_line_error(capsys, main(["import", str(tmp_path / "OUTCAR")]), "OUTCAR: frame 0")


def test_dataset_rejects_mixed_units(data, tmp_path, capsys):
    """Two charge states, one in eV and one in Hartree (both pass the per-frame check once declared
    eV): their per-atom energies cannot share a unit."""
    assert main(["import", str(data / "dft_ev.extxyz"), "-o", str(tmp_path / "a")]) == 0
    zero = build_interface(BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=2), 0)
    rng = np.random.default_rng(1)
    images = []
    for k in range(12):
        a = zero.copy()
        a.info.update(REF_energy=-4.0 * len(a) / Hartree)
        a.arrays["REF_forces"] = rng.normal(0, 1.2, (len(a), 3))
        images.append(a)
    write(tmp_path / "n0.extxyz", images)
    assert_one_line_error(capsys, main(["dataset", str(tmp_path / "a/n1.extxyz"), str(tmp_path / "n0.extxyz"), "-o", str(tmp_path / "ds")]),
                          "mixed units")
    assert not (tmp_path / "ds" / "manifest.json").exists()
    assert_one_line_error(capsys, main(["dataset", str(tmp_path / "a/n1.extxyz"), "--stride", "0"]), "dataset.stride=0")


def main(argv: list[str]) -> int:
    """`edlbench ARGV` in-process: its exit status (argparse's usage errors exit through SystemExit)."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code)


def assert_one_line_error(capsys, code: int, *needles: str) -> None:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
