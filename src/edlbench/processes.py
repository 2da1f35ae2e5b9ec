"""Child processes (packmol, the packages' training commands): found one way, ended with their parent.

On Linux each child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so
a killed ``edlbench`` step — even by SIGKILL, which runs no clean-up — leaves no orphan behind.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from edlbench.errors import InputError

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**kwargs, "preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else kwargs


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """`subprocess.run` whose child ends with this process."""
    return subprocess.run(args, **_options(kwargs))


def popen(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """`subprocess.Popen` whose child ends with this process."""
    return subprocess.Popen(args, **_options(kwargs))


def executable(name: str, what: str) -> str:
    """The command `name` of this environment: beside the running Python first (a venv's or an
    image's bin/), then on PATH; a missing one is one InputError line saying what provides it."""
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        raise InputError(f"the `{name}` command was not found ({what})")
    return exe
