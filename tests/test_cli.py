"""Bad input gets a one-line error naming the file/frame/parameter, no traceback."""

import subprocess
import sys

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from synthetic import columns, frames

UP = np.array([0.0, 0.0, 1.0])


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "edlbench", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def write_frames(path, f):
    images = [Atoms(f.symbols, positions=p, cell=c, pbc=True) for p, c in zip(f.positions, f.cells)]
    write(path, images)


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_file(tmp_path):
    assert_one_line_error(run("profiles", tmp_path / "nope.extxyz"), "nope.extxyz", "no such")


def test_no_metal(tmp_path):
    f = frames(columns(2, np.full((2, 16), 5.0)), np.broadcast_to(UP, (2, 16, 3)))
    keep = [i for i, s in enumerate(f.symbols) if s != "Au"]
    f.symbols, f.positions = [f.symbols[i] for i in keep], f.positions[:, keep]
    write_frames(tmp_path / "t.extxyz", f)
    assert_one_line_error(run("profiles", tmp_path / "t.extxyz"), "t.extxyz", "no metal")


def test_broken_water(tmp_path):
    f = frames(columns(2, np.full((2, 16), 5.0)), np.broadcast_to(UP, (2, 16, 3)))
    f.positions[1, 40] += [0.0, 0.0, 2.0]
    write_frames(tmp_path / "t.extxyz", f)
    assert_one_line_error(run("profiles", tmp_path / "t.extxyz"), "t.extxyz", "frame 1", "intact water")


def test_non_periodic_cell(tmp_path):
    f = frames(columns(1, np.full((1, 16), 5.0)), np.broadcast_to(UP, (1, 16, 3)))
    write(tmp_path / "t.xyz", Atoms(f.symbols, positions=f.positions[0]))
    assert_one_line_error(run("profiles", tmp_path / "t.xyz"), "t.xyz", "frame 0")


def test_unknown_params_key(tmp_path):
    (tmp_path / "p.yaml").write_text("build:\n  gapp: 3\n")
    assert_one_line_error(run("build", "--params", tmp_path / "p.yaml"), "p.yaml", "build.gapp")


@pytest.mark.parametrize("cmd", ["build", "profiles", "aggregate"])
def test_help(cmd):
    proc = run(cmd, "--help")
    assert proc.returncode == 0 and "usage" in proc.stdout


def test_unreadable_structure(tmp_path):
    (tmp_path / "s.extxyz").write_text("3\nnot a header\nAu 0 0\n")
    assert_one_line_error(run("reference-md", tmp_path / "s.extxyz", "-o", tmp_path), "s.extxyz", "cannot read structure")


def test_threads_reach_the_packages_and_every_process_passes_its_cpus(monkeypatch, tmp_path):
    """`edlbench --threads N` limits every thread pool (OpenMM's CPU platform read in a fresh
    process as the packages' commands are), and each Nextflow process passes its task.cpus."""
    from pathlib import Path

    from edlbench.cli import main
    from edlbench.threads import VARIABLES

    root = Path(__file__).resolve().parents[1]
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert main(["--threads", "1", "plan", "--params", str(root / "params/test.yaml"), "-o", str(tmp_path / "plan.json")]) == 0
    probe = "import openmm; print(openmm.Platform.getPlatformByName('CPU').getPropertyDefaultValue('Threads'))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "1"
    calls = [line for nf in (root / "modules").glob("*.nf") for line in nf.read_text().splitlines() if line.strip().startswith("edlbench ")]
    assert calls and all(line.strip().startswith("edlbench --threads ${task.cpus} ") for line in calls), calls
    assert_one_line_error(run("--threads", "0", "plan"), "--threads")
