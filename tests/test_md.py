"""The shared MD driver, run with the oracle's ASE calculator."""

import json

import netCDF4
import numpy as np
import pytest

from edlbench.build import BuildConfig, build_interface
from edlbench.md import MDConfig, run_md
from edlbench.reference.oracle import OracleCalculator, ReferenceConfig, run_reference_md
from edlbench.trajectory import read_frames

CFG = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=4)


@pytest.fixture(scope="module")
def equilibrated(tmp_path_factory):
    out = tmp_path_factory.mktemp("eq")
    run_reference_md(build_interface(CFG, 2), ReferenceConfig(equilibration=0.5, production=0.1, stride=200), out / "t.nc", out / "t.log", 1, progress=False)
    f = read_frames(out / "t.nc", start=-1)
    atoms = build_interface(CFG, 2)
    atoms.positions = f.positions[0]
    return atoms


@pytest.mark.parametrize("thermostat", ["langevin", "nose-hoover"])
def test_200_steps_are_stable_and_written(equilibrated, tmp_path, thermostat):
    cfg = MDConfig(steps=200, stride=20, thermostat=thermostat)
    info = run_md(equilibrated, OracleCalculator(), cfg, tmp_path / "md.nc", tmp_path / "md.log", {"model": "oracle"}, progress=False)
    assert info["status"] == "ok", info
    frames = read_frames(tmp_path / "md.nc")
    assert len(frames) == 10 and frames.info["status"] == "ok"
    np.testing.assert_allclose(frames.times, np.arange(1, 11) * 20 * 0.5e-3)
    temps = np.loadtxt(tmp_path / "md.log")[:, 2]
    assert np.all((temps > 100) & (temps < 600))


def test_broken_start_is_unstable_not_an_exception(equilibrated, tmp_path):
    atoms = equilibrated.copy()
    o = np.flatnonzero(atoms.symbols == "O")
    atoms.positions[o[1]] = atoms.positions[o[0]] + [0.3, 0.0, 0.0]
    info = run_md(atoms, OracleCalculator(), MDConfig(steps=200), tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False)
    assert info["status"] == "unstable" and info["status_step"] == 0
    assert "0.30 Å apart" in info["reason"]
    with netCDF4.Dataset(tmp_path / "md.nc") as nc:  # the trajectory records why it stopped
        assert json.loads(nc.edlbench_info)["status"] == "unstable"
