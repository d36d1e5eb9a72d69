"""The default objective: build the configuration's network, train it on the digits, and
measure what a designer weighs — accuracy, parameters, latency.

``build_model(config)`` is the PyTorch-style model builder (an MLP, or a small CNN with
``kernel_size`` and ``channels``); any function ``objective(config, epochs, seed) -> dict of
metrics`` can replace ``train_on_digits``, including one that builds a ``tinynn.keras``
model and calls ``fit`` (tests/test_search.py has one).
"""
from __future__ import annotations

import numpy as np

from .space import Choice, Float, Int, SearchSpace

__all__ = ["DIGITS_SPACE", "build_model", "train_on_digits", "train_genotype", "search_cell", "darts_on_digits"]

ACTIVATIONS = ("relu", "tanh", "gelu")

DIGITS_SPACE = SearchSpace(
    kind=Choice(["mlp", "cnn"]),
    layers=Int(1, 3),
    width=Int(16, 128, log=True),
    activation=Choice(list(ACTIVATIONS)),
    channels=Int(4, 16, log=True, when={"kind": "cnn"}),
    kernel_size=Choice([3, 5], when={"kind": "cnn"}),
    lr=Float(3e-4, 3e-2, log=True),
    batch_size=Choice([16, 32, 64]),
)


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
    """One fixed split of the 1,797 digits for every trial: 60 % to train on, 15 % to choose
    by (the search's ``accuracy``), 25 % held out for ``test_accuracy``, which no choice saw."""
    from ..data import load_digits
    images, labels = load_digits()
    order = np.random.default_rng(1234).permutation(len(images))
    train, validation = len(images) * 60 // 100, len(images) * 75 // 100
    parts = (order[:train], order[train:validation], order[validation:])
    return [(images[p], labels[p]) for p in parts]


def _fit(model, x, y, epochs, lr, batch_size, before_step=None, after_epoch=None):
    """Adam on (x, y) for ``epochs`` with the shared training loop (``training.train_epoch``,
    which also stops at a NaN loss), its learning rate annealed to 0 on a cosine over the
    epochs, as DARTS trains (with a constant rate a trial's score depends on where its last
    steps happened to land); ``before_step(inputs, labels)`` runs before each weight
    step (DARTS' α step), ``after_epoch()`` after each epoch."""
    import tinynn
    from ..data import DataLoader, TensorDataset
    from ..nn import functional as F
    from ..training import train_epoch
    parameters = model.weights() if hasattr(model, "weights") else model.parameters()
    optimizer = tinynn.optim.Adam(parameters, lr=lr)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    schedule = tinynn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(epochs):
        train_epoch(model, loader, F.cross_entropy, optimizer, verbose=False, before_step=before_step)
        schedule.step()
        if after_epoch is not None:
            after_epoch()
    return model


def _measure(model, validation, test):
    """Validation and test accuracy, parameters, and the median latency of a 64-image batch."""
    import tinynn
    from ..training import median_latency_ms
    model.eval()

    def accuracy(x, y):
        return float((model(tinynn.tensor(x)).argmax(1).numpy() == y).mean())
    with tinynn.no_grad():
        result = {"accuracy": accuracy(*validation), "test_accuracy": accuracy(*test)}
    return dict(result, parameters=sum(p.numel() for p in model.parameters()),
                latency_ms=median_latency_ms(model, tinynn.tensor(test[0][:64]), repeats=5))


def train_on_digits(config, epochs=1, seed=0):
    """Train ``build_model(config)`` on the digits' training part with Adam(``lr``); return
    the validation and test accuracy, the parameter count and the latency of a batch."""
    import tinynn
    tinynn.manual_seed(seed)
    train, validation, test = _digits()
    model = _fit(build_model(config), *train, epochs, config.get("lr", 1e-3), config.get("batch_size", 32))
    return _measure(model, validation, test)


def train_genotype(genotype, epochs=1, seed=0, lr=3e-3, channels=8):
    """A DARTS-space architecture of ``channels`` per node trained from scratch on the same split."""
    import tinynn
    from .darts import DerivedNetwork
    tinynn.manual_seed(seed)
    train, validation, test = _digits()
    model = _fit(DerivedNetwork(genotype, channels=channels), *train, epochs, lr, 32)
    return dict(_measure(model, validation, test), genotype=[list(edge) for edge in genotype])


def search_cell(epochs=1, seed=0, order=1, channels=8, warmup=None):
    """DARTS on the digits' training part: the weights learn on one half, α on the other
    (``order`` 1 or 2). α stays fixed for the first ``warmup`` epochs (default: a third):
    until the convolutions have learned something, pooling and skip lower the loss fastest
    and α would settle on them for good (Liang et al., DARTS+, 2019). Returns the derived
    genotype and softmax(α) after every epoch. The validation part is never seen."""
    import tinynn
    from .darts import Architect, SearchNetwork, derive
    tinynn.manual_seed(seed)
    (train_x, train_y), _, _ = _digits()
    half = len(train_x) // 2
    model = SearchNetwork(channels=channels)
    architect = Architect(model, tinynn.optim.Adam([model.alpha], lr=6e-3, betas=(0.5, 0.999)),
                          xi=3e-3, second_order=order == 2)
    rng = np.random.default_rng(seed)
    warmup = epochs // 3 if warmup is None else warmup
    history = []

    def alpha_step(inputs, labels):
        if len(history) >= warmup:
            rows = rng.integers(half, len(train_x), len(labels))
            architect.step((inputs, labels), (tinynn.tensor(train_x[rows]), tinynn.tensor(train_y[rows])))

    _fit(model, train_x[:half], train_y[:half], epochs, 3e-3, 32, before_step=alpha_step,
         after_epoch=lambda: history.append(model.architecture_weights().tolist()))
    return derive(model.architecture_weights()), history


def darts_on_digits(config, epochs=1, seed=0):
    """One whole DARTS run: ``search_cell`` for ``epochs`` (``config``: ``order``, ``channels``),
    then the derived cell trained from scratch for ``epochs`` on the whole training part."""
    channels = config.get("channels", 8)
    genotype, history = search_cell(epochs, seed, config.get("order", 1), channels)
    return dict(train_genotype(genotype, epochs, seed, channels=channels), alpha_history=history)
