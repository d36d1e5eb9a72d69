"""tinynn.search: spaces, every strategy's rules, the study journal, and searches run end to
end — in this process, and on a 2-worker Dask cluster where one trial kills its worker."""
import itertools
import json
import os
import signal

import numpy as np
import pytest

from tinynn import search
from tinynn.search import halving, space as space_module
from tinynn.search.trial import WAIT, Objective, Trial

SPACE = search.SearchSpace(
    kind=search.Choice(["mlp", "cnn"]),
    layers=search.Int(1, 3),
    lr=search.Float(1e-3, 1e-1, log=True, grid=2),
    kernel_size=search.Choice([3, 5], when={"kind": "cnn"}),
)


def _done(config, value, number=0, epochs=1):
    return Trial(number, config, epochs, "complete", {"accuracy": value, "parameters": 10 * (number + 1)})


def test_grid_enumerates_exactly_the_grid():
    expected = [dict(kind="mlp", layers=layers, lr=lr) for layers, lr in itertools.product((1, 2, 3), (1e-3, 1e-1))]
    expected += [dict(kind="cnn", layers=layers, lr=lr, kernel_size=k)
                 for layers, lr, k in itertools.product((1, 2, 3), (1e-3, 1e-1), (3, 5))]
    got = []
    grid = search.GridSearch(SPACE)
    while (proposal := grid.ask()) is not None:
        got.append(proposal[0])
    key = lambda c: (c["kind"], c["layers"], round(c["lr"], 12), c.get("kernel_size", 0))  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, expected)) and len(got) == len(expected) == SPACE.grid_size() == 18


def test_grid_skips_what_a_resumed_study_already_ran():
    grid = search.GridSearch(SPACE)
    first = SPACE.grid()[:3]
    for number, config in enumerate(first):
        grid.replay(_done(config, 0.5, number))
    assert grid.ask()[0] == SPACE.grid()[3]


def test_random_is_reproducible_and_resumes_its_sequence():
    def configs(strategy, n):
        return [strategy.ask()[0] for _ in range(n)]
    whole = configs(search.RandomSearch(SPACE, seed=7), 6)
    assert whole == configs(search.RandomSearch(SPACE, seed=7), 6) != configs(search.RandomSearch(SPACE, seed=8), 6)
    resumed = search.RandomSearch(SPACE, seed=7)
    for number, config in enumerate(whole[:4]):
        resumed.replay(_done(config, 0.5, number))
    assert configs(resumed, 2) == whole[4:]


def test_conditional_knobs_appear_only_when_active():
    rng = np.random.default_rng(0)
    for config in (SPACE.sample(rng) for _ in range(200)):
        assert ("kernel_size" in config) == (config["kind"] == "cnn")
        assert 1e-3 <= config["lr"] <= 1e-1 and config["layers"] in (1, 2, 3)
    widths = {search.Int(16, 128, log=True).sample(rng) for _ in range(3000)}
    assert min(widths) == 16 and max(widths) == 128


def test_evolution_mutates_the_tournament_winner_and_ages_out_the_oldest():
    evolution = search.RegularizedEvolution(SPACE, seed=0, population_size=3, sample_size=3)
    first = [evolution.ask()[0] for _ in range(3)]                 # the first generation: random
    for number, (config, value) in enumerate(zip(first, (0.2, 0.9, 0.5))):
        evolution.tell(_done(config, value, number))
    child = evolution.ask()[0]                                       # sample = whole population: parent = best
    parent = first[1]
    changed = [k for k in set(parent) | set(child) if parent.get(k) != child.get(k)]
    assert 1 <= len(changed) <= 2 and (len(changed) == 1 or "kernel_size" in changed)   # one knob (+ its condition)
    evolution.tell(_done(child, 0.1, 3))
    assert [t.number for t in evolution.population] == [1, 2, 3]    # trial 0, the oldest, died
    evolution.tell(Trial(4, child, 1, "failed"))
    assert [t.number for t in evolution.population] == [1, 2, 3]    # a failed child does not join
    with pytest.raises(ValueError, match="sample_size"):
        search.RegularizedEvolution(SPACE, population_size=2, sample_size=3)


