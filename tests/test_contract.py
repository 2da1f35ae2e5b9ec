"""NetCDF data contract: round trip, units, rejection of malformed files, aggregation."""

import netCDF4
import numpy as np
import pytest
import xarray as xr

from edlbench.aggregate import aggregate
from edlbench.contract import PROFILE_VARS, STATUS, load, run_coords, write
from edlbench.errors import InputError
from edlbench.profiles import UNCERTAINTY, empty_profiles
from edlbench.trajectory import Frames
from synthetic import errors_ds, profiles_ds

def test_round_trip_units_and_provenance(tmp_path):
    ds = run_coords(profiles_ds(), "mace", "mixed", 2, -49.4, 3)
    path = write(ds, tmp_path / "p.nc", "profiles", params={"x": 1}, seed=3)
    back = xr.open_dataset(path)
    np.testing.assert_allclose(back.rho_O, ds.rho_O)
    for name, (units, _) in PROFILE_VARS.items():
        if name in back and name != "status":
            assert back[name].attrs["units"] == units, name
    assert back.status.attrs["flag_meanings"].split()[1] == "ok"
    assert str(back.model.values) == "mace" and int(back.n_ion) == 2 and int(back.seed) == 3
    for attr in ("edlbench_version", "package_versions", "params", "git_commit", "lock_hash", "created"):
        assert attr in back.attrs
    assert not list(tmp_path.glob(".p.nc*"))  # no temporary left behind


def test_malformed_files_rejected(tmp_path):
    ds = run_coords(profiles_ds(), "mace", "mixed", 2, -49.4, 3)
    path = write(ds, tmp_path / "p.nc", "profiles")
    broken = xr.open_dataset(path).load().drop_vars("cos_theta")
    broken.to_netcdf(tmp_path / "broken.nc")
    with pytest.raises(InputError, match="broken.nc: missing variable 'cos_theta'"):
        load(tmp_path / "broken.nc", "profiles")
    (tmp_path / "text.nc").write_text("not netcdf")
    with pytest.raises(InputError, match="text.nc: not a readable NetCDF"):
        load(tmp_path / "text.nc", "profiles")
    with netCDF4.Dataset(tmp_path / "other.nc", "w") as nc:
        nc.title = "someone else's file"
    with pytest.raises(InputError, match="not an edlbench profiles file"):
        load(tmp_path / "other.nc", "profiles")
    with pytest.raises(InputError, match="missing variable"):
        write(ds.drop_vars("rho_O"), tmp_path / "never.nc", "profiles")
    assert not (tmp_path / "never.nc").exists()


def test_aggregate_three_runs_and_errors(tmp_path):
    files = [
        write(run_coords(profiles_ds(0), "reference", "none", 0, 0.0, 0), tmp_path / "a.nc", "profiles"),
        write(run_coords(profiles_ds(1), "dp", "mixed", 0, 0.0, 0), tmp_path / "b.nc", "profiles"),
        write(run_coords(profiles_ds(2), "dp", "n2", 2, -49.4, 0), tmp_path / "c.nc", "profiles"),
    ]
    files += [write(errors_ds("dp", "mixed", s), tmp_path / f"e{s}.nc", "errors") for s in (0, 1)]
    res = aggregate(files)
    write(res, tmp_path / "results.nc", "results")
    out = xr.open_dataset(tmp_path / "results.nc")
    assert out.rho_O.dims == ("model", "train_set", "n_ion", "z")
    assert list(out.model.values) == ["dp", "reference"]
    assert list(out.train_set.values) == ["mixed", "n2"]
    assert list(out.n_ion.values) == [0, 2]
    assert list(out.sigma.values) == [0.0, -49.4]
    # the reference is broadcast to every train set, missing runs are NaN / status missing
    np.testing.assert_allclose(out.rho_O.sel(model="reference", train_set="n2", n_ion=0), out.rho_O.sel(model="reference", train_set="mixed", n_ion=0))
    assert np.isnan(out.rho_O.sel(model="dp", train_set="mixed", n_ion=2)).all()
    assert int(out.status.sel(model="dp", train_set="mixed", n_ion=2)) == -1
    assert out.rmse_force.dims == ("model", "train_set", "seed", "n_ion")
    np.testing.assert_allclose(out.rmse_force.sel(model="dp", train_set="mixed").values, [[1, 1], [2, 2]])
    with pytest.raises(InputError, match="duplicate run"):
        aggregate(files + [files[1]])


