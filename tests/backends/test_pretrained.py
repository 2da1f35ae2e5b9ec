"""Pretrained checkpoints (the zero-shot OC25 eSEN): no OC25 file can be downloaded here, so the test
saves a tiny eSEN with fairchem's own trainer under the task name "oc25" and loads it offline
through the path users take with the real checkpoint."""

from pathlib import Path

import numpy as np
import pytest
from ase.io import read

from edlbench import backends
from edlbench.errors import InputError


def test_checkpoint_loads_offline_as_fairchem_loads_it(pretrained, oc25_checkpoint, oracle_data, tmp_path, monkeypatch):
    from fairchem.core import FAIRChemCalculator
    from fairchem.core.units.mlip_unit import load_predict_unit
    from fairchem.core.units.mlip_unit.api.inference import InferenceSettings

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    module = backends.get(pretrained)
    folder = tmp_path / "model"
    model = module.train(Path("unused"), Path("unused"), {"checkpoint": str(oc25_checkpoint)}, folder, seed=0)
    backends.write_manifest(folder, pretrained, "pretrained", 0, model, "cpu")
    assert backends.model_file(folder).resolve() == oc25_checkpoint.resolve()
    atoms = read(oracle_data / "datasets/test/n2.extxyz", "0")
    forces = module.calculator(backends.model_file(folder), "cpu").get_forces(atoms)
    unit = load_predict_unit(str(oc25_checkpoint), inference_settings=InferenceSettings(compile=False), device="cpu")
    reference = FAIRChemCalculator(unit, task_name="oc25").get_forces(atoms)  # fairchem's own float32 defaults
    assert np.isfinite(forces).all() and np.abs(forces).max() > 1e-3
    assert np.allclose(forces, reference, atol=1e-3), np.abs(forces - reference).max()


def test_missing_or_wrong_checkpoint_is_one_clear_error(pretrained, oc25_checkpoint, tmp_path):
    module = backends.get(pretrained)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"an interrupted download")
    cases = ((None, "no checkpoint given"), ("esen.pt", "absolute path"), (str(tmp_path / "none.pt"), "does not exist"),
             (str(garbage), "not a loadable fairchem checkpoint"))
    for checkpoint, needle in cases:
        with pytest.raises(InputError, match=needle):
            module.train(Path("unused"), Path("unused"), {"checkpoint": checkpoint}, tmp_path / "m", seed=0)
    from edlbench.backends import esen

    with pytest.raises(InputError, match="has no task 'omat'"):
        esen.load(oc25_checkpoint, "omat", "cpu")
