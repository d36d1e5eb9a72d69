"""A search space: the knobs a designer turns (seed 002 §7: depth, width, activation,
learning rate, batch size), each with its range, some only when another has a value.

    space = SearchSpace(
        layers=Int(1, 3),
        width=Int(16, 128, log=True),
        activation=Choice(["relu", "tanh"]),
        lr=Float(1e-4, 1e-1, log=True),
        kind=Choice(["mlp", "cnn"]),
        kernel_size=Choice([3, 5], when={"kind": "cnn"}),    # only for a conv net
    )
    config = space.sample(np.random.default_rng(0))        # {"layers": 2, "width": 37, ...}

A configuration is a plain dict; a conditional knob is absent when its condition fails.
Every strategy works through four questions a parameter answers: ``sample`` (random),
``grid_values`` (grid search), ``mutate`` (evolution) and ``suggest`` (Optuna's trial).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Int", "Float", "Choice", "SearchSpace"]


class Parameter:
    """One knob. ``when={"other": value}`` (or a list of values) makes it conditional."""

    def __init__(self, when=None):
        self.when = {k: (v if isinstance(v, (list, tuple)) else [v]) for k, v in (when or {}).items()}

    def active(self, config):
        return all(config.get(name) in values for name, values in self.when.items())


class Int(Parameter):
    """An integer in [low, high], uniform or (``log=True``) uniform in log space."""

    def __init__(self, low, high, step=1, log=False, when=None):
        super().__init__(when)
        if not (isinstance(low, int) and isinstance(high, int)) or low > high or (log and low < 1):
            raise ValueError(f"Int: expected integers low ≤ high (low ≥ 1 with log=True), got {low}, {high}")
        self.low, self.high, self.step, self.log = low, high, step, log

    def sample(self, rng):
        if self.log:        # uniform in log space over [low − ½, high + ½], then rounded
            value = math.exp(rng.uniform(math.log(self.low - 0.5 if self.low > 1 else 0.5), math.log(self.high + 0.5)))
            return int(np.clip(round(value), self.low, self.high))
        return int(self.low + self.step * rng.integers(0, (self.high - self.low) // self.step + 1))

    def grid_values(self):
        """Every step of the range; on a log scale, doublings from ``low``."""
        if self.log:
            return [v for v in (self.low * 2 ** k for k in range(64)) if v <= self.high]
        return list(range(self.low, self.high + 1, self.step))

    def mutate(self, value, rng):
        """A neighbour in range: one step (on a log scale, ×2 or ÷2) up or down."""
        steps = (value * 2, max(self.low, value // 2)) if self.log else (value + self.step, value - self.step)
        moves = [int(min(v, self.high)) for v in steps if self.low <= min(v, self.high) and min(v, self.high) != value]
        return moves[rng.integers(len(moves))] if moves else value

    def can_change(self):
        return self.high > self.low

    def suggest(self, trial, name):
        return trial.suggest_int(name, self.low, self.high, step=1 if self.log else self.step, log=self.log)


class Float(Parameter):
    """A real number in [low, high], uniform or uniform in log space; a grid takes
    ``grid`` evenly spaced points (on that scale)."""

    def __init__(self, low, high, log=False, grid=3, when=None):
        super().__init__(when)
        if not low < high or (log and low <= 0):
            raise ValueError(f"Float: expected low < high (low > 0 with log=True), got {low}, {high}")
        self.low, self.high, self.log, self.grid = float(low), float(high), log, grid

    def _to(self, value):
        return math.log(value) if self.log else value

    def _from(self, position):
        return float(math.exp(position) if self.log else position)

    def sample(self, rng):
        return self._from(rng.uniform(self._to(self.low), self._to(self.high)))

    def grid_values(self):
        spaced = np.geomspace if self.log else np.linspace
        return [float(v) for v in spaced(self.low, self.high, self.grid)]

    def mutate(self, value, rng):
        """A step of about a tenth of the range (on its scale), reflected back at the ends."""
        low, high = self._to(self.low), self._to(self.high)
        position = self._to(value) + rng.normal(0, (high - low) / 10)
        position = low + abs(position - low)                 # reflect at the ends
        return self._from(high - abs(high - position))

    def can_change(self):
        return True

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, log=self.log)


class Choice(Parameter):
    """One of a list of values (numbers, strings, None)."""

    def __init__(self, choices, when=None):
        super().__init__(when)
        if not choices:
            raise ValueError("Choice: expected at least one choice")
        self.choices = list(choices)

    def sample(self, rng):
        return self.choices[rng.integers(len(self.choices))]

    def grid_values(self):
        return list(self.choices)

    def mutate(self, value, rng):
        others = [c for c in self.choices if c != value]
        return others[rng.integers(len(others))] if others else value

    def can_change(self):
        return len(self.choices) > 1

    def suggest(self, trial, name):
        return trial.suggest_categorical(name, self.choices)


class SearchSpace:
    """Named parameters, in order; a conditional one may only depend on earlier ones."""

    def __init__(self, **parameters):
        for name, parameter in parameters.items():
            if not isinstance(parameter, Parameter):
                raise TypeError(f"SearchSpace: {name} must be Int, Float or Choice, got {type(parameter).__name__}")
            for other in parameter.when:
                if other not in parameters or list(parameters).index(other) > list(parameters).index(name):
                    raise ValueError(f"SearchSpace: {name} depends on {other!r}, which must be defined before it")
        self.parameters = parameters

    def sample(self, rng):
        config = {}
        for name, parameter in self.parameters.items():
            if parameter.active(config):
                config[name] = parameter.sample(rng)
        return config

    def grid(self):
        """Every configuration of the grid, in a fixed order (the first knob varies slowest);
        a conditional knob multiplies only the configurations where it is active."""
        configs = [{}]
        for name, parameter in self.parameters.items():
            configs = [dict(c, **{name: v}) if parameter.active(c) else c
                       for c in configs for v in (parameter.grid_values() if parameter.active(c) else [None])]
        return configs

    def grid_size(self):
        return len(self.grid())

    def mutate(self, config, rng):
        """The parent with one knob changed (and conditional knobs filled in or dropped to
        match): Real et al.'s mutation, one change per child."""
        names = [n for n in self.parameters if n in config and self.parameters[n].can_change()]
        chosen = names[rng.integers(len(names))]
        child = dict(config)
        child[chosen] = self.parameters[chosen].mutate(config[chosen], rng)
        return self._complete(child, rng)

    def _complete(self, config, rng):
        completed = {}
        for name, parameter in self.parameters.items():
            if parameter.active(completed):
                completed[name] = config[name] if name in config else parameter.sample(rng)
        return completed

    def suggest(self, trial):
        """The configuration an Optuna trial asks for (its samplers see the same knobs)."""
        config = {}
        for name, parameter in self.parameters.items():
            if parameter.active(config):
                config[name] = parameter.suggest(trial, name)
        return config

    def __repr__(self):
        return "SearchSpace(" + ", ".join(self.parameters) + ")"


KINDS = {"int": Int, "float": Float, "choice": Choice}


def space_from_json(description):
    """A SearchSpace from a JSON object (a search-space file; reading it runs no code)::

        {"width": {"type": "int", "low": 16, "high": 128, "log": true},
         "kind": {"type": "choice", "choices": ["mlp", "cnn"]},
         "kernel_size": {"type": "choice", "choices": [3, 5], "when": {"kind": "cnn"}}}
    """
    parameters = {}
    for name, spec in description.items():
        spec = dict(spec)
        kind = spec.pop("type", None)
        if kind not in KINDS:
            raise ValueError(f"search space: {name} needs \"type\" one of {sorted(KINDS)}, got {kind!r}")
        try:
            parameters[name] = KINDS[kind](**spec)
        except TypeError as error:
            raise ValueError(f"search space: {name}: {error}") from None
    return SearchSpace(**parameters)
