"""Loss functions, written as the documents and PyTorch's documentation state them.

Most losses are composed from differentiable ops (log-softmax, indexing, sums), so
their gradient comes from autograd and is checked like any other op.  The common case of
cross-entropy (logits (N, C), class indices, mean) is one op with its own backward,
``SoftmaxCrossEntropy``: (softmax - onehot) / N in a single pass.

- MSE:           L = 1/N Σ (y - ŷ)²
- cross-entropy: L = -1/N Σ_i Σ_j y_ij log softmax(x)_ij   (y one-hot, or a class index)
- BCE:           L = -1/N Σ [y log p + (1 - y) log(1 - p)]
"""
import numpy as np

from ...autograd import Function
from ...creation import where
from ...device import move_array
from ...ops.softmax import log_softmax, log_softmax_array
from ...tensor import Tensor, lift

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: expected reduction to be one of {allowed}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_same_shape(op, input, target):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{op}: expected target of the same shape as input {input.shape}, "
                         f"got {target.shape}")


def _float_target(op, target, input):
    target = lift(target, input)
    if target.dtype.kind != "f":
        target = target.to(input.dtype)
    _check_same_shape(op, input, target)
    return target


def mse_loss(input, target, reduction="mean"):
    """L = 1/N Σ (input - target)²."""
    _check_reduction("mse_loss", reduction)
    target = _float_target("mse_loss", target, input)
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input, target, reduction="mean"):
    """L = 1/N Σ |input - target|."""
    _check_reduction("l1_loss", reduction)
    target = _float_target("l1_loss", target, input)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """L = 1/N Σ ℓ(input - target), ℓ(d) = d²/(2β) where |d| < β, else |d| - β/2: quadratic
    near zero, L1 beyond (Girshick's Fast R-CNN loss); β = 0 is the L1 loss."""
    _check_reduction("smooth_l1_loss", reduction)
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: expected beta >= 0, got {beta}")
    target = _float_target("smooth_l1_loss", target, input)
    return _reduce(_smooth_l1(input - target, beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """L = 1/N Σ ℓ(input - target), ℓ(d) = d²/2 where |d| ≤ δ, else δ(|d| - δ/2) (Huber 1964):
    δ times the smooth L1 loss with β = δ."""
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: expected delta > 0, got {delta}")
    target = _float_target("huber_loss", target, input)
    return _reduce(_smooth_l1(input - target, delta) * delta, reduction)


def _smooth_l1(d, beta):
    magnitude = d.abs()
    if beta == 0:
        return magnitude
    return where(magnitude < beta, d * d * (0.5 / beta), magnitude - 0.5 * beta)


def _classes_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C), so every loss below works on rows."""
    if x.ndim <= 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def _check_class_targets(op, input, target):
    if input.ndim < 1:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got a scalar")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be an integer tensor (int64), got "
                        f"{target.dtype}; pass probabilities with the input's shape instead, or "
                        "convert with target.long()")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape "
                         f"{input.shape}, got {target.shape}")


def _check_label_range(op, labels, num_classes):
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise IndexError(f"{op}: target {labels[outside][0]} is out of bounds: expected class "
                         f"indices in [0, {num_classes})")


def _class_weight(weight, num_classes, dtype):
    if weight is None:
        return np.ones(num_classes, dtype=dtype)
    weight = np.asarray(weight.detach() if isinstance(weight, Tensor) else weight, dtype=dtype)
    if weight.shape != (num_classes,):
        raise ValueError(f"cross_entropy/nll_loss: expected a weight of shape ({num_classes},), "
                         f"got {weight.shape}")
    return weight


def _rows_and_weights(op, input, target, weight, ignore_index):
    """Flatten to one row per sample: (rows (M, C), labels with ignored ones set to 0, the
    kept-row mask, class weights, and each row's weight w[y_i], 0 for ignored rows)."""
    num_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    rows = _classes_last(input).reshape(-1, num_classes)
    labels = np.asarray(target.detach()).reshape(-1)
    keep = labels != ignore_index
    _check_label_range(op, labels[keep], num_classes)
    safe = np.where(keep, labels, 0)
    class_weight = _class_weight(weight, num_classes, input.dtype)
    return rows, safe, keep, class_weight, class_weight[safe] * keep


def _reduce_rows(per_row, row_weight, target, reduction):
    """'none' keeps the target's shape; 'mean' divides by the total weight of kept rows."""
    if reduction == "none":
        return per_row.reshape(target.shape)
    if reduction == "sum":
        return per_row.sum()
    return per_row.sum() / float(row_weight.sum())


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """L_i = -w[y_i] · input[i, y_i]; 'mean' divides by Σ_i w[y_i] over the non-ignored i."""
    _check_reduction("nll_loss", reduction)
    target = lift(target, input)
    _check_class_targets("nll_loss", input, target)
    rows, safe, _, _, row_weight = _rows_and_weights("nll_loss", input, target, weight, ignore_index)
    picked = rows[Tensor(np.arange(len(safe)), device=input.device), Tensor(safe, device=input.device)]
    losses = -picked * Tensor(row_weight.astype(input.dtype), device=input.device)
    return _reduce_rows(losses, row_weight, target, reduction)


class SoftmaxCrossEntropy(Function):
    """The common case in one op: logits (N, C), class indices, mean over the kept rows.

        L = -1/N Σ_i log softmax(x)_i[y_i],      ∂L/∂x_i = (softmax(x_i) - onehot(y_i)) / N

    (rows whose label is ``ignore_index`` are left out of both sums).
    """

    @staticmethod
    def forward(ctx, logits, labels, ignore_index):
        keep = labels != ignore_index
        safe = np.where(keep, labels, 0)
        log_p = log_softmax_array(logits, 1)
        count = int(keep.sum())
        picked = np.take_along_axis(log_p, safe[:, None], axis=1)[:, 0]
        ctx.save_for_backward(log_p, safe, keep)
        ctx.count = count
        total = -(picked * keep).sum()
        # Every row ignored: the mean is 0/0 = NaN, with zero gradients, as in PyTorch.
        return np.asarray(total / count if count else np.nan, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_p, safe, keep = ctx.saved_arrays
        grad_logits = np.exp(log_p)
        grad_logits[np.arange(len(safe)), safe] -= 1
        grad_logits *= (keep / max(ctx.count, 1))[:, None] * grad
        return grad_logits, None, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """L = -Σ_j q_j log softmax(x)_j with q the target distribution.

    ``target`` holds class indices (int64, shape (N,)) or class probabilities
    (float, the input's shape; one-hot is a special case).  With label
    smoothing ε, q = (1 - ε) q + ε / C.  log-softmax subtracts the row maximum
    first, so logits of ±1e4 give finite losses.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: expected label_smoothing in [0, 1], got {label_smoothing}")
    target = lift(target, input)
    if (input.ndim == 2 and target.dtype.kind in "iu" and weight is None and reduction == "mean"
            and label_smoothing == 0.0):
        _check_class_targets("cross_entropy", input, target)
        labels = np.asarray(target.detach())
        _check_label_range("cross_entropy", labels[labels != ignore_index], input.shape[1])
        return SoftmaxCrossEntropy.apply(input, move_array(labels, input.device), ignore_index)
    log_p = log_softmax(input, 1 if input.ndim > 1 else 0)
    if target.dtype.kind == "f" and target.shape != input.shape:
        raise TypeError(f"cross_entropy: expected class indices (an int64 tensor) or class "
                        f"probabilities of the input's shape {input.shape}; got a {target.dtype} "
                        f"target of shape {target.shape} (convert labels with target.long())")
    if target.dtype.kind == "f":
        return _soft_cross_entropy(log_p, target, weight, reduction, label_smoothing)
    loss = nll_loss(log_p, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return loss
    return (1 - label_smoothing) * loss + label_smoothing * _uniform_term(
        log_p, target, weight, ignore_index, reduction)


def _uniform_term(log_p, target, weight, ignore_index, reduction):
    """The ε part of label smoothing: -1/C Σ_j w_j log p_ij, reduced like the NLL part."""
    rows, _, keep, class_weight, row_weight = _rows_and_weights("cross_entropy", log_p, target,
                                                                weight, ignore_index)
    num_classes = rows.shape[1]
    per_row = -(rows * Tensor(class_weight, device=log_p.device)).sum(1) / num_classes
    per_row = per_row * Tensor(keep.astype(log_p.dtype), device=log_p.device)
    return _reduce_rows(per_row, row_weight, target, reduction)


def _soft_cross_entropy(log_p, target, weight, reduction, label_smoothing):
    _check_same_shape("cross_entropy (probability targets)", log_p, target)
    num_classes = log_p.shape[1] if log_p.ndim > 1 else log_p.shape[0]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    terms = log_p * target
    if weight is not None:
        w = _class_weight(weight, num_classes, log_p.dtype)
        shape = (1, -1) + (1,) * (log_p.ndim - 2) if log_p.ndim > 1 else (-1,)
        terms = terms * Tensor(w.reshape(shape), device=log_p.device)
    losses = -terms.sum(1 if log_p.ndim > 1 else 0)
    if reduction == "mean" and log_p.ndim > 1:
        return losses.sum() / (losses.numel())
    return _reduce(losses, reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """L = -[y log p + (1 - y) log(1 - p)], each log clamped at -100 as PyTorch does."""
    _check_reduction("binary_cross_entropy", reduction)
    target = _float_target("binary_cross_entropy", target, input)
    values = np.asarray(input.detach())
    outside = values[~((values >= 0) & (values <= 1))]      # written so that NaN is outside too
    if outside.size:
        raise ValueError(f"binary_cross_entropy: expected input probabilities in [0, 1] (apply "
                         f"sigmoid first, or use binary_cross_entropy_with_logits), got "
                         f"{outside.flat[0]}")
    loss = -(target * input.log().clip(min=-100) + (1 - target) * (1 - input).log().clip(min=-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """L = -[pw·y log σ(x) + (1 - y) log(1 - σ(x))], rewritten without overflow as
    (1 - y) x + (1 + (pw - 1) y) (log(1 + e^-|x|) + max(-x, 0))."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _float_target("binary_cross_entropy_with_logits", target, input)
    log_one_plus_exp = (1 + (-input.abs()).exp()).log() + (-input).relu()
    scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input + scale * log_one_plus_exp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """L = Σ target (log target - input), where ``input`` holds log-probabilities.

    Terms with target = 0 contribute 0 (0 log 0 = 0).  ``reduction='batchmean'``
    divides by the batch size, which is the mathematical KL divergence.
    """
    _check_reduction("kl_div", reduction, _REDUCTIONS + ("batchmean",))
    target = _float_target("kl_div", target, input)
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        positive = np.asarray(target.detach()) > 0
        safe_log = target.clip(min=np.finfo(target.dtype).tiny).log()
        pointwise = target * (safe_log - input) * Tensor(positive.astype(target.dtype),
                                                         device=target.device)
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(pointwise, reduction)
