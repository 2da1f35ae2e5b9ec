"""The shared runner of the packages' own training commands (edlbench.backends.run_logged)."""

import sys

import pytest

from edlbench.backends import run_logged
from edlbench.errors import InputError


def test_output_goes_to_the_log_and_the_product_is_checked(tmp_path):
    script = "import pathlib; print('epoch 1'); print('epoch 2', flush=True); pathlib.Path('model.pt').write_text('w')"
    run_logged("x: training", [sys.executable, "-c", script], tmp_path / "train.log", tmp_path, output=tmp_path / "model.pt")
    assert (tmp_path / "train.log").read_text().splitlines() == ["epoch 1", "epoch 2"]


def test_a_failing_command_is_one_line_naming_the_log_and_its_last_line(tmp_path):
    script = "import sys; print('loading'); sys.exit('ValueError: bad key in input.yaml')"
    with pytest.raises(InputError) as err:
        run_logged("x: training", [sys.executable, "-c", script], tmp_path / "train.log", tmp_path)
    assert str(err.value) == f"x: training failed (exit 1; see {tmp_path / 'train.log'}): ValueError: bad key in input.yaml"


def test_a_missing_product_is_an_error_even_after_exit_0(tmp_path):
    with pytest.raises(InputError, match=r"x: training failed \(exit 0; .*\): done"):
        run_logged("x: training", [sys.executable, "-c", "print('done')"], tmp_path / "train.log", tmp_path, output=tmp_path / "model.pt")
