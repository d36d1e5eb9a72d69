"""The search strategies on one budget, on the digits (tinynn.search).

Part 1: grid, random, aging evolution, TPE and successive halving over DIGITS_SPACE, each
with the same 48 epochs of training in total (16 trials × 3 epochs; halving: 24 × 1 + 8 × 3),
2 Dask workers. For each: the trial chosen by validation accuracy after a quarter, half and
all of the budget, its test accuracy (which no choice saw), and the wall time.

Part 2: DARTS against random search in DARTS' own cell space, with the same search time:
DARTS searches (first order, E epochs) and random search trains random cells for E epochs
each until DARTS' time is used up, keeping the one with the best validation accuracy. Then
each side's cell is trained from scratch for F epochs with R seeds, and the means compared
(on validation, which DARTS never saw, and on test, which neither side saw). Cells of 4 and
of 8 channels per node, several seeds each.

    python benchmarks/bench_search.py [--epochs 8] [--final-epochs 16] [--seeds 6] [--channels 4 8]
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
from tinynn.search.objective import search_cell, train_genotype  # noqa: E402


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


def retrained(genotype, epochs, channels, seed, retrains):
    """Mean validation and test accuracy of ``retrains`` trainings of the cell from scratch."""
    runs = [train_genotype(genotype, epochs, 1000 + 10 * seed + k, channels=channels) for k in range(retrains)]
    return np.mean([r["accuracy"] for r in runs]), np.mean([r["test_accuracy"] for r in runs])


def random_search(budget, epochs, channels, seed):
    """Random cells trained ``epochs`` each until ``budget`` seconds are used; the best by validation."""
    rng, results, start = np.random.default_rng(100 + seed), [], time.perf_counter()
    while time.perf_counter() - start < budget:
        genotype = random_genotype(rng)
        results.append((train_genotype(genotype, epochs, seed + len(results), channels=channels)["accuracy"], genotype))
    return max(results, key=lambda r: r[0])[1], len(results)


def darts_against_random(epochs, final_epochs, channels, seeds, retrains):
    rows, wins, tests = [], 0, []
    for seed in range(seeds):
        start = time.perf_counter()
        cell, _ = search_cell(epochs, seed, channels=channels)
        budget = time.perf_counter() - start
        rival, tried = random_search(budget, epochs, channels, seed)
        (darts_val, darts_test), (random_val, random_test) = (
            retrained(g, final_epochs, channels, seed, retrains) for g in (cell, rival))
        wins += darts_test > random_test
        tests.append((darts_test, random_test))
        rows.append({"channels": channels, "seed": seed, "search s": budget, "random cells": tried,
                     "DARTS val/test": f"{darts_val:.3f} / {darts_test:.3f}",
                     "random best val/test": f"{random_val:.3f} / {random_test:.3f}",
                     "DARTS cell": " ".join(op for _, _, op in cell)})
    print_table(rows, ["channels", "seed", "search s", "random cells", "DARTS val/test", "random best val/test",
                       "DARTS cell"])
    darts_mean, random_mean = np.mean(tests, axis=0)
    print(f"{channels} channels: DARTS' cell better on test in {wins} of {seeds} seeds; "
          f"mean test accuracy DARTS {darts_mean:.3f}, random search {random_mean:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="search epochs, and each random cell's")
    parser.add_argument("--final-epochs", type=int, default=16, help="the chosen cells' training from scratch")
    parser.add_argument("--retrains", type=int, default=3, help="seeds of that training, averaged")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--channels", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--skip-strategies", action="store_true")
    args = parser.parse_args()
    if not args.skip_strategies:
        strategies(seed=0)
        print()
    for channels in args.channels:
        darts_against_random(args.epochs, args.final_epochs, channels, args.seeds, args.retrains)


if __name__ == "__main__":
    main()
