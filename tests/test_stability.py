"""The blow-up checks shared by the MLIP MD driver and the oracle."""

import numpy as np
import pytest
from ase.build import fcc111
from ase.neighborlist import neighbor_list

from edlbench.md import MDConfig
from edlbench.stability import overlap

CFG = MDConfig()


@pytest.mark.parametrize("orthogonal", [True, False])
def test_overlap_agrees_with_ase_neighbour_list(orthogonal):
    """The k-d tree path (orthorhombic cells) and ASE's path find the same closest pair, also across
    the periodic boundary, in 100 random near-collisions."""
    atoms = fcc111("Au", (3, 4, 3), a=4.078, orthogonal=orthogonal, vacuum=5.0)
    atoms.pbc = True
    rng = np.random.default_rng(1)
    found = 0
    for _ in range(100):
        a = atoms.copy()
        i, j = rng.choice(len(a), 2, replace=False)
        a.positions[i] = a.positions[j] + rng.normal(0, 0.4, 3) + a.cell[0] * rng.integers(-1, 2)
        d = neighbor_list("d", a, CFG.min_distance)
        reason = overlap(a, CFG)
        assert (reason is not None) == (len(d) > 0)
        if len(d):
            found += 1
            assert float(reason.split()[1]) == pytest.approx(d.min(), abs=0.006)
    assert found > 20


def test_inside_the_metal_means_past_half_an_interlayer_spacing():
    """An H at the height of the surface plane (a hollow site) is not inside the metal; an ion
    1.5 Å below the plane, between the top two layers (2.35 Å apart), is — on either face."""
    from edlbench.build import BuildConfig, build_interface
    from edlbench.stability import unstable_reason

    atoms = build_interface(BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=2), 1)
    au = atoms.positions[atoms.symbols == "Au", 2]
    top, bottom = au.max(), au.min() + atoms.cell[2, 2]  # the next image's lower face
    forces = np.zeros((len(atoms), 3))

    def reason(index, z):
        a = atoms.copy()
        a.positions[index, 2] = z
        a.positions[index, :2] = [0.3, 0.4]  # away from any Au column
        return unstable_reason(a, CFG, "Au", lambda: (-1.0, forces, 300.0))

    na, h = int(np.flatnonzero(atoms.symbols == "Na")[0]), int(np.flatnonzero(atoms.symbols == "H")[0])
    assert reason(h, top - 0.05) != "a water or ion atom entered the metal slab"
    assert reason(na, top - 1.5) == "a water or ion atom entered the metal slab"
    assert reason(na, bottom + 1.5) == "a water or ion atom entered the metal slab"
    assert reason(na, top + 3.0) is None
