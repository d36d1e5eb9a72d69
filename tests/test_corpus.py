"""Real public training scripts run on tinynn with only their import lines changed, on digits
cut from the bundled MNIST test split.  The scripts are other projects' code and are not in
this repository: ``tests/CORPUS.md`` lists them, their sources and licences; the test runs
those found in the folder ``TINYNN_CORPUS_DIR`` names."""
import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinynn.data.datasets import BUNDLED_MNIST_DIR, read_idx

CORPUS = Path(os.environ["TINYNN_CORPUS_DIR"]) if os.environ.get("TINYNN_CORPUS_DIR") else None

# (pattern, replacement) applied to import lines only, in order
IMPORT_SWAPS = [
    (r"^(\s*)import torch$", r"\1import tinynn as torch"),
    (r"^(\s*)import torchvision$", r"\1import tinynn.vision as torchvision"),
    (r"^(\s*)from torchvision((?:\.\w+)*) import", r"\1from tinynn.vision\2 import"),
    (r"^(\s*)from torch((?:\.\w+)*) import", r"\1from tinynn\2 import"),
    (r"^(\s*)import torch\.([\w.]+)", r"\1import tinynn.\2"),
    (r"^(\s*)import tensorflow as tf$", r"\1import tinynn as tf"),
    (r"^(\s*)from tensorflow import keras$", r"\1from tinynn import keras"),
    (r"^(\s*)from tensorflow\.keras((?:\.\w+)*) import", r"\1from tinynn.keras\2 import"),
    (r"^(\s*)import keras$", r"\1from tinynn import keras"),
    (r"^(\s*)from keras((?:\.\w+)*) import", r"\1from tinynn.keras\2 import"),
]

SCRIPTS = {               # file: (arguments, a line the output must contain)
    "pytorch_examples_mnist.py": (["--epochs", "1", "--log-interval", "5"], r"Test set: Average loss"),
    "pytorch_examples_regression.py": ([], r"==> Learned function"),
}


def swap_imports(source):
    """The script with ``torch``/``torchvision``/``tensorflow``/``keras`` imports pointed at
    tinynn; every other line is left exactly as it was (the test checks that too)."""
    lines = []
    for line in source.splitlines():
        if re.match(r"\s*(import|from)\s", line):
            for pattern, replacement in IMPORT_SWAPS:
                line = re.sub(pattern, replacement, line)
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch folder ``work`` beside ``data/MNIST/raw`` with 600 train / 200 test digits."""
    root = tmp_path_factory.mktemp("corpus")
    images = read_idx(BUNDLED_MNIST_DIR / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(BUNDLED_MNIST_DIR / "t10k-labels-idx1-ubyte.gz")
    raw = root / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split, part in (("train", slice(0, 600)), ("t10k", slice(600, 800))):
        _write_idx(raw / f"{split}-images-idx3-ubyte.gz", images[part], 0x0803)
        _write_idx(raw / f"{split}-labels-idx1-ubyte.gz", labels[part], 0x0801)
    (root / "work").mkdir()
    return root / "work"


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_real_script_runs_with_only_its_imports_changed(name, workspace):
    if CORPUS is None or not (CORPUS / name).exists():
        pytest.skip(f"{name} is not in TINYNN_CORPUS_DIR (see tests/CORPUS.md)")
    original = (CORPUS / name).read_text()
    swapped = swap_imports(original)
    changed = [(a, b) for a, b in zip(original.splitlines(), swapped.splitlines()) if a != b]
    assert changed and all(re.match(r"\s*(import|from)\s", a) for a, _ in changed)
    script = workspace / name
    script.write_text(swapped)
    arguments, expected = SCRIPTS[name]
    result = subprocess.run([sys.executable, str(script), *arguments], cwd=workspace, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(expected, result.stdout), result.stdout[-2000:]


def test_swap_imports_rewrites_only_import_lines():
    source = "\n".join([
        "import torch", "import torch.nn as nn", "import torch.utils.data", "from torch import nn, optim",
        "from torch.optim.lr_scheduler import StepLR", "from torchvision import datasets, transforms",
        "import tensorflow as tf", "from tensorflow import keras", "from keras import layers",
        "x = torch.ones(2)  # import torch stays in a comment",
    ])
    assert swap_imports(source).splitlines() == [
        "import tinynn as torch", "import tinynn.nn as nn", "import tinynn.utils.data",
        "from tinynn import nn, optim", "from tinynn.optim.lr_scheduler import StepLR",
        "from tinynn.vision import datasets, transforms", "import tinynn as tf", "from tinynn import keras",
        "from tinynn.keras import layers", "x = torch.ones(2)  # import torch stays in a comment",
    ]
