"""The search strategies on one budget, on the digits (tinynn.search).

Part 1: grid, random, aging evolution, TPE and successive halving over DIGITS_SPACE, each
with the same 48 epochs of training in total (16 trials × 3 epochs; halving: 24 × 1 + 8 × 3),
2 Dask workers. For each: the trial chosen by validation accuracy after a quarter, half and
all of the budget, its test accuracy (which no choice saw), and the wall time.

Part 2: DARTS against random search in DARTS' own cell space, with the same wall time:
DARTS searches (first order) and retrains its cell for E epochs; random search trains
random cells for E epochs each until DARTS' time is used up, and keeps the one with the
best validation accuracy. Three seeds.

    python benchmarks/bench_search.py [--epochs 8] [--seeds 3]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_table  # noqa: E402

from tinynn import search  # noqa: E402
from tinynn.search.darts import random_genotype  # noqa: E402
from tinynn.search.objective import darts_on_digits, train_genotype  # noqa: E402


def chosen(trials):
    best = max(trials, key=lambda t: t.values["accuracy"])
    return f"{best.values['accuracy']:.3f} / {best.values['test_accuracy']:.3f}"


def strategies(seed):
    space = search.DIGITS_SPACE
    runs = {"grid": (search.GridSearch(space, seed=seed), 16, 3),
            "random": (search.RandomSearch(space, seed=seed), 16, 3),
            "evolution": (search.RegularizedEvolution(space, seed=seed, population_size=6, sample_size=3), 16, 3),
            "tpe": (search.OptunaSearch(space, seed=seed, sampler="tpe"), 16, 3),
            "halving": (search.SuccessiveHalving(space, seed=seed, n=24, min_epochs=1, max_epochs=3), 32, 3)}
    rows = []
    for name, (strategy, trials, epochs) in runs.items():
        start = time.perf_counter()
        study = search.search(strategy, trials, epochs=epochs, workers=2, seed=seed, progress=False)
        done = sorted(study.completed, key=lambda t: t.number)
        rows.append({"strategy": name, "trials": len(done),
                     "¼ budget val/test": chosen(done[:max(1, len(done) // 4)]),
                     "½ budget val/test": chosen(done[:max(1, len(done) // 2)]),
                     "all val/test": chosen(done), "wall s": time.perf_counter() - start})
    print_table(rows, ["strategy", "trials", "¼ budget val/test", "½ budget val/test", "all val/test", "wall s"])


def darts_against_random(epochs, seeds):
    rows = []
    for seed in range(seeds):
        start = time.perf_counter()
        darts = darts_on_digits({"order": 1}, epochs=epochs, seed=seed)
        budget = time.perf_counter() - start
        rng, results, start = np.random.default_rng(100 + seed), [], time.perf_counter()
        while time.perf_counter() - start < budget:
            results.append(train_genotype(random_genotype(rng), epochs=epochs, seed=seed + len(results)))
        best = max(results, key=lambda r: r["accuracy"])
        rows.append({"seed": seed, "budget s": budget, "DARTS val/test": f"{darts['accuracy']:.3f} / {darts['test_accuracy']:.3f}",
                     "random cells": len(results), "random best val/test": f"{best['accuracy']:.3f} / {best['test_accuracy']:.3f}"})
    print_table(rows, ["seed", "budget s", "DARTS val/test", "random cells", "random best val/test"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-strategies", action="store_true")
    args = parser.parse_args()
    if not args.skip_strategies:
        strategies(seed=0)
        print()
    darts_against_random(args.epochs, args.seeds)


if __name__ == "__main__":
    main()
