"""DARTS: the architecture learned by gradient descent (Liu, Simonyan and Yang, ICLR 2019).

Which operation should connect node j to node i of a cell? Instead of choosing, DARTS
puts every candidate on the edge and mixes them with softmax weights of learnable α::

    ō(x) = Σ_o  softmax(α)_o · o(x)                                  (MixedOp)

The network weights w learn on training data and α on validation data, alternating:

    α ← α − η_α ∇_α L_val(w − ξ ∇_w L_train(w, α), α)                 (second order)
    w ← w − η_w ∇_w L_train(w, α)

The second-order gradient is ∇_α L_val(w′, α) − ξ ∇²_{α,w} L_train(w, α) ∇_{w′} L_val(w′, α),
and the Hessian-vector product is a finite difference (ε = 0.01 / ‖∇_{w′} L_val‖)::

    ∇²_{α,w} L_train · v  ≈  (∇_α L_train(w + εv, α) − ∇_α L_train(w − εv, α)) / 2ε

First order (ξ = 0) drops that term. At the end each node keeps its two strongest incoming
edges, each with its strongest operation other than "none": the derived architecture,
trained again from scratch. Cells here take one input (the previous cell's output) rather
than DARTS' two, to stay small enough for 8×8 digits on a laptop.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd import grad, no_grad
from ..creation import cat
from ..nn import functional as F

__all__ = ["PRIMITIVES", "MixedOp", "SearchNetwork", "DerivedNetwork", "Architect", "derive",
           "random_genotype"]

PRIMITIVES = ("none", "skip_connect", "max_pool_3x3", "avg_pool_3x3", "conv_3x3", "conv_5x5",
              "sep_conv_3x3", "dil_conv_3x3")


class Zero(nn.Module):
    """The "none" operation: no connection."""

    def forward(self, x):
        return x * 0.0


def _relu_conv_bn(channels, kernel, padding, dilation=1, separable=False):
    """ReLU → conv (depthwise + pointwise when separable) → batch norm without affine
    parameters, DARTS' building block."""
    convs = [nn.Conv2d(channels, channels, kernel, padding=padding, dilation=dilation,
                       groups=channels if separable else 1, bias=False)]
    if separable:
        convs.append(nn.Conv2d(channels, channels, 1, bias=False))
    return nn.Sequential(nn.ReLU(), *convs, nn.BatchNorm2d(channels, affine=False))


OPERATIONS = {
    "none": lambda c: Zero(),
    "skip_connect": lambda c: nn.Identity(),
    "max_pool_3x3": lambda c: nn.MaxPool2d(3, 1, 1),
    "avg_pool_3x3": lambda c: nn.AvgPool2d(3, 1, 1, count_include_pad=False),
    "conv_3x3": lambda c: _relu_conv_bn(c, 3, 1),
    "conv_5x5": lambda c: _relu_conv_bn(c, 5, 2),
    "sep_conv_3x3": lambda c: _relu_conv_bn(c, 3, 1, separable=True),
    "dil_conv_3x3": lambda c: _relu_conv_bn(c, 3, 2, dilation=2, separable=True),
}


class MixedOp(nn.Module):
    """ō(x) = Σ_o w_o · o(x) over every candidate operation, w = softmax(α) of the edge."""

    def __init__(self, channels, primitives=PRIMITIVES):
        super().__init__()
        self.primitives = tuple(primitives)
        self.ops = nn.ModuleList([OPERATIONS[p](channels) for p in self.primitives])

    def forward(self, x, weights):
        return sum(weights[k] * op(x) for k, op in enumerate(self.ops) if self.primitives[k] != "none")


def _edges(steps):
    """(node, input) for every edge: node i (1-based) reads the cell input 0 and nodes < i."""
    return [(node, source) for node in range(1, steps + 1) for source in range(node)]


class _Cell(nn.Module):
    """Nodes 1…steps, each the sum of its incoming edges; the cell's output concatenates
    the nodes and a 1×1 convolution brings it back to ``channels``."""

    def __init__(self, channels, steps, make_edge):
        super().__init__()
        self.steps = steps
        self.edges = nn.ModuleList([make_edge(node, source) for node, source in _edges(steps)])
        self.combine = nn.Sequential(nn.ReLU(), nn.Conv2d(channels * steps, channels, 1, bias=False),
                                     nn.BatchNorm2d(channels))

    def forward(self, x, edge_weights=None):
        states, index = [x], 0
        for node in range(1, self.steps + 1):
            total = 0
            for source in range(node):
                edge = self.edges[index]
                total = total + (edge(states[source], edge_weights[index]) if edge_weights is not None
                                 else edge(states[source]))
                index += 1
            states.append(total)
        return self.combine(cat(states[1:], dim=1))


class _Skeleton(nn.Module):
    """stem conv → cell → 2×2 max pool → cell → global average → linear."""

    def __init__(self, channels, classes, make_cell):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        self.cell1, self.cell2 = make_cell(), make_cell()
        self.pool = nn.MaxPool2d(2)
        self.classifier = nn.Linear(channels, classes)

    def features(self, x, edge_weights=None):
        x = self.pool(self.cell1(self.stem(x), edge_weights))
        return self.cell2(x, edge_weights).mean(dim=(2, 3))


