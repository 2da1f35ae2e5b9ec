"""The classical oracle: forces = −∇E, charge bookkeeping, NVE/NVT behaviour, physics, data sets."""

import json

import netCDF4
import numpy as np
import openmm as mm
import pytest
from ase import Atoms
from ase.io import read
from ase.neighborlist import neighbor_list

from edlbench.build import BuildConfig, build_interface
from edlbench.dataset import DatasetConfig, build_datasets, labelled_frames
from edlbench.interface import heights, surface_planes, water_hydrogens
from edlbench.profiles import ProfileConfig, compute_profiles
from edlbench.reference.forcefield import AU, KCAL, build_system, cutoff_nm, metal_lj_force, metal_pair_terms, surface_layers
from edlbench.reference.oracle import KJMOL_TO_EV, OracleCalculator, ReferenceConfig, run_reference_md
from edlbench.trajectory import read_frames

CFG = BuildConfig(repeats=(3, 4), layers=3, gap=12.0, seed=3)


@pytest.fixture(scope="module")
def trajectories(tmp_path_factory):
    """Short equilibrated reference runs for n_ion = 0 and 4 (test cell, 107–111 atoms)."""
    out = tmp_path_factory.mktemp("ref")
    md = ReferenceConfig(equilibration=3.0, production=4.0, stride=20)
    paths = {}
    for n in (0, 4):
        paths[n] = out / f"n{n}.nc"
        run_reference_md(build_interface(CFG, n), md, paths[n], out / f"n{n}.log", seed=n + 1, progress=False)
    return paths


def test_total_charge_zero_and_surface_layers_carry_counter_charge():
    for n in range(5):
        atoms = build_interface(CFG, n)
        _, q = build_system(atoms)
        assert abs(q.sum()) < 1e-12
        top, bottom = surface_layers(atoms, "Au")
        assert len(top) == len(bottom) == 12
        assert q[np.r_[top, bottom]].sum() == pytest.approx(-n)
        na = np.array(atoms.get_chemical_symbols()) == "Na"
        assert np.all(q[na] == 1.0)


def crosses_cutoff(atoms: Atoms, i: int, c: int, h: float) -> bool:
    """Whether moving atom i by ±h along c takes a pair across the real-space cutoff, where the
    truncated Ewald real-space term (set by the PME tolerance) makes the energy jump slightly."""
    rc = 10 * cutoff_nm(atoms.cell.array)
    d = []
    for sign in (1, -1):
        probe = atoms.copy()
        probe.positions[i, c] += sign * h
        d.append(np.delete(probe.get_distances(i, range(len(atoms)), mic=True), i))
    return bool(np.any((np.minimum(*d) < rc) & (np.maximum(*d) >= rc)))


def test_forces_are_minus_gradient(trajectories):
    rng = np.random.default_rng(0)
    checked = 0
    for path in trajectories.values():
        f = read_frames(path, start=-1)
        atoms = Atoms(f.symbols, positions=f.positions[0], cell=f.cells[0], pbc=True)
        atoms.calc = OracleCalculator()
        forces = atoms.get_forces()
        h = 1e-4
        for i in rng.choice(len(atoms), 6, replace=False):
            for c in range(3):
                if crosses_cutoff(atoms, i, c, h):
                    continue
                checked += 1
                plus, minus = atoms.copy(), atoms.copy()
                plus.positions[i, c] += h
                minus.positions[i, c] -= h
                plus.calc, minus.calc = atoms.calc, atoms.calc
                fd = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * h)
                assert abs(fd - forces[i, c]) < 1e-3, (path.name, i, c, fd, forces[i, c])
    assert checked >= 0.9 * 6 * 3 * len(trajectories)


