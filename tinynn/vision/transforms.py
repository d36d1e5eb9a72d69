"""torchvision's transforms on images held as NumPy arrays (tinynn has no PIL): an image is
(H, W) or (H, W, C) uint8 before ``ToTensor`` and a (C, H, W) float tensor after it."""
import numpy as np

from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomHorizontalFlip"]


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image


class ToTensor:
    """uint8 (H, W[, C]) in [0, 255] → float32 tensor (C, H, W) in [0, 1]."""

    def __call__(self, image):
        array = np.asarray(image)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got {array.shape}")
        scale = 255.0 if array.dtype == np.uint8 else 1.0
        return Tensor._wrap(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32) / np.float32(scale))


class Normalize:
    """(x - mean[c]) / std[c] per channel of a (C, H, W) tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean = np.asarray(mean, np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(-1, 1, 1)
        if (self.std == 0).any():
            raise ValueError(f"Normalize: std must not be 0, got {list(std)}")

    def __call__(self, tensor):
        return (tensor - Tensor._wrap(self.mean)) / Tensor._wrap(self.std)


class Lambda:
    def __init__(self, function):
        self.function = function

    def __call__(self, image):
        return self.function(image)


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p`` (tinynn's seeded generator)."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        from ..random import generator
        if generator().random() >= self.p:
            return image
        if isinstance(image, Tensor):
            return Tensor._wrap(np.ascontiguousarray(image.numpy()[..., ::-1]))
        return np.ascontiguousarray(np.asarray(image)[:, ::-1])
