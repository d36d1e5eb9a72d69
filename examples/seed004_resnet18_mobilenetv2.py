"""Seed 004: ResNet18 (BasicBlock with 1×1 projection shortcut) and MobileNetV2 (inverted
residuals, depthwise convolution) in PyTorch style, a few training steps each on 32×32 images.

The architectures are the seed's code, kept in tinynn.models with the seed's layer names.
A full CIFAR-10 epoch of ResNet18 takes hours on 2 CPU cores, so this runs a handful of
steps on a small batch and prints the loss going down and the step time.
"""
import time

import tinynn as torch
import tinynn.nn.functional as F
from tinynn.models import mobilenet_v2, resnet18
from _synthetic import QUICK, cifar10_or_synthetic

(train_images, train_labels), _ = cifar10_or_synthetic(torch.keras.datasets.cifar10.load_data)
batch = 8 if QUICK else 32
x = torch.tensor(train_images[:batch].transpose(0, 3, 1, 2) / 255.0, dtype=torch.float32)
y = torch.tensor(train_labels[:batch].reshape(-1))

for name, net in (("ResNet18", resnet18(num_classes=10)), ("MobileNetV2", mobilenet_v2(num_classes=10))):
    torch.manual_seed(0)
    params = sum(p.numel() for p in net.parameters())
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    print(f"{name}: {params:,} parameters")
    for step in range(2 if QUICK else 5):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        print(f"  step {step + 1}: loss {loss.item():.4f} ({time.perf_counter() - start:.2f} s)")
