"""Successive halving and Hyperband: stop spending on bad configurations early.

Successive halving (Jamieson & Talwalkar 2016) trains n configurations for a small budget,
keeps the best 1/η, trains those η times longer, and so on::

    rung 0:  n      configurations × r epochs
    rung 1:  n/η    best of them   × r·η epochs
    rung 2:  n/η²   …              × r·η² epochs      (until max_epochs)

Hyperband (Li et al. 2018) runs several such brackets, from "many configurations, short
runs" to "few configurations, full runs", because nobody knows in advance how early a
configuration's promise shows. Here a promoted configuration is trained again from scratch
for its longer budget (simple, and the same on every engine), not continued.
"""
from __future__ import annotations

import math
from collections import deque

from .strategies import RandomSearch, Strategy
from .trial import WAIT, Objective

__all__ = ["SuccessiveHalving", "Hyperband"]


class SuccessiveHalving(Strategy):
    """``n`` random configurations from ``min_epochs``, the best 1/``eta`` promoted, up to
    ``max_epochs``."""

    def __init__(self, space, objectives=(Objective(),), seed=0, n=9, min_epochs=1, max_epochs=9, eta=3):
        super().__init__(space, objectives, seed)
        self.rungs = []                                 # (configurations, epochs) per rung
        count, epochs = n, min_epochs
        while count >= 1 and epochs <= max_epochs:
            self.rungs.append((count, epochs))
            count, epochs = count // eta, epochs * eta
        sampler = RandomSearch(space, objectives, seed)
        self.queue = deque(sampler.ask()[0] for _ in range(n))
        self.rung, self.results = 0, [[] for _ in self.rungs]

    def ask(self):
        if self.queue:
            return self.queue.popleft(), self.rungs[self.rung][1]
        if len(self.results[self.rung]) < self.rungs[self.rung][0]:
            return WAIT                                 # this rung's trials are still running
        if self.rung + 1 == len(self.rungs):
            return None
        best = sorted(self.results[self.rung], key=self.score, reverse=True)
        self.rung += 1
        self.queue.extend(t.config for t in best[:self.rungs[self.rung][0]])
        return self.ask()

    def tell(self, trial):
        super().tell(trial)
        self.results[self.rung].append(trial)

    def total_trials(self):
        return sum(count for count, _ in self.rungs)


class Hyperband(Strategy):
    """Brackets of successive halving, from the most aggressive (many configurations at
    ``min_epochs``) to plain full-length training; one bracket after another."""

    def __init__(self, space, objectives=(Objective(),), seed=0, min_epochs=1, max_epochs=9, eta=3):
        super().__init__(space, objectives, seed)
        s_max = int(math.log(max_epochs / min_epochs, eta) + 1e-9)
        self.brackets = deque(
            SuccessiveHalving(space, objectives, seed + s, n=math.ceil((s_max + 1) / (s + 1) * eta ** s),
                              min_epochs=max_epochs // eta ** s, max_epochs=max_epochs, eta=eta)
            for s in range(s_max, -1, -1))

    def ask(self):
        while self.brackets:
            proposal = self.brackets[0].ask()
            if proposal is not None:
                return proposal
            self.brackets.popleft()
        return None

    def tell(self, trial):
        super().tell(trial)
        self.brackets[0].tell(trial)

    def total_trials(self):
        return sum(b.total_trials() for b in self.brackets)
