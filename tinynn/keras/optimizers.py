"""Keras' optimisers, with Keras' defaults and update rules (g: gradient, p: parameter).

They differ from ``tinynn.optim`` (PyTorch's rules) in small, visible ways:
SGD keeps a velocity v ← μv - γg instead of PyTorch's buffer; RMSprop puts ε
inside the square root; Adam adds ε to sqrt(v) before the bias correction is
folded into the step size; every ε defaults to 1e-7.
"""
import math

import numpy as np

from ..optim.optimizer import Optimizer
from . import schedules  # noqa: F401  (keras.optimizers.schedules)


class KerasOptimizer(Optimizer):
    """``learning_rate`` is Keras' name for the group's ``lr``; it may be a schedule
    (``schedules.py``), evaluated at ``iterations``, the number of steps taken so far."""

    iterations = 0
    schedule = None

    def step(self, closure=None):
        if self.schedule is not None:
            for group in self.param_groups:
                group["lr"] = float(self.schedule(self.iterations))
        self.iterations += 1
        return super().step(closure)

    @property
    def learning_rate(self):
        groups = getattr(self, "param_groups", None)
        return groups[0]["lr"] if groups else self._hyper["lr"]

    @learning_rate.setter
    def learning_rate(self, value):
        self._hyper["lr"] = float(value)
        for group in getattr(self, "param_groups", ()):
            group["lr"] = float(value)

    def apply_gradients(self, grads_and_vars):
        """Keras' step: set each variable's gradient, then update (the GradientTape pattern).
        The first call binds the optimiser to those variables, as Keras does."""
        pairs = list(grads_and_vars)
        bind(self, [var for _, var in pairs])
        for grad, var in pairs:
            var.grad = grad
        self.step()


class SGD(KerasOptimizer):
    """v ← μ v - γ g;  p ← p + v  (Nesterov: p ← p + μ v - γ g)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        self._hyper = dict(lr=learning_rate, momentum=momentum, nesterov=nesterov)

    def update(self, param, grad, state, group):
        lr, momentum = group["lr"], group["momentum"]
        if not momentum:
            param -= lr * grad
            return
        velocity = state.setdefault("velocity", np.zeros_like(param))
        velocity *= momentum
        velocity -= lr * grad
        param += momentum * velocity - lr * grad if group["nesterov"] else velocity


class RMSprop(KerasOptimizer):
    """v ← ρ v + (1 - ρ) g²;  p ← p - γ g / sqrt(v + ε)  (centred: v - (mean g)² + ε)."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        self._hyper = dict(lr=learning_rate, rho=rho, momentum=momentum, eps=epsilon,
                           centered=centered)

    def update(self, param, grad, state, group):
        rho = group["rho"]
        velocity = state.setdefault("velocity", np.zeros_like(param))
        velocity *= rho
        velocity += (1 - rho) * grad * grad
        denominator = velocity + group["eps"]
        if group["centered"]:
            average = state.setdefault("average_gradient", np.zeros_like(param))
            average *= rho
            average += (1 - rho) * grad
            denominator = denominator - average * average
        increment = group["lr"] * grad / np.sqrt(denominator)
        if group["momentum"]:
            buffer = state.setdefault("momentum", np.zeros_like(param))
            buffer *= group["momentum"]
            buffer += increment
            increment = buffer
        param -= increment


class Adam(KerasOptimizer):
    """m ← m + (1 - β1)(g - m);  v ← v + (1 - β2)(g² - v);
    p ← p - γ sqrt(1 - β2^t) / (1 - β1^t) · m / (sqrt(v) + ε)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None):
        self._hyper = dict(lr=learning_rate, beta_1=beta_1, beta_2=beta_2, eps=epsilon,
                           amsgrad=amsgrad, weight_decay=weight_decay or 0.0)

    def update(self, param, grad, state, group):
        if group["weight_decay"]:               # Keras 3: decoupled, p ← p - γλp before the step
            param -= group["lr"] * group["weight_decay"] * param
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        step = state["step"] = state.get("step", 0) + 1
        m = state.setdefault("m", np.zeros_like(param))
        v = state.setdefault("v", np.zeros_like(param))
        m += (1 - beta_1) * (grad - m)
        v += (1 - beta_2) * (grad * grad - v)
        if group["amsgrad"]:
            v_hat = state.setdefault("v_hat", np.zeros_like(param))
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        alpha = group["lr"] * math.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step)
        param -= alpha * m / (np.sqrt(v) + group["eps"])


class Adagrad(KerasOptimizer):
    """s ← s + g² (s starts at 0.1);  p ← p - γ g / sqrt(s + ε)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        self._hyper = dict(lr=learning_rate, initial=initial_accumulator_value, eps=epsilon)

    def update(self, param, grad, state, group):
        accumulator = state.setdefault("accumulator", np.full_like(param, group["initial"]))
        accumulator += grad * grad
        param -= group["lr"] * grad / np.sqrt(accumulator + group["eps"])


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adagrad": Adagrad}


def get(identifier):
    """An optimiser instance (not yet bound to parameters) from a name or an instance."""
    if isinstance(identifier, KerasOptimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    raise ValueError(f"compile: unknown optimizer {identifier!r}; expected one of "
                     f"{', '.join(OPTIMIZERS)} or a tinynn.keras.optimizers instance")


def bind(optimizer, params):
    """Attach a Keras optimiser (created without parameters, as in Keras) to ``params``;
    a no-op when it already drives exactly these, so its state survives repeated fits."""
    params = list(params)
    if callable(optimizer._hyper["lr"]):                 # learning_rate=schedules.CosineDecay(...)
        optimizer.schedule = optimizer._hyper["lr"]
        optimizer._hyper["lr"] = float(optimizer.schedule(0))
    if not params:                     # a model with nothing to train: Keras fits it anyway
        optimizer.param_groups, optimizer.state = [], {}
        return optimizer
    current = [p for group in getattr(optimizer, "param_groups", ()) for p in group["params"]]
    if [id(p) for p in current] != [id(p) for p in params]:
        Optimizer.__init__(optimizer, params, optimizer._hyper)
    return optimizer
