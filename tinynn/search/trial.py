"""A trial — one configuration trained and measured — and what a study wants of it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["Trial", "Objective", "WAIT"]

WAIT = "wait"   # what ask() returns when a strategy needs running trials to finish first


@dataclass
class Trial:
    number: int
    config: dict
    epochs: int
    state: str = "running"                 # then "complete" or "failed"
    values: dict = field(default_factory=dict)   # accuracy, parameters, latency_ms, ...
    seconds: float = 0.0
    error: str = ""

    def to_record(self):
        return asdict(self)

    @classmethod
    def from_record(cls, record):
        return cls(**record)


@dataclass(frozen=True)
class Objective:
    """A metric the objective function returns, and whether more is better."""
    metric: str = "accuracy"
    direction: str = "maximize"

    def __post_init__(self):
        if self.direction not in ("maximize", "minimize"):
            raise ValueError(f"Objective: direction must be 'maximize' or 'minimize', got {self.direction!r}")

    def score(self, trial):
        """Higher is better, whatever the direction; a failed trial is the worst."""
        if trial.state != "complete":
            return float("-inf")
        value = trial.values[self.metric]
        return value if self.direction == "maximize" else -value
