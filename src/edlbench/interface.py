"""Interface geometry per frame: metal surface planes and water topology, vectorised over frames.

Surface planes. Metal z coordinates are wrapped into [0, L_z); the largest circular gap
between sorted metal heights is the liquid. The atoms within ``tol`` (Å) below the gap's
lower edge form the top layer of the slab (the *lower face* of the liquid); those within
``tol`` above its upper edge form the bottom layer of the next periodic image (the *upper
face*). Each plane is the mean z of its layer. The heights of any atom above the lower face
and below the upper face are h_low = (z − z_low) mod L_z and h_up = D − h_low, with
D = z_up − z_low the plane-to-plane liquid thickness.

Water topology. Every H is assigned to its nearest O (minimum image); every O must own exactly
two H within ``R_OH_MAX`` in every frame, otherwise the frame does not hold intact waters and
an error names it. Topology is re-assigned in every frame (a proton hop is caught, not
silently averaged).
"""

from __future__ import annotations

import numpy as np

from edlbench.errors import InputError
from edlbench.geometry import wrap_vectors

R_OH_MAX = 1.3  # Å, longest O–H bond accepted as intact water
LAYER_TOL = 1.4  # Å, metal atoms within this height of a face belong to its layer


def surface_planes(z_metal: np.ndarray, lz: np.ndarray, where: str, tol: float = LAYER_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Heights (F,) of the lower and upper faces of the liquid, z_up > z_low, in Å."""
    zm = np.mod(z_metal, lz[:, None])
    order = np.sort(zm, axis=1)
    gaps = np.diff(np.concatenate([order, order[:, :1] + lz[:, None]], axis=1), axis=1)
    k = np.argmax(gaps, axis=1)
    rows = np.arange(len(zm))
    if np.any(gaps[rows, k] < 2 * tol):
        f = int(np.argmax(gaps[rows, k] < 2 * tol))
        raise InputError(f"{where}: frame {f}: no liquid gap between metal layers (largest gap {gaps[f, k[f]]:.2f} Å)")
    lo_edge = order[rows, k]
    hi_edge = lo_edge + gaps[rows, k]
    below = np.mod(lo_edge[:, None] - zm, lz[:, None])
    above = np.mod(zm - hi_edge[:, None] + lz[:, None], lz[:, None])
    in_low, in_up = below < tol, above < tol
    z_low = lo_edge - (below * in_low).sum(1) / in_low.sum(1)
    z_up = hi_edge + (above * in_up).sum(1) / in_up.sum(1)
    return z_low, z_up


def heights(z: np.ndarray, z_low: np.ndarray, lz: np.ndarray) -> np.ndarray:
    """Height (F, n) above the lower face, in [0, L_z), Å."""
    return np.mod(z - z_low[:, None], lz[:, None])


def _assign(pos: np.ndarray, cells: np.ndarray, o_idx: np.ndarray, h_idx: np.ndarray, where: str, f0: int) -> np.ndarray:
    """Full nearest-O search for frames `pos` (C, N, 3): H indices (C, n_O, 2) or InputError."""
    n_o = len(o_idx)
    d = wrap_vectors(pos[:, h_idx, None, :] - pos[:, None, o_idx, :], cells[:, None, None])
    r2 = np.einsum("fhoi,fhoi->fho", d, d)
    owner = np.argmin(r2, axis=2)
    rmin = np.sqrt(np.take_along_axis(r2, owner[..., None], axis=2)[..., 0])
    bad = rmin > R_OH_MAX
    if bad.any():
        f, h = np.argwhere(bad)[0]
        raise InputError(f"{where}: frame {f0 + f}: H atom {h_idx[h]} is {rmin[f, h]:.2f} Å from the nearest O (not an intact water)")
    offset = owner + n_o * np.arange(len(pos))[:, None]
    counts = np.bincount(offset.ravel(), minlength=len(pos) * n_o).reshape(len(pos), n_o)
    if np.any(counts != 2):
        f, o = np.argwhere(counts != 2)[0]
        raise InputError(f"{where}: frame {f0 + f}: O atom {o_idx[o]} has {counts[f, o]} H within {R_OH_MAX} Å (not an intact water)")
    return h_idx[np.argsort(owner, axis=1, kind="stable")].reshape(len(pos), n_o, 2)


def water_hydrogens(positions: np.ndarray, cells: np.ndarray, o_idx: np.ndarray, h_idx: np.ndarray,
                    where: str) -> np.ndarray:
    """Indices (F, n_O, 2) of the two H of every water O in every frame.

    The full nearest-O search runs on frame 0; every frame then checks that each O still holds
    its two H within R_OH_MAX, and frames that fail are searched again in full (a proton hop is
    re-assigned, a broken water is an error). Within R_OH_MAX an H can only be mis-assigned if it
    is that close to two O at once (O–O < 2.6 Å), which intact liquid water never shows.
    """
    n_f, n_o, n_h = len(positions), len(o_idx), len(h_idx)
    if n_h != 2 * n_o:
        raise InputError(f"{where}: {n_o} O and {n_h} H atoms are not intact waters (need 2 H per O)")
    first = _assign(positions[:1], cells[:1], o_idx, h_idx, where, 0)[0]
    out = np.broadcast_to(first, (n_f, n_o, 2)).copy()
    bond = wrap_vectors(positions[:, first] - positions[:, o_idx, None], cells[:, None, None])
    r = np.linalg.norm(bond, axis=-1)
    stale = np.flatnonzero((r > R_OH_MAX).any(axis=(1, 2)))
    for f in stale:
        out[f] = _assign(positions[f:f + 1], cells[f:f + 1], o_idx, h_idx, where, int(f))[0]
    return out
