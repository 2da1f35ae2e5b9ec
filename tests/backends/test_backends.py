"""Every backend of the environment under test: real training with the package's own entry
point, its ASE calculator, evaluation, MD and committee spread."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.io import read

from edlbench import backends
from edlbench.backends import merge
from edlbench.backends.deepmd import CHECKPOINT
from edlbench.config import load_params
from edlbench.evaluate import error_metrics, evaluate
from edlbench.md import MDConfig, run_md
from edlbench.trajectory import read_frames
from edlbench.uncertainty import committee_spread, write_series


#: k_B T per atom at 300 K, meV: an energy error above it makes the model's Boltzmann weights meaningless
KT_300K = 25.85


@pytest.mark.accuracy
def test_trained_force_error_well_below_force_spread(backend, trained, oracle_data):
    """Forces: RMSE below half the reference force spread. Energies: the model's total energy, its
    per-element reference energies included, within k_B T per atom of the reference (a model that
    leaves its fitted E0s out misses by ~500 meV/atom)."""
    test = oracle_data / "datasets/test/n2.extxyz"
    ds = evaluate(backends.get(backend).calculator(trained[0]), [test], backend, "n2", 0)
    spread = 1e3 * np.concatenate([a.arrays["REF_forces"] for a in read(test, ":")]).std()  # meV/Å
    rmse, rmse_e = ds.rmse_force.sel(n_ion=2).item(), ds.rmse_energy.sel(n_ion=2).item()
    print(f"{backend} test force RMSE {rmse:.1f} meV/Å, reference force spread {spread:.1f} meV/Å; energy RMSE {rmse_e:.1f} meV/atom")
    assert rmse < 0.5 * spread, (rmse, spread)
    assert rmse_e < KT_300K, rmse_e


def test_forces_are_minus_gradient(backend, trained, oracle_data):
    """Central differences with h = 1e-4 Å need float64 energies (float32 rounding of a ~10³ eV
    total energy alone is ~10⁻⁴ eV): castable backends are cast, the others run float64 models."""
    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    atoms.calc = backends.calculator(backend, trained[0], "cpu", "float64")
    forces = atoms.get_forces()
    h = 1e-4
    for i in (0, 40, len(atoms) - 1):
        for c in range(3):
            p, m = atoms.copy(), atoms.copy()
            p.positions[i, c] += h
            m.positions[i, c] -= h
            p.calc = m.calc = atoms.calc
            fd = -(p.get_potential_energy() - m.get_potential_energy()) / (2 * h)
            assert abs(fd - forces[i, c]) < 1e-4


def test_evaluate_matches_numpy(backend, trained, oracle_data):
    calc = backends.get(backend).calculator(trained[0])
    path = oracle_data / "datasets/test/n0.extxyz"
    images = read(path, ":")
    e_p = np.array([calc.get_potential_energy(a) / len(a) for a in images])
    f_p = np.concatenate([calc.get_forces(a) for a in images])
    e_r = np.array([a.info["REF_energy"] / len(a) for a in images])
    f_r = np.concatenate([a.arrays["REF_forces"] for a in images])
    ds = evaluate(calc, [path], backend, "n2", 0)
    rel = 1e-6  # a float32 model's repeated evaluation differs in the last bits (threaded reductions)
    assert ds.rmse_force.item() == pytest.approx(1e3 * np.sqrt(np.mean((f_p - f_r) ** 2)), rel=rel)
    assert ds.mae_energy.item() == pytest.approx(1e3 * np.mean(np.abs(e_p - e_r)), rel=rel)
    assert error_metrics(e_p, e_r, f_p, f_r)["rmse_energy"] == pytest.approx(ds.rmse_energy.item(), rel=rel)


@pytest.fixture(scope="session")
def md_run(backend, trained, oracle_data, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"md-{backend}")
    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    info = run_md(atoms, backends.get(backend).calculator(trained[0]), MDConfig(steps=200, stride=20), out / "t.nc", out / "t.log", {}, progress=False)
    return info, out / "t.nc"


@pytest.mark.accuracy
def test_md_200_steps(md_run):
    info, traj = md_run
    assert info["status"] == "ok", f"{info['status']} at step {info.get('status_step')}: {info.get('reason')}"
    assert len(read_frames(traj)) == 10


def test_md_broken_start_is_unstable(backend, trained, oracle_data, tmp_path):
    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    o = next(i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "O")
    atoms.positions[o + 1] = atoms.positions[o] + [0.3, 0.0, 0.0]
    info = run_md(atoms, backends.get(backend).calculator(trained[0]), MDConfig(steps=50, stride=10), tmp_path / "t.nc", tmp_path / "t.log", {}, progress=False)
    assert info["status"] == "unstable" and info["status_step"] == 0, info


@pytest.mark.accuracy
def test_committee_spread_zero_for_identical_models_positive_for_seeds(backend, trained, md_run, tmp_path):
    traj = md_run[1]
    module = backends.get(backend)
    same = committee_spread(traj, [module.calculator(trained[0]), module.calculator(trained[0])], stride=5)[1]["force_deviation_max"][0]
    index, spread = committee_spread(traj, [module.calculator(m) for m in trained], stride=5)
    dev_max, dev_mean = spread["force_deviation_max"][0], spread["force_deviation_mean"][0]
    assert np.all(same < 1e-5), same  # float32 models: rounding of O(1 eV/Å) forces; float64: ~1e-15
    assert np.all(dev_max > 0.01) and np.all(dev_max >= dev_mean), (dev_max, dev_mean)
    out = tmp_path / "u.nc"
    write_series(traj, out, index, spread, {})
    import netCDF4

    with netCDF4.Dataset(out) as nc:
        stored = nc.variables["force_deviation_max"][:].filled(np.nan)
    assert np.allclose(stored[index], dev_max) and np.isnan(np.delete(stored, index)).all()


def test_trained_precision_float32_model_unless_cast(backend, trained, oracle_data):
    """MD runs each model in the precision it was trained in: seed 1 is float32-trained, so its
    default calculator differs from a float64 cast by float32 rounding — not zero, and below
    1 meV/Å (two orders under any force error here)."""
    images = read(oracle_data / "datasets/test/n2.extxyz", ":5")
    forces = [np.concatenate([backends.calculator(backend, trained[1], "cpu", p).get_forces(a) for a in images])
              for p in ("trained", "float64")]
    delta = np.abs(forces[0] - forces[1]).max()
    print(f"{backend}: float32-trained model, as trained vs float64: max |ΔF| {delta:.2e} eV/Å")
    assert 0 < delta < 1e-3


def test_compressed_model_matches_frozen(backend, trained, oracle_data):
    """MD runs deepmd's compressed model (`dp --pt compress`: embedding nets as fifth-order
    polynomials, step 0.01, so the error scales as 0.01⁶); its energies and forces match the frozen
    model's within 1e-6 eV/Å — 10⁵ below any force error here — and it is a different file."""
    compressed = trained[0]
    frozen = compressed.with_name(compressed.name.replace("_compressed", ""))
    assert compressed.name.endswith("_compressed.pth") and frozen.is_file()
    module = backends.get(backend)
    images = read(oracle_data / "datasets/test/n2.extxyz", ":")
    calcs = [module.calculator(m) for m in (compressed, frozen)]
    forces = [np.concatenate([c.get_forces(a) for a in images]) for c in calcs]
    energies = [np.array([c.get_potential_energy(a) for a in images]) for c in calcs]
    print(f"{backend}: compressed vs frozen max |ΔF| {np.abs(forces[0] - forces[1]).max():.2e} eV/Å")
    assert np.abs(forces[0] - forces[1]).max() < 1e-6
    assert np.abs(energies[0] - energies[1]).max() / len(images[0]) < 1e-7


