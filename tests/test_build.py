"""Interface builder: counts, charge bookkeeping, density, distances, reproducibility."""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list
from ase.units import _Nav

from edlbench.build import WATER_MASS, BuildConfig, build_interface
from edlbench.errors import InputError
from edlbench.geometry import lateral_area, lateral_period, surface_charge

CFG = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, n_ions=(0, 4), seed=7)


@pytest.fixture(scope="module")
def built():
    return {n: build_interface(CFG, n) for n in CFG.n_ions}


def test_counts_and_charge_bookkeeping(built):
    for n, atoms in built.items():
        s = atoms.get_chemical_symbols()
        n_w = atoms.info["n_water"]
        assert s.count("Au") == 3 * 4 * 3
        assert s.count("O") == n_w and s.count("H") == 2 * n_w
        assert s.count("Na") == n == atoms.info["n_ion"]
        # the metal's surface charge compensates the ions exactly: σ·A = −n·e
        area_cm2 = lateral_area(atoms.cell) * 1e-16
        assert atoms.info["sigma"] * 1e-6 * area_cm2 / 1.602176634e-19 == pytest.approx(-n)
    assert built[0].info["n_water"] == built[4].info["n_water"]


def test_sigma_of_known_cell():
    # 1 e on the 3×3 Au(111) cell (8.65 Å × 7.49 Å) is 24.7 µC/cm²
    assert surface_charge(1, 8.6507 * 7.4918) == pytest.approx(-24.72, abs=0.01)


def test_lateral_period_is_the_shortest_in_plane_translation(built):
    """Against a brute-force search over i·a + j·b, |i|, |j| ≤ 8: the built (orthogonal) cell, and skewed ones."""
    rng = np.random.default_rng(3)
    cells = [np.asarray(built[0].cell)] + [np.array([[10.0, 0, 0], [*rng.uniform([-15, 1], [15, 12]), 0], [0, 0, 30.0]]) for _ in range(30)]
    grid = np.array([(i, j) for i in range(-8, 9) for j in range(-8, 9) if i or j])
    for cell in cells:
        assert lateral_period(cell) == pytest.approx(np.linalg.norm(grid @ cell[:2, :2], axis=1).min(), rel=1e-12), cell
    assert lateral_period(built[0].cell) == pytest.approx(min(built[0].cell.lengths()[:2]))


def test_water_density_in_liquid_region(built):
    atoms = built[4]
    top = atoms.positions[atoms.symbols == "Au", 2].max()
    z_o = atoms.positions[atoms.symbols == "O", 2]
    lo, hi = top + CFG.wall, top + CFG.gap - CFG.wall
    inside = ((z_o >= lo) & (z_o <= hi)).sum()
    assert inside == len(z_o)  # every water is in the liquid region
    rho = inside * WATER_MASS / (_Nav * lateral_area(atoms.cell) * (hi - lo) * 1e-24)
    assert rho == pytest.approx(1.0, rel=0.05)


def test_no_close_contacts_and_ion_distance(built):
    for atoms in built.values():
        i, j, d = neighbor_list("ijd", atoms, 1.6)
        symbols = np.array(atoms.get_chemical_symbols())
        same_water = (symbols[i] != "Au") & (np.abs(i - j) <= 2) & (d < 1.1)
        assert np.all(same_water), f"contacts below 1.6 Å: {list(zip(i[~same_water], j[~same_water], d[~same_water]))}"
        top = atoms.positions[atoms.symbols == "Au", 2].max()
        z_na = atoms.positions[atoms.symbols == "Na", 2]
        assert np.all(z_na - top >= CFG.ion_distance)
        assert np.all(top + CFG.gap - z_na >= CFG.ion_distance)


def test_seeded_and_reproducible():
    a, b = build_interface(CFG, 2), build_interface(CFG, 2)
    np.testing.assert_array_equal(a.positions, b.positions)
    c = build_interface(BuildConfig(**{**CFG.__dict__, "seed": 8}), 2)
    assert not np.allclose(a.positions, c.positions)


def test_bad_parameters_are_named():
    with pytest.raises(InputError, match="repeats"):
        build_interface(BuildConfig(repeats=(3, 3)), 0)
    with pytest.raises(InputError, match="gap"):
        build_interface(BuildConfig(gap=5.0), 0)
