"""CPU threads of one step: the count the scheduler gave the task (Nextflow's ``task.cpus``) for
every thread pool a step may start — OpenMP/BLAS (numpy, PyTorch), TensorFlow, deepmd-kit and
OpenMM's CPU platform — set in the environment before any of them is imported, so the packages'
own commands (``dp``, ``gracemaker``, ``mace_run_train``) inherit it. Without it each package
starts one thread per core of the node, and tasks that Nextflow runs side by side oversubscribe it.
"""

from __future__ import annotations

import os

#: environment variables read by the packages' thread pools at start-up
VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "DP_INTRA_OP_PARALLELISM_THREADS", "OPENMM_CPU_THREADS")


def limit_threads(n: int) -> None:
    """Give every package at most `n` compute threads (plus one inter-op thread for TensorFlow
    and deepmd, which schedule independent operations in a second pool)."""
    os.environ.update({name: str(n) for name in VARIABLES})
    os.environ.update(TF_NUM_INTEROP_THREADS="1", DP_INTER_OP_PARALLELISM_THREADS="1")
