"""``tinynn search``: one command for every strategy, on the digits by default.

    tinynn search --strategy evolution --trials 20 --workers 2 --epochs 3 --plot search/
"""
from __future__ import annotations

import json
from pathlib import Path

STRATEGY_NAMES = ("grid", "random", "evolution", "tpe", "nsga2", "halving", "hyperband", "darts")


def add_parser(commands):
    parser = commands.add_parser("search", help="search architectures and hyper-parameters (the search extra)")
    parser.add_argument("--strategy", choices=STRATEGY_NAMES, default="random")
    parser.add_argument("--trials", type=int, default=8, help="trials to run (a resumed study counts its own)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes of the local Dask cluster (0: run in this process)")
    parser.add_argument("--address", help="an existing Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs per trial (the most, for halving; at least 3 for hyperband)")
    parser.add_argument("--dataset", choices=["digits"], default="digits")
    parser.add_argument("--model", choices=["any", "mlp", "cnn"], default="any", help="restrict the kind of network")
    parser.add_argument("--space", help="a search-space JSON file (see tinynn.search.space.space_from_json)")
    parser.add_argument("--objectives", default=None,
                        help="metric:direction,... (default accuracy:maximize; nsga2 adds parameters:minimize)")
    parser.add_argument("--study", help="journal file: results are appended as they arrive; rerun to resume")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="folder for the pictures (the plot extra)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _objectives(args):
    from .trial import Objective
    text = args.objectives or ("accuracy:maximize,parameters:minimize" if args.strategy == "nsga2"
                               else "accuracy:maximize")
    return tuple(Objective(*item.split(":")) for item in text.split(","))


def _space(args):
    from .objective import DIGITS_SPACE
    from .space import Choice, SearchSpace, space_from_json
    if args.space:
        return space_from_json(json.loads(Path(args.space).read_text()))
    if args.model == "any":
        return DIGITS_SPACE
    return SearchSpace(**dict(DIGITS_SPACE.parameters, kind=Choice([args.model])))


def _strategy(args, space, objectives):
    from . import halving, optuna_search, strategies
    from .darts import DartsRuns
    name, seed = args.strategy, args.seed
    if name in ("tpe", "nsga2"):
        return optuna_search.OptunaSearch(space, objectives, seed, sampler=name)
    if name == "halving":
        return halving.SuccessiveHalving(space, objectives, seed, n=args.trials, min_epochs=1,
                                         max_epochs=max(1, args.epochs))
    if name == "hyperband":
        # a bracket needs room to halve: its longest runs get at least 3 epochs
        return halving.Hyperband(space, objectives, seed, min_epochs=1, max_epochs=max(3, args.epochs))
    if name == "darts":
        return DartsRuns(objectives, seed)
    if name == "evolution":
        population = max(2, min(8, args.trials // 2))
        return strategies.RegularizedEvolution(space, objectives, seed, population_size=population,
                                               sample_size=min(3, population))
    return {"grid": strategies.GridSearch, "random": strategies.RandomSearch}[name](space, objectives, seed)


def main(args):
    from .objective import darts_on_digits, train_on_digits
    from .runner import search
    from .study import Study
    objectives = _objectives(args)
    strategy = _strategy(args, _space(args), objectives)
    study = Study(args.study, objectives)
    if study.trials:
        print(f"resuming {args.study}: {len(study.trials)} trials already finished")
    objective = darts_on_digits if args.strategy == "darts" else train_on_digits
    study = search(strategy, args.trials, objective, epochs=args.epochs, workers=args.workers,
                   address=args.address, study=study, seed=args.seed, progress=not args.quiet)
    print()
    print(study.table())
    best = study.best()
    if best is None:
        print("no trial finished")
        return 1
    print(f"\nbest: trial {best.number}, {objectives[0].metric} {best.values[objectives[0].metric]:.4f}, "
          f"{best.values.get('parameters', 0):,} parameters: {best.config}")
    if "genotype" in best.values:
        print("derived cell:", ", ".join(f"node {n} ← {op}(node {s})" for n, s, op in best.values["genotype"]))
    if len(objectives) > 1:
        print("Pareto front:", ", ".join(f"trial {t.number}" for t in study.pareto_front()))
    if args.plot:
        _plots(study, Path(args.plot), args.strategy == "darts")
    return 0


def _plots(study, folder, darts):
    from ..interpret.visualize import save_figure
    from . import plots
    from .darts import PRIMITIVES
    folder.mkdir(parents=True, exist_ok=True)
    written = [save_figure(plots.plot_history(study), folder / "history.png"),
               save_figure(plots.plot_pareto(study), folder / "pareto.png")]
    if not darts:
        written.append(save_figure(plots.plot_parallel_coordinates(study), folder / "parallel_coordinates.png"))
    else:
        written.append(save_figure(plots.plot_alpha(study.best().values["alpha_history"], PRIMITIVES),
                                   folder / "darts_alpha.png"))
    print("pictures:", ", ".join(str(p) for p in written))