def test_nve_conserves_energy(trajectories):
    f = read_frames(trajectories[4], start=-1)
    atoms = Atoms(f.symbols, positions=f.positions[0], cell=f.cells[0], pbc=True, info={"ion": "Na"})
    system, _ = build_system(atoms)
    integ = mm.VerletIntegrator(0.25e-3)  # 0.25 fs, 1 ps
    ctx = mm.Context(system, integ, mm.Platform.getPlatformByName("Reference"))
    ctx.setPositions(atoms.positions / 10)
    ctx.setVelocitiesToTemperature(300, 1)
    energies = []
    for _ in range(40):
        integ.step(100)
        s = ctx.getState(getEnergy=True)
        energies.append((s.getPotentialEnergy()._value + s.getKineticEnergy()._value) * KJMOL_TO_EV)
    drift = (energies[-1] - energies[0]) / len(atoms)
    spread = np.ptp(energies) / len(atoms)
    # stated bound: |drift| and fluctuation of the total energy below 1 meV/atom over 1 ps
    assert abs(drift) < 1e-3 and spread < 1e-3, (drift, spread)


def test_nvt_is_stable(trajectories):
    """Langevin at 1/ps on ~110 atoms: in 20-ps runs the 2-ps means of T scatter by ~5 % (and sat
    ~10 % low in the first 2 ps after a 1-ps equilibration: 3 ps here), so the standard error of a 4-ps mean is
    ~3.5 % and of both runs pooled ~2.5 %: bounds 20 % per run, 10 % pooled (about 4 errors)."""
    means = []
    for path in trajectories.values():
        f = read_frames(path)
        with netCDF4.Dataset(path) as nc:
            means.append(np.asarray(nc.variables["temperature"][:]).mean())
        assert abs(means[-1] / 300 - 1) < 0.2, (path, means[-1])
        atoms = Atoms(f.symbols, positions=f.positions[-1], cell=f.cells[-1], pbc=True)
        i, j, d = neighbor_list("ijd", atoms, 1.3)
        symbols = np.array(f.symbols)
        assert np.all((symbols[i] != symbols[j]) & np.isin(symbols[i], ["O", "H"]) & np.isin(symbols[j], ["O", "H"]))
    assert abs(np.mean(means) / 300 - 1) < 0.1, means


def test_first_layer_orients_h_towards_negative_surface(trajectories):
    cos = {}
    for n, path in trajectories.items():
        ds = compute_profiles(read_frames(path), ProfileConfig(z_max=6.0, n_blocks=5, layer_cutoff=4.0))
        cos[n] = (float(ds.cos_theta_layer1), float(ds.cos_theta_layer1_sem))
    diff = cos[0][0] - cos[4][0]
    assert diff > np.hypot(cos[0][1], cos[4][1]), cos


def test_datasets(trajectories, tmp_path):
    cfg = DatasetConfig(stride=4, seed=5)
    manifest = build_datasets(trajectories.values(), tmp_path, cfg)
    assert manifest == json.loads((tmp_path / "manifest.json").read_text())
    seen = {}
    for n in (0, 4):
        for split, path in (("train", f"n{n}/train"), ("valid", f"n{n}/valid"), ("test", f"test/n{n}")):
            images = read(tmp_path / f"{path}.extxyz", ":")
            assert len(images) == manifest["counts"][f"n{n}"][split]
            assert all(a.info["n_ion"] == n for a in images)
            for a in images:
                assert a.info["source"] not in seen, f"{a.info['source']} in {split} and {seen[a.info['source']]}"
                seen[a.info["source"]] = split
    mixed = read(tmp_path / "mixed/train.extxyz", ":")
    assert {a.info["n_ion"] for a in mixed} == {0, 4}
    assert all(seen[a.info["source"]] == "train" for a in mixed)
    # labels round-trip: what was written is what the oracle computed
    fresh = {a.info["source"]: a for a in labelled_frames(trajectories[4], cfg)}
    for a in read(tmp_path / "test/n4.extxyz", ":"):
        ref = fresh[a.info["source"]]
        assert a.info["REF_energy"] == pytest.approx(ref.info["REF_energy"], abs=1e-9)
        np.testing.assert_allclose(a.arrays["REF_forces"], ref.arrays["REF_forces"], atol=1e-7)
        assert a.calc is None  # no default energy/forces keys for a package to pick up


def metal_contact(atoms: Atoms) -> float:
    """Closest metal–(water or ion) distance in `atoms`, Å (within 4 Å)."""
    metal = np.array(atoms.get_chemical_symbols()) == "Au"
    i, j, d = neighbor_list("ijd", atoms, 4.0)
    return float(d[metal[i] & ~metal[j]].min())


