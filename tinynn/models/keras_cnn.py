"""The Keras CNNs of seeds 000 and 003, written with tinynn.nn (channels first).

The Keras front end (``tinynn.keras``) builds the same networks from the
seeds' own code; these classes are for PyTorch-style training loops.
"""
from .. import nn


class KerasMNISTCNN(nn.Sequential):
    """Seed 000: Conv(32, 3×3, relu) → MaxPool 2 → Conv(64, 3×3, relu) → MaxPool 2 → Dense(10).

    Returns logits (Keras' final softmax is folded into the cross-entropy loss).
    """

    def __init__(self, in_channels=1, num_classes=10, input_size=28):
        side = ((input_size - 2) // 2 - 2) // 2
        super().__init__(
            nn.Conv2d(in_channels, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * side * side, num_classes))


class KerasCIFARCNN(nn.Sequential):
    """Seed 003: Conv(32) → Pool → Conv(64) → Pool → Conv(64) → Flatten → Dense(64) → Dense(10)."""

    def __init__(self, in_channels=3, num_classes=10, input_size=32):
        side = ((input_size - 2) // 2 - 2) // 2 - 2
        super().__init__(
            nn.Conv2d(in_channels, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * side * side, 64), nn.ReLU(), nn.Linear(64, num_classes))
