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
# # 4. The optimisers compared
#
# Each optimiser turns a gradient $g_t$ into a step; tinynn's follow PyTorch's update
# rules exactly (the test suite holds them equal to `torch.optim` step by step):
#
# | optimiser | update |
# |---|---|
# | SGD | $w \leftarrow w - \eta g$ |
# | SGD + momentum | $v \leftarrow \mu v + g,\; w \leftarrow w - \eta v$ |
# | RMSprop | $s \leftarrow \alpha s + (1-\alpha) g^2,\; w \leftarrow w - \eta g / (\sqrt{s} + \epsilon)$ |
# | Adagrad | $s \leftarrow s + g^2,\; w \leftarrow w - \eta g / (\sqrt{s} + \epsilon)$ |
# | Adam | $m, v$ = running means of $g, g^2$, bias-corrected; $w \leftarrow w - \eta \hat m / (\sqrt{\hat v} + \epsilon)$ |
#
# First on a valley where plain gradient descent zig-zags, then on a real network.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.data import DataLoader, TensorDataset, load_digits

QUICK = os.environ.get("TINYNN_NOTEBOOK_QUICK") == "1"
OPTIMISERS = {
    "SGD": lambda p: tinynn.optim.SGD(p, lr=0.02),
    "SGD + momentum": lambda p: tinynn.optim.SGD(p, lr=0.02, momentum=0.9),
    "RMSprop": lambda p: tinynn.optim.RMSprop(p, lr=0.01),
    "Adagrad": lambda p: tinynn.optim.Adagrad(p, lr=0.3),
    "Adam": lambda p: tinynn.optim.Adam(p, lr=0.1),
}

# %% [markdown]
# ## A long narrow valley: $f(x, y) = x^2/20 + 2y^2$

# %%
figure, axes = plt.subplots(figsize=(7, 4))
grid_x, grid_y = np.meshgrid(np.linspace(-10, 2, 100), np.linspace(-3, 3, 100))
axes.contour(grid_x, grid_y, grid_x ** 2 / 20 + 2 * grid_y ** 2, levels=20, colors="lightgrey")
for name, make in OPTIMISERS.items():
    point = tinynn.tensor([-9.0, 2.5], requires_grad=True)
    optimizer = make([point])
    path = [point.detach().numpy().copy()]
    for _ in range(60):
        optimizer.zero_grad()
        (point[0] ** 2 / 20 + 2 * point[1] ** 2).backward()
        optimizer.step()
        path.append(point.detach().numpy().copy())
    path = np.array(path)
    axes.plot(path[:, 0], path[:, 1], marker=".", markersize=3, label=f"{name}: f = {path[-1, 0] ** 2 / 20 + 2 * path[-1, 1] ** 2:.3f}")
axes.legend(fontsize=8)
axes.set_title("60 steps from (−9, 2.5)")

# %% [markdown]
# ## A small network on the 8×8 digits
# The same MLP, the same initial weights and the same batches for every optimiser.

# %%
images, labels = load_digits()
images = images.reshape(len(images), -1)
epochs = 2 if QUICK else 10
curves = {}
for name, make in {"SGD": lambda p: tinynn.optim.SGD(p, lr=0.05),
                   "SGD + momentum": lambda p: tinynn.optim.SGD(p, lr=0.05, momentum=0.9),
                   "RMSprop": lambda p: tinynn.optim.RMSprop(p, lr=1e-3),
                   "Adagrad": lambda p: tinynn.optim.Adagrad(p, lr=0.05),
                   "Adam": lambda p: tinynn.optim.Adam(p, lr=1e-3)}.items():
    tinynn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = make(model.parameters())
    losses = []
    for epoch in range(epochs):
        for x, y in DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
    curves[name] = losses
    print(f"{name:>15}: final training loss {np.mean(losses[-10:]):.3f}")

figure, axes = plt.subplots(figsize=(7, 3.5))
for name, losses in curves.items():
    axes.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=name)
axes.set(xlabel="step", ylabel="cross-entropy (mean of 10 steps)", yscale="log")
axes.legend()
