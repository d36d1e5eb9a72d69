"""Pictures of a search (matplotlib, the ``plot`` extra): the objective over the trials, the
knobs in parallel coordinates, the Pareto front, and DARTS' α over the epochs. Each returns
a Figure built without pyplot; ``tinynn.interpret.visualize.save_figure`` writes it."""
from __future__ import annotations

import numpy as np

from ..interpret.visualize import _figure

__all__ = ["plot_history", "plot_parallel_coordinates", "plot_pareto", "plot_alpha"]


def plot_history(study, title="search"):
    """Each finished trial's objective, and the best so far."""
    objective = study.objectives[0]
    done = sorted(study.completed, key=lambda t: t.number)
    figure = _figure(figsize=(6, 3.2))
    axes = figure.subplots()
    values = [t.values[objective.metric] for t in done]
    best = np.maximum.accumulate(values) if objective.direction == "maximize" else np.minimum.accumulate(values)
    axes.scatter([t.number for t in done], values, s=14, label="trial")
    axes.step([t.number for t in done], best, where="post", color="tab:red", label="best so far")
    axes.set(xlabel="trial", ylabel=objective.metric, title=title)
    axes.legend()
    figure.tight_layout()
    return figure


def plot_parallel_coordinates(study):
    """One line per trial across every knob (scaled to [0, 1]; choices in their order),
    coloured by the objective: which values the good trials share."""
    done = study.completed
    names = list(dict.fromkeys(k for t in done for k in t.config))
    columns = []
    for name in names:
        raw = [t.config.get(name) for t in done]
        levels = sorted({v for v in raw if v is not None}, key=str)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels)
        position = {v: (v if numeric else i) for i, v in enumerate(levels)}
        values = np.array([np.nan if v is None else position[v] for v in raw], dtype=float)
        low, high = np.nanmin(values), np.nanmax(values)
        columns.append((values - low) / (high - low) if high > low else np.full_like(values, 0.5))
    metric = study.objectives[0].metric
    scores = np.array([t.values[metric] for t in done])
    figure = _figure(figsize=(1.2 * len(names) + 2, 3.5))
    axes = figure.subplots()
    colours = (scores - scores.min()) / (np.ptp(scores) or 1.0)
    from matplotlib import colormaps
    for row, colour in zip(np.array(columns).T, colours):
        axes.plot(range(len(names)), row, color=colormaps["viridis"](colour), alpha=0.8)
    axes.set_xticks(range(len(names)), labels=names, rotation=30)
    axes.set(yticks=[], title=f"configurations, coloured by {metric} (yellow: best)")
    figure.tight_layout()
    return figure


def plot_pareto(study, x="parameters", y=None):
    """Every trial on two objectives, the Pareto front joined."""
    y = y or study.objectives[0].metric
    figure = _figure(figsize=(5, 3.5))
    axes = figure.subplots()
    axes.scatter([t.values[x] for t in study.completed], [t.values[y] for t in study.completed],
                 s=14, color="lightgrey", label="trial")
    front = sorted(study.pareto_front(), key=lambda t: t.values[x])
    axes.plot([t.values[x] for t in front], [t.values[y] for t in front], marker="o", color="tab:red",
              label="Pareto front")
    axes.set(xlabel=x, ylabel=y, xscale="log" if x == "parameters" else "linear")
    axes.legend()
    figure.tight_layout()
    return figure


def plot_alpha(history, primitives):
    """softmax(α) of every edge over the search epochs, one panel per edge."""
    history = np.asarray(history)                              # epochs × edges × operations
    edges = history.shape[1]
    figure = _figure(figsize=(3 * min(edges, 3), 2.4 * -(-edges // 3)))
    axes = np.atleast_1d(figure.subplots(-(-edges // 3), min(edges, 3))).ravel()
    for edge, axis in enumerate(axes):
        if edge >= edges:
            axis.axis("off")
            continue
        for k, name in enumerate(primitives):
            axis.plot(range(1, len(history) + 1), history[:, edge, k], label=name)
        axis.set_title(f"edge {edge}", fontsize=9)
    axes[0].legend(fontsize=6)
    figure.supxlabel("epoch")
    figure.tight_layout()
    return figure
