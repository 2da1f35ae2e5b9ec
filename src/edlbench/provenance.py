"""Provenance attributes stamped on every NetCDF output (DESIGN.md §5)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from importlib import metadata
from pathlib import Path

import edlbench

REPO = Path(edlbench.__file__).resolve().parents[2]
#: Packages of the core whose versions are recorded; each backend's spec adds its own.
CORE_PACKAGES = ("ase", "numpy", "xarray", "netCDF4", "openmm", "pymbar")


def git_commit() -> str:
    """Commit of the edlbench checkout, $EDLBENCH_GIT_COMMIT in images, else 'unknown'."""
    if "EDLBENCH_GIT_COMMIT" in os.environ:
        return os.environ["EDLBENCH_GIT_COMMIT"]
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def lock_hash() -> str:
    """sha256 of the lock file this environment was built from ($EDLBENCH_ENV names it)."""
    env = os.environ.get("EDLBENCH_ENV", "core")
    lock = Path(os.environ.get("EDLBENCH_LOCK", REPO / "containers" / f"{env}.lock"))
    if not lock.is_file():
        return "unknown"
    return f"{env}:sha256:{hashlib.sha256(lock.read_bytes()).hexdigest()[:16]}"


def versions() -> dict[str, str]:
    """Installed versions of the core's and every backend's packages (absent ones left out)."""
    from edlbench.backends import SPECS

    tracked = dict.fromkeys(CORE_PACKAGES + tuple(p for spec in SPECS.values() for p in spec.packages))
    out = {}
    for name in tracked:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def attributes(params: dict | None = None, seed: int | None = None) -> dict[str, str | int]:
    """Global attributes: versions, params (JSON), seed, git commit, lock hash, creation time."""
    attrs: dict[str, str | int] = {
        "edlbench_version": edlbench.__version__,
        "package_versions": json.dumps(versions(), sort_keys=True),
        "params": json.dumps(params or {}, sort_keys=True, default=str),
        "git_commit": git_commit(),
        "lock_hash": lock_hash(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if seed is not None:
        attrs["seed"] = int(seed)
    return attrs
