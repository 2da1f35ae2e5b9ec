"""Faults: killed steps never leave output that looks finished, children die with their parent,
blown-up reference runs end "unstable" (exit 0), and outputs get the usual permissions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.io import write

from edlbench.aggregate import aggregate
from edlbench.build import BuildConfig, build_interface
from edlbench.cli import main
from edlbench.contract import run_coords
from edlbench.contract import write as write_contract
from edlbench.files import atomic_output
from edlbench.trajectory import read_frames
from synthetic import profiles_ds

CFG = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=2)


def edlbench(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "edlbench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 120.0) -> None:
    end = time.time() + timeout
    while not condition():
        assert time.time() < end, "timed out"
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def ended(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_reference_md_is_not_taken_for_finished(tmp_path, capsys, sig):
    write(tmp_path / "n0.extxyz", build_interface(CFG, 0))
    proc = edlbench("reference-md", str(tmp_path / "n0.extxyz"), "-o", str(tmp_path / "ref"), "--equilibration", "0",
                    "--production", "100", "--stride", "10", "--platform", "CPU")
    log = tmp_path / "ref" / "thermo.log"
    wait_for(lambda: log.exists() and len(log.read_text().splitlines()) > 3)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert main(["profiles", str(tmp_path / "ref" / "trajectory.nc"), "-o", str(tmp_path / "p.nc")]) == 2
    err = capsys.readouterr().err
    assert "incomplete trajectory" in err or "not a readable NetCDF" in err, err
    assert not (tmp_path / "p.nc").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_build_leaves_no_file_and_no_packmol(tmp_path, sig):
    out = tmp_path / "out"
    proc = edlbench("build", "-o", str(out), "--repeats", "10", "10", "--gap", "40", "--n-ions", "0")
    packmol: list[int] = []
    wait_for(lambda: packmol.extend(children(proc.pid)) or packmol)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    wait_for(lambda: all(ended(p) for p in packmol), timeout=10)
    assert not [p.name for p in out.iterdir()] if out.exists() else True


def test_reference_that_blows_up_ends_unstable(tmp_path, capsys):
    """An ion 0.3 Å from a gold atom: the run stops as unstable with its step, and exit 0."""
    atoms = build_interface(CFG, 1)
    gold = int(np.flatnonzero(atoms.symbols == "Au")[np.argmax(atoms.positions[atoms.symbols == "Au", 2])])
    atoms.positions[atoms.symbols == "Na"] = atoms.positions[gold] + [0.3, 0.0, 0.0]
    write(tmp_path / "bad.extxyz", atoms)
    assert main(["reference-md", str(tmp_path / "bad.extxyz"), "-o", str(tmp_path / "ref"), "--equilibration", "0.5",
                 "--production", "0.5", "--platform", "CPU", "--params", str(_no_minimize(tmp_path))]) == 0
    assert "unstable at step" in capsys.readouterr().out
    info = read_frames(tmp_path / "ref" / "trajectory.nc", stop=0, allow_empty=True).info
    assert info["status"] == "unstable" and info["status_step"] >= 0 and info["reason"]


def _no_minimize(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text("reference:\n  minimize: false\n")
    return path


def test_outputs_have_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_report_without_test_errors_is_complete(tmp_path):
    files = [write_contract(run_coords(profiles_ds(k), m, t, 0, 0.0, 0), tmp_path / f"{m}.nc", "profiles")
             for k, (m, t) in enumerate([("reference", "none"), ("dp", "mixed")])]
    write_contract(aggregate(files), tmp_path / "results.nc", "results")
    assert main(["report", str(tmp_path / "results.nc"), "-o", str(tmp_path / "report")]) == 0
    names = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"report.html", "report.md", "profiles_dp.png", "cos_theta_layer1_vs_sigma.png"} <= names
    assert not [n for n in names if n.startswith(".")]
    assert "No test errors" in (tmp_path / "report" / "report.md").read_text()
