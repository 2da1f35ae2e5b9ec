"""eSEN (fairchem-core): the equivariant smooth energy network — fairchem's eSCN-MD backbone with an
energy-conserving energy/force head (forces = −∇E) — trained from scratch with fairchem's own
training stack (``fairchem -c config.yaml``: TrainEvalRunner + MLIPTrainEvalUnit, the same code
path as UMA fine-tuning) and run through ``FAIRChemCalculator``. Message passing: receptive field
``num_layers`` × ``cutoff``.

Data go through fairchem's own fine-tuning helpers (``create_finetune_dataset``: ASE-LMDB files,
the force RMS normaliser and per-element linear energy references). The wheel ships no YAML
configs, so :func:`training_config` writes the whole run (model, tasks, loaders, optimiser) from
:data:`DEFAULTS`, deep-merged with ``backends.esen`` of the params file (keys: ``backbone`` →
eSCNMDBackbone kwargs, ``steps``, ``lr``, ``max_atoms``, ``ema_decay``, ``energy_coefficient``,
``force_coefficient``, ``task``, ``checkpoint_every``). Stress is not regressed (no stress labels).
A training folder that already holds a complete checkpoint of fairchem's (a killed task retried with
``--restart-dir``) continues from the latest with ``fairchem -c run/checkpoints/step_N/resume.yaml``,
the resume config fairchem writes beside each checkpoint; the LMDB data are built once (under a
temporary name, then renamed), so a retry reads the same frames. The model is fairchem's
inference checkpoint ``run/checkpoints/final/inference_ckpt.pt``, loaded offline like any local
checkpoint (see :mod:`edlbench.backends.esen_oc25` for the pretrained OC25 model). Units: Å, eV.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field

from edlbench.backends import merge, run_logged, torch_device
from edlbench.config import settings
from edlbench.errors import InputError, brief
from edlbench.processes import executable

DEFAULTS = {
    "task": "edl",  # fairchem's dataset/task name of the model; FAIRChemCalculator selects it
    "backbone": {"sphere_channels": 32, "hidden_channels": 32, "edge_channels": 32, "lmax": 2, "mmax": 2,
                 "num_layers": 2, "cutoff": 6.0, "max_neighbors": 30, "num_distance_basis": 64},
    "steps": 1000,
    "lr": 4e-4,
    "max_atoms": 250,
    "ema_decay": 0.99,
    "energy_coefficient": 20.0,
    "force_coefficient": 2.0,
    "checkpoint_every": 500,  # steps; a retried training resumes from the latest (at most `steps`)
}


@settings
class Options:
    """``backends.esen``: the keys of :data:`DEFAULTS` (``backbone`` is deep-merged into fairchem's
    eSCN-MD backbone config, whose own checks run when ``fairchem -c`` starts)."""

    task: Annotated[str | None, Field(min_length=1, description="fairchem task/dataset name")] = None
    backbone: Annotated[dict[str, Any] | None, Field(description="eSCN-MD backbone settings")] = None
    steps: Annotated[int | None, Field(ge=1, description="optimizer steps")] = None
    lr: Annotated[float | None, Field(gt=0, description="AdamW learning rate")] = None
    max_atoms: Annotated[int | None, Field(ge=1, description="atoms per batch")] = None
    ema_decay: Annotated[float | None, Field(ge=0, lt=1)] = None
    energy_coefficient: Annotated[float | None, Field(ge=0)] = None
    force_coefficient: Annotated[float | None, Field(ge=0)] = None
    checkpoint_every: Annotated[int | None, Field(ge=1, description="optimizer steps between the checkpoints a retry resumes from")] = None


def _tasks(task: str, force_rms: float, elem_refs: list[float]) -> list[dict]:
    """fairchem Task configs: per-atom energy (linear element references) and forces."""
    normalizer = {"_target_": "fairchem.core.modules.normalization.normalizer.Normalizer", "mean": 0.0, "rmsd": force_rms}
    return [
        {"_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task", "name": "energy", "level": "system", "property": "energy",
         "loss_fn": {"_target_": "fairchem.core.modules.loss.DDPMTLoss", "coefficient": "${energy_coefficient}",
                     "loss_fn": {"_target_": "fairchem.core.modules.loss.PerAtomMAELoss"}},
         "out_spec": {"dim": [1], "dtype": "float32"}, "normalizer": normalizer,
         "element_references": {"_target_": "fairchem.core.modules.normalization.element_references.ElementReferences",
                                "element_references": {"_target_": "torch.DoubleTensor", "_args_": [elem_refs]}},
         "datasets": [task], "metrics": ["mae", "per_atom_mae"]},
        {"_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task", "name": "forces", "level": "atom", "property": "forces",
         "loss_fn": {"_target_": "fairchem.core.modules.loss.DDPMTLoss", "coefficient": "${force_coefficient}", "reduction": "mean",
                     "loss_fn": {"_target_": "fairchem.core.modules.loss.L2NormLoss"}},
         "out_spec": {"dim": [3], "dtype": "float32"}, "normalizer": normalizer,
         "datasets": [task], "metrics": ["mae", "cosine_similarity"]},
    ]


def _loader(task: str, db: Path, shuffle: bool, seed: int) -> dict:
    dataset = {"splits": {"all": {"src": str(db)}}, "format": "ase_db",
               "a2g_args": {"r_energy": True, "r_forces": True, "max_neigh": "${backbone.max_neighbors}", "radius": "${backbone.cutoff}"},
               "transforms": {"common_transform": {"dataset_name": task}}}
    return {
        "_target_": "fairchem.core.components.common.dataloader_builder.get_dataloader",
        "dataset": {"_target_": "fairchem.core.datasets.mt_concat_dataset.create_concat_dataset",
                    "dataset_configs": {task: dataset}, "combined_dataset_config": {"sampling": {"type": "temperature", "temperature": 1.0}}},
        "batch_sampler_fn": {"_target_": "fairchem.core.datasets.samplers.max_atom_distributed_sampler.MaxAtomDistributedBatchSampler",
                             "_partial_": True, "max_atoms": "${max_atoms}", "min_atoms": 0, "shuffle": shuffle, "seed": seed},
        "num_workers": 0,
        "collate_fn": {"_target_": "fairchem.core.units.mlip_unit.mlip_unit.mt_collater_adapter", "tasks": "${tasks}"},
    }


def training_config(options: dict, train_db: Path, valid_db: Path, force_rms: float, elem_refs: list[float],
                    workdir: Path, seed: int, device: str) -> dict:
    """The complete `fairchem -c` config of one training run."""
    backbone = {"model": "fairchem.core.models.uma.escn_md.eSCNMDBackbone", "otf_graph": True, "max_num_elements": 100,
                "distance_function": "gaussian", "regress_forces": True, "direct_forces": False, "regress_stress": False,
                "norm_type": "rms_norm_sh", "act_type": "gate", "ff_type": "grid", "dataset_list": [options["task"]], **options["backbone"]}
    steps = options["steps"]
    return {
        "job": {"device_type": device.upper(), "run_dir": str(workdir), "run_name": "esen", "timestamp_id": "run", "seed": seed,
                "debug": True, "scheduler": {"mode": "LOCAL", "ranks_per_node": 1, "num_nodes": 1, "distributed_init_method": "FILE"}},
        **{k: options[k] for k in ("max_atoms", "energy_coefficient", "force_coefficient")},
        "backbone": backbone,
        "tasks": _tasks(options["task"], force_rms, elem_refs),
        "runner": {
            "_target_": "fairchem.core.components.train.train_runner.TrainEvalRunner",
            "train_dataloader": _loader(options["task"], train_db, True, seed),
            "eval_dataloader": _loader(options["task"], valid_db, False, seed),
            "train_eval_unit": {
                "_target_": "fairchem.core.units.mlip_unit.mlip_unit.MLIPTrainEvalUnit",
                "job_config": "${job}", "tasks": "${tasks}",
                "model": {"_target_": "fairchem.core.models.base.HydraModel", "backbone": "${backbone}", "pass_through_head_outputs": True,
                          "heads": {"energyandforcehead": {"module": "fairchem.core.models.uma.escn_md.MLP_EFS_Head"}}},
                "optimizer_fn": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": options["lr"], "weight_decay": 1e-3},
                "cosine_lr_scheduler_fn": {"_target_": "fairchem.core.units.mlip_unit.mlip_unit._get_consine_lr_scheduler", "_partial_": True,
                                           "warmup_factor": 0.2, "warmup_epochs": 0.01, "lr_min_factor": 0.01, "epochs": None, "steps": steps},
                "ema_decay": options["ema_decay"], "print_every": 10, "clip_grad_norm": 100,
            },
            "max_epochs": None, "max_steps": steps, "evaluate_every_n_steps": steps,
            "callbacks": [{"_target_": "fairchem.core.components.callbacks.TrainCheckpointCallback",
                           "checkpoint_every_n_steps": min(options["checkpoint_every"], steps), "max_saved_checkpoints": 1}],
        },
    }


def _lmdb(extxyz: Path, outdir: Path) -> Path:
    """An extxyz set as fairchem's ASE-LMDB (labels as calculator results), via fairchem's helper;
    built under a temporary name and renamed, and kept when it exists (fairchem's helper appends
    to an existing database, and a resumed training must read the frames it started with)."""
    import shutil

    from ase.io import write
    from fairchem.core.scripts.create_finetune_dataset import launch_processing

    from edlbench.dataset import read_as_calculator_results

    if outdir.is_dir():
        return outdir
    raw, partial = outdir.with_name(outdir.name + "_extxyz"), outdir.with_name(outdir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    raw.mkdir(parents=True, exist_ok=True)
    write(raw / "frames.extxyz", read_as_calculator_results(extxyz), format="extxyz")
    launch_processing(str(raw), partial, 1)
    partial.rename(outdir)
    return outdir


def latest_checkpoint(run: Path) -> Path | None:
    """The latest complete training checkpoint ``checkpoints/step_N`` of a fairchem run folder
    (complete: torch.distributed.checkpoint writes ``.metadata`` last), or None."""
    done = [d for d in (run / "checkpoints").glob("step_*") if (d / ".metadata").is_file() and (d / "resume.yaml").is_file()]
    return max(done, key=lambda d: int(d.name.split("_")[1]), default=None)


def receptive_field(config: dict) -> float:
    """num_layers × cutoff (Å) of the backbone."""
    backbone = merge(DEFAULTS, config)["backbone"]
    return float(backbone["num_layers"] * backbone["cutoff"])


def train(train: Path, valid: Path, config: dict, workdir: Path, seed: int) -> Path:
    """`fairchem -c` on a config written from `config`; returns the inference checkpoint."""
    from fairchem.core.scripts.create_finetune_dataset import compute_normalizer_and_linear_reference

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    options = merge(DEFAULTS, config)
    train_db, valid_db = _lmdb(Path(train), workdir / "data" / "train"), _lmdb(Path(valid), workdir / "data" / "valid")
    force_rms, elem_refs = compute_normalizer_and_linear_reference(train_db, 1)
    cfg = training_config(options, train_db, valid_db, float(force_rms), elem_refs, workdir, seed, torch_device())
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    log = workdir / "train.log"
    env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1"}
    model = workdir / "run" / "checkpoints" / "final" / "inference_ckpt.pt"
    resume = latest_checkpoint(workdir / "run")  # a killed training's
    config_file = str(resume / "resume.yaml") if resume else "config.yaml"
    run_logged("esen: training", [executable("fairchem", "the 'fairchem' environment: make envs"), "-c", config_file], log, workdir, env, output=model)
    return model


def load(model: Path, task: str | None, device: str = "auto", precision: str | None = None):
    """FAIRChemCalculator for a local fairchem checkpoint and one of its tasks (offline; task None:
    the checkpoint's only task), in float32 as fairchem trains and runs its models, or in
    `precision`; no torch.compile (minutes of compilation on a CPU for no gain), no TF32."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from fairchem.core import FAIRChemCalculator
    from fairchem.core.units.mlip_unit import load_predict_unit
    from fairchem.core.units.mlip_unit.api.inference import InferenceSettings

    settings = InferenceSettings(compile=False, tf32=False, activation_checkpointing=False, base_precision_dtype=precision or "float32")
    try:
        unit = load_predict_unit(str(model), inference_settings=settings, device=torch_device(device))
    except Exception as exc:  # a user's file that torch/fairchem cannot read as a checkpoint
        raise InputError(f"{model}: not a loadable fairchem checkpoint ({brief(exc)})") from None
    if task is None and len(unit.dataset_to_tasks) == 1:
        task = next(iter(unit.dataset_to_tasks))
    if task not in unit.dataset_to_tasks:
        raise InputError(f"{model}: the checkpoint has no task {task!r} (it has: {', '.join(unit.dataset_to_tasks)})")
    return FAIRChemCalculator(unit, task_name=task)


def calculator(model: Path, device: str = "auto", precision: str | None = None):
    return load(model, None, device, precision)