@pytest.mark.parametrize("sampler", ["tpe", "nsga2"])
def test_optuna_samplers_ask_and_tell(sampler):
    pytest.importorskip("optuna")
    objectives = (Objective(), Objective("parameters", "minimize")) if sampler == "nsga2" else (Objective(),)
    strategy = search.OptunaSearch(SPACE, objectives, seed=0, sampler=sampler)
    for number in range(6):
        config, _ = strategy.ask()
        assert ("kernel_size" in config) == (config["kind"] == "cnn")
        strategy.tell(_done(config, config["layers"] / 3, number))
    assert len(strategy.study.trials) == 6 and not strategy.open
    strategy.replay(_done(dict(kind="mlp", layers=2, lr=0.01), 0.7, 6))
    assert strategy.study.trials[-1].params == dict(kind="mlp", layers=2, lr=0.01)


def test_successive_halving_promotes_the_best_third():
    strategy = search.SuccessiveHalving(SPACE, seed=0, n=9, min_epochs=1, max_epochs=9, eta=3)
    assert strategy.rungs == [(9, 1), (3, 3), (1, 9)] and strategy.total_trials() == 13
    rung0 = [strategy.ask() for _ in range(9)]
    assert all(epochs == 1 for _, epochs in rung0) and strategy.ask() == WAIT
    for number, (config, _) in enumerate(rung0):
        strategy.tell(_done(config, number / 10, number))           # trials 6, 7, 8 are the best
    rung1 = [strategy.ask() for _ in range(3)]
    assert [c for c, _ in rung1] == [rung0[8][0], rung0[7][0], rung0[6][0]] and all(e == 3 for _, e in rung1)
    for config, _ in rung1:
        strategy.tell(_done(config, 0.5))
    assert strategy.ask()[1] == 9


def test_hyperband_runs_its_brackets_in_turn():
    strategy = halving.Hyperband(SPACE, seed=0, min_epochs=1, max_epochs=9, eta=3)
    assert [b.rungs for b in strategy.brackets] == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    assert strategy.total_trials() == 13 + 6 + 3


def test_study_journal_resumes_and_skips_a_torn_line(tmp_path):
    path = tmp_path / "study.jsonl"
    study = search.Study(path)
    for number, value in enumerate((0.3, 0.8, 0.6)):
        study.add(_done({"layers": number}, value, number))
    with open(path, "a") as journal:
        journal.write('{"number": 3, "config": {"lay')                # a crash mid-write
    again = search.Study(path)
    assert [t.number for t in again.trials] == [0, 1, 2] and again.best().number == 1
    assert again.table().splitlines()[1].startswith("1 ")


def test_pareto_front_is_the_set_of_non_dominated_trials():
    rng = np.random.default_rng(0)
    study = search.Study(objectives=(Objective(), Objective("parameters", "minimize")))
    for number in range(30):
        study.add(Trial(number, {}, 1, "complete", {"accuracy": float(rng.random()), "parameters": int(rng.integers(1, 100))}))
    points = [(t.values["accuracy"], t.values["parameters"]) for t in study.trials]
    brute = {t.number for t, (a, p) in zip(study.trials, points)
             if not any(a2 >= a and p2 <= p and (a2, p2) != (a, p) for a2, p2 in points)}
    assert {t.number for t in study.pareto_front()} == brute and brute


def test_space_files_are_data_not_code(tmp_path):
    space = space_module.space_from_json(json.loads(json.dumps({
        "width": {"type": "int", "low": 8, "high": 64, "log": True},
        "kind": {"type": "choice", "choices": ["mlp", "cnn"]},
        "kernel_size": {"type": "choice", "choices": [3, 5], "when": {"kind": "cnn"}}})))
    assert list(space.parameters) == ["width", "kind", "kernel_size"]
    with pytest.raises(ValueError, match="needs \"type\" one of"):
        space_module.space_from_json({"x": {"type": "exec", "code": "import os"}})
    with pytest.raises(ValueError, match="depends on 'kind', which must be defined before it"):
        search.SearchSpace(k=search.Choice([3], when={"kind": "cnn"}), kind=search.Choice(["cnn"]))


