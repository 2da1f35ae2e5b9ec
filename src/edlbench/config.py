"""Parameters: one YAML file with a section per step; declared defaults < file < CLI flags.

Every section is a *settings* class: a frozen dataclass validated by pydantic on construction,
each field declared once with its type, range and meaning (``Annotated[type, Field(ge=…,
description=…)]``). Types are strict (``committee: two`` or ``steps: 2.5`` are errors, not
conversions), unknown keys are errors, and cross-field rules live in ``__post_init__``
(raising ValueError). :func:`make` turns any violation into one :class:`InputError` line that
names the params file, the key and what is wrong. ``edlbench plan`` builds every section
(:func:`check_sections`), so a bad params file fails before the pipeline runs any task.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass as _pydantic_dataclass

from edlbench.errors import InputError
from edlbench.files import existing

T = TypeVar("T")

#: params section -> settings class ("module:Class"); `backends` is checked by edlbench.plan
SECTIONS: dict[str, str | None] = {
    "build": "edlbench.build:BuildConfig",
    "reference": "edlbench.reference.oracle:ReferenceConfig",
    "dataset": "edlbench.dataset:DatasetConfig",
    "import": "edlbench.importer:ImportConfig",
    "profiles": "edlbench.profiles:ProfileConfig",
    "md": "edlbench.md:MDConfig",
    "backends": None,
}

# Field types shared by several sections (one declaration each).
Seed = Annotated[int, Field(ge=0, description="random seed")]
Positive = Annotated[float, Field(gt=0)]
Temperature = Annotated[float, Field(gt=0, le=5000, description="thermostat temperature, K")]
Timestep = Annotated[float, Field(gt=0, le=5, description="MD time step, fs")]
Stride = Annotated[int, Field(ge=1, description="steps (or frames) between saved/used frames")]
MinDistance = Annotated[float, Field(gt=0, description="unstable below this interatomic distance, Å")]
MaxForce = Annotated[float, Field(gt=0, description="unstable above this force component, eV/Å")]
MaxTemperature = Annotated[float, Field(gt=0, description="unstable above this temperature, K")]


class SettingsError(InputError):
    """Invalid settings; `problems` holds (key path, message) pairs to name in context."""

    def __init__(self, cls_name: str, error: ValidationError, values: dict[str, Any]):
        self.values = values
        self.problems = [(tuple(str(x) for x in e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()]
        super().__init__(self.describe(cls_name))

    def _shown(self, loc: tuple[str, ...]) -> str:
        """'=value' for the given value at key path `loc` ('' where there is none)."""
        value: Any = self.values
        for key in loc:
            if not isinstance(value, dict) or key not in value:
                return ""
            value = value[key]
        return f"={value!r}"

    def describe(self, section: str) -> str:
        """The problems on one line, keys prefixed with `section` (and the given value shown)."""
        parts = []
        for loc, msg in self.problems:
            if not loc:
                parts.append(f"{section}: {msg}")
            else:
                parts.append(f"{section}.{'.'.join(loc)}{self._shown(loc)}: {msg}")
        return "; ".join(parts)


def settings(cls: type[T]) -> type[T]:
    """Make `cls` a frozen, strictly typed settings dataclass, validated on construction
    (also by ``dataclasses.replace``); invalid values raise :class:`SettingsError`."""
    config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    cls = _pydantic_dataclass(cls, frozen=True, config=config)
    validated_init = cls.__init__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            validated_init(self, *args, **kwargs)
        except ValidationError as exc:
            raise SettingsError(type(self).__name__, exc, kwargs) from None

    cls.__init__ = __init__
    return cls


def _tuples(value: Any) -> Any:
    """YAML and argparse give lists; settings declare tuples (immutable)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def construct(cls: type[T], values: dict[str, Any], where: str, section: str) -> T:
    """`cls(**values)`, or one InputError line naming `where`, the section and the key."""
    known = list(getattr(cls, "__dataclass_fields__", {}))
    unknown = [k for k in values if k not in known]
    if unknown:
        raise InputError(f"{where}: {section}.{unknown[0]}: unknown parameter (known: {', '.join(known)})")
    values = {k: _tuples(v) for k, v in values.items()}
    try:
        return cls(**values)
    except SettingsError as exc:
        raise InputError(f"{where}: {exc.describe(section)}") from None


def load_params(path: str | Path | None) -> dict[str, Any]:
    """The params mapping of `path` (empty without one); unknown or non-mapping sections are errors."""
    if path is None:
        return {}
    path = existing(path, "params file")
    try:
        params = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(params, dict):
        raise InputError(f"{path}: top level must be a mapping of sections ({', '.join(SECTIONS)})")
    for key, value in params.items():
        if key not in SECTIONS:
            raise InputError(f"{path}: unknown section {key!r} (known: {', '.join(SECTIONS)})")
        if value is not None and not isinstance(value, dict):
            raise InputError(f"{path}: section {key!r} must be a mapping of parameters, got {type(value).__name__}")
    params["_path"] = str(path)
    return params


def make(cls: type[T], params: dict[str, Any], section: str, **overrides: Any) -> T:
    """Settings `cls` from params[section] with the non-None `overrides` (command-line flags) on top."""
    values = dict(params.get(section) or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return construct(cls, values, params.get("_path", "command line"), section)


def section_class(section: str) -> type:
    module, name = SECTIONS[section].split(":")
    return getattr(importlib.import_module(module), name)


def check_sections(params: dict[str, Any]) -> dict[str, Any]:
    """Every settings section of `params` built and validated: {section: settings}."""
    return {s: make(section_class(s), params, s) for s, target in SECTIONS.items() if target}
