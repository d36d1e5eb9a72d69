"""The process-wide settings of tinynn/_process.py: short thread spins, whatever the import order."""
import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, ctypes
{first}
import tinynn
from tinynn import _process
libraries = _process._loaded_openblas_libraries()
for library in libraries:
    library.openblas_thread_timeout.restype = ctypes.c_int
print(json.dumps({{"timeouts": [lib.openblas_thread_timeout() for lib in libraries],
                  "applied": _process.APPLIED}}))
"""


def _probe(first_import, **environment):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")}
    env.update(environment)
    result = subprocess.run([sys.executable, "-c", PROBE.format(first=first_import)], env=env,
                            capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    if not report["timeouts"]:
        pytest.skip("NumPy here is not linked to an OpenBLAS that exports openblas_read_env")
    return report


@pytest.mark.parametrize("first_import", ["", "import numpy; numpy.ones((64, 64)) @ numpy.ones((64, 64))"])
def test_openblas_spin_is_shortened_whether_numpy_was_imported_first_or_not(first_import):
    report = _probe(first_import)
    assert report["timeouts"] == [16] * len(report["timeouts"])
    assert report["applied"] == {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "16"}


def test_settings_the_user_exported_are_left_alone():
    report = _probe("import numpy", OPENBLAS_THREAD_TIMEOUT="20", OMP_WAIT_POLICY="ACTIVE")
    assert report["timeouts"] == [20] * len(report["timeouts"])
    assert report["applied"] == {}


def test_bench_runs_without_the_settings_tinynn_applied(monkeypatch):
    """PyTorch, the yardstick, must start its thread pools with its own defaults."""
    from tinynn import _process, cli
    seen = {}
    monkeypatch.setattr(_process, "APPLIED", {"OMP_WAIT_POLICY": "PASSIVE"})
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("SOMETHING_THE_USER_SET", "1")
    monkeypatch.setattr(cli.subprocess, "run", lambda command, env: seen.update(env=env) or
                        subprocess.CompletedProcess(command, 0))
    cli.bench("conv", ["--quick"])
    assert "OMP_WAIT_POLICY" not in seen["env"] and seen["env"]["SOMETHING_THE_USER_SET"] == "1"
