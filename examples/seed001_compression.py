"""Seed 001's methods, one after another, on LeNet-5 and the bundled 8×8 digits (about a
minute on 2 cores): parameter sharing, sparsification, pruning, knowledge distillation and
quantisation, each printed with what it buys.

    python examples/seed001_compression.py
"""
import copy

import numpy as np

import tinynn
import tinynn.nn as nn
from tinynn import compress, quantization
from tinynn.compress import pipeline
from tinynn.data import DataLoader, TensorDataset, load_digits
from tinynn.nn.utils import prune
from tinynn.training import train_epoch

tinynn.manual_seed(0)
images, labels = load_digits(32)
order = np.random.default_rng(0).permutation(len(images))
train, test = order[:1437], order[1437:]
x_train, y_train, x_test, y_test = images[train], labels[train], images[test], labels[test]
loader = DataLoader(TensorDataset(x_train, y_train), 32, shuffle=True)
loss_fn = nn.CrossEntropyLoss()


def fit(model, epochs=6, lr=2e-3):
    optimizer = tinynn.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        train_epoch(model, loader, loss_fn, optimizer, description=f"epoch {epoch + 1}/{epochs}")
    return model


def report(name, model, compact=True):
    row = pipeline.measure(name, model, x_test, y_test, compact=compact)
    print(f"{name:42s} {row.parameters:7,d} non-zero parameters, {row.file_bytes:8,d} bytes, "
          f"{row.latency_ms:6.2f} ms a batch, accuracy {row.accuracy:.2%}")
    return model


teacher = report("1. LeNet-5, float32", fit(tinynn.models.LeNet5(), epochs=10), compact=False)

# 2. Pruning (§3.1): the 90 % smallest weights of all layers, ranked together, then fine-tuning.
pruned = copy.deepcopy(teacher)
layers = [m for m in pruned.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
prune.global_unstructured([(m, "weight") for m in layers], prune.L1Unstructured, amount=0.9)
fit(pruned, epochs=2, lr=1e-3)                       # the masks hold: pruned weights stay zero
for layer in layers:
    prune.remove(layer, "weight")
report("2. + pruned 90 % (sparse, deflated file)", pruned)

# 3. Parameter sharing (§2.1): each layer's weights become 16 shared values (4-bit indices).
for layer in layers:
    compress.share_weights(layer, bits=4)
fit(pruned, epochs=1, lr=1e-3)                       # fine-tunes the 16 centroids per layer
for layer in layers:
    compress.unshare_weights(layer)
report("3. + shared, 4-bit", pruned)

# 4. Quantisation (§3.2): int8 weights and activations, calibrated on training batches.
report("4. + int8 (static, calibrated)", pipeline.quantize_model(pruned, x_train))

# 5. Structured pruning made physical: a third of conv2's filters cut out of the model.
slim = copy.deepcopy(teacher)
prune.ln_structured(slim.conv2, "weight", amount=5, n=1, dim=0)
prune.remove(slim.conv2, "weight")
compress.remove_channels(slim.conv2, slim.fc1, spatial=25)
report("5. conv2 with 11 of 16 filters (fine-tuned)", fit(slim, epochs=2, lr=1e-3), compact=False)

# 6. Knowledge distillation (§3.2): a quarter-size MLP learns from LeNet's softened outputs.
student = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 14), nn.ReLU(), nn.Linear(14, 10))
optimizer = tinynn.optim.Adam(student.parameters(), lr=2e-3)
for _ in range(6):
    compress.distill_epoch(student, teacher, loader, optimizer, temperature=4.0, alpha=0.9)
report("6. MLP student distilled from LeNet-5", student, compact=False)

# 7. Sparsification (§2.2): training with an L1 penalty leaves most weights near zero.
sparse = tinynn.models.LeNet5()
optimizer = tinynn.optim.Adam(sparse.parameters(), lr=2e-3)
for inputs, targets in loader:
    optimizer.zero_grad()
    loss = loss_fn(sparse(inputs), targets) + compress.l1_penalty(sparse.parameters(), 1e-4)
    loss.backward()
    optimizer.step()
small = np.mean([compress.sparsity(np.abs(p.detach().numpy()) > 1e-2) for p in sparse.parameters()])
print(f"7. one epoch with an L1 penalty: {small:.0%} of the weights are under 0.01 in magnitude")
print("\nquantisation alone:", quantization.quantize_dynamic(copy.deepcopy(teacher), {nn.Linear}))
