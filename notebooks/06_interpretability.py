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
# # 6. Looking inside a network (seed 004 §3.3, seed 003 §5)
#
# Which pixels made LeNet-5 say "7"? `tinynn.interpret` has Captum's methods under Captum's
# names (the test suite holds them equal to Captum on the same weights):
#
# * **Saliency** — $|\partial F_c/\partial x|$: where a small change moves the score most.
# * **Integrated Gradients** — $(x - x')\int_0^1 \partial F_c(x' + \alpha(x - x'))/\partial x\, d\alpha$:
#   the attributions add up to $F_c(x) - F_c(x')$.
# * **SmoothGrad** (`NoiseTunnel`) — saliency averaged over noisy copies of the input.
# * **Grad-CAM** — a conv layer's channels weighted by their mean gradient.
#
# Then the first layer's filters, a layer's feature maps, and attention weights.

# %%
# %matplotlib inline
import os

import numpy as np

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import interpret
from tinynn.data import DataLoader, TensorDataset, load_mnist
from tinynn.data.datasets import BUNDLED_MNIST_DIR
from tinynn.interpret import visualize
from tinynn.models import LeNet5

QUICK = os.environ.get("TINYNN_NOTEBOOK_QUICK") == "1"
images, labels = load_mnist(BUNDLED_MNIST_DIR, "test")
images, labels = (images[:1000], labels[:1000]) if QUICK else (images, labels)
tinynn.manual_seed(0)
model = LeNet5(input_size=28)
optimizer = tinynn.optim.Adam(model.parameters(), lr=2e-3)
for epoch in range(1 if QUICK else 3):
    for x, y in DataLoader(TensorDataset(images[:-200], labels[:-200]), batch_size=64, shuffle=True):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
model.eval()
digits = tinynn.tensor(images[-200:])
with tinynn.no_grad():
    predicted = model(digits).argmax(1).numpy()
print(f"held-out accuracy {np.mean(predicted == labels[-200:]):.1%}")

# %% [markdown]
# ## Four explanations of one answer

# %%
x, target = digits[:4], [int(c) for c in predicted[:4]]
ig, delta = interpret.IntegratedGradients(model).attribute(x, target=target, n_steps=64,
                                                           return_convergence_delta=True)
print("completeness: Σ attributions − (F(x) − F(0)) =", np.round(delta.numpy(), 4))
maps = {
    "saliency": interpret.Saliency(model).attribute(x, target=target),
    "integrated gradients": ig,
    "SmoothGrad": interpret.NoiseTunnel(interpret.Saliency(model)).attribute(
        x, nt_samples=8 if QUICK else 32, stdevs=0.15, target=target),
    "Grad-CAM": interpret.LayerAttribution.interpolate(
        interpret.LayerGradCam(model, model.conv2).attribute(x, target=target, relu_attributions=True),
        (28, 28), "bilinear"),
}
visualize.plot_attribution(x[0], {f"{name} → {target[0]}": m[0] for name, m in maps.items()})

# %% [markdown]
# ## What the layers learned
# The six 5×5 filters of `conv1`, and the sixteen feature maps `conv2` computes from one
# digit (captured by a forward hook: `LayerActivation`).

# %%
visualize.plot_filters(model.conv1.weight, "conv1 filters")

# %%
visualize.plot_feature_maps(interpret.LayerActivation(model, model.conv2).attribute(x[:1]),
                            "conv2 feature maps")

# %% [markdown]
# ## Where attention looks
# A one-head attention layer learns to name the largest of eight digits: a learned query
# scores every position, and the softmax of the scores says where the layer looks. After
# training, the weights of each sequence (a row) sit on the positions of its largest digit.

# %%
rng = np.random.default_rng(0)


def make_batch(n):
    tokens = rng.integers(0, 10, (n, 8))
    return tokens, tokens.max(axis=1)


class LargestDigit(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.embed = nn.Embedding(10, width)
        self.query = nn.Parameter(tinynn.randn(1, 1, width))
        self.attend = nn.MultiheadAttention(width, 1, batch_first=True)
        self.head = nn.Linear(width, 10)

    def forward(self, tokens):
        h = self.embed(tokens)
        query = self.query + tinynn.zeros(tokens.shape[0], 1, h.shape[-1])
        out, weights = self.attend(query, h, h)
        return self.head(out[:, 0]), weights


tinynn.manual_seed(0)
reader = LargestDigit()
optimizer = tinynn.optim.Adam(reader.parameters(), lr=3e-3)
for step in range(150 if QUICK else 800):
    tokens, answers = make_batch(64)
    logits, _ = reader(tinynn.tensor(tokens))
    loss = F.cross_entropy(logits, tinynn.tensor(answers))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
tokens, answers = make_batch(500)
with tinynn.no_grad():
    logits, weights = reader(tinynn.tensor(tokens))
print(f"answers right: {np.mean(logits.argmax(1).numpy() == answers):.1%}")
visualize.plot_attention(weights[:6, 0], queries=[" ".join(map(str, row)) for row in tokens[:6]],
                         keys=[str(i) for i in range(8)], title="where the query looks")
