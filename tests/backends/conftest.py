"""Backend tests run inside one environment at a time: `pytest tests/backends --env mace` tests
every backend of that environment (see edlbench.backends.SPECS) with its test-scale preset
from params/test.yaml, on a small oracle data set."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from edlbench import backends  # noqa: E402
from edlbench.backends import SPECS, merge  # noqa: E402
from edlbench.backends.deepmd import COMPRESSIBLE  # noqa: E402
from edlbench.build import BuildConfig, build_interface  # noqa: E402
from edlbench.config import load_params  # noqa: E402
from edlbench.dataset import DatasetConfig, build_datasets  # noqa: E402
from edlbench.reference.oracle import ReferenceConfig, run_reference_md  # noqa: E402

CELL = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=6)
PRESETS = load_params(Path(__file__).parents[2] / "params" / "test.yaml")["backends"]
#: where the pipeline's CI preset (plumbing: seconds to minutes per task) is too short for the
#: accuracy bound and 200 intact MD steps tested here (RESULTS.md): dp at 600 steps broke a water in
#: 3 of 4 400-step runs (one at step 160), at 2000 steps none of 8; grace1l 100 epochs (at 30, 6 of
#: 6 runs broke), esen 200 steps; mace 20 epochs (at 8 a CI run broke at step 80), with its
#: default stage two (the CI preset's 8 epochs run without it); gracefs 300 epochs (at 200 a CI
#: run broke at step 120, though 45 runs of 400 steps here did not; 300 lowers its force RMSE from
#: 50–64 to 46–55 meV/Å)
STURDY = {"mace": {"max_num_epochs": 20, "swa": True}, "dp": {"training": {"numb_steps": 2000}},
          "grace1l": {"fit": {"maxiter": 100}}, "gracefs": {"fit": {"maxiter": 300}}, "esen": {"steps": 200}}
#: backends whose code is a fully tested sibling's with another preset (grace2l: grace1l's module,
#: two layers; dpmp: dp's module, deepmd's DPA-3 descriptor) or one more input (dpsigma: dp's, plus
#: σ as deepmd's fparam): their tests check what differs — the package trains the preset,
#: calculator, evaluation, forces = −∇E, σ input, compression, precision, a broken start — on the
#: SHORT training; the `accuracy` tests (force error, MD stability, committee spread), which measure
#: how long a preset must train, run for the sibling only (CI time: their STURDY trainings took
#: 566 s, 505 s and 757 s of CI runs; dpmp needed 3000 steps for 200 intact MD steps,
#: benchmarks/md_stability.py measures it)
PLUMBING = {"grace2l", "dpsigma", "dpmp"}
#: seed 1 only has to differ from seed 0 (committee-spread test): a short run of the same preset
#: (mace's in float32, the precision test's float32-trained model; fairchem trains in float32 anyway);
#: GRACE's without its γ model (≈ 100 s each: the γ test uses seed 0's)
SHORT = {"mace": {"max_num_epochs": 2, "default_dtype": "float32"}, "dp": {"training": {"numb_steps": 20}}, "dpmp": {"training": {"numb_steps": 20}},
         "dpsigma": {"training": {"numb_steps": 20}}, "grace1l": {"fit": {"maxiter": 3}, "gamma": False},
         "grace2l": {"fit": {"maxiter": 3}, "gamma": False}, "gracefs": {"fit": {"maxiter": 3}, "gamma": False},
         "esen": {"steps": 20}}


def pytest_addoption(parser):
    parser.addoption("--env", required=True, help="environment under test: its backends are tested")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        env = metafunc.config.getoption("env")
        names = [b for b, spec in SPECS.items() if spec.env == env and not spec.pretrained]
        if not names:
            raise pytest.UsageError(f"no backend runs in environment {env!r}")
        if "sigma_aware" in metafunc.function.__name__:
            names = [b for b in names if b == "dpsigma"]
        if "precision" in metafunc.function.__name__:
            names = [b for b in names if SPECS[b].castable]
        if "gamma" in metafunc.function.__name__:  # a γ of the backend's own; its STURDY model (grace2l's trains short, without one)
            names = [b for b in names if SPECS[b].gamma and b not in PLUMBING]
        if "exported" in metafunc.function.__name__:  # a model the package exports for another evaluator than its trainer's
            names = [b for b in names if SPECS[b].cpu_calculator]
        if "resumes" in metafunc.function.__name__:  # dp only: dpmp and dpsigma train with its code
            names = [b for b in names if b == "dp"]
        if "compressed" in metafunc.function.__name__:  # deepmd backends whose descriptor `dp compress` tabulates
            names = [b for b in names if getattr(backends.get(b), "DESCRIPTOR", {}).get("type") in COMPRESSIBLE]
        metafunc.parametrize("backend", names, scope="session")
    if "pretrained" in metafunc.fixturenames:  # backends that load a user's checkpoint (none in most environments)
        env = metafunc.config.getoption("env")
        metafunc.parametrize("pretrained", [b for b, spec in SPECS.items() if spec.pretrained and spec.env == env], scope="session")


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


@pytest.fixture(scope="session")
def trained(backend, oracle_data, tmp_path_factory):
    """Model files of seed 0 (the backend's test preset, made STURDY where needed) and seed 1 (a short run of it) trained on
    the n2 set (the σ-aware dpsigma on the mixed set, the only set where σ varies)."""
    data = oracle_data / "datasets" / ("mixed" if backend == "dpsigma" else "n2")
    module = backends.get(backend)
    preset = merge(backends.options(PRESETS[backend]), STURDY.get(backend, {}))
    short = merge(preset, SHORT[backend])
    return [module.train(data / "train.extxyz", data / "valid.extxyz", short if s or backend in PLUMBING else preset,
                         tmp_path_factory.mktemp(f"{backend}{s}"), seed=s)
            for s in ((0,) if backend in PLUMBING else (0, 1))]


@pytest.fixture(scope="session")
def oc25_checkpoint(pretrained, oracle_data, tmp_path_factory):
    """A tiny eSEN saved by fairchem's own trainer under the task name "oc25" (a stand-in for the
    real OC25 checkpoint, which cannot be downloaded here)."""
    from edlbench.backends import esen

    data = oracle_data / "datasets/n2"
    options = merge(backends.options(PRESETS["esen"]), {"steps": 10, "task": "oc25"})
    return esen.train(data / "train.extxyz", data / "valid.extxyz", options, tmp_path_factory.mktemp("oc25"), seed=0)


def pytest_collection_modifyitems(config, items):
    """A test for a kind of backend this environment does not have (σ-aware, pretrained), and an
    `accuracy` test of a PLUMBING backend, is deselected, not reported as skipped."""
    def deselect(item) -> bool:
        if any(m.name == "skip" and "empty parameter set" in str(m.kwargs.get("reason", "")) for m in item.iter_markers()):
            return True
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        return backend in PLUMBING and item.get_closest_marker("accuracy") is not None

    dropped = [i for i in items if deselect(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]
