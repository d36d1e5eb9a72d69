"""LeNet-5 exactly as seed 002 writes it in PyTorch (the same layer names)."""
from .. import nn
from ..nn import functional as F


class LeNet5(nn.Module):
    """conv(5×5, 6) → maxpool 2 → conv(5×5, 16) → maxpool 2 → 120 → 84 → classes.

    Seed 002 feeds 32×32 images (16·5·5 features after the convolutions);
    ``input_size`` adapts the first dense layer to other sizes (28 → 16·4·4).
    """

    def __init__(self, in_channels=1, num_classes=10, input_size=32):
        super().__init__()
        side = ((input_size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"LeNet5: input_size {input_size} is too small; two 5×5 convolutions "
                             "and two 2×2 poolings need at least 12 pixels")
        self.flat_features = 16 * side * side
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(self.flat_features, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.flatten(1)            # the seed's view(-1, 16 * 5 * 5), which also follows removed channels
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
