"""``Embedding``: a learned table of ``num_embeddings`` vectors, looked up by index
(``functional/embedding.py``); PyTorch's initialisation N(0, 1) and ``padding_idx``."""
import numpy as np

from ... import random as _random
from ..functional.embedding import embedding
from ..parameter import Parameter
from .module import Module
from .utils import check_sizes

__all__ = ["Embedding"]


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None, dtype=None):
        super().__init__()
        check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        table = _random.generator().standard_normal((num_embeddings, embedding_dim)).astype(np.dtype(dtype or np.float32))
        if padding_idx is not None:
            table[padding_idx] = 0
        self.weight = Parameter(table)
        if device is not None:
            self.to(device)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
