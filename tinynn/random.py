"""One global random generator, so that ``manual_seed`` makes a whole run repeatable."""
from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "generator", "seed", "get_rng_state", "set_rng_state"]

_generator = np.random.default_rng()


def manual_seed(seed: int):
    """Seed every random draw in tinynn (initialisation, dropout, shuffling, ``randn``)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


seed = manual_seed


def get_rng_state() -> dict:
    """The generator's state, to give back to ``set_rng_state`` (a dict, not a byte tensor
    as in PyTorch: NumPy's PCG64 state)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict):
    _generator.bit_generator.state = state


def generator() -> np.random.Generator:
    return _generator
