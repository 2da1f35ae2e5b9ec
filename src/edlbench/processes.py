"""Child processes (packmol, the packages' training commands) that end with their parent.

On Linux each child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so
a killed ``edlbench`` step — even by SIGKILL, which runs no clean-up — leaves no orphan behind.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from typing import Any

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
