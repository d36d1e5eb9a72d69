"""Shared by the examples: a small stand-in for CIFAR-10 when its files are not on disk,
and the switch that shrinks every example for the test suite."""
import os

import numpy as np

QUICK = os.environ.get("TINYNN_EXAMPLE_QUICK") == "1"   # the tests run each example in seconds


def cifar10_or_synthetic(load_data):
    """CIFAR-10 through ``load_data()`` if present, else 32×32 colour images of 10 simple classes."""
    try:
        return load_data()
    except FileNotFoundError as error:
        print(f"NOTICE: {error}\nNOTICE: using a synthetic CIFAR-10 stand-in (10 classes of "
              "coloured stripes and blobs) so that the example still runs")
    rng = np.random.default_rng(0)

    def make(n):
        labels = rng.integers(0, 10, n)
        rows = np.arange(32)
        images = np.empty((n, 32, 32, 3), np.float32)
        for i, label in enumerate(labels):
            phase = rng.uniform(0, 2 * np.pi)
            stripes = np.sin(rows[:, None] * (label % 5 + 1) * 0.4 + phase + (label // 5) * rows[None, :] * 0.4)
            colour = np.array([label % 3, (label // 3) % 3, label % 2], np.float32) / 2
            images[i] = 0.5 + 0.4 * stripes[..., None] * (0.3 + colour) + rng.normal(0, 0.05, (32, 32, 3))
        return (images.clip(0, 1) * 255).astype(np.uint8), labels[:, None]
    return make(5000), make(1000)
