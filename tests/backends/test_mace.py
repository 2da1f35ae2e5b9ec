"""MACE backend: real training with mace_run_train, its calculator, evaluation and MD (mace env)."""

import numpy as np
import pytest
from ase.io import read

from edlbench import backends
from edlbench.evaluate import error_metrics, evaluate
from edlbench.md import MDConfig, run_md

CONFIG = {"hidden_irreps": "8x0e + 8x1o", "r_max": 4.5, "max_num_epochs": 8, "batch_size": 2}


@pytest.fixture(scope="module")
def model(oracle_data, tmp_path_factory):
    data = oracle_data / "datasets" / "n2"
    return backends.get("mace").train(data / "train.extxyz", data / "valid.extxyz", CONFIG, tmp_path_factory.mktemp("mace"), seed=0)


def test_trained_force_error_well_below_force_spread(model, oracle_data):
    ds = evaluate(backends.get("mace").calculator(model), [oracle_data / "datasets/test/n2.extxyz"], "mace", "n2", 0)
    ref = np.concatenate([a.arrays["REF_forces"] for a in read(oracle_data / "datasets/test/n2.extxyz", ":")])
    spread = 1e3 * ref.std()  # meV/Å
    rmse = ds.rmse_force.sel(n_ion=2).item()
    print(f"MACE test force RMSE {rmse:.1f} meV/Å, reference force spread {spread:.1f} meV/Å")
    assert rmse < 0.5 * spread, (rmse, spread)


def test_forces_are_minus_gradient(model, oracle_data):
    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    atoms.calc = backends.get("mace").calculator(model)
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


def test_evaluate_matches_numpy(model, oracle_data):
    calc = backends.get("mace").calculator(model)
    path = oracle_data / "datasets/test/n0.extxyz"
    images = read(path, ":")
    e_p = np.array([calc.get_potential_energy(a) / len(a) for a in images])
    f_p = np.concatenate([calc.get_forces(a) for a in images])
    e_r = np.array([a.info["REF_energy"] / len(a) for a in images])
    f_r = np.concatenate([a.arrays["REF_forces"] for a in images])
    ds = evaluate(calc, [path], "mace", "n2", 0)
    assert ds.rmse_force.item() == pytest.approx(1e3 * np.sqrt(np.mean((f_p - f_r) ** 2)), rel=1e-9)
    assert ds.mae_energy.item() == pytest.approx(1e3 * np.mean(np.abs(e_p - e_r)), rel=1e-9)
    assert error_metrics(e_p, e_r, f_p, f_r)["rmse_energy"] == pytest.approx(ds.rmse_energy.item(), rel=1e-9)


def test_md_200_steps(model, oracle_data, tmp_path):
    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    info = run_md(atoms, backends.get("mace").calculator(model), MDConfig(steps=200, stride=20), tmp_path / "t.nc", tmp_path / "t.log", {}, progress=False)
    assert info["status"] == "ok", info
