"""Elementwise special functions NumPy lacks, as Numba ufuncs (float32 and float64)."""
import math

from numba import vectorize


@vectorize(["float32(float32)", "float64(float64)"], cache=True)
def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, from libm."""
    return math.erf(x)