def test_sigma_aware_model_receives_the_cells_sigma(backend, trained, oracle_data):
    """dpsigma: the calculator passes σ of the cell (−n_ion·e/A) as deepmd's frame parameter, and
    the model's energy depends on it."""
    from deepmd.calculator import DP

    from edlbench.geometry import cell_surface_charge

    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    sigma = cell_surface_charge(atoms.get_chemical_symbols(), atoms.cell.array)
    assert sigma == pytest.approx(-2 * 1.602176634e-19 / (atoms.cell.array[0, 0] * atoms.cell.array[1, 1] * 1e-16) * 1e6)
    energy = backends.get(backend).calculator(trained[0]).get_potential_energy(atoms)
    raw = DP(model=str(trained[0]))
    for fparam, same in ((sigma, True), (0.0, False)):
        probe = atoms.copy()
        probe.info["fparam"] = [fparam]
        raw.reset()  # ASE's cache does not look at info
        assert (abs(raw.get_potential_energy(probe) - energy) < 1e-9) == same, fparam


#: dp's training for the resume test: killed after its first checkpoint (step 20), with 5 more to go
#: so that the kill lands while it still runs. MACE's case ({"max_num_epochs": 6, "eval_interval": 1},
#: checkpoint checkpoints/*_epoch-*.pt, log line "Loading checkpoint: …_epoch-N") passed in session 15
#: (RESULTS.md) and is left out of CI for time, as is GRACE-1L's ({"fit": {"maxiter": 30, "checkpoint_freq": 5}},
#: checkpoint seed/*/checkpoints/checkpoint.index, first log line after the kill "Iteration #6/30"; 135 s, session 16) and
#: eSEN's ({"steps": 60, "checkpoint_every": 10}, checkpoint run/checkpoints/step_*/.metadata, log lines after the kill
#: "Done loading checkpoint from …/step_10", first "'train/step': 10"; 118 s, session 17).
RESUMED_TRAINING = {"training": {"numb_steps": 120, "save_freq": 20, "disp_freq": 10}}


