"""A library does not change its host process: importing tinynn and training with it leave
the environment, OpenBLAS's thread count and the allocator as they were."""
import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, os, sys
sys.path.insert(0, {tests!r})
before = dict(os.environ)
{first}
import numpy as np
from threadpoolctl import threadpool_info
def blas_threads():
    return {{pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}}
blas_before = blas_threads()
import tinynn
after_import = dict(os.environ)
model = tinynn.models.LeNet5(1, 10, 32)
optimizer = tinynn.optim.SGD(model.parameters(), lr=0.1)
loss = tinynn.nn.CrossEntropyLoss()(model(tinynn.randn(8, 1, 32, 32)), tinynn.tensor(np.arange(8) % 10))
loss.backward()
optimizer.step()
print(json.dumps({{"import": after_import == before, "step": dict(os.environ) == before,
                  "blas": {{path: blas_threads()[path] for path in blas_before}} == blas_before,
                  "performance_applied": tinynn.performance._applied}}))
"""


@pytest.mark.parametrize("first", ["", "import torch; torch.ones(2) + 1"], ids=["alone", "torch first"])
def test_import_and_a_training_step_leave_the_process_as_it_was(first):
    pytest.importorskip("threadpoolctl")
    if first:
        pytest.importorskip("torch")
    code = PROBE.format(first=first, tests=os.path.dirname(__file__))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"import": True, "step": True, "blas": True, "performance_applied": {}}


def test_single_threaded_blas_restores_the_count_even_after_an_error():
    from tinynn.kernels import blas
    if blas.OPENBLAS is None:
        pytest.skip("NumPy here is not linked to an OpenBLAS this module can find")
    before = blas.OPENBLAS.get_threads()
    with pytest.raises(ZeroDivisionError):
        with blas.single_threaded_blas:
            with blas.single_threaded_blas:          # nested: only the outer block restores
                assert blas.OPENBLAS.get_threads() == 1
            assert blas.OPENBLAS.get_threads() == 1
            1 / 0
    assert blas.OPENBLAS.get_threads() == before


def test_tune_process_is_opt_in_and_says_what_it_did():
    code = ("import tinynn; assert tinynn.performance._applied == {}; "
            "import json; print(json.dumps(tinynn.performance.tune_process()))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    applied = json.loads(result.stdout)
    assert applied == {"malloc": sys.platform.startswith("linux")} or applied == {"malloc": False}


def test_the_train_command_tunes_its_own_process(monkeypatch):
    from tinynn import cli, performance
    called = []
    monkeypatch.setattr(performance, "tune_process", lambda: called.append(True))
    monkeypatch.setattr(cli, "train", lambda args: None)
    monkeypatch.setattr(cli, "_check_train_arguments", lambda parser, args: None)
    cli.main(["train"])
    assert called == [True]


def test_an_empty_kernel_cache_is_detected_and_then_filled(tmp_path):
    code = ("import tinynn; before = tinynn.backend.kernels_compiled(); "
            "tinynn.nn.functional.relu(tinynn.randn(3)); print(before, tinynn.backend.kernels_compiled())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path)))
    assert result.stdout.split() == ["False", "True"]
