"""Profile analysis on synthetic trajectories with known answers."""

import numpy as np
import pytest
from ase.data import atomic_masses
from ase.units import _Nav

from edlbench.errors import InputError
from edlbench.profiles import ProfileConfig, compute_profiles
from synthetic import GAP, columns, frames

M_W = atomic_masses[8] + 2 * atomic_masses[1]
UP = np.array([0.0, 0.0, 1.0])


def test_dipoles_along_normal_lower_face_and_symmetrised():
    rng = np.random.default_rng(0)
    h = rng.uniform(2.0, 8.0, (50, 16))
    # lower-face waters only, dipole along +z (the normal into the liquid there)
    ds = compute_profiles(frames(columns(50, h), np.broadcast_to(UP, (50, 16, 3))), ProfileConfig())
    occupied = np.isfinite(ds.cos_theta.sel(z=slice(2.0, 8.0)))
    assert occupied.sum() > 40
    np.testing.assert_allclose(ds.cos_theta.sel(z=slice(2.0, 8.0))[occupied], 1.0, atol=1e-12)
    # the upper face's waters point along −z (into the liquid from there): symmetrised value is 1
    both = np.concatenate([h[:, :8], GAP - h[:, 8:]], axis=1)
    u = np.where((both < GAP / 2)[..., None], UP, -UP)
    ds2 = compute_profiles(frames(columns(50, both), u), ProfileConfig())
    vals = ds2.cos_theta.values[np.isfinite(ds2.cos_theta.values)]
    np.testing.assert_allclose(vals, 1.0, atol=1e-12)
    # and all dipoles along +z everywhere cancel between the two faces
    ds3 = compute_profiles(frames(columns(50, both), np.broadcast_to(UP, (50, 16, 3))), ProfileConfig())
    assert abs(float(ds3.cos_theta.mean())) < 0.1


def test_uniform_water_gives_flat_analytic_density():
    rng = np.random.default_rng(1)
    n_f = 3000
    h = rng.uniform(0.0, GAP, (n_f, 16))
    u = rng.normal(size=(n_f, 16, 3))
    ds = compute_profiles(frames(columns(n_f, h), u), ProfileConfig(dz=0.5, z_max=10.0, layer_cutoff=3.0))
    analytic = 16 * M_W / (_Nav * 100.0 * GAP * 1e-24)  # g/cm³
    rho = ds.rho_O.values
    assert abs(rho.mean() / analytic - 1) < 0.01
    assert np.all(np.abs(rho - analytic) < 5 * ds.rho_O_sem.values + 0.02 * analytic)
    # H lie within 1 Å of their O, so away from the walls ρ_H reads the same density
    np.testing.assert_allclose(ds.rho_H.sel(z=slice(2, None)).mean(), analytic, rtol=0.01)
    assert abs(float(ds.cos_theta.mean())) < 0.02
    # P(cos θ) of isotropic dipoles is flat at 1/2 and normalised
    p = ds.p_cos_theta_layer1.values
    np.testing.assert_allclose(p.sum() * 2 / len(p), 1.0, rtol=1e-9)
    np.testing.assert_allclose(p, 0.5, atol=0.1)


def test_ions_at_fixed_heights_peak_there():
    n_f = 20
    h = np.tile(np.linspace(4, 20, 16), (n_f, 1))
    ions = np.array([[1.0, 1.0, 2.4 + 3.0], [6.0, 6.0, 30.0 - 5.0]])
    ds = compute_profiles(frames(columns(n_f, h), np.broadcast_to(UP, (n_f, 16, 3)), np.broadcast_to(ions, (n_f, 2, 3))))
    rho = ds.rho_ion
    peaks = sorted(float(z) for z in rho.z[rho > 0])
    assert peaks == pytest.approx([3.05, 5.05])
    assert float(ds.ion_closest_approach) == pytest.approx(3.0)
    # one ion per face-bin per frame, averaged over two faces: 0.5 ions in 100 Å² × 0.1 Å
    assert float(rho.max()) == pytest.approx(0.5 / (100 * 0.1) * 1e3)
    assert float(ds.c_ion.max()) == pytest.approx(float(rho.max()) * 1e24 / _Nav)


