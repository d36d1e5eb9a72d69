"""``tinynn.nn.utils``: tools that work on modules' parameters (PyTorch's ``torch.nn.utils``).

    prune.py    pruning masks: l1_unstructured, ln_structured, global_unstructured, remove, ...
"""
from . import prune  # noqa: F401
