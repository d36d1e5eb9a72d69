"""``torch.accelerator``: the one question device-agnostic scripts ask — is there a GPU?"""
from . import cuda
from .device import device


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator():
    """``device('cuda')`` where a GPU (or Numba's CUDA simulator) can be used, else None."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()
