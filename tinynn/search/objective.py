"""The default objective: build the configuration's network, train it on the digits, and
measure what a designer weighs — accuracy, parameters, latency.

``build_model(config)`` is the PyTorch-style model builder (an MLP, or a small CNN with
``kernel_size`` and ``channels``); any function ``objective(config, epochs, seed) -> dict of
metrics`` can replace ``train_on_digits``, including one that builds a ``tinynn.keras``
model and calls ``fit`` (tests/test_search.py has one).
"""
from __future__ import annotations

import time

import numpy as np

__all__ = ["DIGITS_SPACE", "build_model", "train_on_digits"]

ACTIVATIONS = ("relu", "tanh", "gelu")


def digits_space():
    from .space import Choice, Float, Int, SearchSpace
    return SearchSpace(
        kind=Choice(["mlp", "cnn"]),
        layers=Int(1, 3),
        width=Int(16, 128, log=True),
        activation=Choice(list(ACTIVATIONS)),
        channels=Int(4, 16, log=True, when={"kind": "cnn"}),
        kernel_size=Choice([3, 5], when={"kind": "cnn"}),
        lr=Float(3e-4, 3e-2, log=True),
        batch_size=Choice([16, 32, 64]),
    )


DIGITS_SPACE = digits_space()


def build_model(config, in_channels=1, side=8, classes=10):
    """An MLP (``layers`` hidden layers of ``width``) or, for ``kind="cnn"``, a conv layer of
    ``channels`` × ``kernel_size`` and a 2×2 max pool first."""
    from .. import nn
    activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}[config.get("activation", "relu")]
    layers, features = [], in_channels * side * side
    if config.get("kind", "mlp") == "cnn":
        k, c = config["kernel_size"], config["channels"]
        layers += [nn.Conv2d(in_channels, c, k, padding=k // 2), activation(), nn.MaxPool2d(2)]
        features = c * (side // 2) ** 2
    layers.append(nn.Flatten())
    for _ in range(config.get("layers", 1)):
        layers += [nn.Linear(features, config.get("width", 64)), activation()]
        features = config.get("width", 64)
    layers.append(nn.Linear(features, classes))
    return nn.Sequential(*layers)


def _digits():
    from ..data import load_digits
    images, labels = load_digits()
    order = np.random.default_rng(1234).permutation(len(images))    # one fixed split for every trial
    cut = len(images) * 3 // 4
    return images[order[:cut]], labels[order[:cut]], images[order[cut:]], labels[order[cut:]]


def train_on_digits(config, epochs=1, seed=0):
    """Train ``build_model(config)`` on 3/4 of the 8×8 digits with Adam(``lr``); return the
    held-out accuracy, the parameter count and the median latency of a 64-image batch."""
    import tinynn
    from ..data import DataLoader, TensorDataset
    from ..nn import functional as F
    tinynn.manual_seed(seed)
    train_x, train_y, test_x, test_y = _digits()
    model = build_model(config)
    optimizer = tinynn.optim.Adam(model.parameters(), lr=config.get("lr", 1e-3))
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=config.get("batch_size", 32), shuffle=True)
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    model.eval()
    with tinynn.no_grad():
        accuracy = float((model(tinynn.tensor(test_x)).argmax(1).numpy() == test_y).mean())
        batch = tinynn.tensor(test_x[:64])
        times = []
        for _ in range(5):
            start = time.perf_counter()
            model(batch)
            times.append(time.perf_counter() - start)
    return {"accuracy": accuracy, "parameters": sum(p.numel() for p in model.parameters()),
            "latency_ms": 1000 * float(np.median(times))}