def test_search_in_process_finds_the_best_of_its_trials():
    study = search.search(search.RandomSearch(search.DIGITS_SPACE, seed=1), trials=3, workers=0, epochs=1, progress=False)
    assert [t.state for t in study.trials] == ["complete"] * 3
    assert study.best().values["accuracy"] == max(t.values["accuracy"] for t in study.trials) > 0.1


def keras_objective(config, epochs=1, seed=0):
    """A Keras-style model built from the configuration (Keras Tuner's HyperModel, by hand)."""
    from tinynn import keras
    from tinynn.data import load_digits
    images, labels = load_digits()
    x = images.reshape(len(images), -1)
    model = keras.Sequential([keras.layers.Dense(config["width"], activation=config["activation"]),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(config["lr"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[:1200], labels[:1200], epochs=epochs, batch_size=32, verbose=0,
                        validation_data=(x[1200:], labels[1200:]))
    return {"accuracy": float(history.history["val_accuracy"][-1]), "parameters": model.count_params()}


def test_a_keras_style_objective():
    space = search.SearchSpace(width=search.Int(16, 64, log=True), activation=search.Choice(["relu", "tanh"]),
                               lr=search.Float(1e-3, 1e-2, log=True))
    study = search.search(search.GridSearch(space), trials=2, objective=keras_objective, workers=0,
                          epochs=6, progress=False)
    assert all(t.state == "complete" and t.values["accuracy"] > 0.5 for t in study.trials)


def killer_objective(config, epochs=1, seed=0):
    """Trial 1 kills its own worker process in the middle of the trial."""
    if config["layers"] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return search.train_on_digits(dict(config, kind="mlp", width=16, lr=3e-3), epochs, seed)


def test_two_workers_survive_a_killed_trial_and_resume(tmp_path):
    pytest.importorskip("distributed")
    space = search.SearchSpace(layers=search.Int(1, 3))
    path = tmp_path / "study.jsonl"
    study = search.search(search.GridSearch(space), trials=3, objective=killer_objective, workers=2,
                          study=search.Study(path), progress=False)
    states = {t.config["layers"]: t.state for t in study.trials}
    assert states == {1: "complete", 2: "failed", 3: "complete"}
    assert "worker died" in next(t.error for t in study.trials if t.state == "failed")
    assert len(search.Study(path).trials) == 3                        # all three in the journal, as they arrived
    wider = search.SearchSpace(layers=search.Int(1, 4))               # rerun with a bigger budget: only the new trial runs
    resumed = search.search(search.GridSearch(wider), trials=4, objective=killer_objective, workers=0,
                            study=search.Study(path), progress=False)
    assert [t.config["layers"] for t in resumed.trials] == [t.config["layers"] for t in study.trials] + [4]


@pytest.mark.parametrize("strategy", ["grid", "random", "evolution", "tpe", "nsga2", "halving", "hyperband", "darts"])
def test_cli_search_finishes_for_every_strategy(strategy, tmp_path):
    pytest.importorskip("distributed")
    import subprocess
    import sys
    command = [sys.executable, "-m", "tinynn", "search", "--strategy", strategy, "--trials", "4", "--workers", "2",
               "--epochs", "1", "--study", str(tmp_path / "study.jsonl"), "--plot", str(tmp_path / "pictures")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "best: trial" in result.stdout and "accuracy" in result.stdout.splitlines()[1]
    journal = [json.loads(line) for line in (tmp_path / "study.jsonl").read_text().splitlines()]
    assert 1 <= len(journal) <= 4 and all(r["state"] == "complete" for r in journal)
    pictures = {p.name: p.stat().st_size for p in (tmp_path / "pictures").iterdir()}
    assert "history.png" in pictures and min(pictures.values()) > 3_000
    if strategy == "darts":
        assert "derived cell: node 1 ←" in result.stdout and "darts_alpha.png" in pictures
    if strategy == "nsga2":
        assert "Pareto front: trial" in result.stdout


def test_in_process_trials_leave_the_thread_settings_as_they_were():
    import numba
    before = numba.get_num_threads()
    search.search(search.RandomSearch(search.DIGITS_SPACE, seed=2), trials=1, workers=0, threads_per_worker=1,
                  progress=False)
    assert numba.get_num_threads() == before
