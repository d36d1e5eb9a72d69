"""The dense layer y = x W^T + b (seed 002: h = σ(W h_prev + b), one row per sample)."""
from ...autograd import Function

__all__ = ["linear"]


class Linear(Function):
    """y = x W^T + b;  dL/dx = g W,  dL/dW = g^T x,  dL/db = Σ_rows g.

    Leading dimensions of x are batch dimensions; they are flattened into rows
    for the weight gradient, so one GEMM computes it.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: expected input with last dimension {weight.shape[1]} "
                             f"(in_features), got shape {x.shape}")
        ctx.save_for_backward(ctx.needed_by(x, 1), ctx.needed_by(weight, 0))
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_arrays
        rows = grad.reshape(-1, grad.shape[-1])
        grad_x = grad @ weight if ctx.needs_input_grad[0] else None
        grad_w = rows.T @ x.reshape(-1, x.shape[-1]) if ctx.needs_input_grad[1] else None
        grad_b = rows.sum(axis=0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    return Linear.apply(input, weight, bias)
