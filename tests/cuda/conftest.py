"""CUDA tests run under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set before
Numba is imported: ``tests/run.sh`` runs this folder in its own process) or on a real GPU."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # for tests/oracle.py

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def _gpu_present():
    if SIMULATOR:
        return False
    import tinynn
    return tinynn.cuda.is_available()


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Skip this folder's tests (and only these: the hook sees the whole session's items)
    when neither the simulator nor a GPU is there."""
    if SIMULATOR or _gpu_present():
        return
    skip = pytest.mark.skip(reason="CUDA tests need NUMBA_ENABLE_CUDASIM=1 set before Python "
                                   "starts (tests/run.sh does this) or a GPU with the cuda extra")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)
