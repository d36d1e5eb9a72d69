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
# # 3. Training LeNet-5 (seed 002)
#
# The seed's network in PyTorch style — two 5×5 convolutions with max pooling, three dense
# layers — trained on the MNIST digits bundled with tinynn, with the usual loop:
# forward, loss, `backward()`, `step()`.

# %%
import os
import time

import numpy as np

import tinynn
import tinynn.nn.functional as F
from tinynn.data import DataLoader, TensorDataset, load_mnist
from tinynn.data.datasets import BUNDLED_MNIST_DIR
from tinynn.models import LeNet5

QUICK = os.environ.get("TINYNN_NOTEBOOK_QUICK") == "1"   # the test suite runs a shrunk copy
EPOCHS = 1 if QUICK else 4

images, labels = load_mnist(BUNDLED_MNIST_DIR, "test")
images = images[:1500] if QUICK else images
labels = labels[:len(images)]
cut = len(images) * 4 // 5
train = DataLoader(TensorDataset(images[:cut], labels[:cut]), batch_size=64, shuffle=True)
test_x, test_y = tinynn.tensor(images[cut:]), labels[cut:]
print(f"{cut} training digits, {len(test_y)} test digits, each {images.shape[1:]}")

# %%
tinynn.manual_seed(0)
model = LeNet5(input_size=28)
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %%
optimizer = tinynn.optim.Adam(model.parameters(), lr=2e-3)
history = {"loss": [], "test accuracy": []}
start = time.perf_counter()
for epoch in range(EPOCHS):
    model.train()
    for x, y in train:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        history["loss"].append(float(loss))
    model.eval()
    with tinynn.no_grad():
        accuracy = float((model(test_x).argmax(1).numpy() == test_y).mean())
    history["test accuracy"].append(accuracy)
    print(f"epoch {epoch + 1}: test accuracy {accuracy:.1%} ({time.perf_counter() - start:.0f} s)")

# %%
import matplotlib.pyplot as plt

figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3))
left.plot(history["loss"], linewidth=0.8)
left.set(xlabel="step", ylabel="cross-entropy", title="training loss")
right.plot(range(1, EPOCHS + 1), history["test accuracy"], marker="o")
right.set(xlabel="epoch", ylabel="accuracy", title="held-out accuracy")
figure.tight_layout()

# %% [markdown]
# Saving and loading never runs code: `tinynn.save` writes arrays (atomically), and
# `load_state_dict` checks every name and shape.

# %%
import tempfile

path = os.path.join(tempfile.mkdtemp(), "lenet.npz")
tinynn.save(model.state_dict(), path)
again = LeNet5(input_size=28)
again.load_state_dict(tinynn.load(path))
again.eval()
with tinynn.no_grad():
    assert np.array_equal(again(test_x[:5]).numpy(), model(test_x[:5]).numpy())
print("reloaded model gives the same outputs")
