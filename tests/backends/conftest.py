import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from edlbench.build import BuildConfig, build_interface  # noqa: E402
from edlbench.dataset import DatasetConfig, build_datasets  # noqa: E402
from edlbench.reference.oracle import ReferenceConfig, run_reference_md  # noqa: E402

CELL = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=6)


@pytest.fixture(scope="session")
def oracle_data(tmp_path_factory):
    """A small labelled data set (n_ion = 0 and 2) from 3 ps of reference MD per charge state."""
    out = tmp_path_factory.mktemp("oracle")
    trajs = []
    for n in (0, 2):
        trajs.append(out / f"n{n}.nc")
        run_reference_md(build_interface(CELL, n), ReferenceConfig(equilibration=0.5, production=3.0, stride=20),
                         trajs[-1], out / f"n{n}.log", seed=n + 1, progress=False)
    build_datasets(trajs, out / "datasets", DatasetConfig(stride=6, seed=1))
    return out
