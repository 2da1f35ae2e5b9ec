"""The real Nextflow pipeline at test scale (-profile test,local), its -resume, stub run and configs."""

import csv
import json
import os
from collections import Counter
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from ase.io import read

from edlbench.errors import InputError
from edlbench.plan import make_plan

ROOT = Path(__file__).resolve().parents[1]


def nextflow() -> str:
    exe = shutil.which("nextflow") or str(ROOT / "tools/bin/nextflow")
    assert Path(exe).exists(), "Nextflow missing: run scripts/install-nextflow (make test does)"
    return exe


STUB = ("-stub-run", "-c", str(ROOT / "tests/stub.config"))


def run_nf(*args, cwd, timeout: float = 3000):
    """Nextflow's stdout; a failure or a run past `timeout` (s) fails with the end of its log."""
    env = {**os.environ, "NXF_ANSI_LOG": "false"}
    try:
        proc = subprocess.run([nextflow(), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        log = Path(cwd) / ".nextflow.log"
        pytest.fail(f"nextflow {args[0]} ran past {timeout:.0f} s; its log ends:\n" + (log.read_text()[-4000:] if log.exists() else "(no log)"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def committees(plan: dict) -> Counter:
    """Committee size per (backend, train_set) of a plan."""
    return Counter((r["backend"], r["train_set"]) for r in plan["train"])


def trace(outdir: Path) -> list[dict]:
    with open(outdir / "pipeline_info/trace.tsv") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    work = tmp_path_factory.mktemp("nf")
    run_nf("run", str(ROOT / "main.nf"), "-profile", "test,local", "--outdir", str(work / "results"), cwd=work)
    return work


def test_pipeline_results(pipeline):
    ds = xr.open_dataset(pipeline / "results/aggregate/results.nc")
    assert ds.rho_O.dims == ("model", "train_set", "n_ion", "z")
    assert "reference" in ds.model.values
    assert list(ds.n_ion.values) == make_plan(ROOT / "params/test.yaml")["charges"]
    ref = ds.rho_O.sel(model="reference")
    assert np.isfinite(ref).all() and float(ref.max()) > 1.0  # a structured first water layer
    assert (ds.status.sel(model="reference") == 0).all()
    plan = make_plan(ROOT / "params/test.yaml")
    size = committees(plan)
    assert max(size.values()) > 1, "params/test.yaml should give one backend a committee, so UNCERTAINTY runs"
    for run in plan["md"]:  # every planned MLIP run is there: finished, or stopped as unstable
        sel = dict(model=run["backend"], train_set=run["train_set"], n_ion=run["n_ion"])
        assert int(ds.status.sel(**sel)) in (0, 1), sel
        if int(ds.status.sel(**sel)) == 0:
            assert np.isfinite(ds.rho_O.sel(**sel)).all(), sel
            spread = float(ds.committee_spread.sel(**sel))  # eV/Å: committees disagree, but not wildly
            assert (0.001 < spread < 10) if size[(run["backend"], run["train_set"])] > 1 else np.isnan(spread), (sel, spread)
            gamma, above = float(ds.gamma_max.sel(**sel)), float(ds.gamma_above_1.sel(**sel))  # GRACE's own γ: a max over atoms is positive
            assert (gamma > 0 and 0 <= above <= 1) if run["gamma"] else (np.isnan(gamma) and np.isnan(above)), (sel, gamma, above)
            excess = float(ds.gamma_above_1_excess.sel(**sel))  # the run's rate against its model's on its test frames
            assert (np.isfinite(excess) and ds.gamma_above_1_excess_sem.sel(**sel) > 0) if run["gamma"] else np.isnan(excess), (sel, excess)
    assert any(run["gamma"] for run in plan["md"]), "params/test.yaml should run a GRACE model, so its γ reaches the results"
    for run in plan["train"]:  # errors at every charge the model can be tested on, NaN elsewhere
        errors = ds.rmse_force.sel(model=run["backend"], train_set=run["train_set"], seed=run["seed"])
        tested = errors.sel(n_ion=run["test_charges"])
        assert np.isfinite(tested).all() and (tested > 0).all(), run
        assert int(np.isfinite(errors).sum()) == len(run["test_charges"]), run
        rate = ds.gamma_above_1_test.sel(model=run["backend"], train_set=run["train_set"], seed=run["seed"], n_ion=run["test_charges"])
        in_domain = run["gamma"] and run["seed"] == 0  # the MD's model: its γ on the test frames is its in-domain rate
        assert ((rate >= 0) & (rate <= 1)).all() if in_domain else rate.isnull().all(), (run, rate.values)
    rows = trace(pipeline / "results")
    assert {r["status"] for r in rows} == {"COMPLETED"}
    restarts = pipeline / "restart"  # each MD run's running folder (params.restart_dir), removed when it finished
    assert restarts.is_dir() and not any(restarts.iterdir())
    assert (pipeline / "results/datasets/datasets/manifest.json").exists()
    assert "no checkpoint given" in json.loads(ds.attrs["skipped_models"])["esen_oc25"]
    for backend in plan["backends"]:  # the plan's receptive field, against the cell the runs used
        assert float(ds.receptive_field.sel(model=backend)) == plan["receptive_field"][backend]
    period = ds.lateral_period.sel(model="reference")
    assert np.allclose(period, min(read(pipeline / "results/build/n0.extxyz").cell.lengths()[:2])), period.values
    report = (pipeline / "results/report/report/report.md").read_text()
    assert "Not in this run: no checkpoint given" in report
    assert "## Which runs left the training domain" in report and "Runs beyond their training domain:" in report
    for backend in plan["backends"]:
        assert f"![profiles_{backend}.png]" in report and (pipeline / f"results/report/report/profiles_{backend}.png").exists()


def test_resume_reruns_nothing(pipeline):
    run_nf("run", str(ROOT / "main.nf"), "-profile", "test,local", "--outdir", str(pipeline / "results"), "-resume", cwd=pipeline)
    rows = trace(pipeline / "results")
    assert rows and {r["status"] for r in rows} == {"CACHED"}


def test_stub_run_of_paper_plan(tmp_path):
    """The paper plan wires every backend, committee and reference replica (its MD replicas are set
    to 1 here: each adds ~2 × 135 stub tasks at 0.2 s each; the resume test wires them)."""
    params = yaml.safe_load((ROOT / "params/paper.yaml").read_text())
    params["md"]["replicas"] = 1
    (tmp_path / "paper.yaml").write_text(yaml.safe_dump(params))
    out = run_nf("run", str(ROOT / "main.nf"), "-profile", "paper,local", *STUB, "--params_yaml", str(tmp_path / "paper.yaml"),
                 "--outdir", str(tmp_path / "r"), cwd=tmp_path, timeout=900)
    plan = make_plan(tmp_path / "paper.yaml")
    assert plan["replicas"]["reference"] > 1
    assert len(trace(tmp_path / "r")) == expected_tasks(plan), out


def expected_tasks(plan: dict) -> int:
    """PLAN; BUILD, REFERENCE_MD, PROFILES per reference run; DATASETS; TRAIN and EVALUATE per model;
    MD and PROFILES per MD run, UNCERTAINTY per MD run of a committee or with a γ; AGGREGATE; REPORT."""
    size = committees(plan)
    uncertainty = sum(size[(r["backend"], r["train_set"])] > 1 or r["gamma"] for r in plan["md"])
    return 1 + 3 * len(plan["reference"]) + 1 + 2 * len(plan["train"]) + 2 * len(plan["md"]) + uncertainty + 1 + 1


def check_replica_wiring(work: Path, rows: list[dict], plan: dict) -> None:
    """Each MLIP replica r was staged reference replica r's trajectory of its charge, and the data
    sets were built from replica 0 only (read from the staged symlinks of a stub run's tasks)."""
    def task_dir(row: dict) -> Path:
        return next(work.glob(f"{row['hash']}*"))

    md = {r["name"].split("(")[-1].rstrip(")"): task_dir(r) for r in rows if r["name"].split(" ")[0].endswith(":MD")}
    assert sorted(md) == sorted(r["id"] for r in plan["md"])
    for run in plan["md"]:
        start = os.readlink(md[run["id"]] / "trajectory.nc")
        assert f"/reference-{run['charge']}-r{run['replica']}/" in start, (run["id"], start)
    datasets = task_dir(next(r for r in rows if r["name"].endswith("DATASETS")))
    used = sorted(Path(os.readlink(p)).parent.name for p in (datasets / "trajectories").glob("*/*"))
    assert used == sorted(r["id"] for r in plan["reference"] if r["replica"] == 0)


def test_resume_reruns_only_the_steps_an_edited_setting_feeds(tmp_path):
    """Each task gets only its own settings: under -resume, editing profiles.dz re-runs PROFILES,
    AGGREGATE and REPORT (and the cheap PLAN); editing md.steps re-runs MD and what follows it;
    adding replicas runs those replicas' tasks only, each MLIP replica r from reference replica r (the
    data sets come from replica 0). A stub run, so the runs cost seconds each; the cache decisions
    and staged inputs are the real ones."""
    params = yaml.safe_load((ROOT / "params/test.yaml").read_text())
    plan = make_plan(ROOT / "params/test.yaml")
    uncertain_runs = sum(committees(plan)[(r["backend"], r["train_set"])] > 1 or r["gamma"] for r in plan["md"])

    def resume() -> tuple[Counter, Counter]:
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        run_nf("run", str(ROOT / "main.nf"), "-profile", "test,local", *STUB, "-resume", "--params_yaml",
               str(tmp_path / "params.yaml"), "--outdir", str(tmp_path / "r"), cwd=tmp_path, timeout=600)
        rows = trace(tmp_path / "r")
        count = {status: Counter(r["name"].split(" ")[0].split(":")[-1] for r in rows if r["status"] == status) for status in ("COMPLETED", "CACHED")}
        return count["COMPLETED"], count["CACHED"]

    resume()
    params["profiles"]["dz"] = 2 * params["profiles"]["dz"]
    executed, cached = resume()
    assert executed == Counter(PLAN=1, PROFILES=len(plan["charges"]) + len(plan["md"]), AGGREGATE=1, REPORT=1), executed
    assert cached["TRAIN"] == len(plan["train"]) and cached["MD"] == len(plan["md"]) and cached["REFERENCE_MD"] == len(plan["charges"])
    params["md"]["steps"] += 10
    executed, cached = resume()
    assert executed == Counter(PLAN=1, MD=len(plan["md"]), UNCERTAINTY=uncertain_runs, PROFILES=len(plan["md"]), AGGREGATE=1, REPORT=1), executed
    assert cached["TRAIN"] == len(plan["train"]) and cached["EVALUATE"] == len(plan["train"]) and cached["PROFILES"] == len(plan["charges"])
    params["reference"]["replicas"], params["md"]["replicas"] = 3, 2  # new replicas: only their own runs are new
    executed, cached = resume()
    n_ref, n_md = len(plan["charges"]), len(plan["md"])
    assert executed == Counter(PLAN=1, BUILD=2 * n_ref, REFERENCE_MD=2 * n_ref, MD=n_md, UNCERTAINTY=uncertain_runs,
                               PROFILES=2 * n_ref + n_md, AGGREGATE=1, REPORT=1), executed
    assert cached["TRAIN"] == len(plan["train"]) and cached["DATASETS"] == 1 and cached["MD"] == n_md and cached["REFERENCE_MD"] == n_ref
    plan = make_plan(tmp_path / "params.yaml")
    rows = [r for r in trace(tmp_path / "r") if r["status"] in ("COMPLETED", "CACHED")]
    assert len(rows) == expected_tasks(plan)
    check_replica_wiring(tmp_path / "work", rows, plan)


@pytest.mark.parametrize("profile", ["hpc", "apptainer"])
def test_configs_render_with_images(tmp_path, profile):
    """Images named by version; on hpc: Slurm, GPUs (--gres, --nv, --device cuda) for the GPU steps
    only — training, MD, evaluation, committee spread and the reference MD — and nf-core's retries."""
    import re

    out = run_nf("config", str(ROOT), "-profile", profile, cwd=tmp_path)
    version = re.search(r"version = '([^']+)'", out).group(1)
    gpu_image = "-cuda" if profile == "hpc" else ""  # hpc: the CUDA variants of core and grace
    assert f"core{gpu_image}-{version}.sif" in out and f"image(meta.env{', true' if gpu_image else ''})" in out and ":latest" not in out
    assert "errorStrategy = { task.exitStatus in ((130..145) + 104) ? 'retry' : 'finish' }" in out and "maxRetries = 2" in out
    gpu = re.search(r"withLabel:gpu \{(.*?)\n   \}", out, re.S)
    if profile == "apptainer":
        assert gpu is None and "clusterOptions" not in out and "--nv" not in out
        return
    assert "executor = 'slurm'" in out and "device = 'cuda'" in out
    assert "containerOptions = '--nv'" in gpu.group(1) and "slurmOptions(true)" in gpu.group(1) and "slurmQueue(true)" in gpu.group(1)
    assert out.count("'--nv'") == 2 and "gpu_options = '--gres=gpu:1'" in out
    labelled = {label: {nf.stem for nf in (ROOT / "modules").glob("*.nf") if f"label '{label}'" in nf.read_text()} for label in ("gpu", "calculator")}
    assert labelled == {"gpu": {"train", "reference_md"}, "calculator": {"md", "evaluate", "uncertainty"}}, labelled


def test_hpc_stub_sends_each_step_to_its_partition(tmp_path):
    """The hpc profile's directives as its tasks resolve them (a stub run on the local executor):
    training and every calculator step go to the GPU partition, except gracefs's MD, evaluation
    and γ, whose C++ calculator runs on the CPU only; the core steps go to the CPU partition."""
    (tmp_path / "here.config").write_text("process.executor = 'local'\napptainer.enabled = false\nexecutor.cpus = 64\n"
                                          "executor.memory = '1 TB'\ntrace.fields = 'name,queue'\n")
    run_nf("run", str(ROOT / "main.nf"), "-profile", "hpc,test,local", "-c", "here.config", "-stub-run", "--queue", "cpu",
           "--gpu_queue", "gpu", "--outdir", str(tmp_path / "r"), cwd=tmp_path)
    queues = {r["name"]: r["queue"] for r in trace(tmp_path / "r")}
    for name, queue in queues.items():
        step, cpu_only = name.split(" ")[0].split(":")[-1], "(gracefs-" in name
        gpu = step in ("TRAIN", "REFERENCE_MD") or (step in ("MD", "EVALUATE", "UNCERTAINTY") and not cpu_only)
        assert queue == ("gpu" if gpu else "cpu"), (name, queue)
    assert any("TRAIN (gracefs-" in n and q == "gpu" for n, q in queues.items())  # its training is TensorFlow's
    assert any("MD (gracefs-" in n and q == "cpu" for n, q in queues.items())


def test_plan_rejects_bad_params(tmp_path):
    cases = {
        "build:\n  n_ions: []\n": "n_ions",
        "backends:\n  nequip: {}\n": "backends.nequip",
        "reference:\n  temprature: 300\n": "reference.temprature",
        "build:\n  gap: 4.0\n": "gap",
        "models: {}\n": "unknown section",
        "backends:\n  dp: {train_sets: [n7]}\n": "backends.dp.train_sets",
    }
    for text, needle in cases.items():
        (tmp_path / "p.yaml").write_text(text)
        with pytest.raises(InputError, match=needle):
            make_plan(tmp_path / "p.yaml")


def test_plan_cross_charge_md_switch(tmp_path):
    """Single-charge models run MD at every charge they cover, or at their own with
    cross_charge_md: false; the mixed model runs everywhere and training/testing is unchanged."""
    runs = {}
    for cross in (True, False):
        (tmp_path / "p.yaml").write_text(yaml.safe_dump({"build": {"n_ions": [0, 1, 2]},
                                                         "backends": {"dp": {"cross_charge_md": cross}}}))
        plan = make_plan(tmp_path / "p.yaml")
        runs[cross] = sorted((r["train_set"], r["n_ion"]) for r in plan["md"])
        assert [r["test_charges"] for r in plan["train"]] == [[0, 1, 2], [0], [0, 1, 2], [0, 1, 2]]
    assert runs[True] == sorted([("mixed", 0), ("mixed", 1), ("mixed", 2), ("n0", 0), ("n1", 0), ("n1", 1), ("n1", 2),
                                 ("n2", 0), ("n2", 1), ("n2", 2)])
    assert runs[False] == [("mixed", 0), ("mixed", 1), ("mixed", 2), ("n0", 0), ("n1", 1), ("n2", 2)]
    (tmp_path / "p.yaml").write_text("backends:\n  dp: {cross_charge_md: 'no'}\n")
    with pytest.raises(InputError, match="backends.dp.cross_charge_md"):
        make_plan(tmp_path / "p.yaml")


def test_plan_md_charges(tmp_path):
    """md.n_ions chooses the charge states of the MLIP MD (training, testing and the reference keep
    every built one; the choice reaches no step's settings); a charge not built is an error."""
    base = {"build": {"n_ions": [0, 1, 2]}, "backends": {"dp": {"cross_charge_md": False}}}
    (tmp_path / "all.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({**base, "md": {"n_ions": [2, 0]}}))
    everywhere, plan = make_plan(tmp_path / "all.yaml"), make_plan(tmp_path / "p.yaml")
    assert sorted((r["train_set"], r["n_ion"]) for r in plan["md"]) == [("mixed", 0), ("mixed", 2), ("n0", 0), ("n2", 2)]
    assert plan["train"] == everywhere["train"] and plan["reference"] == everywhere["reference"]
    assert plan["settings"] == everywhere["settings"]
    (tmp_path / "bad.yaml").write_text("build: {n_ions: [0, 2]}\nmd: {n_ions: [0, 4]}\n")
    with pytest.raises(InputError, match=r"md.n_ions: 4 ions is not a charge state of build.n_ions \[0, 2\]"):
        make_plan(tmp_path / "bad.yaml")


def test_plan_replicas(tmp_path):
    """reference.replicas independent reference runs per charge (own packed start, own MD seed),
    md.replicas MLIP runs per model and charge, replica r from reference replica r with its own
    thermostat seed; replica counts reach no step's settings (adding replicas re-runs nothing
    finished); more MLIP than reference replicas, or replicas of an imported reference, are errors."""
    base = {"build": {"n_ions": [0, 2], "seed": 3}, "md": {"seed": 5}, "backends": {"dp": {"train_sets": ["mixed"]}}}
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({**base, "reference": {"replicas": 3}, "md": {"seed": 5, "replicas": 2}}))
    one, plan = make_plan(tmp_path / "one.yaml", seed=7), make_plan(tmp_path / "p.yaml", seed=7)
    assert plan["replicas"] == {"reference": 3, "md": 2} and one["replicas"] == {"reference": 1, "md": 1}
    ref = {(r["n_ion"], r["replica"]): r for r in plan["reference"]}
    assert sorted(ref) == [(n, k) for n in (0, 2) for k in range(3)]
    assert len({(r["seed"], r["build_seed"]) for r in ref.values() if r["n_ion"] == 2}) == 3  # independent replicas
    assert {(r["seed"], r["build_seed"]) for r in one["reference"]} == {(7, 3)}  # replica 0 is the single run
    assert len({r["id"] for r in plan["reference"] + plan["md"]}) == len(plan["reference"]) + len(plan["md"])
    md = {(r["n_ion"], r["replica"]): r["md_seed"] for r in plan["md"]}
    assert sorted(md) == [(n, k) for n in (0, 2) for k in range(2)] and md[(2, 0)] == 5 and md[(2, 1)] != 5
    assert plan["train"] == one["train"] and plan["settings"] == one["settings"]
    for text, needle in {"reference: {replicas: 1}\nmd: {replicas: 2}\n": "md.replicas=2 exceeds reference.replicas=1",
                         "reference: {replicas: 0}\n": "reference.replicas"}.items():
        (tmp_path / "bad.yaml").write_text(text)
        with pytest.raises(InputError, match=needle):
            make_plan(tmp_path / "bad.yaml")
    with pytest.raises(InputError, match=r"reference.replicas=3: an imported \(--dft\) reference"):
        make_plan(tmp_path / "p.yaml", imported=True)


def test_plan_leaves_out_pretrained_model_without_checkpoint(tmp_path):
    """esen_oc25 runs as the single training set "pretrained" when its checkpoint is a readable file,
    and is left out, with the reason kept, when it is not, so every other model still runs."""
    checkpoint = tmp_path / "esen-sm-conserving-all-oc25.pt"
    checkpoint.write_bytes(b"not loaded by the plan")
    cases = {None: "no checkpoint given", "esen.pt": "absolute path", str(tmp_path / "none.pt"): "does not exist", str(checkpoint): None}
    for path, reason in cases.items():
        (tmp_path / "p.yaml").write_text(yaml.safe_dump({"backends": {"esen_oc25": {"checkpoint": path}, "dp": {"committee": 2}}}))
        plan = make_plan(tmp_path / "p.yaml")
        oc25 = [r for r in plan["train"] if r["backend"] == "esen_oc25"]
        assert len([r for r in plan["train"] if r["backend"] == "dp"]) == 2 * (1 + len(plan["charges"]))
        if reason:
            assert reason in plan["skipped"]["esen_oc25"] and not oc25 and "esen_oc25" not in plan["backends"]
        else:
            assert not plan["skipped"] and [(r["train_set"], r["seed"]) for r in oc25] == [("pretrained", 0)]
            assert sorted(r["n_ion"] for r in plan["md"] if r["backend"] == "esen_oc25") == plan["charges"]


def test_dft_import_branch(pipeline, tmp_path):
    """--dft replaces BUILD + REFERENCE_MD: labelled frames (here: the oracle's, as if from DFT-MD)."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import read, write

    for f in sorted((pipeline / "results/datasets/datasets/test").glob("n*.extxyz")):
        images = read(f, ":")
        for a in images:
            a.calc = SinglePointCalculator(a, energy=a.info.pop("REF_energy"), forces=a.arrays.pop("REF_forces"))
        write(tmp_path / f"vasp_{f.stem}.extxyz", images)
    params = yaml.safe_load((ROOT / "params/test.yaml").read_text())
    params.pop("backends")  # the branch under test is the reference side; training is tested above
    params["dataset"]["stride"] = 1  # the stand-in DFT files are short (the test split of one run)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    run_nf("run", str(ROOT / "main.nf"), "-profile", "test,local", "--dft", str(tmp_path / "vasp_*.extxyz"),
           "--params_yaml", str(tmp_path / "params.yaml"), "--outdir", str(tmp_path / "results"), cwd=tmp_path)
    names = {r["name"].split(" ")[0].split(":")[-1] for r in trace(tmp_path / "results")}
    assert "IMPORT" in names and "REFERENCE_MD" not in names and "BUILD" not in names
    ds = xr.open_dataset(tmp_path / "results/aggregate/results.nc")
    assert list(ds.n_ion.values) == make_plan(ROOT / "params/test.yaml")["charges"]
    assert np.isfinite(ds.rho_O.sel(model="reference")).all()
