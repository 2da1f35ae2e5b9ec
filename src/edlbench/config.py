"""Parameters: one YAML file with a section per step; dataclass defaults < file < CLI flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from edlbench.errors import InputError
from edlbench.files import existing

T = TypeVar("T")
SECTIONS = ("build", "reference", "dataset", "import", "profiles", "train", "md", "backends", "plan")


def load_params(path: str | Path | None) -> dict[str, Any]:
    """The params mapping of `path` (empty without one); unknown sections are rejected."""
    if path is None:
        return {}
    path = existing(path, "params file")
    try:
        params = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(params, dict):
        raise InputError(f"{path}: top level must be a mapping of sections {SECTIONS}")
    for key in params:
        if key not in SECTIONS:
            raise InputError(f"{path}: unknown section {key!r} (known: {', '.join(SECTIONS)})")
    params["_path"] = str(path)
    return params


def make(cls: type[T], params: dict[str, Any], section: str, **overrides: Any) -> T:
    """Instance of dataclass `cls` from params[section] and non-None `overrides`."""
    where = params.get("_path", "params")
    values = dict(params.get(section) or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in values:
        if key not in fields:
            raise InputError(f"{where}: {section}.{key}: unknown parameter (known: {', '.join(fields)})")
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key, value in values.items():
        default = fields[key].default
        if isinstance(default, tuple) and isinstance(value, list):
            values[key] = tuple(value)
        elif isinstance(default, bool) and not isinstance(value, bool):
            raise InputError(f"{where}: {section}.{key}={value!r}: expected true or false")
        elif isinstance(default, (int, float)) and not isinstance(default, bool) and not isinstance(value, (int, float)):
            raise InputError(f"{where}: {section}.{key}={value!r}: expected a number")
    return cls(**values)