def test_killed_training_resumes_from_its_checkpoint(backend, oracle_data, tmp_path):
    """`edlbench train --restart-dir`, as a retried TRAIN task runs it: killed (SIGKILL, as a
    walltime limit does) after the package's first checkpoint, then run again in another output
    folder, the training continues from that checkpoint instead of step 0, finishes with a model,
    and its restart folder is gone."""
    preset = load_params(Path(__file__).parents[2] / "params/test.yaml")["backends"][backend]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"backends": {backend: merge(preset, RESUMED_TRAINING)}}))
    restart = tmp_path / "restart"

    def train(out: str) -> subprocess.Popen:
        args = [sys.executable, "-m", "edlbench", "train", "--params", str(tmp_path / "p.yaml"), "--backend", backend, "--train-set", "n2",
                "--datasets", str(oracle_data / "datasets"), "--device", "cpu", "--restart-dir", str(restart), "-o", str(tmp_path / out)]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)

    first = train("killed")
    sizes = []
    while len(sizes) < 2 or sizes[-1] != sizes[-2] or not sizes[-1]:  # a checkpoint written completely
        assert first.poll() is None, f"training ended before its first checkpoint: {first.stderr.read()[-500:]}"
        time.sleep(0.3)
        sizes.append(sum(p.stat().st_size for p in restart.glob(f"train-*/{CHECKPOINT}") if p.exists()))
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert not (tmp_path / "killed/model.json").exists()
    second = train("retried")
    _, err = second.communicate(timeout=1500)
    assert second.returncode == 0, err[-1000:]
    model = backends.model_file(tmp_path / "retried")
    assert model.exists() and not any(restart.iterdir())
    log = (tmp_path / "retried/train.log").read_text()
    step = re.search(r"Batch\s+(\d+):", log)  # deepmd's first progress line: batch 1 on a fresh start
    assert step and int(step.group(1)) >= RESUMED_TRAINING["training"]["save_freq"], log[-2000:]
    print(f"{backend}: resumed at {step.group(0)!r}")


def test_gamma_rises_off_the_training_domain_only(backend, trained, oracle_data, tmp_path):
    """The backend's own per-atom γ of the STURDY model: the in-domain bound is its maximum over
    the model's own training frames (GRACE's GMM γ = 1 is an outlier fence, not a maximum: a
    CI-size GRACE-1L has 2 % of training atoms above it and none above 2; the MaxVol grade of
    gracefs is ≤ 1 on its training atoms by construction, so that half alone proves nothing); two
    waters pushed to an O–O distance of 1.6 Å (never sampled: the oracle's O–O contact is ≥ 2.4 Å)
    lie far above that bound (GRACE-1L, two runs here: the pair at γ 4–5 and 66, the training
    frames at most 1.45 and 2.89: RESULTS.md). A missing or damaged γ file is one InputError line."""
    import shutil

    from edlbench.errors import InputError

    gamma = backends.gamma(backend, trained[0], "cpu")
    frames = read(oracle_data / "datasets/n2/train.extxyz", ":")
    bound = max(float(gamma(atoms).max()) for atoms in frames)
    squeezed = frames[0].copy()
    o = [i for i, s in enumerate(squeezed.get_chemical_symbols()) if s == "O"][:2]
    v = squeezed.get_distance(o[0], o[1], mic=True, vector=True)
    squeezed.positions[o[1]] -= v * (1 - 1.6 / np.linalg.norm(v))
    squeezed_gamma = gamma(squeezed)
    print(f"{backend}: γ max on training frames {bound:.2f}, on the squeezed pair {squeezed_gamma[o].round(1)}")
    assert squeezed_gamma[o].max() > bound, (bound, squeezed_gamma[o])
    copy = tmp_path / "model"
    shutil.copytree(trained[0].parent, copy, symlinks=True)
    damaged = backends.get(backend).gamma_file(copy / trained[0].name)
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(InputError, match="cannot load the γ model") as exc:
        backends.gamma(backend, copy / trained[0].name)
    assert "\n" not in str(exc.value)
    damaged.unlink()
    with pytest.raises(InputError, match="no γ model"):
        backends.gamma(backend, copy / trained[0].name)


def test_exported_model_matches_its_training_graph(backend, trained, oracle_data):
    """gracefs runs MD with pyace's C++ evaluation of the FS model gracemaker exports: it must give
    the energies and forces of the TensorFlow model gracemaker trained (same float64 parameters;
    differences are round-off, ~1e-9 eV here)."""
    from edlbench.backends import grace

    exported = backends.calculator(backend, trained[0], "cpu")
    graph = grace.calculator(trained[0].parent / "final_model")
    for atoms in read(oracle_data / "datasets/test/n2.extxyz", ":3"):
        a, b = atoms.copy(), atoms.copy()
        a.calc, b.calc = exported, graph
        assert abs(a.get_potential_energy() - b.get_potential_energy()) < 1e-6 * len(atoms)
        assert np.abs(a.get_forces() - b.get_forces()).max() < 1e-6
