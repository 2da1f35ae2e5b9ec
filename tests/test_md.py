"""The shared MD driver, run with the oracle's ASE calculator."""

import json
import time

import netCDF4
import numpy as np
import pytest
import xarray as xr

from edlbench.build import BuildConfig, build_interface
from edlbench.contract import STATUS
from edlbench.errors import InputError
from edlbench.md import MDConfig, run_md
from edlbench.profiles import ProfileConfig, profiles_file
from edlbench.reference.oracle import OracleCalculator, ReferenceConfig, run_reference_md
from edlbench.trajectory import read_frames
from edlbench.uncertainty import committee_spread, gamma_series, write_series

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


def test_run_keeps_its_cost(equilibrated, tmp_path, monkeypatch):
    """A run keeps its wall-clock seconds per ps (timed over its steps: at most the whole call's
    time) and CPU threads, and profiles.nc carries both on (the report's projected costs)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    started = time.perf_counter()
    info = run_md(equilibrated, OracleCalculator(), MDConfig(steps=100, stride=20), tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False)
    wall = time.perf_counter() - started
    assert 0 < info["seconds_per_ps"] * 100 * 0.5e-3 <= wall and info["cpus"] == 3
    ds = xr.open_dataset(profiles_file(tmp_path / "md.nc", tmp_path / "p.nc", ProfileConfig(), "oracle", "mixed", 0))
    assert ds.md_seconds_per_ps.item() == pytest.approx(info["seconds_per_ps"]) and ds.md_cpus.item() == 3


def test_mdanalysis_reads_our_trajectory(equilibrated, tmp_path):
    """A second, independent reader (MDAnalysis' AMBER NetCDF reader, which accepts only the
    convention's 64-bit-offset NetCDF3) gives the same positions, cells and times as ours."""
    import MDAnalysis as mda

    run_md(equilibrated, OracleCalculator(), MDConfig(steps=60, stride=20), tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False)
    ours = read_frames(tmp_path / "md.nc")
    with netCDF4.Dataset(tmp_path / "md.nc") as nc:
        assert nc.data_model == "NETCDF3_64BIT_OFFSET" and nc.Conventions == "AMBER"
    u = mda.Universe(tmp_path / "md.nc", format="NCDF", topology_format="MINIMAL", n_atoms=len(equilibrated))
    assert len(u.trajectory) == len(ours) == 3
    for f, ts in enumerate(u.trajectory):
        np.testing.assert_allclose(ts.positions, ours.positions[f], atol=1e-5)  # both float32 on disk
        np.testing.assert_allclose(ts.triclinic_dimensions, ours.cells[f], atol=1e-6)
        assert ts.time == pytest.approx(ours.times[f])


def test_broken_start_is_unstable_not_an_exception(equilibrated, tmp_path):
    atoms = equilibrated.copy()
    o = np.flatnonzero(atoms.symbols == "O")
    atoms.positions[o[1]] = atoms.positions[o[0]] + [0.3, 0.0, 0.0]
    info = run_md(atoms, OracleCalculator(), MDConfig(steps=200), tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False)
    assert info["status"] == "unstable" and info["status_step"] == 0
    assert "0.30 Å apart" in info["reason"]
    with netCDF4.Dataset(tmp_path / "md.nc") as nc:  # the trajectory records why it stopped
        assert json.loads(nc.edlbench_info)["status"] == "unstable"


def test_run_unstable_before_its_first_frame_gives_nan_profiles(equilibrated, tmp_path):
    """PROFILES of a run with no frames records it (status unstable, all NaN, σ of its cell) with
    the same variables as a run with frames, instead of stopping the pipeline."""
    ok, broken = tmp_path / "ok.nc", tmp_path / "broken.nc"
    run_md(equilibrated, OracleCalculator(), MDConfig(steps=20, stride=10), ok, tmp_path / "ok.log", {}, progress=False)
    atoms = equilibrated.copy()
    o = np.flatnonzero(atoms.symbols == "O")
    atoms.positions[o[1]] = atoms.positions[o[0]] + [0.3, 0.0, 0.0]
    run_md(atoms, OracleCalculator(), MDConfig(steps=20, stride=10), broken, tmp_path / "b.log", {}, progress=False)
    index, spread = committee_spread(broken, [OracleCalculator(), OracleCalculator()])  # the pipeline's UNCERTAINTY step
    assert len(index) == 0
    write_series(broken, tmp_path / "spread.nc", index, spread, {})
    done = [xr.open_dataset(profiles_file(t, tmp_path / f"p{t.name}", ProfileConfig(), "oracle", "mixed", 0)) for t in (ok, tmp_path / "spread.nc")]
    assert set(done[0].data_vars) == set(done[1].data_vars)
    assert done[1].status.item() == STATUS["unstable"] and done[1].n_frames.item() == 0
    assert np.isnan(done[1].rho_O).all() and np.isnan(done[1].cos_theta_layer1.item())
    area = np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1]))
    assert done[1].sigma.item() == pytest.approx(-2 * 1.602176634e-19 / (area * 1e-16) * 1e6, rel=1e-6)  # ASE e: CODATA 2014
    assert done[1].sigma.item() == pytest.approx(done[0].sigma.item(), rel=1e-9)


