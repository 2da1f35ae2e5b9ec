"""Synthetic interface trajectories with known answers (slab at the bottom, liquid above)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from edlbench.build import WATER_ANGLE, WATER_R_OH
from edlbench.contract import ERROR_VARS
from edlbench.profiles import ProfileConfig, equilibrated_profiles
from edlbench.trajectory import Frames

CELL = np.diag([10.0, 10.0, 30.0])
SLAB_TOP = 2.4  # two Au layers at z = 0 and 2.4; the next image's bottom layer is at 30
GAP = CELL[2, 2] - SLAB_TOP


def slab_positions() -> np.ndarray:
    xy = np.stack(np.meshgrid(np.arange(0, 10, 2.5), np.arange(0, 10, 2.5)), -1).reshape(-1, 2)
    return np.concatenate([np.c_[xy, np.zeros(len(xy))], np.c_[xy + 1.25, np.full(len(xy), SLAB_TOP)]])


def water(o: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(…, 3, 3) O, H, H positions of waters at O positions `o` with dipole unit vectors `u`."""
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    helper = np.where(np.abs(u[..., :1]) < 0.9, [1.0, 0, 0], [0, 1.0, 0])
    p = np.cross(u, helper)
    p /= np.linalg.norm(p, axis=-1, keepdims=True)
    half = np.radians(WATER_ANGLE) / 2
    h1 = o + WATER_R_OH * (np.cos(half) * u + np.sin(half) * p)
    h2 = o + WATER_R_OH * (np.cos(half) * u - np.sin(half) * p)
    return np.stack([o, h1, h2], axis=-2)


def frames(o: np.ndarray, u: np.ndarray, ions: np.ndarray | None = None, dt: float = 0.1,
           shift: float = 0.0) -> Frames:
    """Frames from water O positions (F, n, 3) and dipoles (F, n, 3), optional ions (F, k, 3)."""
    n_f = len(o)
    metal = np.broadcast_to(slab_positions(), (n_f, 32, 3))
    w = water(o, u).reshape(n_f, -1, 3)
    parts = [metal, w] + ([ions] if ions is not None else [])
    pos = np.concatenate(parts, axis=1).copy()
    pos[..., 2] += shift
    symbols = ["Au"] * 32 + ["O", "H", "H"] * o.shape[1] + ["Na"] * (0 if ions is None else ions.shape[1])
    return Frames(Path("synthetic.xyz"), symbols, pos, np.broadcast_to(CELL, (n_f, 3, 3)).copy(),
                  np.arange(n_f) * dt, {"ion": "Na"})


def columns(n_frames: int, heights: np.ndarray) -> np.ndarray:
    """O positions (F, 16, 3) on a 4×4 lateral grid (2.5 Å apart) at the given heights above the slab."""
    xy = np.stack(np.meshgrid(np.arange(4) * 2.5 + 0.6, np.arange(4) * 2.5 + 0.6), -1).reshape(-1, 2)
    xy = np.broadcast_to(xy, (n_frames, 16, 2))
    return np.concatenate([xy, (SLAB_TOP + heights)[..., None]], axis=-1)


def profiles_ds(seed: int = 0, spread: float = np.nan, gamma: float = np.nan) -> xr.Dataset:
    """Profiles of a random synthetic trajectory (a finished run, no run coordinates yet; its MD took
    360 s per ps on 2 CPUs) with committee spread `spread` eV/Å and mean maximum γ `gamma` (a tenth of it the fraction above 1),
    each with a standard error of a twentieth of it."""
    rng = np.random.default_rng(seed)
    h = rng.uniform(2.0, 10.0, (20, 16))
    ds = equilibrated_profiles(frames(columns(20, h), rng.normal(size=(20, 16, 3))), ProfileConfig(layer_cutoff=4.0))
    uncertainty = {"committee_spread": spread, "gamma_max": gamma, "gamma_above_1": gamma / 10}
    return ds.assign(status=((), np.int8(0)), status_step=((), -1), md_seconds_per_ps=((), 360.0), md_cpus=((), 2.0),
                     **{k: ((), v) for k, v in uncertainty.items()},
                     **{f"{k}_sem": ((), v / 20) for k, v in uncertainty.items()})  # errors of a 5 % scatter


def errors_ds(model: str, train_set: str, seed: int, n_ion=(0, 2), gamma: bool = False) -> xr.Dataset:
    """An errors file's dataset with every error equal to seed + 1; with `gamma`, test-frame γ
    rates of 0.05 + n_ion/100 (± a tenth of it) and a mean maximum γ of 0.9 + n_ion/10."""
    n = np.array(n_ion)
    errors = {k: ("n_ion", np.full(len(n), float(seed + 1))) for k in ERROR_VARS if k != "n_frames" and not k.startswith("gamma")}
    if gamma:
        errors |= {"gamma_above_1_test": ("n_ion", 0.05 + n / 100), "gamma_above_1_test_sem": ("n_ion", 0.005 + n / 1000),
                   "gamma_max_test": ("n_ion", 0.9 + n / 10)}
    return xr.Dataset(errors | {"n_frames": ("n_ion", [5] * len(n))}, coords={"n_ion": n, "model": model, "train_set": train_set, "seed": seed})
