"""Forward hooks (PyTorch's ``register_forward_pre_hook`` / ``register_forward_hook``).

A pre-hook runs before ``forward`` with ``(module, inputs)`` and may return new inputs;
pruning uses one to recompute ``weight = weight_orig * weight_mask`` before every call.
A forward hook runs after with ``(module, inputs, output)`` and may return a new output;
interpretability uses them to look at activations.
"""
import itertools
from collections import OrderedDict

__all__ = ["RemovableHandle", "run_with_hooks"]

_ids = itertools.count()


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, table):
        self.table, self.id = table, next(_ids)

    def remove(self):
        self.table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register(table: OrderedDict, hook, op):
    if not callable(hook):
        raise TypeError(f"{op}: expected a callable hook, got {type(hook).__name__}")
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def run_with_hooks(module, args, kwargs):
    """``module.forward(*args, **kwargs)`` with the module's pre-hooks before and hooks after."""
    for hook in list(module._forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output
