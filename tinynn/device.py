"""Devices: where a tensor's array lives.

``'cpu'`` tensors hold NumPy arrays.  ``'cuda'`` tensors hold GPU arrays
(CuPy), or, under Numba's CUDA simulator, NumPy arrays that the simulated
CUDA kernels run on.  Ops are written once against NumPy's API; CuPy
implements the same functions, so the device only decides where arrays are
created and which kernel runs.
"""
from __future__ import annotations

import numpy as np

__all__ = ["device", "as_device"]


class device:
    """A device name with PyTorch's spelling: ``device('cpu')``, ``device('cuda:0')``."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda', got {spec!r}")
        name, _, number = spec.partition(":")
        if name not in ("cpu", "cuda") or (number and not number.isdigit()):
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
        self.type = name
        self.index = int(number) if number else index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


CPU = device("cpu")


def as_device(spec) -> device:
    return CPU if spec is None else device(spec)


def move_array(array, target: device):
    """Copy ``array`` to the memory of ``target`` (no copy when it is already there)."""
    if target.type == "cpu":
        if isinstance(array, np.ndarray):
            return array
        return array.get()  # a CuPy array
    from . import cuda
    return cuda.to_device_array(array)
