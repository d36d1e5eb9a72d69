"""Seed 004 §4.3's recurrent formula, h_t = σ(W x_t + U h_{t−1} + b), on real digits: each MNIST
image read row by row (28 steps of 28 pixels), classified from the last hidden state, with
PyTorch-style RNN, LSTM and GRU layers.  Trained on 8,000 of the bundled MNIST test digits,
tested on the other 2,000.

    python examples/seed004_sequential_mnist.py
"""
import time

import numpy as np

import tinynn as torch
import tinynn.nn as nn
from _synthetic import QUICK
from tinynn.data import DataLoader, TensorDataset, load_mnist
from tinynn.data.datasets import BUNDLED_MNIST_DIR

EPOCHS, HIDDEN = (1, 32) if QUICK else (10, 64)


class RowReader(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = getattr(nn, cell)(28, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, 10)

    def forward(self, images):                       # (N, 1, 28, 28) → (N, 28 steps, 28 pixels)
        outputs, _ = self.rnn(images.reshape(images.shape[0], 28, 28))
        return self.head(outputs[:, -1])


images, labels = load_mnist(BUNDLED_MNIST_DIR, "test")
if QUICK:
    images, labels = images[:1200], labels[:1200]
cut = len(images) * 4 // 5
train = DataLoader(TensorDataset(images[:cut], labels[:cut]), batch_size=64, shuffle=True)
test_x, test_y = torch.tensor(images[cut:]), labels[cut:]
for cell in ("RNN", "GRU", "LSTM"):
    torch.manual_seed(0)
    model = RowReader(cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        for x, y in train:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(test_x).argmax(1).numpy() == test_y).mean())
    print(f"{cell:>4}: test accuracy {accuracy:.1%} on {len(test_y)} held-out digits after {EPOCHS} epochs "
          f"({time.perf_counter() - start:.0f} s)")