class SearchNetwork(_Skeleton):
    """The supernet: every edge a MixedOp; ``alpha`` (edges × operations) is shared by the
    two cells, as DARTS shares it between all normal cells."""

    def __init__(self, channels=8, classes=10, steps=3, primitives=PRIMITIVES):
        super().__init__(channels, classes, lambda: _Cell(channels, steps, lambda n, s: MixedOp(channels, primitives)))
        self.primitives, self.steps = tuple(primitives), steps
        self.alpha = nn.Parameter(1e-3 * np.random.default_rng(0).standard_normal(
            (len(_edges(steps)), len(primitives))).astype(np.float32))

    def forward(self, x):
        return self.classifier(self.features(x, F.softmax(self.alpha, dim=-1)))

    def weights(self):
        return [p for name, p in self.named_parameters() if name != "alpha"]

    def architecture_weights(self):
        """softmax(α) per edge, as a NumPy array."""
        return F.softmax(self.alpha, dim=-1).detach().numpy()


class DerivedNetwork(_Skeleton):
    """The discrete network a genotype [(node, input, operation), ...] describes."""

    def __init__(self, genotype, channels=8, classes=10, steps=3):
        chosen = {(node, source): op for node, source, op in genotype}
        make_edge = lambda n, s: OPERATIONS[chosen.get((n, s), "none")](channels)   # noqa: E731
        super().__init__(channels, classes, lambda: _Cell(channels, steps, make_edge))
        self.genotype = list(genotype)

    def forward(self, x):
        return self.classifier(self.features(x))


def derive(weights, primitives=PRIMITIVES, steps=3, keep=2):
    """Each node keeps its ``keep`` strongest incoming edges (strength: the largest weight of
    an operation other than "none"), each with that operation."""
    usable = [k for k, p in enumerate(primitives) if p != "none"]
    genotype = []
    edges = _edges(steps)
    for node in range(1, steps + 1):
        incoming = [(i, source) for i, (n, source) in enumerate(edges) if n == node]
        strongest = sorted(incoming, key=lambda e: -weights[e[0], usable].max())[:keep]
        for index, source in sorted(strongest, key=lambda e: e[1]):
            genotype.append((node, source, primitives[usable[int(np.argmax(weights[index, usable]))]]))
    return genotype


def random_genotype(rng, primitives=PRIMITIVES, steps=3, keep=2):
    """A random architecture of the same space: DARTS' own baseline."""
    usable = [p for p in primitives if p != "none"]
    genotype = []
    for node in range(1, steps + 1):
        for source in sorted(rng.choice(node, min(keep, node), replace=False)):
            genotype.append((node, int(source), usable[rng.integers(len(usable))]))
    return genotype


class Architect:
    """The α step, first or second order (the formulas above). ``optimizer`` updates α
    only; ``xi`` is the virtual step ξ (DARTS uses the weights' learning rate);
    ``epsilon`` the finite difference's step, divided by ‖∇_{w′} L_val‖ (DARTS: 0.01)."""

    def __init__(self, model, optimizer, xi=0.01, second_order=True, epsilon=0.01):
        self.model, self.optimizer, self.xi, self.second_order = model, optimizer, xi, second_order
        self.epsilon = epsilon

    def loss(self, x, y):
        return F.cross_entropy(self.model(x), y)

    def gradient(self, train_batch, val_batch):
        """∇_α of the validation loss (after the virtual step when second order)."""
        if not self.second_order:
            return grad(self.loss(*val_batch), self.model.alpha)[0]
        weights = self.model.weights()
        saved = [w.detach().clone() for w in weights]
        step = grad(self.loss(*train_batch), weights, allow_unused=True)
        self._shift(weights, step, -self.xi)                             # w′ = w − ξ ∇_w L_train
        *grad_w, grad_alpha = grad(self.loss(*val_batch), weights + [self.model.alpha], allow_unused=True)
        self._restore(weights, saved)
        norm = float(np.sqrt(sum(float((g * g).sum()) for g in grad_w if g is not None)))
        epsilon = self.epsilon / max(norm, 1e-12)
        hessian_vector = self._alpha_gradient_at(weights, grad_w, epsilon, train_batch)
        hessian_vector = hessian_vector - self._alpha_gradient_at(weights, grad_w, -epsilon, train_batch)
        self._restore(weights, saved)
        return grad_alpha - (self.xi / (2 * epsilon)) * hessian_vector

    def _alpha_gradient_at(self, weights, direction, epsilon, batch):
        """∇_α L_train(w + ε·direction, α)."""
        self._shift(weights, direction, epsilon)
        gradient = grad(self.loss(*batch), self.model.alpha)[0]
        self._shift(weights, direction, -epsilon)
        return gradient

    @staticmethod
    def _shift(weights, direction, scale):
        with no_grad():
            for w, d in zip(weights, direction):
                if d is not None:
                    w.add_(d * scale)

    @staticmethod
    def _restore(weights, saved):
        with no_grad():
            for w, s in zip(weights, saved):
                w.copy_(s)

    def step(self, train_batch, val_batch):
        self.optimizer.zero_grad()
        self.model.alpha.grad = self.gradient(train_batch, val_batch)
        self.optimizer.step()


class DartsRuns:
    """The search strategy of ``tinynn search --strategy darts``: each trial is one whole
    DARTS run (search, derive, retrain) with its own seed, second and first order in turn."""

    def __init__(self, objectives, seed=0):
        self.objectives, self.asked = tuple(objectives), 0
        self.finished = []

    def ask(self):
        self.asked += 1
        return {"order": 2 if self.asked % 2 else 1}, None

    def tell(self, trial):
        self.finished.append(trial)

    replay = tell
