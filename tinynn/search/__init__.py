"""Architecture and hyper-parameter search (seed 004 §3.1, seed 002 §7, seed 001 §5.3).

A search space says which knobs to turn, a strategy proposes configurations, the runner
trains them in parallel worker processes and a study keeps the results::

    from tinynn import search
    space = search.SearchSpace(
        layers=search.Int(1, 3), width=search.Int(16, 128, log=True),
        activation=search.Choice(["relu", "tanh"]), lr=search.Float(3e-4, 3e-2, log=True))
    study = search.search(search.RegularizedEvolution(space, seed=0), trials=20, workers=2, epochs=3)
    print(study.table())
    print("best:", study.best().config)

    space.py            Int, Float, Choice (with ``when=`` conditions), SearchSpace
    trial.py            Trial, Objective (metric and direction)
    strategies.py       GridSearch, RandomSearch, RegularizedEvolution (aging evolution)
    optuna_search.py    TPE and NSGA-II through Optuna
    halving.py          SuccessiveHalving, Hyperband: stop bad trials early
    runner.py           search(): trials on a Dask cluster, or in this process
    study.py            the results, saved as a journal that a rerun resumes; the Pareto front
    objective.py        the default objective: a model from a configuration, trained on the digits
    darts.py            DARTS: the architecture itself learned by gradient descent
    plots.py            the pictures
"""
from .halving import Hyperband, SuccessiveHalving  # noqa: F401
from .objective import DIGITS_SPACE, build_model, train_on_digits  # noqa: F401
from .optuna_search import OptunaSearch  # noqa: F401
from .runner import search  # noqa: F401
from .space import Choice, Float, Int, SearchSpace  # noqa: F401
from .strategies import GridSearch, RandomSearch, RegularizedEvolution  # noqa: F401
from .study import Study  # noqa: F401
from .trial import Objective, Trial  # noqa: F401

__all__ = ["SearchSpace", "Int", "Float", "Choice", "GridSearch", "RandomSearch", "RegularizedEvolution",
           "OptunaSearch", "SuccessiveHalving", "Hyperband", "search", "Study", "Trial", "Objective",
           "DIGITS_SPACE", "build_model", "train_on_digits"]
