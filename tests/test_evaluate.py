"""Test-set errors and the in-domain γ rate of `edlbench.evaluate`, against numbers known by construction."""

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.emt import EMT
from ase.io import read, write

from edlbench.contract import load
from edlbench.contract import write as write_contract
from edlbench.dataset import ENERGY_KEY, FORCES_KEY
from edlbench.evaluate import evaluate


def _test_set(path, n_ion: int, n_frames: int, rng: np.random.Generator):
    """EMT-labelled Cu frames of 8 atoms (labels: the model's own predictions, errors ≈ 0)."""
    images = []
    for _ in range(n_frames):
        atoms = Atoms("Cu8", positions=rng.uniform(0, 6, (8, 3)), cell=[7, 7, 7], pbc=True)
        atoms.calc = EMT()
        atoms.info.update({ENERGY_KEY: atoms.get_potential_energy(), "n_ion": n_ion})
        atoms.arrays[FORCES_KEY] = atoms.get_forces()
        atoms.calc = None
        images.append(atoms)
    write(path, images)
    return path


def test_gamma_rate_on_test_frames(tmp_path):
    """γ = z/3 Å per atom: the fraction above 1 is the fraction of atoms above z = 3 Å, frame by frame."""
    rng = np.random.default_rng(3)
    sets = [_test_set(tmp_path / f"n{n}.extxyz", n, 6, rng) for n in (0, 2)]
    gamma = lambda atoms: atoms.positions[:, 2] / 3.0  # noqa: E731
    ds = evaluate(EMT(), sets, "emt", "mixed", 0, gamma)
    assert ds.rmse_force.values == pytest.approx([0, 0], abs=0.01)  # meV/Å: the extxyz rounding of the labels
    for k, path in enumerate(sets):
        z = np.array([a.positions[:, 2] for a in read(path, ":")])
        above = (z > 3.0).mean(axis=1)
        assert ds.gamma_above_1_test.values[k] == pytest.approx(above.mean())
        assert ds.gamma_above_1_test_sem.values[k] == pytest.approx(above.std(ddof=1) / np.sqrt(len(above)))
        assert ds.gamma_max_test.values[k] == pytest.approx((z.max(axis=1) / 3.0).mean())
    path = write_contract(ds, tmp_path / "errors.nc", "errors", seed=0)
    assert load(path, "errors").gamma_above_1_test.attrs["units"] == "1"
    assert "gamma_above_1_test" not in evaluate(EMT(), sets, "emt", "mixed", 0)
