"""``tinynn.nn.utils``: tools that work on modules' parameters (PyTorch's ``torch.nn.utils``).

    prune.py        pruning masks: l1_unstructured, ln_structured, global_unstructured, remove, ...
    clip_grad.py    clip_grad_norm_, clip_grad_value_
"""
from . import prune  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
