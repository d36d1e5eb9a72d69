"""Forward hooks (PyTorch's ``register_forward_pre_hook`` / ``register_forward_hook``).

A pre-hook runs before ``forward`` with ``(module, inputs)`` and may return new inputs;
pruning uses one to recompute ``weight = weight_orig * weight_mask`` before every call.
A forward hook runs after with ``(module, inputs, output)`` and may return a new output;
interpretability uses them to look at activations.

A full backward hook (``register_full_backward_hook``) runs during backward with
``(module, grad_input, grad_output)``: the gradients of the loss with respect to the
module's tensor inputs and outputs. As in PyTorch, the inputs and outputs pass through
identity ops (``_GradTap``) whose backward hands their gradients to the hook.
"""
import itertools
from collections import OrderedDict

from ...autograd import Function, is_grad_enabled
from ...tensor import Tensor

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
    call = None
    if module._backward_hooks and is_grad_enabled():
        call = _BackwardHookCall(module, args)
        args = call.tap_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output if call is None else call.tap_outputs(output)


class _GradTap(Function):
    """The identity, whose backward gives the incoming gradient to ``callback`` and passes on
    what ``callback`` returns."""

    @staticmethod
    def forward(ctx, x, callback):
        ctx.callback = callback
        return x.view()

    @staticmethod
    def backward(ctx, grad):
        return ctx.callback(grad), None


class _BackwardHookCall:
    """One forward call of a module with full backward hooks: collects the gradients of its
    outputs, then, when the last input gradient arrives, calls the hooks with both."""

    def __init__(self, module, args):
        self.module = module
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.grad_input = [None] * len(positions)
        self.input_slot = {position: slot for slot, position in enumerate(positions)}
        self.waiting = sum(args[i].requires_grad for i in positions)
        self.grad_output = []
        self.device = next((a.device for a in args if isinstance(a, Tensor)), None)

    def tap_inputs(self, args):
        return tuple(_GradTap.apply(a, self._input_callback(self.input_slot[i]))
                     if isinstance(a, Tensor) and a.requires_grad else a for i, a in enumerate(args))

    def tap_outputs(self, output):
        if isinstance(output, Tensor):
            if not output.requires_grad:
                return output
            self.grad_output.append(None)
            return _GradTap.apply(output, self._output_callback(len(self.grad_output) - 1))
        if isinstance(output, (tuple, list)):
            return type(output)(self.tap_outputs(o) for o in output)
        return output

    def _output_callback(self, slot):
        def arrived(grad):
            self.grad_output[slot] = Tensor._wrap(grad, self.device)
            if self.waiting == 0 and all(g is not None for g in self.grad_output):
                self._call_hooks()          # no input wants a gradient: PyTorch calls it here
            return grad
        return arrived

    def _input_callback(self, slot):
        def arrived(grad):
            self.grad_input[slot] = Tensor._wrap(grad, self.device)
            self.waiting -= 1
            if self.waiting == 0:
                self._call_hooks()
            replaced = self.grad_input[slot]
            return grad if replaced is None else replaced._array
        return arrived

    def _call_hooks(self):
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, tuple(self.grad_input), tuple(self.grad_output))
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(self.grad_input):
                raise RuntimeError(
                    f"register_full_backward_hook: the hook on {type(self.module).__name__} "
                    f"returned {len(result)} gradients, expected one per tensor input "
                    f"({len(self.grad_input)})")
            if len(self.grad_input) > 1 and any(r is not g for r, g in zip(result, self.grad_input)):
                raise RuntimeError(
                    "register_full_backward_hook: replacing grad_input is supported for modules "
                    f"with one tensor input; {type(self.module).__name__} has "
                    f"{len(self.grad_input)}")
            self.grad_input = list(result)