def test_aggregate_keeps_a_run_without_frames_beside_runs_with_frames(tmp_path):
    """A run that stopped before its first frame (empty_profiles) joins the others: same variables,
    all NaN, status unstable; the other runs' values are untouched by the outer join."""
    empty = empty_profiles(Frames(tmp_path / "t.nc", ["Au", "O", "H", "H", "Na"], np.empty((0, 5, 3)), np.empty((0, 3, 3)), None, {"ion": "Na"}))
    uncertainty = {x for name in UNCERTAINTY for x in (name, f"{name}_sem")}  # set by profiles_file from the trajectory
    run_info = {"status", "status_step", "md_seconds_per_ps", "md_cpus"}  # the run's own record, also set by profiles_file
    assert set(empty.data_vars) == set(profiles_ds(1).data_vars) - run_info - uncertainty
    ok = run_coords(profiles_ds(1), "dp", "mixed", 0, 0.0, 0)
    empty = run_coords(empty, "dp", "mixed", 2, -49.4, 0)
    empty["status"], empty["status_step"] = ((), np.int8(STATUS["unstable"])), ((), 20)
    for name in uncertainty:
        empty[name] = ((), np.nan)
    files = [write(ok, tmp_path / "a.nc", "profiles"), write(empty, tmp_path / "b.nc", "profiles")]
    out = aggregate(files)
    np.testing.assert_allclose(out.dipole_acf.sel(model="dp", train_set="mixed", n_ion=0, lag=ok.lag), ok.dipole_acf)
    assert np.isnan(out.rho_O.sel(model="dp", train_set="mixed", n_ion=2)).all()
    assert int(out.status.sel(model="dp", train_set="mixed", n_ion=2)) == STATUS["unstable"]


def test_replicas_are_kept_and_combined(tmp_path):
    """Two replicas of the reference and of dp: every run in the group "replicas", the root their
    mean with the larger of the replica scatter/√K and the within-run error (dof K − 1 or inf); an
    unstable replica enters no mean, marks its cell unstable and counts in the unstable fraction."""
    runs = {(m, r): run_coords(profiles_ds(10 * k + r), m, t, 0, 0.0, 0, r)
            for k, (m, t) in enumerate([("reference", "none"), ("dp", "mixed")]) for r in (0, 1)}
    runs[("dp", 2)] = run_coords(profiles_ds(99), "dp", "mixed", 0, 0.0, 0, 2).assign(status=((), np.int8(STATUS["unstable"])))
    for r in (0, 1):  # closest approaches set by hand: the combined one is the closest of a finished replica
        runs[("dp", r)]["ion_closest_approach"] = ((), 3.0 - r)
    files = [write(ds, tmp_path / f"{m}-{r}.nc", "profiles") for (m, r), ds in runs.items()]
    path = write(aggregate(files), tmp_path / "results.nc", "results")
    root, group = xr.open_dataset(path), xr.open_dataset(path, group="replicas")
    assert group.rho_O.dims == ("model", "train_set", "n_ion", "replica", "z") and list(group.replica.values) == [0, 1, 2]
    assert root.rho_O.dims == ("model", "train_set", "n_ion", "z") and list(group.model.values) == ["dp", "reference"]
    assert list(group.sigma.values) == [0.0]
    cell = dict(model="dp", train_set="mixed", n_ion=0)
    means = np.array([float(runs[("dp", r)].cos_theta_layer1) for r in (0, 1)])
    sems = np.array([float(runs[("dp", r)].cos_theta_layer1_sem) for r in (0, 1)])
    between, within = np.std(means, ddof=1) / np.sqrt(2), np.sqrt(np.sum(sems**2)) / 2
    assert float(root.cos_theta_layer1.sel(**cell)) == pytest.approx(means.mean())
    assert float(root.cos_theta_layer1_sem.sel(**cell)) == pytest.approx(max(between, within))
    assert float(root.cos_theta_layer1_dof.sel(**cell)) == (1.0 if between > within else np.inf)
    np.testing.assert_allclose(root.rho_O.sel(**cell), (runs[("dp", 0)].rho_O + runs[("dp", 1)].rho_O) / 2)
    assert int(root.status.sel(**cell)) == STATUS["unstable"] and int(root.n_replicas.sel(**cell)) == 2
    assert int(root.n_replicas_unstable.sel(**cell)) == 1
    assert float(root.unstable_fraction.sel(model="dp", train_set="mixed")) == pytest.approx(1 / 3)
    assert int(root.n_frames.sel(**cell)) == sum(int(runs[("dp", r)].n_frames) for r in (0, 1))
    assert float(root.ion_closest_approach.sel(**cell)) == 2.0
    dev = root.cos_theta_layer1_dev.sel(**cell)
    assert float(dev) == pytest.approx(means.mean() - float(root.cos_theta_layer1.sel(model="reference", train_set="mixed", n_ion=0)))
    assert float(root.cos_theta_layer1_dev_dof.sel(**cell)) == min(float(root.cos_theta_layer1_dof.sel(**cell)),
                                                                   float(root.cos_theta_layer1_dof.sel(model="reference", train_set="mixed", n_ion=0)))
