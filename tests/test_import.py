"""Import of user DFT data: each bad-input case rejected with its message; valid data accepted."""

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

from edlbench.build import BuildConfig, build_interface
from edlbench.dataset import DatasetConfig, build_datasets
from edlbench.errors import InputError
from edlbench.importer import ImportConfig, import_files, validate_frame
from edlbench.trajectory import read_frames


def dft_frame(n_ion=1, energy_per_atom=-4.0, forces=None):
    atoms = build_interface(BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=2), n_ion)
    f = np.random.default_rng(0).normal(0, 0.5, (len(atoms), 3)) if forces is None else forces
    atoms.calc = SinglePointCalculator(atoms, energy=energy_per_atom * len(atoms), forces=f)
    return atoms


def test_valid_vasp_style_extxyz_is_accepted(tmp_path):
    frames = [dft_frame(1), dft_frame(1, -4.1), dft_frame(0)]
    write(tmp_path / "vasp.extxyz", frames)
    counts = import_files([tmp_path / "vasp.extxyz"], tmp_path / "out", ImportConfig())
    assert counts == {0: 1, 1: 2}
    back = read(tmp_path / "out/n1.extxyz", ":")
    assert back[1].info["REF_energy"] == pytest.approx(-4.1 * len(back[1]))
    np.testing.assert_allclose(back[0].arrays["REF_forces"], frames[0].get_forces(), atol=1e-7)
    assert read_frames(tmp_path / "out/n1.extxyz").labels is not None  # dataset keeps these labels


def test_imported_frames_get_no_oracle_labelled_contact_frames(tmp_path):
    """Close-contact copies need the oracle's labels; beside DFT labels they would mix two references."""
    write(tmp_path / "vasp.extxyz", [dft_frame(1, -4.0 - 0.01 * k) for k in range(6)])
    import_files([tmp_path / "vasp.extxyz"], tmp_path / "out", ImportConfig())
    with pytest.raises(InputError, match=r"n1.extxyz: dataset.contact_fraction=0.2 needs the oracle"):
        build_datasets([tmp_path / "out/n1.extxyz"], tmp_path / "sets", DatasetConfig(contact_fraction=0.2))
    assert not (tmp_path / "sets/manifest.json").exists()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda a: setattr(a, "calc", None), "no energy"),
        (lambda a: a.calc.results.pop("forces"), "no forces"),
        (lambda a: a.calc.results["forces"].__setitem__((3, 1), np.nan), "NaN"),
        (lambda a: a.calc.results.__setitem__("energy", -4.0 * len(a) * 27.2), "wrong unit"),
        (lambda a: a.calc.results["forces"].__setitem__((0, 0), 900.0), "wrong unit"),
        (lambda a: a.set_pbc(False), "not periodic"),
    ],
)
def test_bad_frames_are_rejected(tmp_path, mutate, message):
    good, bad = dft_frame(), dft_frame()
    mutate(bad)
    path = tmp_path / "d.extxyz"
    write(path, [good, bad])
    with pytest.raises(InputError, match=message) as err:
        import_files([path], tmp_path / "out", ImportConfig())
    assert "frame 1" in str(err.value) and "d.extxyz" in str(err.value)


def test_forces_of_wrong_shape_rejected():
    a = dft_frame()
    a.calc.results["forces"] = np.zeros((len(a) - 1, 3))  # extxyz cannot even hold this: check in memory
    with pytest.raises(InputError, match=r"OUTCAR: frame 7: forces have shape"):
        validate_frame(a, "OUTCAR: frame 7", ImportConfig())


def test_unknown_element_rejected(tmp_path):
    a = dft_frame()
    a.symbols[-1] = "K"
    write(tmp_path / "d.extxyz", [a])
    with pytest.raises(InputError, match=r"frame 0: unknown elements \['K'\]"):
        import_files([tmp_path / "d.extxyz"], tmp_path / "out", ImportConfig())
