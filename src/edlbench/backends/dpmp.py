"""DPMP: DeePMD-kit's message-passing descriptor DPA-3 (RepFlow layers updating node, edge and
angle embeddings). Each of ``repflow.nlayers`` layers passes messages over the edge cutoff
``e_rcut``, so the receptive field is nlayers × e_rcut (3 × 6 Å = 18 Å with these defaults;
angles use the shorter a_rcut = 4 Å). DPA-3 rather than DPA-2: it is deepmd-kit's current
message-passing architecture, smooth and energy-conserving, with one block to configure.
``use_dynamic_sel`` (neighbour lists without padding to ``e_sel``) roughly halves CPU training time.
Trained with ``dp --pt train`` (see :mod:`edlbench.backends.deepmd`)."""

from __future__ import annotations

from pathlib import Path

from edlbench.backends import deepmd

DESCRIPTOR = {
    "type": "dpa3",
    "repflow": {"n_dim": 64, "e_dim": 32, "a_dim": 16, "nlayers": 3, "e_rcut": 6.0, "e_rcut_smth": 5.3, "e_sel": "auto",
                "a_rcut": 4.0, "a_rcut_smth": 3.5, "a_sel": "auto", "axis_neuron": 4, "update_angle": True,
                "update_style": "res_residual", "update_residual": 0.1, "update_residual_init": "const",
                "smooth_edge_update": True, "use_dynamic_sel": True},
    "activation_function": "silut:10.0",
    "use_tebd_bias": False,
    "precision": "float64",
    "concat_output_tebd": False,
}


def receptive_field(config: dict) -> float:
    return deepmd.receptive_field(DESCRIPTOR, config)


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    return deepmd.train("dpmp", DESCRIPTOR, train, valid, config, workdir, seed)


calculator = deepmd.calculator
Options = deepmd.Options
