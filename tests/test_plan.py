"""What the plan derives from the params file beyond the run records."""

from pathlib import Path

import pytest
import yaml

from edlbench.plan import make_plan

ROOT = Path(__file__).parents[1]
#: backend → (options, receptive field in Å that they give: cutoff × message-passing layers)
REACH = {
    "dp": ({"model": {"descriptor": {"rcut": 5.5}}}, 5.5),
    "dpmp": ({"model": {"descriptor": {"repflow": {"nlayers": 4, "e_rcut": 4.5}}}}, 18.0),
    "dpsigma": ({}, 6.0),                                   # dp's descriptor default
    "mace": ({"num_interactions": 3, "r_max": 4.0}, 12.0),
    "grace1l": ({"cutoff": 4.5}, 4.5),
    "grace2l": ({"cutoff": 4.5}, 9.0),
    "gracefs": ({}, 6.0),                                   # the FS preset's default cutoff
    "esen": ({"backbone": {"num_layers": 3, "cutoff": 5.0}}, 15.0),
}


def test_plan_records_each_backends_receptive_field_from_its_options(tmp_path):
    params = yaml.safe_load((ROOT / "params/test.yaml").read_text())
    params["backends"] = {b: {"train_sets": ["mixed"], **options} for b, (options, _) in REACH.items()}
    params["backends"]["esen_oc25"] = {"checkpoint": None}  # left out: no checkpoint, so no receptive field either
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    plan = make_plan(tmp_path / "p.yaml")
    assert plan["receptive_field"] == pytest.approx({b: r for b, (_, r) in REACH.items()})
