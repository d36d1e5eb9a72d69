"""One global random generator, so that ``manual_seed`` makes a whole run repeatable."""
from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "generator", "seed"]

_generator = np.random.default_rng()


def manual_seed(seed: int):
    """Seed every random draw in tinynn (initialisation, dropout, shuffling, ``randn``)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


seed = manual_seed


def generator() -> np.random.Generator:
    return _generator