def test_dipole_acf_of_steady_rotation_and_continuous_residence():
    n_f, dt, omega = 400, 0.01, 2.0  # ps, rad/ps
    t = np.arange(n_f) * dt
    u = np.stack([np.zeros(n_f), np.sin(omega * t), np.cos(omega * t)], -1)
    u = np.broadcast_to(u[:, None, :], (n_f, 16, 3)).copy()
    h = np.full((n_f, 16), 2.5)
    # half the molecules leave the layer at frames 100-149, then return flipped: never counted again
    h[100:150, 8:] = 12.0
    u[150:, 8:] *= -1
    ds = compute_profiles(frames(columns(n_f, h), u, dt=dt), ProfileConfig(layer_cutoff=4.0, acf_max_lag=1.5))
    lag = ds.lag.values
    np.testing.assert_allclose(ds.dipole_acf.values, np.cos(omega * lag), atol=1e-9)
    assert ds.dipole_acf.values[0] == pytest.approx(1.0)


def test_slab_across_periodic_boundary_gives_same_profiles():
    rng = np.random.default_rng(2)
    h = rng.uniform(2.0, GAP - 2.0, (30, 16))
    u = rng.normal(size=(30, 16, 3))
    a = compute_profiles(frames(columns(30, h), u), ProfileConfig(layer_cutoff=4.0))
    b = compute_profiles(frames(columns(30, h), u, shift=-1.0), ProfileConfig(layer_cutoff=4.0))
    np.testing.assert_allclose(a.rho_O, b.rho_O, atol=1e-9)
    np.testing.assert_allclose(a.cos_theta, b.cos_theta, atol=1e-9, equal_nan=True)


def test_broken_water_is_rejected_naming_the_frame():
    f = frames(columns(3, np.full((3, 16), 5.0)), np.broadcast_to(UP, (3, 16, 3)))
    f.positions[2, 33, :] += [0.0, 0.0, 1.5]  # stretch one O–H bond in frame 2
    with pytest.raises(InputError, match="frame 2"):
        compute_profiles(f)


def test_transient_orientation_is_detected_and_left_out():
    """Lower-face first-layer waters pointing into the liquid for the first 60 of 300 frames, then
    random: the detected start lies at the change, ⟨cos θ⟩₁ is that of the random part (0 within
    3σ, whereas all frames give ≈ 0.2), the run is converged; without detection every frame counts."""
    from edlbench.profiles import equilibrated_profiles

    rng = np.random.default_rng(7)
    n_f, n_t = 300, 60
    h = rng.uniform(2.0, 4.0, (n_f, 16))  # all in the first layer of the lower face (cutoff 4.5 Å)
    u = rng.normal(size=(n_f, 16, 3))
    u[:n_t] = UP
    f = frames(columns(n_f, h), u)
    ds = equilibrated_profiles(f, ProfileConfig(layer_cutoff=4.5))
    t0 = round(float(ds.t_equilibration) / 0.1)
    assert n_t <= t0 <= n_t + 20 and int(ds.n_frames) == n_f - t0, t0
    assert abs(float(ds.cos_theta_layer1)) < 3 * float(ds.cos_theta_layer1_sem) and int(ds.converged) == 1
    assert float(ds.n_eff_cos_theta_layer1) > 100 and float(ds.layer1_waters) == pytest.approx(8.0)
    every = equilibrated_profiles(f, ProfileConfig(layer_cutoff=4.5, detect_equilibration=False))
    assert int(every.n_frames) == n_f and float(every.cos_theta_layer1) == pytest.approx(n_t / n_f, abs=0.05)
