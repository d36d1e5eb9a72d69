"""Compile the kernels before training starts, and say so.

Numba compiles a kernel the first time it runs and keeps the machine code in its cache, so
on a fresh install a model's first training step waits for compilation (seconds for
LeNet-5, more for ResNet18) with nothing on the screen.  ``warm_up`` runs that step on a
copy of the model and two examples, so that the model, its gradients and the random
generator are left exactly as they were; ``tinynn train`` calls it when the cache is
empty and prints what it is doing.
"""
import copy
import time

from . import random
from .autograd import enable_grad

__all__ = ["warm_up"]


def warm_up(model, example, target, loss_fn) -> float:
    """One forward and backward pass of a copy of ``model`` on the first two rows of
    ``example`` and ``target``; returns the seconds it took (mostly compilation)."""
    start, state = time.perf_counter(), random.get_rng_state()
    twin = copy.deepcopy(model)
    twin.train()
    try:
        with enable_grad():
            loss_fn(twin(example[:2]), target[:2]).backward()
    finally:
        random.set_rng_state(state)
    return time.perf_counter() - start
