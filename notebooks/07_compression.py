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
# # 7. Making a network smaller and faster (seed 001)
#
# Seed 001's methods on LeNet-5 and the 8×8 digits, each measured: non-zero parameters,
# bytes on disk, latency of a batch, accuracy.
#
# * **pruning** — `tinynn.nn.utils.prune`, PyTorch's API: a mask $m$ and $w = w_{orig} \odot m$
# * **weight sharing** — k-means puts each layer's weights into $2^k$ clusters
# * **quantisation** — int8 weights and activations: $q = \mathrm{round}(x/s) + z$
# * **distillation** — $\alpha T^2\,\mathrm{KL}(\mathrm{softmax}(t/T)\,\|\,\mathrm{softmax}(s/T)) + (1-\alpha)\,\mathrm{CE}(s, y)$

# %%
import copy
import os

import numpy as np

import tinynn
import tinynn.nn as nn
from tinynn import compress
from tinynn.compress import pipeline
from tinynn.data import DataLoader, TensorDataset, load_digits
from tinynn.nn.utils import prune

QUICK = os.environ.get("TINYNN_NOTEBOOK_QUICK") == "1"
tinynn.manual_seed(0)
images, labels = load_digits(32)
order = np.random.default_rng(0).permutation(len(images))
train, test = order[:1437], order[1437:]
loader = DataLoader(TensorDataset(images[train], labels[train]), 32, shuffle=True)
loss_fn = nn.CrossEntropyLoss()


def fit(model, epochs, lr=2e-3):
    optimizer = tinynn.optim.Adam(model.parameters(), lr=lr)
    for _ in range(1 if QUICK else epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    return model


rows = []


def measure(name, model, compact=True):
    rows.append(pipeline.measure(name, model, images[test], labels[test], compact=compact))
    row = rows[-1]
    print(f"{name:28s} {row.parameters:7,d} parameters {row.file_bytes:8,d} bytes "
          f"{row.latency_ms:6.2f} ms  accuracy {row.accuracy:.1%}")

# %%
teacher = fit(tinynn.models.LeNet5(), epochs=8)
measure("LeNet-5, float32", teacher, compact=False)

# %% [markdown]
# ## Pruning: the 90 % smallest weights of all layers, ranked together
# The masks survive fine-tuning: a pruned weight gets no update through $w_{orig} \odot m$.

# %%
pruned = copy.deepcopy(teacher)
layers = [m for m in pruned.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
prune.global_unstructured([(m, "weight") for m in layers], prune.L1Unstructured, amount=0.9)
fit(pruned, epochs=2, lr=1e-3)
print("fraction of conv1 weights kept:", float(pruned.conv1.weight_mask.mean()))
for layer in layers:
    prune.remove(layer, "weight")
measure("pruned 90 %", pruned)

# %% [markdown]
# ## Weight sharing and int8

# %%
for layer in layers:
    compress.share_weights(layer, bits=4)
print("distinct values in fc1 after sharing:", len(np.unique(pruned.fc1.weight.detach().numpy())))
for layer in layers:
    compress.unshare_weights(layer)
measure("+ 4-bit shared", pruned)
measure("+ int8", pipeline.quantize_model(pruned, images[train]))

# %% [markdown]
# ## Distillation: a small MLP learns from LeNet's softened outputs

# %%
student = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 14), nn.ReLU(), nn.Linear(14, 10))
optimizer = tinynn.optim.Adam(student.parameters(), lr=2e-3)
for _ in range(1 if QUICK else 6):
    compress.distill_epoch(student, teacher, loader, optimizer, temperature=4.0, alpha=0.9)
measure("MLP student (distilled)", student, compact=False)

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(figsize=(7, 3))
axes.barh([r.method for r in rows], [r.file_bytes / 1000 for r in rows])
for y, r in enumerate(rows):
    axes.text(r.file_bytes / 1000, y, f"  {r.accuracy:.0%}", va="center")
axes.set(xlabel="kB on disk (accuracy at the bar's end)")
axes.invert_yaxis()
