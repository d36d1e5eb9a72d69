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
# # 5. Recurrent networks on sequential MNIST (seed 004 §4.3)
#
# Seed 004 writes the recurrent layer as
#
# $$ h_t = \sigma(W x_t + U h_{t-1} + b) $$
#
# Backpropagation through time unrolls it over the sequence and runs the chain rule
# backwards, $t = T, \dots, 1$, carrying $\partial L/\partial h_t$ one step back each time:
#
# $$ \frac{\partial L}{\partial a_t} = \Big(\frac{\partial L}{\partial h_t}\Big|_{\text{output}} + U^\top \frac{\partial L}{\partial a_{t+1}}\Big) \odot \sigma'(a_t),
# \qquad \frac{\partial L}{\partial U} = \sum_t \frac{\partial L}{\partial a_t}\, h_{t-1}^\top $$
#
# First this by hand, held against `nn.RNN`; then RNN, GRU and LSTM read digits row by row.

# %%
import os
import time

import numpy as np

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.data import DataLoader, TensorDataset, load_mnist
from tinynn.data.datasets import BUNDLED_MNIST_DIR

QUICK = os.environ.get("TINYNN_NOTEBOOK_QUICK") == "1"

# %% [markdown]
# ## Backpropagation through time, written out

# %%
rng = np.random.default_rng(0)
T, N, I, H = 5, 2, 3, 4
x = rng.standard_normal((T, N, I))
rnn = nn.RNN(I, H).double()
W, U = rnn.weight_ih_l0.detach().numpy(), rnn.weight_hh_l0.detach().numpy()
b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()

# forward: keep every h_t
h = [np.zeros((N, H))]
for t in range(T):
    h.append(np.tanh(x[t] @ W.T + h[-1] @ U.T + b))
# L = Σ_t Σ h_t²: each h_t gets ∂L/∂h_t = 2 h_t from the output
grad_U, grad_W, carry = np.zeros_like(U), np.zeros_like(W), np.zeros((N, H))
for t in reversed(range(T)):
    grad_a = (2 * h[t + 1] + carry) * (1 - h[t + 1] ** 2)     # tanh' = 1 − h²
    grad_U += grad_a.T @ h[t]
    grad_W += grad_a.T @ x[t]
    carry = grad_a @ U                                          # ∂L/∂h_{t−1} through U

output, _ = rnn(tinynn.tensor(x))
(output ** 2).sum().backward()
print("largest difference ∂L/∂U:", np.abs(rnn.weight_hh_l0.grad.numpy() - grad_U).max())
print("largest difference ∂L/∂W:", np.abs(rnn.weight_ih_l0.grad.numpy() - grad_W).max())

# %% [markdown]
# ## Digits read row by row
# Each 28×28 digit becomes a sequence of 28 rows of 28 pixels; the last hidden state
# classifies it. Gradient clipping keeps the long products of Jacobians in check.

# %%
images, labels = load_mnist(BUNDLED_MNIST_DIR, "test")
images, labels = (images[:800], labels[:800]) if QUICK else (images, labels)
cut = len(images) * 4 // 5
train = DataLoader(TensorDataset(images[:cut], labels[:cut]), batch_size=64, shuffle=True)
test_x, test_y = tinynn.tensor(images[cut:]), labels[cut:]


class RowReader(nn.Module):
    def __init__(self, cell, hidden=64):
        super().__init__()
        self.rnn = getattr(nn, cell)(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, digits):
        outputs, _ = self.rnn(digits.reshape(digits.shape[0], 28, 28))
        return self.head(outputs[:, -1])


for cell in ("RNN", "GRU", "LSTM"):
    tinynn.manual_seed(0)
    model = RowReader(cell)
    optimizer = tinynn.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    for epoch in range(1 if QUICK else 4):
        for x_batch, y_batch in train:
            optimizer.zero_grad()
            F.cross_entropy(model(x_batch), y_batch).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    model.eval()
    with tinynn.no_grad():
        accuracy = float((model(test_x).argmax(1).numpy() == test_y).mean())
    print(f"{cell:>4}: {accuracy:.1%} on {len(test_y)} held-out digits ({time.perf_counter() - start:.0f} s)")
