"""Every environment label has an Apptainer definition that installs exactly its lock file, and a venv rule."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {"%files", "%post", "%environment", "%test", "%labels", "%runscript", "%help", "%setup"}
ENV_LABELS = {"core", "deepmd", "mace", "grace", "fairchem"}


def parse_def(path: Path) -> tuple[dict, dict]:
    """Strict parser: header 'Key: value' lines, then '%section' blocks; anything else is an error."""
    header, sections, current = {}, {}, None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("%"):
            name = line.split()[0]
            assert name in SECTIONS, f"{path}:{n}: unknown section {name}"
            current = sections.setdefault(name, [])
        elif current is not None:
            if line.strip() and not line.lstrip().startswith("#"):
                current.append(line.strip())
        elif line.strip() and not line.startswith("#"):
            key, sep, value = line.partition(":")
            assert sep and key in {"Bootstrap", "From"}, f"{path}:{n}: bad header line {line!r}"
            header[key] = value.strip()
    assert header.get("Bootstrap") and header.get("From"), f"{path}: Bootstrap/From missing"
    return header, sections


def module_labels() -> set[str]:
    labels = set()
    for nf in (ROOT / "modules").glob("*.nf"):
        labels |= set(re.findall(r"label '(\w+)'", nf.read_text()))
    return labels & ENV_LABELS


def cuda_variants() -> dict[str, str]:
    """GPU images (the hpc profile's): <env>-cuda -> env."""
    return {p.stem: p.stem.removesuffix("-cuda") for p in (ROOT / "containers").glob("*-cuda.lock")}


def pins(lock: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), re.M))


def test_cuda_images_pin_what_their_cpu_image_pins():
    """The GPU variant of an environment (core: + OpenMM-CUDA-12; grace: TensorFlow's CUDA build)
    runs the same package versions as the CPU image and the local venv, plus its CUDA pieces."""
    variants = cuda_variants()
    assert set(variants.values()) == {"core", "grace"}
    for name, env in variants.items():
        cpu, gpu = pins(ROOT / "containers" / f"{env}.lock"), pins(ROOT / "containers" / f"{name}.lock")
        renamed = {"tensorflow-cpu": "tensorflow"}
        assert {renamed.get(k, k): v for k, v in cpu.items()}.items() <= gpu.items(), name
        assert (ROOT / "containers" / f"{name}.def").exists() and (ROOT / "containers" / f"{name}.in").exists()
        assert any(k.startswith("nvidia-") for k in gpu) and not any(k.startswith("nvidia-") for k in cpu if env == "grace")
    assert "openmm-cuda-12" in pins(ROOT / "containers/core-cuda.lock")


def test_every_def_installs_exactly_its_lock():
    defs = sorted((ROOT / "containers").glob("*.def"))
    assert defs
    for d in defs:
        env = d.stem
        _, sections = parse_def(d)
        files = " ".join(sections["%files"])
        assert f"containers/{env}.lock" in files
        installs = [ln for ln in sections["%post"] if " install " in ln and ("-r " in ln or " -e " in ln or "/opt/edlbench" in ln)]
        locks = [ln for ln in installs if "-r " in ln]
        assert len(locks) == 1 and locks[0].endswith(f"containers/{env}.lock") and "--require-hashes" in locks[0] and "--no-deps" in locks[0], installs
        assert any("--no-deps" in ln and ln.endswith("/opt/edlbench") for ln in installs), "edlbench installed without its own dependency resolution"
        assert (ROOT / "containers" / f"{env}.lock").read_text().count("==") > 5


def test_every_label_has_image_and_venv():
    config = (ROOT / "nextflow.config").read_text()
    makefile = (ROOT / "Makefile").read_text()
    labels = module_labels()
    assert "core" in labels
    for env in labels:
        assert (ROOT / "containers" / f"{env}.def").exists() and (ROOT / "containers" / f"{env}.lock").exists()
        assert f"withLabel: {env}" in config and f".venvs/{env}/bin" in config
        assert f"image('{env}')" in config or env != "core"
        assert f"$(VENVS)/{env}/.built" in makefile or "$(VENVS)/%/.built" in makefile
    assert "image(meta.env)" in config  # the backend label's image, per run


def test_every_backend_environment_has_image_lock_and_venv():
    """The environments are the lock files (the Makefile builds one venv per lock): core and
    exactly the environments the backend specs name, each with its image definition."""
    from edlbench.backends import SPECS

    config = (ROOT / "nextflow.config").read_text()
    assert "withLabel: ml" in config and ".venvs/${meta.env}/bin" in config and "image(meta.env)" in config
    locks = {p.stem for p in (ROOT / "containers").glob("*.lock")} - set(cuda_variants())
    assert locks == {"core"} | {spec.env for spec in SPECS.values()}
    for env in locks:
        assert (ROOT / "containers" / f"{env}.def").exists()


def test_images_are_named_by_the_version_make_images_builds():
    """Image names carry edlbench's version (never :latest): nextflow.config's manifest version is
    pyproject's, and `make images` builds the <env>-<version>.sif files the config names."""
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    config = (ROOT / "nextflow.config").read_text()
    assert re.search(r"version\s*=\s*'([^']+)'", config).group(1) == version
    assert re.search(r"image_tag\s*=\s*'([^']+)'", config).group(1) == version
    assert ":latest" not in config and "${name}-${params.image_tag}.sif" in config and "${name}:${params.image_tag}" in config
    makefile = (ROOT / "Makefile").read_text()
    assert "containers/%-$(VERSION).sif:" in makefile and "VERSION" in makefile.split("images:")[1].splitlines()[0]


def test_image_workflow_builds_every_definition_with_the_version_tag():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github/workflows/images.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    assert sorted(workflow["jobs"]["build"]["strategy"]["matrix"]["env"]) == sorted(p.stem for p in (ROOT / "containers").glob("*.def"))
    push = next(s["run"] for s in steps if s.get("name") == "Push")
    assert "oras://ghcr.io/" in push and "}:$VERSION" in push and "latest" not in push
