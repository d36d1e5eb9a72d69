"""MobileNetV2 as seed 004 writes it: inverted residual blocks of
1×1 expansion → 3×3 depthwise convolution (groups = channels) → 1×1 linear projection,

    y = x + project(depthwise(expand(x)))   when stride = 1 and channels match,

a depthwise-separable convolution with a residual connection.
"""
from .. import nn


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: expected stride 1 or 2, got {stride}")
        self.stride = stride
        hidden_dim = round(inp * expand_ratio)
        self.use_res_connect = stride == 1 and inp == oup
        expand = [] if expand_ratio == 1 else [
            nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
            nn.ReLU6(inplace=True)]
        self.conv = nn.Sequential(
            *expand,
            nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),  # depthwise
            nn.BatchNorm2d(hidden_dim),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),                                 # pointwise
            nn.BatchNorm2d(oup))

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# t (expansion), c (channels), n (repeats), s (first stride)
INVERTED_RESIDUAL_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                             [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    """``small_input=True`` makes the first convolution stride 1, for 32×32 images."""

    def __init__(self, num_classes=1000, width_mult=1.0, in_channels=3, small_input=False):
        super().__init__()
        input_channel = int(32 * width_mult)
        self.last_channel = int(1280 * max(1.0, width_mult))
        features = [nn.Conv2d(in_channels, input_channel, 3, 1 if small_input else 2, 1, bias=False),
                    nn.BatchNorm2d(input_channel), nn.ReLU6(inplace=True)]
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            output_channel = int(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        features += [nn.Conv2d(input_channel, self.last_channel, 1, 1, 0, bias=False),
                     nn.BatchNorm2d(self.last_channel), nn.ReLU6(inplace=True)]
        self.features = nn.Sequential(*features)
        self.classifier = nn.Linear(self.last_channel, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).mean([2, 3]))


def mobilenet_v2(num_classes=10, width_mult=1.0, in_channels=3, small_input=True):
    return MobileNetV2(num_classes, width_mult, in_channels, small_input)
