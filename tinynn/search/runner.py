"""Running a search: trials in worker processes of a Dask cluster, results as they arrive.

Why Dask (``distributed``): a ``LocalCluster`` of N worker processes starts in about two
seconds with nothing to install beyond pip, one ``Client(address)`` line connects the same
code to a cluster of many machines, each worker is a separate process (a trial that crashes
or is killed takes only its worker down; the nanny starts a new one), and futures let the
runner hand out a new trial the moment any worker is free. Ray Tune does the same but
brings a much heavier runtime (a raylet, an object store and a dashboard per node) for
what here is "run this function over there".

    study = search(RandomSearch(DIGITS_SPACE, seed=0), trials=16, workers=2, epochs=3)
    print(study.table())

``workers=0`` runs the trials one after another in this process (no isolation; for a
lecture or a debugger).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import os
import time

from tqdm.auto import tqdm

from .objective import train_on_digits
from .study import Study
from .trial import WAIT, Trial

__all__ = ["search", "run_trial"]


def run_trial(objective, config, epochs, seed, threads):
    """One trial inside a worker: ``threads`` for tinynn's kernels and BLAS (so that two
    workers on two cores do not fight), the objective's metrics and its wall time."""
    import numba
    from threadpoolctl import threadpool_limits
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    start = time.perf_counter()
    try:
        with threadpool_limits(threads):
            values = objective(config, epochs=epochs, seed=seed)
    finally:
        numba.set_num_threads(previous)       # workers=0 runs here, in the caller's process
    return values, time.perf_counter() - start


class _InProcess:
    """Trials one at a time in this process: ``submit`` runs it at once."""
    slots = 1

    def submit(self, fn, *args):
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args))
        except Exception as error:                      # recorded as a failed trial
            future.set_exception(error)
        return future

    def wait_one(self, futures):
        return next(iter(futures))


class _Dask:
    """Trials on the workers of a Dask cluster (a local one, or the one at ``address``)."""

    def __init__(self, client, slots):
        self.client, self.slots = client, slots

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)

    def wait_one(self, futures):
        from distributed import wait
        return next(iter(wait(list(futures), return_when="FIRST_COMPLETED").done))


@contextlib.contextmanager
def _executor(workers, address):
    if workers == 0 and address is None:
        yield _InProcess()
        return
    import dask
    from distributed import Client, LocalCluster
    # A trial whose worker dies is reported failed at once, not retried on another worker.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        if address is not None:
            with Client(address) as client:
                yield _Dask(client, workers or len(client.scheduler_info()["workers"]))
            return
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield _Dask(client, workers)


def search(strategy, trials, objective=train_on_digits, epochs=1, workers=1, address=None,
           study=None, seed=0, threads_per_worker=None, progress=True):
    """Run up to ``trials`` trials of ``strategy`` (fewer if it runs out), ``workers`` at a
    time; return the :class:`Study`. Trials already in ``study`` (a resumed study file) are
    told to the strategy and count towards ``trials``."""
    study = study if study is not None else Study(objectives=strategy.objectives)
    for finished in study.trials:
        strategy.replay(finished)
    threads = threads_per_worker or max(1, (os.cpu_count() or 1) // max(1, workers))
    bar = tqdm(total=trials, initial=min(trials, len(study.trials)), desc="search", unit="trial",
               disable=not progress)
    with _executor(workers, address) as executor, bar:
        running, number, exhausted = {}, len(study.trials), False
        while True:
            while not exhausted and len(running) < executor.slots and number < trials:
                proposal = strategy.ask()
                if proposal is None or proposal == WAIT:
                    exhausted = proposal is None
                    break
                config, trial_epochs = proposal
                trial = Trial(number, config, trial_epochs or epochs)
                running[executor.submit(run_trial, objective, config, trial.epochs, seed + number, threads)] = trial
                number += 1
            if not running:
                break
            future = executor.wait_one(running)
            trial = running.pop(future)
            _finish(trial, future)
            strategy.tell(trial)
            study.add(trial)
            bar.update(1)
            if progress:
                bar.write(_line(trial, trials, study))
    return study


def _finish(trial, future):
    try:
        trial.values, trial.seconds = future.result()
        trial.state = "complete"
    except Exception as error:
        trial.state = "failed"
        killed = type(error).__name__ == "KilledWorker"
        trial.error = "its worker died (killed or crashed)" if killed else f"{type(error).__name__}: {error}"


def _line(trial, trials, study):
    head = f"trial {trial.number} ({len(study.trials)}/{trials})"
    if trial.state == "failed":
        return f"{head} failed: {trial.error}"
    metrics = "  ".join(f"{o.metric} {trial.values[o.metric]:.4g}" for o in study.objectives)
    epochs = f"{trial.epochs} epoch" + ("s" if trial.epochs != 1 else "")
    return f"{head}  {metrics}  ({trial.seconds:.1f} s, {epochs})  best so far: trial {study.best().number}"