def face_distance(atoms: Atoms) -> np.ndarray:
    """Distance (Å) of every atom from its nearer metal face."""
    metal = np.array(atoms.get_chemical_symbols()) == "Au"
    lz = np.array([atoms.cell[2, 2]])
    z_low, z_up = surface_planes(atoms.positions[metal, 2][None], lz, "test")
    h = heights(atoms.positions[:, 2][None], z_low, lz)[0]
    return np.minimum(h, (z_up - z_low)[0] - h)


def test_contact_frames_push_first_layer_onto_the_wall(trajectories, tmp_path):
    """Close-contact copies: thermal splits and test sets unchanged; first-layer waters moved
    rigidly along the normal toward their face by at most `push`, the rest not at all; closer to
    the metal than any thermal frame and, the wall being repulsive, higher in oracle energy."""
    plain = build_datasets(trajectories.values(), tmp_path / "plain", DatasetConfig(stride=4, seed=5))
    cfg = DatasetConfig(stride=4, seed=5, contact_fraction=0.5, contact_push=0.5, contact_layer=3.5)
    manifest = build_datasets(trajectories.values(), tmp_path / "aug", cfg)
    for n in (0, 4):
        counts, before = manifest["counts"][f"n{n}"], plain["counts"][f"n{n}"]
        assert counts["contact"] == round(0.5 * before["train"]) > 0
        assert (counts["train"], counts["valid"], counts["test"]) == (before["train"] + counts["contact"], before["valid"], before["test"])
        assert manifest["sha256"][f"test/n{n}"] == plain["sha256"][f"test/n{n}"]
        train = read(tmp_path / f"aug/n{n}/train.extxyz", ":")
        thermal = {a.info["source"]: a for a in train if not a.info["source"].endswith("+contact")}
        symbols = np.array(train[0].get_chemical_symbols())
        o, h_idx = np.flatnonzero(symbols == "O"), np.flatnonzero(symbols == "H")
        closest, rise = [], []
        for a in (a for a in train if a.info["source"].endswith("+contact")):
            p = thermal[a.info["source"].removesuffix("+contact")]
            d = a.positions - p.positions
            np.testing.assert_array_equal(d[:, :2], 0.0)
            assert np.all(d[symbols == "Au"] == 0.0) and np.abs(d[:, 2]).max() <= 0.5 + 1e-6
            hs = water_hydrogens(p.positions[None], p.cell.array[None], o, h_idx, "test")[0]
            np.testing.assert_allclose(d[hs], np.repeat(d[o][:, None], 2, axis=1), atol=1e-6)  # H move with their O (extxyz: 8 decimals)
            before_o, after_o = face_distance(p)[o], face_distance(a)[o]
            moved = np.abs(d[o, 2]) > 1e-6
            assert moved.any() and np.all(before_o[moved] < 3.5) and np.all(before_o[~moved] >= 3.5)
            np.testing.assert_allclose(before_o[moved] - after_o[moved], np.abs(d[o, 2][moved]), atol=1e-6)
            closest.append(metal_contact(a))
            rise.append(a.info["REF_energy"] - p.info["REF_energy"])
        assert min(closest) < min(metal_contact(a) for a in thermal.values())
        assert np.mean(rise) > 0, rise


def pair_energy(metal_terms: dict, r: float) -> float:
    """LJ energy (kcal/mol) of one Au and one Na at distance r (Å) in a 30-Å box, from the
    oracle's metal pair force alone."""
    system = mm.System()
    for mass in (196.97, 22.99):
        system.addParticle(mass)
    system.setDefaultPeriodicBoxVectors(mm.Vec3(3, 0, 0), mm.Vec3(0, 3, 0), mm.Vec3(0, 0, 3))
    system.addForce(metal_lj_force(np.array(["Au", "Na"]), "Au", metal_terms, 0.9, 0.8))
    ctx = mm.Context(system, mm.VerletIntegrator(1e-3), mm.Platform.getPlatformByName("Reference"))
    ctx.setPositions([mm.Vec3(0.5, 0.5, 0.5), mm.Vec3(0.5 + r / 10, 0.5, 0.5)])
    return ctx.getState(getEnergy=True).getPotentialEnergy()._value / KCAL


