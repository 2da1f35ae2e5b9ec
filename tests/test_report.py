"""The report from a small results.nc: figures, tables, and the HTML as a browser shows it."""

import re
import shutil
import subprocess

import numpy as np
import pytest
import xarray as xr

from edlbench.aggregate import aggregate
from edlbench.cli import main
from edlbench.contract import STATUS, run_coords, write
from edlbench.report import domain_section
from synthetic import errors_ds, profiles_ds

MODELS = {"dp": ["mixed", "n0", "n2"], "mace": ["mixed", "n0", "n2"], "dpsigma": ["mixed"], "esen_oc25": ["pretrained"]}
REACH = {"dp": 6.0, "mace": 10.0, "dpsigma": 6.0}  # Å; esen_oc25's is its checkpoint's (not known)
FIGURES = ["profiles_dp", "profiles_mace", "profiles_dpsigma", "profiles_esen_oc25", "cos_theta_layer1_vs_sigma", "rmse_matrix", "uncertainty"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Reference, and mixed + charge-specific runs of two models at two charges, with test errors."""
    out = tmp_path_factory.mktemp("results")
    files, seed = [], 0
    for model, train_sets in [("reference", ["none"])] + list(MODELS.items()):
        for t in train_sets:
            for n, sigma in ((0, 0.0), (2, -49.4)):
                if t in ("none", "mixed", "pretrained", f"n{n}"):
                    seed += 1
                    files.append(write(run_coords(profiles_ds(seed, 0.1 * seed if model == "dp" else np.nan,
                                                                   0.5 + 0.1 * seed if model == "mace" else np.nan), model, t, n, sigma, 0), out / f"{model}-{t}-{n}.nc", "profiles"))
    for model, train_sets in MODELS.items():
        for t in train_sets:
            files.append(write(errors_ds(model, t, 0, (0,) if t == "n0" else (0, 2), gamma=model == "mace"), out / f"e-{model}-{t}.nc", "errors"))
    return write(aggregate(files, receptive_field=REACH), out / "results.nc", "results")


def test_report_has_every_figure_and_table(results, tmp_path):
    assert main(["report", str(results), "-o", str(tmp_path)]) == 0
    for name in FIGURES:
        assert (tmp_path / f"{name}.png").stat().st_size > 5000 and (tmp_path / f"{name}.svg").exists(), name
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Findings") < md.index("## Profiles")  # the report opens with its answers
    for name in FIGURES:
        assert f"]({name}.png)" in md
    # one orientation row per model and training kind it has, each with a value per charge and a verdict
    orientation = md.split("## Water orientation")[1].split("\n## ")[0]
    rows = [l for l in orientation.splitlines() if re.match(r"\| (dp|mace|dpsigma) \| (mixed|charge-specific) \| .* ± ", l)]
    assert len(rows) == 5 and all(re.search(r"\| \d/2 \|$", r) for r in rows), rows
    assert "mixed training reproduces the reference at" in md  # generated sentences, per model
    assert "## σ-aware baseline" in md and "| σ-aware, mixed |" in md
    # every run (model × training set, and the reference) in the convergence table, one state per charge
    table = md.split("## Convergence and stability of every run")[1].split("\n## ")[0]
    states = re.findall(r"^\| (\w+) \| ([\w—]+) \| (.+) \|$", table, re.M)[1:]
    assert len(states) == 1 + sum(len(t) for t in MODELS.values()), states
    assert all(c.strip() in ("converged", "not converged", "–") for *_, cells in states for c in cells.split("|")), states
    domain = md.split("## Which runs left the training domain")[1]  # mace alone has a γ; mixed: each charge's own rate
    assert re.search(r"\| mace \| mixed \| 0\.\d{3} vs 0\.050: .* \| 0\.\d{3} vs 0\.070: ", domain) and "| dp |" not in domain
    assert re.search(r"Zero-shot OC25 eSEN, Δ⟨cos θ⟩₁ per σ: 0\.0: [+-]\d\.\d{3}, -49\.4: [+-]\d\.\d{3}", md)
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(FIGURES) and "src='" + "profiles" not in html


def test_report_html_renders_in_headless_chromium(results, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium missing: .ci/run installs Debian's chromium"
    main(["report", str(results), "-o", str(tmp_path)])
    page = tmp_path / "check.html"
    script = ("<script>window.onload=()=>{const i=[...document.images];"
              "document.title=i.filter(x=>x.complete&&x.naturalWidth>100).length+'/'+i.length;}</script>")
    page.write_text((tmp_path / "report.html").read_text().replace("</body>", script + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    title = re.search(r"<title>(.*?)</title>", dom).group(1)
    assert title == f"{len(FIGURES)}/{len(FIGURES)}", title  # every embedded figure decoded
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri()],
                   capture_output=True, timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    # not a blank page: a good share of the pixels are neither white nor uniform
    assert (pixels.std(axis=2) > 0.05).mean() > 0.01 and pixels.std() > 0.05


def test_mixed_and_charge_specific_compared_on_the_charges_both_ran():
    """Charge-specific models exist only at their own charges: the mean |Δ| of the mixed model is
    taken over those charges too (here 0.1 and 0.5 → 0.3, not 0.5 over all three)."""
    import xarray as xr

    from edlbench.report import mean_abs_on_common

    mixed = xr.DataArray([0.1, -0.9, 0.5], dims="n_ion")
    specific = xr.DataArray([0.0, np.nan, -0.1], dims="n_ion")
    (m, c), common = mean_abs_on_common(mixed, specific)
    assert common.tolist() == [True, False, True] and m == pytest.approx(0.3) and c == pytest.approx(0.05)


def test_a_large_deviation_is_significant_only_between_converged_finished_runs(results):
    """dp (mixed) 0.9 ± 0.01 off the reference at both charges: significant (after Holm) when every
    run is converged, not when they are not; an unstable run shows as such and counts nowhere."""
    import xarray as xr

    from edlbench.contract import STATUS
    from edlbench.report import orientation_section

    ds = xr.open_dataset(results).load()
    sel = dict(model="dp", train_set="mixed")
    ds["cos_theta_layer1_dev"].loc[sel] = 0.9
    ds["cos_theta_layer1_dev_sem"].loc[sel] = 0.01

    def dp_mixed(data):
        return next(r for r in orientation_section(data, 0.05).tables[0][1] if r[:2] == ["dp", "mixed"])

    assert dp_mixed(ds.assign(converged=ds.converged * 0))[-2:] == ["0/2", "0/2"]
    assert dp_mixed(ds.assign(converged=ds.converged * 0 + 1))[-2:] == ["2/2", "0/2"]
    ds["status"].loc[dict(sel, n_ion=2)] = STATUS["unstable"]
    row = dp_mixed(ds.assign(converged=ds.converged * 0 + 1))
    assert row[3] == "unstable" and row[-2:] == ["1/1", "0/1"]


def test_sigma_gap_closure_is_stated_only_for_a_significant_gap(results):
    """dp mixed 0.30, dp charge-specific 0.00, dpsigma 0.15 off the reference: half the gap closed,
    with its error, when the errors are 0.01; with errors of 0.3 there is no significant gap and no
    closure is stated."""
    import xarray as xr

    from edlbench.report import sigma_section

    ds = xr.open_dataset(results).load().assign(converged=lambda d: d.converged * 0 + 1)
    for (model, train_set), dev in {("dp", "mixed"): 0.3, ("dp", "n0"): 0.0, ("dp", "n2"): 0.0, ("dpsigma", "mixed"): 0.15}.items():
        ds["cos_theta_layer1_dev"].loc[dict(model=model, train_set=train_set)] = dev
    ds["cos_theta_layer1_dev_sem"][:] = 0.01
    text = " ".join(sigma_section(ds, 0.05).text)
    closed = re.search(r"closes (\d+) ± (\d+) % of the gap", text)
    assert closed and int(closed[1]) == 50 and 1 <= int(closed[2]) <= 10, text
    assert "Δ = +0.300 ± 0.010 (30.0 σ), significant" in text
    ds["cos_theta_layer1_dev_sem"][:] = 0.3
    text = " ".join(sigma_section(ds, 0.05).text)
    assert "not significant" in text and "no gap closure is stated" in text and "closes" not in text, text


def test_domain_verdicts_follow_the_excess_its_error_and_the_run_state():
    """A converged run far above its in-domain rate left; one within its error did not; an
    unconverged or unstable run gets no verdict, however large its excess; a model without γ has no row."""
    dims, ok, bad = ("model", "train_set", "n_ion"), STATUS["ok"], STATUS["unstable"]
    base = np.array([[[0.05, 0.10], [0.10, 0.10]], [[np.nan] * 2] * 2])
    excess = np.array([[[0.20, 0.01], [0.30, np.nan]], [[np.nan] * 2] * 2])
    ds = xr.Dataset({"gamma_above_1_excess": (dims, excess), "gamma_above_1_excess_sem": (dims, np.full((2, 2, 2), 0.01)),
                     "gamma_above_1_domain": (dims, base), "gamma_above_1": (dims, base + excess),
                     "status": (dims, np.array([[[ok, ok], [ok, bad]], [[bad, bad]] * 2], "i1")),
                     "converged": (dims, np.array([[[1, 1], [0, 0]], [[0, 0]] * 2], "i1"))},
                    coords={"model": ["grace1l", "dp"], "train_set": ["mixed", "n2"], "n_ion": [0, 2], "sigma": ("n_ion", [0.0, -49.4])})
    sec = domain_section(ds)
    (header, rows), = sec.tables  # dp has no γ of its own: not listed, though its runs ended unstable
    assert len(rows) == 2
    assert rows[0][2:] == ["0.250 vs 0.050: +0.200 ± 0.010 left", "0.110 vs 0.100: +0.010 ± 0.010 within"]
    assert rows[1][2:] == ["0.400 vs 0.100: +0.300 ± 0.010 no verdict (not converged)", "unstable"]
    assert "Runs beyond their training domain: grace1l (mixed) at σ = 0.0 (of 3 finished runs)" in sec.text[-1]
    assert domain_section(ds.drop_vars("gamma_above_1_excess")) is None


def test_findings_answer_each_question_or_say_what_resolving_costs(results):
    """dp's runs all 0.9 ± 0.01 off the reference: 'no' to Q1 and Q4 once every run is converged;
    0.00 ± 0.01: 'yes'; unconverged: not resolved, with a projection in core-hours (the fixture's
    runs took 360 s per ps on 2 CPUs). Every question has a row, Q3 from dp (local) against mace."""
    from edlbench.findings import table
    from edlbench.report import locality_section, orientation_section, sigma_section

    ds = xr.open_dataset(results).load()
    ds["cos_theta_layer1_dev_sem"][:] = 0.01

    def rows(data):
        found = [f for sec in (orientation_section(data, 0.05), locality_section(data, 0.05), sigma_section(data, 0.05)) for f in sec.findings]
        return table(data, found, 0.05)[1]

    for dev, converged, answer in ((0.9, 1, "no — off the reference"), (0.0, 1, "yes — all 2 runs within τ = 0.05"),
                                   (0.0, 0, "not resolved at this scale")):
        data = ds.assign(converged=ds.converged * 0 + converged)
        data["cos_theta_layer1_dev"].loc[dict(model="dp")] = dev
        body = rows(data)
        dp = {r[1]: r for r in body if r[1].startswith("dp (")}
        assert dp["dp (charge-specific): first-layer ⟨cos θ⟩"][3].startswith(answer), dp
        assert dp["dp (mixed) at every charge it ran: first-layer ⟨cos θ⟩"][3].startswith(answer), dp
        assert [r[0][:3] for r in body if r[0]] == ["Q1.", "Q2.", "Q3.", "Q4."]
        if converged:
            assert dp["dp (charge-specific): first-layer ⟨cos θ⟩"][4] == "—"
        else:
            assert re.fullmatch(r"≥ [\d.–]+ ps per replica of each of its 2 runs: [\d.]+ core-hours", dp["dp (charge-specific): first-layer ⟨cos θ⟩"][4])
    assert any(r[1].startswith("local − message passing") for r in body)


def test_locality_groups_each_kind_before_its_detail(results):
    """gracefs ("local (Finnis–Sinclair ACE, …)") counts as local against mace; dpsigma ("local + σ
    input") does not: with dp renamed gracefs the local − message passing comparison still stands."""
    from edlbench.report import locality_section

    ds = xr.open_dataset(results).load()
    renamed = ds.assign_coords(model=[{"dp": "gracefs"}.get(str(m), str(m)) for m in ds.model.values])
    for data in (ds, renamed):
        (q3,) = locality_section(data, 0.05).findings
        assert np.isfinite(q3.delta) and {r[0] for r in q3.runs} == {"gracefs" if data is renamed else "dp", "mace"}, q3


def test_locality_table_sets_each_receptive_field_against_the_cells_lateral_period(results):
    """The synthetic cell is 10 × 10 Å: dp's 6 Å reach half of it and more, mace's 10 Å all of it."""
    from edlbench.report import locality_section

    sec = locality_section(xr.open_dataset(results).load(), 0.05)
    header, rows = sec.tables[0]
    by_model = {r[0]: dict(zip(header, r)) for r in rows}
    assert by_model["dp"]["receptive field"] == "6.0 Å (r_c)" and float(by_model["dp"]["÷ lateral period"]) == pytest.approx(0.6)
    assert by_model["mace"]["receptive field"] == "10.0 Å (num_interactions × r_max)" and float(by_model["mace"]["÷ lateral period"]) == pytest.approx(1.0)
    assert any("shortest lateral period is 10.0 Å" in t for t in sec.text)


def test_a_model_whose_runs_all_stopped_unstable_needs_a_stable_model_not_longer_runs():
    from edlbench.report import _worst

    stopped = _worst(None, 1, "gracefs (mixed)", [], 0.05, unstable=2)
    assert not stopped.resolved and "2 more stopped unstable" in stopped.answer and "stays stable" in stopped.remedy
    assert "not in this run" in _worst(None, 1, "gracefs (mixed)", [], 0.05).remedy  # nothing ran at all
