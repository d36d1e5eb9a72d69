"""A small Transformer encoder for sequences of tokens, built from tinynn.nn's blocks
(seed 000 and 004 name Transformers for sequences): token and position embeddings, a stack
of ``nn.TransformerEncoderLayer`` (self-attention + feed-forward, each with a residual and
LayerNorm), the positions averaged (padding left out), a linear classifier.

    model = TinyTransformer(vocab_size=10, num_classes=10)
    logits = model(tokens)               # tokens (N, L) integers → (N, num_classes)
"""
from .. import nn
from ..creation import arange


class TinyTransformer(nn.Module):
    def __init__(self, vocab_size, num_classes, d_model=32, nhead=4, num_layers=2, dim_feedforward=64,
                 max_len=128, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(max_len, d_model)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True, norm_first=True)
            for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, tokens, padding_mask=None):
        """``padding_mask`` (N, L): True where a position is padding (PyTorch's rule)."""
        if tokens.shape[1] > self.position.num_embeddings:
            raise ValueError(f"TinyTransformer: sequences of at most {self.position.num_embeddings} tokens, "
                             f"got {tokens.shape[1]}")
        x = self.embed(tokens) + self.position(arange(tokens.shape[1]))
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=padding_mask)
        x = self.norm(x)
        if padding_mask is None:
            return self.head(x.mean(dim=1))
        keep = (~padding_mask).to(x.dtype).unsqueeze(-1)       # the mean over real tokens only
        return self.head((x * keep).sum(dim=1) / keep.sum(dim=1))
