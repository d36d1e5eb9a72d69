"""Seed 004 §3.3 (and seed 003 §5): look inside a trained network. LeNet-5 learns the bundled
MNIST digits, then tinynn.interpret explains its answers — saliency, Integrated Gradients,
SmoothGrad and Grad-CAM — and the pictures show the first layer's filters, the feature maps,
and the autograd graph of one training step.

    python examples/seed004_interpretability.py [--out pictures]
"""
import argparse
import time
from pathlib import Path

import numpy as np

import tinynn
import tinynn.nn.functional as F
from _synthetic import QUICK
from tinynn import interpret, viz
from tinynn.data import DataLoader, TensorDataset, load_mnist
from tinynn.data.datasets import BUNDLED_MNIST_DIR
from tinynn.interpret import visualize
from tinynn.models import LeNet5

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="interpretability", help="folder for the pictures")
out = Path(parser.parse_args().out)
out.mkdir(parents=True, exist_ok=True)

images, labels = load_mnist(BUNDLED_MNIST_DIR, "test")
images = (images[:1500] if QUICK else images).astype(np.float32)
labels = labels[:len(images)]
cut = len(images) * 4 // 5
tinynn.manual_seed(0)
model = LeNet5(input_size=28)
optimizer = tinynn.optim.Adam(model.parameters(), lr=2e-3)
start = time.perf_counter()
for epoch in range(1 if QUICK else 3):
    for x, y in DataLoader(TensorDataset(images[:cut], labels[:cut]), batch_size=64, shuffle=True):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
model.eval()
test_x, test_y = tinynn.tensor(images[cut:]), labels[cut:]
with tinynn.no_grad():
    predicted = model(test_x).argmax(1).numpy()
print(f"LeNet-5: test accuracy {np.mean(predicted == test_y):.1%} on {len(test_y)} held-out digits "
      f"({time.perf_counter() - start:.0f} s of training)")

# Explain the first eight test digits, each for the class the model chose.
x, target = test_x[:8], [int(p) for p in predicted[:8]]
ig, delta = interpret.IntegratedGradients(model).attribute(x, target=target, n_steps=200, internal_batch_size=800,
                                                           return_convergence_delta=True)
print(f"Integrated Gradients: attributions add up to F(x) − F(0) within {float(delta.abs().max()):.1e}")
maps = {        # each method's map of why the model chose its class
    "saliency": interpret.Saliency(model).attribute(x, target=target),
    "integrated gradients": ig,
    "smoothgrad": interpret.NoiseTunnel(interpret.Saliency(model)).attribute(
        x, nt_type="smoothgrad", nt_samples=16, stdevs=0.15, target=target),
    "Grad-CAM": interpret.LayerAttribution.interpolate(
        interpret.LayerGradCam(model, model.conv2).attribute(x, target=target, relu_attributions=True),
        (28, 28), "bilinear"),
}
for example in range(2):
    figure = visualize.plot_attribution(x[example], {f"{name} → {target[example]}": attribution[example]
                                                     for name, attribution in maps.items()})
    visualize.save_figure(figure, out / f"attributions_{example}.png")
visualize.save_figure(visualize.plot_filters(model.conv1.weight, "conv1 filters"), out / "filters.png")
activation = interpret.LayerActivation(model, model.conv2).attribute(x[:1])
visualize.save_figure(visualize.plot_feature_maps(activation, "conv2 feature maps"), out / "feature_maps.png")

loss = F.cross_entropy(model(x), tinynn.tensor(np.array(target)))
viz.draw_graph(loss, params=dict(model.named_parameters()), filename=out / "autograd_graph.svg")
print(f"pictures: {', '.join(sorted(p.name for p in out.iterdir()))} in {out}/")
