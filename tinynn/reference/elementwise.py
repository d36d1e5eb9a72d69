"""ReLU and the error function, as their definitions read.

    ReLU(x) = max(x, 0),            ∂L/∂x = ∂L/∂y · [y > 0]
    erf(x)  = 2/√π ∫₀ˣ e^(-t²) dt    (NumPy has no erf ufunc: math.erf, one element at a time)
"""
import math

import numpy as np


def relu(x):
    return np.maximum(x, 0)


def relu_backward(grad, y):
    return grad * (y > 0)


def erf(x):
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
