"""The update rules, written as PyTorch documents them (g is the gradient, p the parameter).

Every rule works in place on the parameter's array; ``state`` holds its buffers.
"""
import numpy as np

from .optimizer import Optimizer


def _with_weight_decay(param, grad, weight_decay):
    """L2 penalty folded into the gradient: g <- g + λ p."""
    return grad + weight_decay * param if weight_decay else grad


class SGD(Optimizer):
    """g <- g + λp;  b <- μ b + (1 - τ) g (b = g at the first step);
    g <- g + μ b (Nesterov) or g <- b;  p <- p - γ g."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def update(self, param, grad, state, group):
        grad = _with_weight_decay(param, grad, group["weight_decay"])
        momentum = group["momentum"]
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= group["lr"] * grad


class RMSprop(Optimizer):
    """v <- α v + (1 - α) g²;  centred: v̂ = v - (mean g)²;
    p <- p - γ g / (√v̂ + ε), or with momentum b <- μ b + g / (√v̂ + ε), p <- p - γ b."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def update(self, param, grad, state, group):
        grad = _with_weight_decay(param, grad, group["weight_decay"])
        alpha = group["alpha"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"]:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            denominator = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            denominator = np.sqrt(square_avg) + group["eps"]
        if group["momentum"]:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += grad / denominator
            param -= group["lr"] * buffer
        else:
            param -= group["lr"] * grad / denominator


class Adam(Optimizer):
    """m <- β1 m + (1 - β1) g;  v <- β2 v + (1 - β2) g²;
    p <- p - γ (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + ε)   (v -> max of all v with AMSGrad).

    The arithmetic is one backend function, ``adam_update``: ``kernels/optim.py`` writes it
    as NumPy (``adam_update_arrays``, the reference backend's) and as one pass over memory."""

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{type(self).__name__}: expected betas in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def update(self, param, grad, state, group):
        if self.decoupled_weight_decay:
            param *= 1 - group["lr"] * group["weight_decay"]
        else:
            grad = _with_weight_decay(param, grad, group["weight_decay"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        amsgrad_buffer = state["max_exp_avg_sq"] if group["amsgrad"] else None
        self.backend.adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], amsgrad_buffer,
                                 group["lr"], *group["betas"], group["eps"], state["step"])


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p (1 - γλ) before the Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class Adagrad(Optimizer):
    """s <- s + g²;  p <- p - γ_t g / (√s + ε) with γ_t = γ / (1 + (t - 1) η)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        grad = _with_weight_decay(param, grad, group["weight_decay"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])


class Adadelta(Optimizer):
    """v <- ρv + (1 - ρ)g²;  Δ = √(u + ε) / √(v + ε) · g;  u <- ρu + (1 - ρ)Δ²;  p <- p - γΔ
    (Zeiler 2012: the step size comes from the ratio of the two running averages)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def update(self, param, grad, state, group):
        if not state:
            state["square_avg"], state["acc_delta"] = np.zeros_like(param), np.zeros_like(param)
        rho, eps = group["rho"], group["eps"]
        grad = _with_weight_decay(param, grad, group["weight_decay"])
        state["square_avg"] *= rho
        state["square_avg"] += (1 - rho) * grad * grad
        delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps) * grad
        state["acc_delta"] *= rho
        state["acc_delta"] += (1 - rho) * delta * delta
        param -= group["lr"] * delta
