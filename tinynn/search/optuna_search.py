"""TPE and NSGA-II through Optuna's ask-and-tell interface (a well-kept library; not written
again here). Tree-structured Parzen Estimators model good and bad configurations
separately and propose where good is likely; NSGA-II evolves a population towards the
Pareto front of several objectives (accuracy against parameters or latency)."""
from __future__ import annotations

import contextlib

from .strategies import Strategy, _key
from .trial import Objective

__all__ = ["OptunaSearch"]


@contextlib.contextmanager
def _quiet(optuna):
    """Optuna logs every told trial at INFO; the search prints its own line. Restored after."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


class OptunaSearch(Strategy):
    """``sampler="tpe"`` or ``"nsga2"``; every objective of the study becomes one of
    Optuna's directions."""

    def __init__(self, space, objectives=(Objective(),), seed=0, sampler="tpe"):
        super().__init__(space, objectives, seed)
        try:
            import optuna
        except ImportError:
            raise ImportError(f"{sampler} search needs Optuna: pip install 'tinynn[search]'") from None
        samplers = {"tpe": optuna.samplers.TPESampler, "nsga2": optuna.samplers.NSGAIISampler}
        if sampler not in samplers:
            raise ValueError(f"OptunaSearch: sampler must be one of {sorted(samplers)}, got {sampler!r}")
        self.optuna = optuna
        with _quiet(optuna):
            self.study = optuna.create_study(directions=[o.direction for o in self.objectives],
                                             sampler=samplers[sampler](seed=seed))
        self.open = []                                      # (config key, Optuna trial) asked, not told

    def ask(self):
        with _quiet(self.optuna):
            asked = self.study.ask()
        config = self.space.suggest(asked)
        self.open.append((_key(config), asked))
        return config, None

    def tell(self, trial):
        super().tell(trial)
        index = next(i for i, (key, _) in enumerate(self.open) if key == _key(trial.config))
        _, asked = self.open.pop(index)
        with _quiet(self.optuna):
            if trial.state == "complete":
                self.study.tell(asked, [trial.values[o.metric] for o in self.objectives])
            else:
                self.study.tell(asked, state=self.optuna.trial.TrialState.FAIL)

    def replay(self, trial):
        """An earlier run's trial: Optuna is made to ask exactly that configuration."""
        self.study.enqueue_trial(trial.config)
        self.ask()
        self.tell(trial)
