r"""Water and ion structure along the surface normal (WatAnalysis conventions).

All heights z are measured from a metal surface plane (mean z of the metal's layer facing the
liquid) into the liquid, in Å; both faces of the slab-between-images cell are used and the
profiles symmetrised (see :mod:`edlbench.interface` for how the planes are found).

Definitions (bins of width Δz, lateral cell area A in Å², N_A Avogadro's number):

- Water density from oxygens, ρ_O(z) = ⟨N_O(z)⟩·M_w / (N_A·A·Δz) in g/cm³, M_w = 18.015 g/mol
  (so bulk water reads ≈ 1); ρ_H(z) the same with ⟨N_H⟩·M_w/2; the mass density
  ρ_water(z) = ⟨N_O·M_O + N_H·M_H⟩ / (N_A·A·Δz).
- Ions: number density ρ_ion(z) = ⟨N_ion(z)⟩/(A·Δz) in nm⁻³ and molar concentration
  c_ion(z) = ρ_ion/N_A in mol/L; closest approach = min over frames and ions of the height.
- Dipole: μ = r_OH1 + r_OH2 (bisector; minimum-image O–H vectors); cos θ = μ·n/|μ| with n
  the normal into the liquid (+z on the lower face, −z on the upper face);
  ⟨cos θ⟩(z) = Σ cos θ / N over waters whose O lies in the bin.
- Symmetrisation: each face is binned by its own height; densities are (ρ_low + ρ_up)/2, and
  ⟨cos θ⟩ pools both faces' molecules (the count-weighted form of (f − f_mirrored)/2).
- First layer: heights in [0, z₁) with z₁ the first minimum of ρ_O after its first peak
  (ρ_O smoothed over 0.5 Å; a given cutoff overrides). P(cos θ) is the normalised histogram
  of cos θ of first-layer waters (∫P d cos θ = 1); ⟨cos θ⟩₁ its mean over all first-layer
  waters of all frames.
- Dipole autocorrelation C(τ) = ⟨μ̂(t₀)·μ̂(t₀+τ)⟩ over molecules that stay in the first
  layer continuously from t₀ to t₀+τ (continuous-residence variant), C(0) = 1.
- Errors: frames split into contiguous blocks; each profile's standard error is
  std(block values, ddof=1)/√n_blocks (``*_sem`` variables); ACF blocks are by time origin.
- Equilibration (:mod:`edlbench.statistics`, pymbar's ``timeseries``): per-frame series of the
  first-layer ⟨cos θ⟩, the first-layer water count (per face) and the mean ion height give each a
  detected start; the profiles are those of the frames after the latest of them
  (``t_equilibration``; at most half the run: a later start leaves the run unconverged, and its
  second half is analysed), with the layer bound of the whole run. The scalars ``cos_theta_layer1``,
  ``layer1_waters`` and ``ion_height`` carry the error std·√(g/N) of their series and ``n_eff_*``
  its effectively independent samples; ``converged`` is 1 when every series is (start in the
  first half, ≥ 20 independent samples, halves agreeing within 2σ).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import numpy as np
import xarray as xr
from ase.data import atomic_masses, atomic_numbers
from ase.units import _Nav
from pydantic import Field

from edlbench.config import settings
from edlbench.contract import STATUS, run_coords, write
from edlbench.errors import InputError
from edlbench.geometry import IONS, METALS, check_slab_cell, lateral_area, lateral_period, metal_symbol, surface_charge, wrap_vectors
from edlbench.interface import heights, surface_planes, water_hydrogens
from edlbench.statistics import analyse, equilibration
from edlbench.trajectory import Frames, read_frames
from edlbench.uncertainty import read_series

M_O, M_H = atomic_masses[8], atomic_masses[1]
M_WATER = M_O + 2 * M_H  # g/mol
#: profiles on the z grid
PROFILES_Z = ("rho_O", "rho_H", "rho_water", "cos_theta", "rho_ion", "c_ion")


@settings
class ProfileConfig:
    """Analysis parameters: lengths Å, times ps."""

    dz: Annotated[float, Field(gt=0, le=1.0, description="bin width, Å")] = 0.1
    z_max: Annotated[float, Field(gt=0, description="profile range from the surface plane, Å")] = 10.0
    n_cos: Annotated[int, Field(ge=2, description="bins of cos θ in [-1, 1]")] = 40
    n_blocks: Annotated[int, Field(ge=2, description="contiguous blocks for standard errors")] = 10
    layer_cutoff: Annotated[float | None, Field(gt=0, description="first-layer bound, Å (default: first minimum of ρ_O)")] = None
    acf_max_lag: Annotated[float, Field(gt=0, description="longest lag of the dipole autocorrelation, ps")] = 5.0
    frame_interval: Annotated[float | None, Field(gt=0, description="ps between frames (default: from the trajectory)")] = None
    metal: Annotated[str | None, Field(description="electrode element (default: the metal present)")] = None
    ion: Annotated[str | None, Field(description="counter-ion element (default: from the trajectory, else Na)")] = None
    detect_equilibration: Annotated[bool, Field(description="discard the transient pymbar detects (false: analyse every frame)")] = True

    def __post_init__(self) -> None:
        if self.metal is not None and (self.metal not in METALS or self.metal in IONS):
            raise ValueError(f"metal={self.metal!r} is not a metal element")
        if self.ion is not None and self.ion not in IONS:
            raise ValueError(f"ion={self.ion!r} is not a known counter-ion ({', '.join(sorted(IONS))})")
        if self.z_max < 2 * self.dz:
            raise ValueError(f"z_max={self.z_max} Å must span at least two bins of dz={self.dz} Å")


def _block_ids(n_frames: int, n_blocks: int) -> np.ndarray:
    return np.repeat(np.arange(n_blocks), [len(b) for b in np.array_split(np.arange(n_frames), n_blocks)])


def _per_frame_hist(idx: np.ndarray, valid: np.ndarray, n_bins: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Histogram (F, n_bins) of integer bin indices idx (F, n) where valid."""
    n_f = len(idx)
    flat = (idx + n_bins * np.arange(n_f)[:, None])[valid]
    w = None if weights is None else weights[valid]
    return np.bincount(flat, weights=w, minlength=n_f * n_bins).reshape(n_f, n_bins).astype(float)


