# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Convolution: seed 002's formulas, forward and backward
#
# Seed 002 §4 writes a convolution layer as $y = f(X * W + b)$ with
#
# $$ h_{i,j,k} = \sum_{m=0}^{M-1}\sum_{n=0}^{N-1}\sum_{p=0}^{P-1} X_{i+m,\,j+n,\,p}\,W_{m,n,p,k} + b_k $$
#
# and its gradients
#
# $$ \frac{\partial L}{\partial W_{m,n,p,k}} = \sum_{i}\sum_{j} \frac{\partial L}{\partial h_{i,j,k}}\,X_{i+m,\,j+n,\,p}
# \qquad \frac{\partial L}{\partial b_k} = \sum_i\sum_j \frac{\partial L}{\partial h_{i,j,k}} $$
#
# Below, the formulas become loops, and the loops are held against tinynn's `conv2d`
# (which runs im2col + GEMM, or Winograd, in Numba) and its autograd.

# %%
import numpy as np

import tinynn
import tinynn.nn.functional as F
from tinynn.autograd import gradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((6, 7, 2))          # H × W × P, as the seed indexes it
W = rng.standard_normal((3, 3, 2, 4))       # M × N × P × K
b = rng.standard_normal(4)

# %% [markdown]
# ## Forward: the triple sum, literally

# %%
def conv_forward_loops(X, W, b):
    H, Wd, P = X.shape
    M, N, _, K = W.shape
    h = np.zeros((H - M + 1, Wd - N + 1, K))
    for i in range(H - M + 1):
        for j in range(Wd - N + 1):
            for k in range(K):
                h[i, j, k] = np.sum(X[i:i + M, j:j + N, :] * W[:, :, :, k]) + b[k]
    return h


h_loops = conv_forward_loops(X, W, b)
# tinynn (like PyTorch) is channels-first: X (batch, P, H, W), W (K, P, M, N)
x_t = tinynn.tensor(X.transpose(2, 0, 1)[None], requires_grad=True)
w_t = tinynn.tensor(W.transpose(3, 2, 0, 1), requires_grad=True)
b_t = tinynn.tensor(b, requires_grad=True)
h_tinynn = F.conv2d(x_t, w_t, b_t)
print("largest difference, forward:", np.abs(h_tinynn.detach().numpy()[0].transpose(1, 2, 0) - h_loops).max())

# %% [markdown]
# ## Backward: the seed's weight and bias gradients
# Take $L = \sum h \cdot G$ for a fixed random $G$, so that $\partial L/\partial h = G$.

# %%
G = rng.standard_normal(h_loops.shape)
dW = np.zeros_like(W)
for m in range(W.shape[0]):
    for n in range(W.shape[1]):
        for p in range(W.shape[2]):
            for k in range(W.shape[3]):
                dW[m, n, p, k] = np.sum(G[:, :, k] * X[m:m + G.shape[0], n:n + G.shape[1], p])
db = G.sum(axis=(0, 1))

(h_tinynn * tinynn.tensor(G.transpose(2, 0, 1)[None])).sum().backward()
print("largest difference, ∂L/∂W:", np.abs(w_t.grad.numpy().transpose(2, 3, 1, 0) - dW).max())
print("largest difference, ∂L/∂b:", np.abs(b_t.grad.numpy() - db).max())

# %% [markdown]
# ## Every option, every Jacobian entry
# `gradcheck` perturbs each input entry by ±ε in float64 and compares the finite
# difference with the backward pass — here with stride, padding, dilation and groups.

# %%
x = tinynn.tensor(rng.standard_normal((2, 4, 7, 6)), requires_grad=True)
w = tinynn.tensor(rng.standard_normal((6, 2, 3, 2)), requires_grad=True)
ok = gradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2), groups=2), (x, w))
print("gradcheck with stride 2, padding 1, dilation (1, 2), 2 groups:", ok)

# %% [markdown]
# ## Pooling routes the gradient
# Max pooling passes each window's gradient to the one input that was the maximum.

# %%
x = tinynn.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
F.max_pool2d(x, 2).sum().backward()
print(x.grad.numpy()[0, 0])
