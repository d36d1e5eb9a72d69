"""Grid, random and evolutionary search: each strategy proposes configurations (``ask``) and
learns from finished trials (``tell``). The runner asks for as many as it has free workers,
so a strategy never waits for a trial it did not need.

Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image Classifier
Architecture Search", in full::

    population ← P random configurations, trained            (a queue, oldest first)
    repeat:
        sample ← S members of the population, at random
        parent ← the best of the sample                      (tournament selection)
        child  ← parent with one knob changed                (mutation), trained
        population.append(child); population.pop_oldest()    (aging: even the best dies)

Killing the oldest rather than the worst keeps a lucky early trial from ruling for ever.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .trial import Objective

__all__ = ["Strategy", "GridSearch", "RandomSearch", "RegularizedEvolution"]


class Strategy:
    """``ask() -> (config, epochs or None) | WAIT | None`` and ``tell(trial)``; None means
    the strategy has nothing more to propose, epochs None means the study's default."""

    def __init__(self, space, objectives=(Objective(),), seed=0):
        self.space, self.objectives = space, tuple(objectives)
        self.rng = np.random.default_rng(seed)
        self.finished = []

    def ask(self):
        raise NotImplementedError

    def tell(self, trial):
        self.finished.append(trial)

    def replay(self, trial):
        """A trial finished in an earlier run of the same study (resuming): told as if new."""
        self.tell(trial)

    def score(self, trial):
        return self.objectives[0].score(trial)


class GridSearch(Strategy):
    """Every configuration of ``space.grid()`` once, in order."""

    def __init__(self, space, objectives=(Objective(),), seed=0):
        super().__init__(space, objectives, seed)
        self.pending = deque(space.grid())

    def ask(self):
        done = {_key(t.config) for t in self.finished}
        while self.pending and _key(self.pending[0]) in done:
            self.pending.popleft()
        return (self.pending.popleft(), None) if self.pending else None


class RandomSearch(Strategy):
    """Independent random configurations; the same seed gives the same sequence."""

    def ask(self):
        return self.space.sample(self.rng), None

    def replay(self, trial):
        self.space.sample(self.rng)           # the draw this trial took, so a resumed study continues the sequence
        super().replay(trial)


class RegularizedEvolution(Strategy):
    """Aging evolution (above): ``population_size`` P, tournament ``sample_size`` S."""

    def __init__(self, space, objectives=(Objective(),), seed=0, population_size=8, sample_size=3):
        super().__init__(space, objectives, seed)
        if not 1 <= sample_size <= population_size:
            raise ValueError(f"RegularizedEvolution: expected 1 ≤ sample_size ≤ population_size, "
                             f"got {sample_size} and {population_size}")
        self.population = deque(maxlen=population_size)     # appending past P drops the oldest
        self.population_size, self.sample_size = population_size, sample_size
        self.asked = 0

    def ask(self):
        self.asked += 1
        if self.asked <= self.population_size or not self.population:
            return self.space.sample(self.rng), None          # the first generation is random
        members = [self.population[i] for i in
                   self.rng.choice(len(self.population), min(self.sample_size, len(self.population)), replace=False)]
        parent = max(members, key=self.score)
        return self.space.mutate(parent.config, self.rng), None

    def tell(self, trial):
        super().tell(trial)
        if trial.state == "complete":
            self.population.append(trial)


def _key(config):
    return tuple(sorted(config.items()))


STRATEGIES = {"grid": GridSearch, "random": RandomSearch, "evolution": RegularizedEvolution}
