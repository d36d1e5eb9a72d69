"""Multi-layer perceptron: h = f(W h_prev + b) layer after layer (seed 002, seed 003's Keras MLP)."""
from .. import nn


class MLP(nn.Sequential):
    """``MLP(784, [64, 64], 10)`` = Linear-ReLU-Linear-ReLU-Linear, logits out."""

    def __init__(self, in_features=784, hidden=(64, 64), num_classes=10, activation=nn.ReLU,
                 dropout=0.0):
        layers = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), activation()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)