@pytest.mark.parametrize("mixing, sigma, epsilon", [("explicit", 3.3, 0.1173), ("lorentz-berthelot", 2.3943, 1.3658)])
def test_au_na_pair_term_is_the_documented_one(mixing, sigma, epsilon):
    """σ, ε as the forcefield docstring states them (4 digits), energy against 4ε[(σ/r)¹² − (σ/r)⁶]."""
    terms = metal_pair_terms("Au", "Na", mixing)
    assert terms["Na"]["sigma"] == pytest.approx(sigma, abs=1e-4) and terms["Na"]["epsilon"] == pytest.approx(epsilon, abs=1e-4)
    for r in (2.2, 2.9, 4.5):
        lj = 4 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6)
        assert pair_energy(terms, r) == pytest.approx(lj, rel=1e-3, abs=1e-6), r
    override = metal_pair_terms("Au", "Na", mixing, {"Na-Au": {"sigma": 3.0, "epsilon": 0.2}})
    assert pair_energy(override, 3.3) == pytest.approx(4 * 0.2 * ((3 / 3.3) ** 12 - (3 / 3.3) ** 6), rel=1e-6)


def test_mixed_table_equals_a_nonbonded_only_system():
    """With mixing: lorentz-berthelot the metal pair table reproduces the single-NonbondedForce
    system (all LJ by OpenMM's own mixing) to round-off; the explicit terms differ from it only
    in the Au–Na entry (overriding that entry with the mixed values gives the same energy)."""
    atoms = build_interface(CFG, 2)
    table, _ = build_system(atoms, mixing="lorentz-berthelot")
    plain = mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(table))
    nb = next(f for f in plain.getForces() if isinstance(f, mm.NonbondedForce))
    for i in np.flatnonzero(np.array(atoms.get_chemical_symbols()) == "Au"):
        charge, _, _ = nb.getParticleParameters(int(i))
        nb.setParticleParameters(int(i), charge, AU.sigma / 10, AU.epsilon * KCAL)
    plain.removeForce(next(k for k, f in enumerate(plain.getForces()) if isinstance(f, mm.CustomNonbondedForce)))

    def energy(system):
        ctx = mm.Context(system, mm.VerletIntegrator(1e-3), mm.Platform.getPlatformByName("Reference"))
        ctx.setPositions(atoms.positions / 10)
        return ctx.getState(getEnergy=True).getPotentialEnergy()._value / KCAL

    assert energy(table) == pytest.approx(energy(plain), rel=1e-10)
    explicit = energy(build_system(atoms)[0])
    assert abs(explicit - energy(table)) > 1.0  # kcal/mol: the explicit Au–Na term is a different one ...
    mixed = metal_pair_terms("Au", "Na", "lorentz-berthelot")["Na"]
    assert energy(build_system(atoms, pair_terms={"Au-Na": mixed})[0]) == pytest.approx(energy(table), rel=1e-10)  # ... and only that


def test_labels_use_the_force_field_of_the_run(tmp_path):
    """A reference run made with mixing: lorentz-berthelot is labelled with it (the trajectory
    records its pair terms), not with the defaults."""
    cfg = ReferenceConfig(equilibration=0.0, production=0.2, stride=100, mixing="lorentz-berthelot", minimize=False)
    run_reference_md(build_interface(CFG, 1), cfg, tmp_path / "lb.nc", tmp_path / "lb.log", seed=1, progress=False)
    frame = labelled_frames(tmp_path / "lb.nc", DatasetConfig(stride=1))[-1]
    atoms = Atoms(frame.symbols, positions=frame.positions, cell=frame.cell, pbc=True)
    atoms.calc = OracleCalculator(mixing="lorentz-berthelot")
    assert frame.info["REF_energy"] == pytest.approx(atoms.get_potential_energy(), abs=1e-9)
    atoms.calc = OracleCalculator()
    assert abs(frame.info["REF_energy"] - atoms.get_potential_energy()) > 1e-3

