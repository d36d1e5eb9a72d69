"""``tinynn.compress``: making a trained network smaller and faster (seed 001, seed 004 §3.2).

    distillation.py   a small student learns from a large teacher's softened outputs
    sharing.py        tied parameters; k-means weight sharing (Deep Compression step 2)
    channels.py       structured pruning made physical: a smaller dense model
    sparsity.py       L1 sparsification, sparse (CSR) layers and their kernel

Pruning itself is PyTorch's ``tinynn.nn.utils.prune``; quantisation is ``tinynn.quantization``;
``tinynn.save(..., sparse=True, compress=True)`` stores the result compactly.
"""
from .channels import dead_channels, remove_channels  # noqa: F401
from .distillation import distill_epoch, distillation_loss  # noqa: F401
from .sharing import kmeans, share_weights, tie_weights, unshare_weights  # noqa: F401
from .sparsity import SparseLinear, l1_penalty, sparsity, to_sparse  # noqa: F401
