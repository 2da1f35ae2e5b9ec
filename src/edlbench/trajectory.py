"""Trajectories: read any ASE trajectory into arrays; write our compact NetCDF trajectory.

Our format is the AMBER NetCDF trajectory convention in the 64-bit-offset NetCDF3 format that
the convention requires (readable by ASE's ``NetCDFTrajectory``, VMD, cpptraj, MDAnalysis):
``coordinates`` (frame, atom, spatial) float32 Å,
``cell_lengths`` Å, ``cell_angles`` degrees, ``time`` ps, ``atom_types`` atomic numbers, plus
per-frame thermo variables and the run's metadata as the JSON global attribute
``edlbench_info``. Frames are appended and flushed as the run goes, so a killed run keeps
every frame written so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import netCDF4
import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from ase.geometry import cell_to_cellpar, cellpar_to_cell
from ase.io import read

from edlbench import __version__
from edlbench.errors import InputError, brief
from edlbench.files import existing


@dataclass
class Frames:
    """A trajectory as arrays: positions (F, N, 3) Å, cells (F, 3, 3) Å, times (F,) ps or None."""

    path: Path
    symbols: list[str]
    positions: np.ndarray
    cells: np.ndarray
    times: np.ndarray | None
    info: dict = field(default_factory=dict)
    labels: list[tuple[float, np.ndarray]] | None = None  # REF_energy eV, REF_forces eV/Å per frame

    def __len__(self) -> int:
        return len(self.positions)


def _is_ours(path: Path) -> bool:
    return path.suffix == ".nc"


REQUIRED = ("atom_types", "coordinates", "cell_lengths", "cell_angles")


def _check_complete(path: Path) -> None:
    """netCDF-C reads a NetCDF3 file cut short (an interrupted copy, a full disk) as zeros without
    complaint; scipy's reader maps every variable at open and refuses a file that ends early.
    (HDF5-based NetCDF4 files detect truncation themselves.)"""
    import scipy.io

    with open(path, "rb") as f:
        if f.read(3) != b"CDF":
            return
    try:
        with scipy.io.netcdf_file(path, mmap=True):
            pass
    except ValueError:
        raise InputError(f"{path}: truncated trajectory (the file ends before its last frame: an interrupted copy or write?)") from None


def _read_ours(path: Path, index: slice) -> Frames:
    try:
        nc = netCDF4.Dataset(path)
    except OSError as exc:
        raise InputError(f"{path}: not a readable NetCDF trajectory ({exc.strerror or exc})") from None
    with nc:
        missing = [name for name in REQUIRED if name not in nc.variables]
        if missing:
            raise InputError(f"{path}: not an AMBER-convention trajectory (missing variable {missing[0]!r})")
        try:
            info = json.loads(nc.getncattr("edlbench_info")) if "edlbench_info" in nc.ncattrs() else {}
        except json.JSONDecodeError:
            raise InputError(f"{path}: damaged run metadata (attribute edlbench_info is not JSON)") from None
        if info.get("status") == "running":
            raise InputError(f"{path}: incomplete trajectory — the run that writes it was interrupted or is still going (status 'running')")
        _check_complete(path)
        try:
            frame_ids = np.arange(nc.variables["coordinates"].shape[0])[index]
            numbers = np.asarray(nc.variables["atom_types"][:])
            pos = np.ma.filled(nc.variables["coordinates"][index].astype(float), np.nan)
            lengths = np.ma.filled(nc.variables["cell_lengths"][index].astype(float), np.nan)
            angles = np.ma.filled(nc.variables["cell_angles"][index].astype(float), np.nan)
            times = np.asarray(nc.variables["time"][index], dtype=float) if "time" in nc.variables else None
        except (OSError, RuntimeError, IndexError, ValueError) as exc:
            raise InputError(f"{path}: damaged trajectory ({brief(exc)})") from None
    if pos.ndim != 3 or pos.shape[1:] != (len(numbers), 3) or len(lengths) != len(pos) or len(angles) != len(pos):
        raise InputError(f"{path}: inconsistent trajectory arrays (coordinates {pos.shape}, {len(numbers)} atom types, {len(lengths)} cells)")
    if np.any(numbers < 1) or np.any(numbers >= len(chemical_symbols)):
        raise InputError(f"{path}: atom_types holds values that are not atomic numbers")
    bad = np.flatnonzero(~np.isfinite(pos).all(axis=(1, 2)) | ~np.isfinite(lengths).all(1) | ~np.isfinite(angles).all(1))
    if len(bad):
        raise InputError(f"{path}: frame {frame_ids[bad[0]]} has non-finite positions or cell")
    cells = np.array([cellpar_to_cell(np.r_[l, a]) for l, a in zip(lengths, angles)]).reshape(-1, 3, 3)
    return Frames(path, [chemical_symbols[z] for z in numbers], pos, cells, times, info)


def _read_ase(path: Path, index: slice) -> Frames:
    try:
        images = read(path, index=index)
    except Exception as exc:  # ASE raises many types for unreadable files
        raise InputError(f"{path}: cannot read trajectory ({brief(exc)})") from None
    if not images:
        raise InputError(f"{path}: no frames")
    symbols = images[0].get_chemical_symbols()
    for k, atoms in enumerate(images):
        if atoms.get_chemical_symbols() != symbols:
            raise InputError(f"{path}: frame {k} has different atoms than frame 0 (same atoms in the same order are required)")
        if not atoms.pbc.all():
            raise InputError(f"{path}: frame {k} is not periodic in x, y and z")
        if not np.isfinite(atoms.positions).all() or not np.isfinite(atoms.cell.array).all():
            raise InputError(f"{path}: frame {k} has non-finite positions or cell")
    times = np.array([a.info["time"] for a in images], float) if all("time" in a.info for a in images) else None
    info = {k: v for k, v in images[0].info.items() if isinstance(v, (int, float, str))}
    labels = None
    labelled = ["REF_energy" in a.info and "REF_forces" in a.arrays for a in images]
    if all(labelled):
        labels = [(float(a.info["REF_energy"]), a.arrays["REF_forces"]) for a in images]
    elif any(labelled):
        raise InputError(f"{path}: frame {labelled.index(not labelled[0])} {'lacks' if labelled[0] else 'has'} the REF_energy/REF_forces "
                         f"labels that frame 0 {'has' if labelled[0] else 'lacks'} (label every frame or none)")
    return Frames(
        path,
        symbols,
        np.array([a.positions for a in images]),
        np.array([a.cell.array for a in images]),
        times,
        info,
        labels,
    )


def read_structure(path: str | Path) -> Atoms:
    """The last frame of an ASE-readable file or of our trajectory, or a one-line InputError."""
    path = existing(path, "structure")
    if _is_ours(path):
        last = _read_ours(path, slice(-1, None))
        info = {k: v for k, v in last.info.items() if k in ("ion", "n_ion")}
        return Atoms(last.symbols, positions=last.positions[0], cell=last.cells[0], pbc=True, info=info)
    try:
        atoms = read(path)
    except Exception as exc:  # ASE raises many types for unreadable files
        raise InputError(f"{path}: cannot read structure ({brief(exc)})") from None
    if not atoms.pbc.all() or abs(atoms.cell.volume) < 1e-6:
        raise InputError(f"{path}: the structure is not periodic in x, y and z (a slab with water between its periodic images is needed)")
    if not np.isfinite(atoms.positions).all() or not np.isfinite(atoms.cell.array).all():
        raise InputError(f"{path}: non-finite positions or cell")
    return atoms


def read_frames(path: str | Path, start: int = 0, stop: int | None = None, stride: int = 1,
                allow_empty: bool = False) -> Frames:
    """Frames start:stop:stride of any ASE-readable trajectory or our NetCDF trajectory (with
    `allow_empty`, our trajectory may select no frames; its run info is still read)."""
    path = existing(path, "trajectory")
    index = slice(start, stop, stride)
    frames = _read_ours(path, index) if _is_ours(path) else _read_ase(path, index)
    if len(frames) == 0 and not allow_empty:
        raise InputError(f"{path}: no frames in {start}:{stop}:{stride}")
    return frames


class TrajectoryWriter:
    """Append frames (and per-frame thermo scalars) to an AMBER-convention NetCDF file."""

    def __init__(self, path: str | Path, atoms: Atoms, info: dict, thermo: dict[str, str], resume_at: int | None = None):
        """`thermo` maps a per-frame variable name to its units (e.g. {"temperature": "K"}).
        `resume_at`: continue a file this writer wrote after its first `resume_at` frames (the
        frames it holds after those, written after the restart point, are dropped)."""
        self.path = Path(path)
        kept = {}
        if resume_at is not None:
            with netCDF4.Dataset(self.path) as old:
                kept = {name: old.variables[name][:resume_at] for name in ("coordinates", "cell_lengths", "cell_angles", "time", *thermo)}
        self.nc = netCDF4.Dataset(self.path, "w", format="NETCDF3_64BIT_OFFSET")
        nc = self.nc
        nc.Conventions = "AMBER"
        nc.ConventionVersion = "1.0"
        nc.program = "edlbench"
        nc.programVersion = __version__
        self.set_info(info)
        nc.createDimension("frame", None)
        nc.createDimension("atom", len(atoms))
        nc.createDimension("spatial", 3)
        nc.createDimension("cell_spatial", 3)
        nc.createDimension("cell_angular", 3)
        nc.createVariable("spatial", "S1", ("spatial",))[:] = np.array(list("xyz"), "S1")
        nc.createVariable("atom_types", "i4", ("atom",))[:] = atoms.numbers
        coords = nc.createVariable("coordinates", "f4", ("frame", "atom", "spatial"))
        coords.units = "angstrom"
        nc.createVariable("cell_lengths", "f8", ("frame", "cell_spatial")).units = "angstrom"
        nc.createVariable("cell_angles", "f8", ("frame", "cell_angular")).units = "degree"
        nc.createVariable("time", "f8", ("frame",)).units = "picosecond"
        for name, units in thermo.items():
            nc.createVariable(name, "f8", ("frame",)).units = units
        for name, values in kept.items():
            nc.variables[name][:len(values)] = values
        nc.sync()
        self.n = resume_at or 0

    @staticmethod
    def frames_in(path: str | Path) -> int:
        """Frames in a trajectory this writer wrote (0 if it is missing or unreadable)."""
        try:
            with netCDF4.Dataset(path) as nc:
                return len(nc.dimensions["frame"])
        except (OSError, KeyError):
            return 0

    def set_info(self, info: dict) -> None:
        """(Re)write the run metadata, e.g. the final status."""
        self.nc.edlbench_info = json.dumps(info, default=lambda o: o.item() if hasattr(o, "item") else str(o))

    def append(self, atoms: Atoms, time_ps: float, **thermo: float) -> None:
        i = self.n
        self.nc.variables["coordinates"][i] = atoms.positions
        par = cell_to_cellpar(atoms.cell.array)
        self.nc.variables["cell_lengths"][i] = par[:3]
        self.nc.variables["cell_angles"][i] = par[3:]
        self.nc.variables["time"][i] = time_ps
        for name, value in thermo.items():
            self.nc.variables[name][i] = value
        self.nc.sync()
        self.n += 1

    def close(self) -> None:
        self.nc.close()

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
