"""The matrix product, C[b] = A[b] @ B[b], as NumPy computes it (on OpenBLAS's own threads)."""
import numpy as np


def matmul(a, b):
    """C[..., i, j] = Σ_k A[..., i, k] · B[..., k, j], broadcast over the leading axes."""
    return np.matmul(a, b)
