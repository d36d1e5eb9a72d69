"""The results of a search, saved as they arrive so that stopping loses nothing.

The study file is a journal: one JSON line per finished trial, written and fsync'd before
the next trial is counted (what Optuna's ``JournalFileStorage`` does). A crash can at worst
leave one torn last line, which loading skips; every earlier trial is safe. Running the
same command again resumes: the finished trials are read back and only the rest run.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .trial import Objective, Trial

__all__ = ["Study"]


class Study:
    def __init__(self, path=None, objectives=(Objective(),)):
        self.path = Path(path) if path is not None else None
        self.objectives = tuple(objectives)
        self.trials = self._load() if self.path is not None and self.path.exists() else []

    def _load(self):
        trials = []
        for line in self.path.read_text().splitlines():
            try:
                trials.append(Trial.from_record(json.loads(line)))
            except (json.JSONDecodeError, TypeError):
                continue                   # a line torn by a crash: that trial did not finish
        return trials

    def add(self, trial):
        self.trials.append(trial)
        if self.path is None:
            return
        with open(self.path, "a") as journal:
            journal.write(json.dumps(trial.to_record()) + "\n")
            journal.flush()
            os.fsync(journal.fileno())

    @property
    def completed(self):
        return [t for t in self.trials if t.state == "complete"]

    def best(self):
        """The best finished trial by the first objective (None if none finished)."""
        return max(self.completed, key=self.objectives[0].score, default=None)

    def pareto_front(self):
        """The trials no other trial beats on every objective at once (best first)."""
        scores = {t.number: [o.score(t) for o in self.objectives] for t in self.completed}

        def dominated(t):
            return any(all(a >= b for a, b in zip(scores[o.number], scores[t.number])) and
                       scores[o.number] != scores[t.number] for o in self.completed)
        return sorted((t for t in self.completed if not dominated(t)), key=self.objectives[0].score, reverse=True)

    def table(self):
        """Every trial, best first: number, objectives, time, state and configuration."""
        metrics = list(dict.fromkeys([o.metric for o in self.objectives] + ["accuracy", "parameters"]))
        header = ["trial", *metrics, "epochs", "seconds", "state", "configuration"]
        ordered = sorted(self.trials, key=self.objectives[0].score, reverse=True)
        rows = [[str(t.number), *(_format(t.values.get(m)) for m in metrics), str(t.epochs),
                 f"{t.seconds:.1f}", t.state, _describe(t)] for t in ordered]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)] if rows else map(len, header)
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
        return "\n".join(lines)


def _format(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _describe(trial):
    text = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.config.items())
    return text if trial.state != "failed" else f"{text}  [{trial.error}]"
