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
