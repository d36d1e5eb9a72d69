"""Smoke test of an installed wheel, run by CI from outside the repository in a fresh
virtual environment: every subpackage is there (reference mode included), the bundled MNIST
digits load, and no generic top-level ``kernels`` module was installed."""
import importlib.util
import sys
from pathlib import Path

import numpy as np

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import backend

assert "site-packages" in tinynn.__file__, f"expected the installed wheel, got {tinynn.__file__}"
assert importlib.util.find_spec("kernels") is None, "a top-level 'kernels' module was installed"
for name in ("tinynn.reference", "tinynn.kernels.cpu_backend", "tinynn.nn.modules",
             "tinynn.autograd", "tinynn.keras.datasets.mnist"):
    assert importlib.util.find_spec(name) is not None, f"{name} is missing from the wheel"

images, labels = tinynn.data.load_mnist(tinynn.data.datasets.BUNDLED_MNIST_DIR)
assert images.shape == (10000, 1, 28, 28) and labels[:5].tolist() == [7, 2, 1, 0, 4]

tinynn.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(4 * 13 * 13, 10))
x, y = tinynn.tensor(images[:32]), tinynn.tensor(labels[:32])
losses = {}
for kernels in ("reference", "numba"):
    with backend.use_kernels(kernels):
        tinynn.manual_seed(1)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses[kernels] = (loss.item(), model[0].weight.grad.numpy().copy())
        model.zero_grad()
assert np.isclose(losses["reference"][0], losses["numba"][0], rtol=1e-5)
np.testing.assert_allclose(losses["reference"][1], losses["numba"][1], rtol=1e-3, atol=1e-5)
print(f"smoke test of {Path(tinynn.__file__).parent}: OK (loss {losses['numba'][0]:.4f} on both "
      f"backends, {sys.version.split()[0]})")