def _block_ratio(num: np.ndarray, den: np.ndarray, blocks: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Σnum/Σden over all frames and its block standard error; rows of num/den are frames."""
    bn = np.stack([np.bincount(blocks, weights=c, minlength=n_blocks) for c in num.T], axis=1)
    bd = np.stack([np.bincount(blocks, weights=c, minlength=n_blocks) for c in den.T], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = num.sum(0) / den.sum(0)
        per_block = bn / bd
    n_ok = np.isfinite(per_block).sum(0)
    sem = np.full(value.shape, np.nan)
    ok = n_ok >= 2
    sem[ok] = np.nanstd(per_block[:, ok], axis=0, ddof=1) / np.sqrt(n_ok[ok])
    return value, sem


def _frame_interval(frames: Frames, cfg: ProfileConfig) -> float:
    if cfg.frame_interval is not None:
        return cfg.frame_interval
    if frames.times is not None and len(frames.times) > 1:
        return float(np.median(np.diff(frames.times)))
    return 1.0


def first_minimum(z: np.ndarray, rho: np.ndarray, smooth: float = 0.5) -> float:
    """Height (Å) of the first minimum of ρ after its first peak, on a `smooth`-Å boxcar."""
    dz = z[1] - z[0]
    w = max(1, int(round(smooth / dz)))
    s = np.convolve(np.nan_to_num(rho), np.ones(w) / w, mode="same")
    peak = int(np.argmax(s))
    for i in range(peak + 1, len(s) - 1):
        if s[i] <= s[i - 1] and s[i] < s[i + 1] and s[i] < 0.8 * s[peak]:
            return float(z[i])
    window = (z > z[peak]) & (z <= z[peak] + 3.0)
    return float(z[window][np.argmin(s[window])]) if window.any() else float(z[-1])


def _dipole_acf(unit: np.ndarray, inlayer: np.ndarray, max_lag: int, blocks: np.ndarray, n_blocks: int):
    """C(τ) for τ = 0..max_lag frames with continuous residence; value and block SEM."""
    n_f = len(unit)
    stay = np.zeros(inlayer.shape, dtype=np.int64)  # frames in the layer from t onward
    run = np.zeros(inlayer.shape[1], dtype=np.int64)
    for t in range(n_f - 1, -1, -1):
        run = (run + 1) * inlayer[t]
        stay[t] = run
    num = np.zeros((n_f, max_lag + 1))
    den = np.zeros((n_f, max_lag + 1))
    for tau in range(max_lag + 1):
        valid = stay[: n_f - tau] > tau
        dot = np.einsum("twi,twi->tw", unit[: n_f - tau], unit[tau:])
        num[: n_f - tau, tau] = (dot * valid).sum(1)
        den[: n_f - tau, tau] = valid.sum(1)
    return _block_ratio(num, den, blocks, n_blocks)


def _species(frames: Frames, cfg: ProfileConfig) -> tuple[str, str]:
    """The electrode metal and the ion element of a trajectory."""
    where = str(frames.path)
    metal = metal_symbol(frames.symbols, where, cfg.metal)
    ion = cfg.ion or frames.info.get("ion")
    if ion is None:
        present = sorted(set(frames.symbols) & IONS - {metal})
        ion = present[0] if present else "Na"
    if ion not in atomic_numbers:
        raise InputError(f"{where}: unknown ion element {ion!r}")
    return metal, ion


def compute_profiles(frames: Frames, cfg: ProfileConfig = ProfileConfig()) -> xr.Dataset:
    """Profiles of one trajectory as an xarray Dataset (dims z, cos_bin, lag)."""
    where = str(frames.path)
    for f in (0, len(frames) - 1):
        check_slab_cell(frames.cells[f], f"{where}: frame {f}")
    symbols = np.array(frames.symbols)
    metal, ion = _species(frames, cfg)
    o_idx, h_idx = np.flatnonzero(symbols == "O"), np.flatnonzero(symbols == "H")
    ion_idx, m_idx = np.flatnonzero(symbols == ion), np.flatnonzero(symbols == metal)
    if len(o_idx) == 0:
        raise InputError(f"{where}: no water (no O atoms)")
    other = set(symbols) - {"O", "H", metal, ion}
    if other:
        raise InputError(f"{where}: unexpected elements {sorted(other)} (metal {metal}, ion {ion}, water)")

    pos, cells = frames.positions, frames.cells
    n_f = len(frames)
    lz = cells[:, 2, 2]
    area = np.array([lateral_area(c) for c in cells])
    z_low, z_up = surface_planes(pos[:, m_idx, 2], lz, where)
    gap = z_up - z_low
    hyd = water_hydrogens(pos, cells, o_idx, h_idx, where)

    n_z = int(round(cfg.z_max / cfg.dz))
    z = (np.arange(n_z) + 0.5) * cfg.dz
    blocks = _block_ids(n_f, min(cfg.n_blocks, n_f))
    n_blocks = int(blocks.max()) + 1
    norm = 1.0 / (_Nav * area * cfg.dz * 1e-24)  # (F,) count → g/cm³ per g/mol

    def sym_counts(idx_atoms: np.ndarray, weights: np.ndarray | None = None):
        """Per-frame counts (F, n_z) of atoms by height, averaged over the two faces."""
        h_low = heights(pos[:, idx_atoms, 2], z_low, lz)
        total = 0.0
        for h, w in ((h_low, weights), (gap[:, None] - h_low, None if weights is None else -weights)):
            inside = (h >= 0) & (h < gap[:, None])
            b = np.floor(h / cfg.dz).astype(np.int64)
            total = total + _per_frame_hist(np.clip(b, 0, n_z - 1), inside & (b < n_z), n_z, w)
        return total, h_low

    count_o, h_o = sym_counts(o_idx)
    count_h, _ = sym_counts(h_idx)
    ones = np.ones((n_f, n_z))
    out = {}

    def store(name: str, num: np.ndarray, den: np.ndarray, dims=("z",)):
        value, sem = _block_ratio(num, den, blocks, n_blocks)
        out[name] = (dims, value)
        out[f"{name}_sem"] = (dims, sem)

    store("rho_O", count_o / 2 * M_WATER * norm[:, None], ones)
    store("rho_H", count_h / 2 * (M_WATER / 2) * norm[:, None], ones)
    store("rho_water", (count_o * M_O + count_h * M_H) / 2 * norm[:, None], ones)

    # Dipoles: minimum-image O–H vectors of each water's own two H.
    rows = np.arange(n_f)[:, None, None]
    oh = pos[rows, hyd] - pos[:, o_idx, None, :]
    oh = wrap_vectors(oh, cells[:, None, None])
    mu = oh.sum(axis=2)
    unit = mu / np.linalg.norm(mu, axis=2, keepdims=True)
    cos_sum, _ = sym_counts(o_idx, weights=unit[..., 2])
    store("cos_theta", cos_sum, count_o)

    rho_o = out["rho_O"][1]
    cutoff = cfg.layer_cutoff if cfg.layer_cutoff is not None else first_minimum(z, rho_o)
    near_low = h_o <= gap[:, None] / 2
    h_face = np.where(near_low, h_o, gap[:, None] - h_o)
    cos_face = np.where(near_low, unit[..., 2], -unit[..., 2])
    inlayer = h_face < cutoff
    edges = np.linspace(-1.0, 1.0, cfg.n_cos + 1)
    cos_idx = np.clip(np.digitize(cos_face, edges) - 1, 0, cfg.n_cos - 1)
    hist = _per_frame_hist(cos_idx, inlayer, cfg.n_cos)
    dcos = 2.0 / cfg.n_cos
    store("p_cos_theta_layer1", hist, np.repeat(inlayer.sum(1, keepdims=True) * dcos, cfg.n_cos, axis=1), ("cos_bin",))

    value, sem = _block_ratio((cos_face * inlayer).sum(1, keepdims=True), inlayer.sum(1, keepdims=True), blocks, n_blocks)
    out["cos_theta_layer1"], out["cos_theta_layer1_sem"] = ((), value[0]), ((), sem[0])
    with np.errstate(invalid="ignore"):
        out["series_cos_theta_layer1"] = ("frame", (cos_face * inlayer).sum(1) / inlayer.sum(1))
    out["series_layer1_waters"] = ("frame", inlayer.sum(1) / 2.0)

    dt = _frame_interval(frames, cfg)
    max_lag = int(min(n_f // 2, round(cfg.acf_max_lag / dt)))
    acf, acf_sem = _dipole_acf(unit, inlayer, max_lag, blocks, n_blocks)
    out["dipole_acf"], out["dipole_acf_sem"] = ("lag", acf), ("lag", acf_sem)

    if len(ion_idx):
        count_i, h_i = sym_counts(ion_idx)
        per_nm3 = 1e3 / (area * cfg.dz)
        store("rho_ion", count_i / 2 * per_nm3[:, None], ones)
        closest = float(np.minimum(h_i, gap[:, None] - h_i).min())
        out["series_ion_height"] = ("frame", np.minimum(h_i, gap[:, None] - h_i).mean(1))
    else:
        out["rho_ion"], out["rho_ion_sem"] = ("z", np.zeros(n_z)), ("z", np.zeros(n_z))
        closest = np.nan
    out["c_ion"] = ("z", out["rho_ion"][1] * 1e24 / _Nav)
    out["c_ion_sem"] = ("z", out["rho_ion_sem"][1] * 1e24 / _Nav)
    out["ion_closest_approach"] = ((), closest)
    out["layer1_cutoff"] = ((), cutoff)
    out["gap"] = ((), float(gap.mean()))
    out["lateral_period"] = ((), lateral_period(cells[0]))
    out["n_frames"] = ((), n_f)
    out["time_ps"] = ((), float(n_f * dt))
    coords = {
        "z": z,
        "cos_bin": 0.5 * (edges[1:] + edges[:-1]),
        "lag": np.arange(max_lag + 1) * dt,
    }
    ds = xr.Dataset(out, coords=coords)
    ds.attrs.update(metal=metal, ion=ion, n_blocks=n_blocks, dz=cfg.dz)
    return ds



#: per-frame series of compute_profiles (dim "frame") whose equilibration and errors are analysed
SERIES = ("cos_theta_layer1", "layer1_waters", "ion_height")
#: the scalars equilibrated_profiles adds from them
SERIES_STATS = ("n_eff_cos_theta_layer1", "layer1_waters", "layer1_waters_sem", "n_eff_layer1_waters",
                "ion_height", "ion_height_sem", "n_eff_ion_height")


def equilibrated_profiles(frames: Frames, cfg: ProfileConfig = ProfileConfig()) -> xr.Dataset:
    """compute_profiles of the frames after the detected transient (all frames with
    cfg.detect_equilibration false), with the series' equilibrated means, errors, N_eff and the
    run's convergence flag; the per-frame series themselves are not kept."""
    full = compute_profiles(frames, cfg)
    series = {name: full[f"series_{name}"].values for name in SERIES if f"series_{name}" in full}
    t0 = max(equilibration(x[np.isfinite(x)])[0] for x in series.values()) if cfg.detect_equilibration else 0
    t0 = min(t0, len(frames) // 2)  # a later start leaves the run unconverged; its second half is analysed
    ds = full
    if t0:
        kept = replace(frames, positions=frames.positions[t0:], cells=frames.cells[t0:],
                       times=None if frames.times is None else frames.times[t0:], labels=None)
        ds = compute_profiles(kept, replace(cfg, layer_cutoff=float(full.layer1_cutoff), frame_interval=_frame_interval(frames, cfg)))
    ds = ds.drop_dims("frame")
    stats = {name: analyse(x, t0) for name, x in series.items()}
    for name in SERIES:
        s = stats.get(name)
        ds[f"n_eff_{name}"] = ((), s.n_eff if s else np.nan)
        if name == "cos_theta_layer1":
            ds["cos_theta_layer1_sem"] = ((), s.sem)
        else:
            ds[name], ds[f"{name}_sem"] = ((), s.mean if s else np.nan), ((), s.sem if s else np.nan)
    ds["t_equilibration"] = ((), float(t0 * _frame_interval(frames, cfg)))
    ds["converged"] = ((), np.int8(all(s.converged for s in stats.values())))
    return ds


def empty_profiles(frames: Frames, cfg: ProfileConfig = ProfileConfig()) -> xr.Dataset:
    """The variables of :func:`compute_profiles`, all NaN, for a run that stopped as unstable
    before its first frame (so the aggregate records the run instead of losing the pipeline)."""
    metal, ion = _species(frames, cfg)
    z = (np.arange(int(round(cfg.z_max / cfg.dz))) + 0.5) * cfg.dz
    edges = np.linspace(-1.0, 1.0, cfg.n_cos + 1)
    coords = {"z": z, "cos_bin": 0.5 * (edges[1:] + edges[:-1]), "lag": [0.0]}
    dims = {**{name: "z" for name in PROFILES_Z}, "p_cos_theta_layer1": "cos_bin", "dipole_acf": "lag"}
    out = {}
    for name, dim in dims.items():
        out[name] = out[f"{name}_sem"] = (dim, np.full(len(coords[dim]), np.nan))
    for name in ("cos_theta_layer1", "ion_closest_approach", "layer1_cutoff", "gap", "lateral_period", "t_equilibration", *SERIES_STATS):
        out[name] = ((), np.nan)
    out["cos_theta_layer1_sem"] = ((), np.nan)
    out["n_frames"], out["time_ps"], out["converged"] = ((), 0), ((), 0.0), ((), np.int8(0))
    ds = xr.Dataset(out, coords=coords)
    ds.attrs.update(metal=metal, ion=ion, n_blocks=0, dz=cfg.dz)
    return ds


#: profiles.nc's uncertainty scalar -> the per-frame series of the trajectory it is the mean of
UNCERTAINTY = {"committee_spread": "force_deviation_max", "gamma_max": "gamma_max", "gamma_above_1": "gamma_above_1"}


def profiles_file(trajectory: str | Path, output: str | Path, cfg: ProfileConfig, model: str,
                  train_set: str, seed: int, start: int = 0, stride: int = 1, params: dict | None = None,
                  replica: int = 0) -> Path:
    """Analyse `trajectory` and write a contract profiles.nc (n_ion, σ and status from the run)."""
    frames = read_frames(trajectory, start=start, stride=stride, allow_empty=True)
    if len(frames) == 0 and frames.info.get("status") != "unstable":
        raise InputError(f"{trajectory}: no frames in {start}::{stride}")
    ds = equilibrated_profiles(frames, cfg) if len(frames) else empty_profiles(frames, cfg)
    n_ion = int(sum(s == ds.attrs["ion"] for s in frames.symbols))
    sigma = surface_charge(n_ion, lateral_area(frames.cells[0])) if len(frames) else frames.info["sigma"]
    ds["status"] = ((), np.int8(STATUS[frames.info.get("status", "ok")]))
    ds["status_step"] = ((), int(frames.info.get("status_step", -1)))
    ds["md_seconds_per_ps"] = ((), float(frames.info.get("seconds_per_ps", np.nan)))  # NaN: not measured (the reference's)
    ds["md_cpus"] = ((), float(frames.info.get("cpus", np.nan)))
    for name, series in UNCERTAINTY.items():  # NaN: not computed for this run (no committee, no γ of its own)
        values = read_series(Path(trajectory), series, start, stride)
        s = analyse(values, t0=0) if values is not None and np.isfinite(values).any() else None  # whole run, correlated frames
        ds[name], ds[f"{name}_sem"] = ((), s.mean if s else np.nan), ((), s.sem if s else np.nan)
    ds = run_coords(ds, model, train_set, n_ion, sigma, seed, replica)
    return write(ds, output, "profiles", params={"profiles": asdict(cfg), **(params or {})}, seed=seed)
