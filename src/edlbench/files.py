"""File helpers: atomic writes with the usual permissions, and checks of inputs and output paths."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edlbench.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def output_dir(path: str | os.PathLike) -> Path:
    """`path` created as a folder if needed; InputError if it exists as something else."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a folder (an output folder is needed)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create the output folder ({exc.strerror})") from None
    return path


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The file gets the permissions a plain ``open(path, "w")`` would give (0666 less the umask), and
    the temporary file is removed if the block fails or the process is stopped by a signal that
    Python turns into an exception (the CLI maps SIGTERM/SIGINT so)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder (an output file name is needed)")
    output_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def existing(path: str | os.PathLike, what: str = "file") -> Path:
    """`path` as a Path, or InputError naming it if it is missing, a folder or unreadable."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a {what}")
    if not path.is_file():
        raise InputError(f"{path}: no such {what}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: {what} is not readable (permission denied)")
    return path


@contextmanager
def staged_folder(outdir: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden temporary folder inside `outdir`; if the block succeeds, move its files into
    `outdir` (replacing older ones), else remove it — so a failed run leaves no half set of files."""
    outdir = output_dir(outdir)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=outdir))
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            os.chmod(item, 0o666 & ~_umask())
            os.replace(item, outdir / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
