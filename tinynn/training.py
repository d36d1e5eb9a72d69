"""The training loop every front end shares: forward, loss, backward, step, with a
progress bar and a check that stops at the first step whose loss is NaN or inf."""
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .autograd import no_grad

__all__ = ["NonFiniteLossError", "check_finite_loss", "count_correct", "train_epoch", "evaluate",
           "median_latency_ms", "History"]


class NonFiniteLossError(FloatingPointError):
    pass


def _first_non_finite(model):
    """The first parameter (by name) whose value, else whose gradient, is NaN/inf, as words.
    Weights come first: a non-finite weight makes every gradient before it non-finite too."""
    params = list(model.named_parameters())
    for name, param in params:
        if not np.isfinite(np.asarray(param.detach())).all():
            return f"the weights of '{name}'"
    for name, param in params:
        if param.grad is not None and not np.isfinite(np.asarray(param.grad)).all():
            return f"the gradient of '{name}'"
    return None


def _first_bad_sample(inputs):
    """The index of the first sample of the batch holding NaN or inf, or None."""
    values = np.asarray(inputs.detach() if hasattr(inputs, "detach") else inputs)
    if values.dtype.kind != "f":
        return None
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def check_finite_loss(loss_value, step, model, inputs=None):
    """Raise, naming the step and where the first non-finite value came from (the input
    batch, or the first layer whose weights or gradient went non-finite), if the loss did."""
    if np.isfinite(loss_value):
        return
    sample = None if inputs is None else _first_bad_sample(inputs)
    if sample is not None:
        raise NonFiniteLossError(f"training step {step}: the loss is {loss_value} because the input "
                                 f"batch holds NaN or inf (first in sample {sample} of the batch); "
                                 "clean the data, e.g. check np.isfinite(x).all()")
    culprit = _first_non_finite(model)
    where = f"; the first non-finite values are in {culprit}" if culprit else \
        "; all weights are still finite (check the inputs and the loss)"
    raise NonFiniteLossError(f"training step {step}: the loss is {loss_value}{where}. Lower the "
                             "learning rate or look at that layer with tinynn.autograd.detect_anomaly()")


@dataclass
class History:
    """Per-epoch metrics, Keras' ``History.history`` layout: {'loss': [...], ...}."""
    history: dict = field(default_factory=dict)

    def append(self, **metrics):
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(value)


def count_correct(outputs, labels):
    """How many rows the model got right: argmax against class indices or one-hot rows,
    or, for a single output column, the probability thresholded at 0.5."""
    scores = np.asarray(outputs.detach())
    targets = np.asarray(labels)
    if scores.ndim == 2 and scores.shape[1] == 1:
        return int(((scores.reshape(-1) > 0.5) == targets.reshape(-1).astype(bool)).sum())
    if targets.ndim == scores.ndim:
        targets = targets.argmax(axis=-1)
    return int((scores.argmax(axis=-1) == targets.reshape(-1)).sum())


def train_epoch(model, loader, loss_fn, optimizer, step=0, description="train", verbose=True,
                after_step=None, before_step=None):
    """One pass over ``loader``; returns (mean loss, accuracy, the global step count).
    ``before_step(inputs, labels)`` runs before every step (DARTS' architecture step),
    ``after_step(step)`` after every optimiser step (Keras' batch callbacks)."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=description, leave=False, disable=not verbose, unit="batch",
               mininterval=0.5)
    for inputs, labels in bar:
        step += 1
        if before_step is not None:
            before_step(inputs, labels)
        optimizer.zero_grad()
        logits = model(inputs)
        loss = loss_fn(logits, labels)
        if loss.requires_grad:                 # a model with no trainable weights has no graph
            loss.backward()
        value = loss.item()
        check_finite_loss(value, step, model, inputs)
        optimizer.step()
        if after_step is not None:
            after_step(step)
        total_loss += value * len(inputs)
        correct += count_correct(logits, labels)
        seen += len(inputs)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False)
    return total_loss / max(seen, 1), correct / max(seen, 1), step


def median_latency_ms(model, inputs, repeats=15):
    """The median wall time of ``model(inputs)`` in ms, after one call that compiles and warms."""
    times = []
    with no_grad():
        model(inputs)
        for _ in range(repeats):
            start = time.perf_counter()
            model(inputs)
            times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def evaluate(model, loader, loss_fn):
    """(mean loss, accuracy) over ``loader`` in eval mode, without building a graph."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with no_grad():
        for inputs, labels in loader:
            logits = model(inputs)
            total_loss += loss_fn(logits, labels).item() * len(inputs)
            correct += count_correct(logits, labels)
            seen += len(inputs)
    return total_loss / max(seen, 1), correct / max(seen, 1)
