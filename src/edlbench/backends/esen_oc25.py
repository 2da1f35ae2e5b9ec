"""eSEN trained on Open Catalyst 2025 (OC25), zero-shot: a user-supplied local fairchem checkpoint,
no training here. Use the energy-conserving ``esen-sm-conserving-all-oc25`` for MD (the
direct-force ``esen-md-direct-all-oc25`` is not energy-conserving). The checkpoints are gated on
the Hugging Face hub (facebook/OC25): accept the licence there, download the ``.pt`` file yourself
and give its absolute path as ``backends.esen_oc25.checkpoint`` in the params file. It is loaded
offline with fairchem's ``load_predict_unit`` and run through ``FAIRChemCalculator`` with task
``oc25``, the same path as any local checkpoint (:func:`edlbench.backends.esen.load`).

``edlbench plan`` leaves the model out, with the reason recorded, when the file is missing, so
every other model still runs; ``train`` (the pipeline's "pretrained" training set) only checks
that the checkpoint loads and has the task, and links it into the model folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from edlbench.backends import esen
from edlbench.config import settings
from edlbench.errors import InputError

TASK = "oc25"


@settings
class Options:
    """``backends.esen_oc25``: the user's checkpoint (null: the plan leaves the backend out, with the reason)."""

    checkpoint: Annotated[str | None, Field(description="absolute path of esen-sm-conserving-all-oc25.pt")] = None


def checkpoint_problem(checkpoint: str | None) -> str | None:
    """Why `checkpoint` (from the params file) cannot be used, or None if it is a readable file."""
    if not checkpoint:
        return "no checkpoint given (backends.esen_oc25.checkpoint: absolute path of the OC25 eSEN .pt file)"
    path = Path(checkpoint).expanduser()
    if not path.is_absolute():
        return f"checkpoint {checkpoint!r} must be an absolute path"
    if not path.is_file():
        return f"checkpoint {path} does not exist"
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        return f"checkpoint {path} cannot be read ({exc.strerror})"
    return None


def receptive_field(config: dict) -> float:
    """NaN: the checkpoint's architecture is not read from the params file."""
    return float("nan")


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    """No fitting: check that the checkpoint loads offline with the oc25 task; link it as the model."""
    problem = checkpoint_problem(config.get("checkpoint"))
    if problem:
        raise InputError(f"esen_oc25: {problem}")
    source = Path(config["checkpoint"]).expanduser()
    esen.load(source, TASK, "cpu")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / source.name
    link.unlink(missing_ok=True)
    link.symlink_to(source)
    return link


def calculator(model: Path, device: str = "auto", precision: str | None = None):
    return esen.load(model, TASK, device, precision)