def test_broken_water_is_unstable(equilibrated, tmp_path):
    """An H that hopped to another water (a model's proton transfer) stops the run: the analysis
    needs intact waters, and the non-reactive reference has no such event."""
    atoms = equilibrated.copy()
    o = np.flatnonzero(atoms.symbols == "O")
    h = np.flatnonzero(atoms.symbols == "H")
    own = h[np.argsort(np.linalg.norm(atoms.get_distances(o[1], h, mic=True, vector=True), axis=1))[:2]]
    away = atoms.positions[o[1]] - atoms.positions[own].mean(axis=0)  # the lone-pair side of water 1
    hop = next(i for i in h if i not in own)  # an H of another water
    atoms.positions[hop] = atoms.positions[o[1]] + away / np.linalg.norm(away)  # 1 Å from O 1
    info = run_md(atoms, OracleCalculator(), MDConfig(steps=100), tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False)
    assert info["status"] == "unstable" and info["status_step"] == 0, info
    assert "not an intact water" in info["reason"], info


class KilledAt(OracleCalculator):
    """The oracle, interrupted at its `n`-th evaluation as the CLI turns a scheduler's SIGTERM into KeyboardInterrupt."""

    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def calculate(self, *args, **kwargs):
        self.left -= 1
        if self.left < 0:
            raise KeyboardInterrupt
        super().calculate(*args, **kwargs)


@pytest.mark.parametrize("thermostat", ["langevin", "nose-hoover"])
def test_killed_run_continues_from_its_restart_point_as_if_never_stopped(equilibrated, tmp_path, thermostat):
    """Killed at step ≈ 130 of 200 (restart points every 50 steps), run again: it continues at step
    100 and every frame, energy and log line equals an uninterrupted run's with the same seed —
    positions, momenta, the Langevin noise's generator and the Nosé–Hoover chain restored."""
    from edlbench import restart

    cfg = MDConfig(steps=200, stride=10, restart_interval=50, thermostat=thermostat, seed=3)
    run_md(equilibrated, OracleCalculator(), cfg, tmp_path / "ref.nc", tmp_path / "ref.log", {}, progress=False)
    point = tmp_path / "restart.npz"
    with pytest.raises(KeyboardInterrupt):
        run_md(equilibrated, KilledAt(130), cfg, tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False, restart_file=point, key="run")
    assert restart.load(point, "run")["step"] == 100 and restart.load(point, "another run") is None
    with pytest.raises(InputError, match="incomplete"):
        read_frames(tmp_path / "md.nc")
    info = run_md(equilibrated, OracleCalculator(), cfg, tmp_path / "md.nc", tmp_path / "md.log", {}, progress=False, restart_file=point, key="run")
    assert info["status"] == "ok" and info["restarted_at_step"] == 100 and not point.exists()
    ref, got = read_frames(tmp_path / "ref.nc"), read_frames(tmp_path / "md.nc")
    assert len(got) == len(ref) == 20
    np.testing.assert_allclose(got.times, ref.times)
    np.testing.assert_allclose(got.positions, ref.positions, atol=1e-5)  # float32 storage of identical float64 runs
    with netCDF4.Dataset(tmp_path / "ref.nc") as a, netCDF4.Dataset(tmp_path / "md.nc") as b:
        np.testing.assert_allclose(b["potential_energy"][:], a["potential_energy"][:], rtol=0, atol=1e-9)
    assert (tmp_path / "md.log").read_text() == (tmp_path / "ref.log").read_text()


def test_gamma_series_reach_the_trajectory_and_the_profiles(equilibrated, tmp_path):
    """A per-atom γ (here a made-up one: height / 5 Å, so atoms above 5 Å count as beyond the fence)
    becomes per-frame max, mean, fraction above 1 and per-element series in the run's NetCDF, NaN on
    frames not evaluated, and its frame means the profiles.nc scalars."""
    traj = tmp_path / "md.nc"
    run_md(equilibrated, OracleCalculator(), MDConfig(steps=60, stride=10), traj, tmp_path / "md.log", {}, progress=False)
    index, series = gamma_series(traj, lambda atoms: atoms.positions[:, 2] / 5.0, "test γ", stride=2)
    write_series(traj, tmp_path / "g.nc", index, series, {"gamma_kind": "test γ"})
    frames = read_frames(traj)
    z = frames.positions[:, :, 2] / 5.0
    na = np.array(frames.symbols) == "Na"
    with netCDF4.Dataset(tmp_path / "g.nc") as nc:
        stored = {name: nc.variables[name][:].filled(np.nan) for name in ("gamma_max", "gamma_mean", "gamma_above_1", "gamma_max_Na", "gamma_mean_O")}
        assert nc.gamma_kind == "test γ" and nc.variables["gamma_max"].units == "1"
    np.testing.assert_allclose(stored["gamma_max"][index], z[index].max(axis=1))
    np.testing.assert_allclose(stored["gamma_above_1"][index], (z[index] > 1).mean(axis=1))
    np.testing.assert_allclose(stored["gamma_max_Na"][index], z[index][:, na].max(axis=1))
    assert np.isnan(np.delete(stored["gamma_mean_O"], index)).all() and np.isfinite(stored["gamma_mean_O"][index]).all()
    ds = xr.open_dataset(profiles_file(tmp_path / "g.nc", tmp_path / "p.nc", ProfileConfig(), "oracle", "mixed", 0))
    assert ds.gamma_max.item() == pytest.approx(z[index].max(axis=1).mean())
    assert ds.gamma_above_1.item() == pytest.approx((z[index] > 1).mean()) and np.isnan(ds.committee_spread.item())
