"""MLIP backends behind one small interface, registered by name.

A backend is a module with two functions; its ML package is imported only inside them, so the
core installs and runs without any ML package:

- ``train(train, valid, config, workdir, seed) -> Path``: train with the package's own entry
  point on extxyz files labelled ``REF_energy`` (eV) / ``REF_forces`` (eV/Å); returns the model file.
- ``calculator(model, device) -> ase.calculators.calculator.Calculator``: the package's own ASE
  calculator for a trained model (energy eV, forces eV/Å).

``ENVIRONMENTS`` names the environment (``.venvs/<env>``, ``containers/<env>.def``) each needs.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from edlbench.errors import InputError

#: backend name -> (module, environment)
REGISTRY: dict[str, tuple[str, str]] = {
    "mace": ("edlbench.backends.mace", "mace"),
}


def get(name: str) -> ModuleType:
    """The backend module `name`, or a one-line error listing the known ones."""
    if name not in REGISTRY:
        raise InputError(f"unknown backend {name!r} (known: {', '.join(REGISTRY)})")
    module, env = REGISTRY[name]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"backend {name!r} needs the '{env}' environment (.venvs/{env}, make envs): {exc}") from None
