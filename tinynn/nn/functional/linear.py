"""The dense layer y = x W^T + b (seed 002: h = σ(W h_prev + b), one row per sample)."""
from ...autograd import Function
from ...tensor import Tensor

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
        rows = x.reshape(-1, x.shape[-1])          # one GEMM whatever the leading dimensions
        out = ctx.backend.matmul(rows, weight.T).reshape(x.shape[:-1] + weight.shape[:1])
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_arrays
        rows = grad.reshape(-1, grad.shape[-1])
        matmul = ctx.backend.matmul
        grad_x = matmul(rows, weight).reshape(grad.shape[:-1] + weight.shape[1:]) \
            if ctx.needs_input_grad[0] else None
        grad_w = matmul(rows.T, x.reshape(-1, x.shape[-1])) if ctx.needs_input_grad[1] else None
        grad_b = rows.sum(axis=0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    """y = x Wᵀ + b; x (..., in_features), W (out_features, in_features), b (out_features,).
    Mixed dtypes are refused, as in PyTorch: a float32 layer does not silently compute in
    float64 because its input was."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear: expected {name} to be a Tensor, got {type(t).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"linear: expected a 2-D weight (out_features, in_features), got shape "
                         f"{weight.shape}")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {input.dtype} does not match weight dtype "
                        f"{weight.dtype}; convert one of them (x.float(), x.double() or "
                        f"model.double())")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: expected a bias of shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    return Linear.apply(input, weight, bias)
