"""2-D convolution written as the formula in seed 002, vectorised only over
the batch, the output positions and the channels.

For one group, input X (N, P, H, W), weight W (K, P, M, Nk), stride s,
dilation d and zero padding already applied:

    forward   h[b,k,i,j]      = Σ_m Σ_n Σ_p X[b, p, i·s + m·d, j·s + n·d] · W[k,p,m,n]   (+ bias[k])
    weight    ∂L/∂W[k,p,m,n]  = Σ_b Σ_i Σ_j ∂L/∂h[b,k,i,j] · X[b, p, i·s + m·d, j·s + n·d]
    bias      ∂L/∂b[k]        = Σ_b Σ_i Σ_j ∂L/∂h[b,k,i,j]
    input     ∂L/∂X[b, p, i·s + m·d, j·s + n·d]  +=  Σ_k ∂L/∂h[b,k,i,j] · W[k,p,m,n]

The input gradient (which the seed omits) follows from the forward formula:
every X element that was multiplied by W[k,p,m,n] to make h[b,k,i,j] receives
that weight times the output gradient, summed over all the places it was used.
The loops below run over the kernel offsets (m, n); each step handles every
(b, k, i, j) at once.  Groups split the channels into independent convolutions.
"""
import numpy as np

from ..kernels.plan import ConvPlan


def _pad(x, padding):
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x


def _window(xp, m, n, out_hw, stride, dilation):
    """The input values X[:, :, i·s + m·d, j·s + n·d] for all output positions (i, j)."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    top, left = m * dh, n * dw
    return xp[:, :, top:top + sh * (oh - 1) + 1:sh, left:left + sw * (ow - 1) + 1:sw]


def _split_groups(out_channels, groups):
    """(group index, slice of its output channels) for every group."""
    k_per_group = out_channels // groups
    return [(g, slice(g * k_per_group, (g + 1) * k_per_group)) for g in range(groups)]


def convolve(x, weight, stride, padding, dilation, groups, out_hw):
    """The forward formula, h = X * W (the bias is added by the engine)."""
    xp = _pad(x, padding)
    n, k = x.shape[0], weight.shape[0]
    p_per_group = weight.shape[1]
    out = np.zeros((n, k) + tuple(out_hw), dtype=x.dtype)
    for g, ks in _split_groups(weight.shape[0], groups):
        xg = xp[:, g * p_per_group:(g + 1) * p_per_group]
        for m in range(weight.shape[2]):
            for nn in range(weight.shape[3]):
                window = _window(xg, m, nn, out_hw, stride, dilation)
                out[:, ks] += np.einsum("bpij,kp->bkij", window, weight[ks, :, m, nn])
    return out


def weight_gradient(grad, x, weight_shape, stride, padding, dilation, groups):
    """∂L/∂W[k,p,m,n] = Σ_b Σ_i Σ_j ∂L/∂h[b,k,i,j] · X[b, p, i·s + m·d, j·s + n·d]."""
    xp = _pad(x, padding)
    out_hw = grad.shape[2:]
    p_per_group = weight_shape[1]
    grad_weight = np.zeros(weight_shape, dtype=x.dtype)
    for g, ks in _split_groups(weight_shape[0], groups):
        xg = xp[:, g * p_per_group:(g + 1) * p_per_group]
        for m in range(weight_shape[2]):
            for nn in range(weight_shape[3]):
                window = _window(xg, m, nn, out_hw, stride, dilation)
                grad_weight[ks, :, m, nn] = np.einsum("bkij,bpij->kp", grad[:, ks], window)
    return grad_weight


def input_gradient(grad, weight, input_shape, stride, padding, dilation, groups):
    """∂L/∂X[b, p, i·s + m·d, j·s + n·d] += Σ_k ∂L/∂h[b,k,i,j] · W[k,p,m,n]."""
    (ph, pw) = padding
    n, c, h, w = input_shape
    grad_xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=grad.dtype)
    out_hw = grad.shape[2:]
    p_per_group = weight.shape[1]
    for g, ks in _split_groups(weight.shape[0], groups):
        grad_xg = grad_xp[:, g * p_per_group:(g + 1) * p_per_group]
        for m in range(weight.shape[2]):
            for nn in range(weight.shape[3]):
                window = _window(grad_xg, m, nn, out_hw, stride, dilation)
                window += np.einsum("bkij,kp->bpij", grad[:, ks], weight[ks, :, m, nn])
    return grad_xp[:, :, ph:ph + h, pw:pw + w]


# ---------------------------------------------------------------- the Backend protocol
def conv2d_plan(input_shape, weight_shape, dtype, stride, padding, dilation, groups, out_hw,
                keep_columns):
    """The reference has one algorithm, the formula, and keeps nothing for backward."""
    return ConvPlan(tuple(input_shape), tuple(weight_shape), tuple(stride), tuple(padding),
                    tuple(dilation), int(groups), tuple(out_hw), algorithm="formula",
                    keep_columns=False)


def conv2d_forward(x, weight, plan):
    return convolve(x, weight, plan.stride, plan.padding, plan.dilation, plan.groups,
                    plan.out_hw), None


def conv2d_backward(grad, x, weight, plan, columns, need_input, need_weight):
    geometry = (plan.stride, plan.padding, plan.dilation, plan.groups)
    grad_x = input_gradient(grad, weight, plan.input_shape, *geometry) if need_input else None
    grad_w = weight_gradient(grad, x, plan.weight_shape, *geometry) if need_weight else None
    return grad_x, grad_w
