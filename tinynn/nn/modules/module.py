"""``Module``: a layer or a network, holding parameters, buffers and sub-modules.

Assigning a ``Parameter`` or a ``Module`` as an attribute registers it, so
``parameters()``, ``state_dict()``, ``to()`` and ``train()/eval()`` find
everything without bookkeeping in the layers themselves.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from ...autograd.versions import bump
from ...device import CPU
from ...tensor import Tensor
from ..parameter import Parameter
from . import hooks

__all__ = ["Module"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model; subclasses write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning "
                               "attributes in __init__")
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()) and isinstance(value, Tensor):
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not learnable (e.g. batch norm's running mean)."""
        self.__dict__.setdefault("_buffer_names", set()).add(name)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: expected a Module, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix=""):
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self):
        return (b for _, b in self.named_buffers())

    def apply(self, fn):
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.zero_()

    # ------------------------------------------------------------ devices and dtypes
    def _convert(self, fn):
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    converted = fn(param)
                    param._array, param._device = converted._array, converted.device
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    module._buffers[name] = fn(buffer).detach()
        return self

    def to(self, *args, dtype=None, device=None):
        """Move parameters and buffers in place (a dtype applies to floating ones only)."""
        for arg in args:
            if isinstance(arg, (str, type(CPU))):
                device = arg
            else:
                dtype = arg

        def convert(t):
            floating = dtype is not None and t.dtype.kind == "f"
            return t.detach().to(dtype=dtype if floating else None, device=device)
        return self._convert(convert)

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # ------------------------------------------------------------ state
    def state_dict(self, prefix=""):
        state = OrderedDict()
        for module_name, module in self.named_modules():
            dotted = f"{prefix}{module_name}." if module_name else prefix
            for name, param in module._parameters.items():
                if param is not None:
                    state[dotted + name] = param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    state[dotted + name] = buffer.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's tensors; shapes must match exactly."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: keys do not match {type(self).__name__}: missing "
                           f"{missing}, unexpected {unexpected} (pass strict=False to ignore)")
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = np.asarray(value.detach() if isinstance(value, Tensor) else value)
            if array.shape != target.shape:
                raise ValueError(f"load_state_dict: {key} expected shape {target.shape}, got "
                                 f"{array.shape}")
            target._array[...] = array.astype(target.dtype, copy=False) if target.device.type == "cpu" \
                else Tensor(array, dtype=target.dtype, device=target.device)._array
            bump(target._array)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        if not self._forward_pre_hooks and not self._forward_hooks and not self._backward_hooks:
            return self.forward(*args, **kwargs)
        return hooks.run_with_hooks(self, args, kwargs)

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` before every forward; may return replacement inputs."""
        return hooks.register(self._forward_pre_hooks, hook, "register_forward_pre_hook")

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` after every forward; may return a new output."""
        return hooks.register(self._forward_hooks, hook, "register_forward_hook")

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` during backward, with the gradients with
        respect to the module's tensor inputs and outputs; may return a new grad_input."""
        return hooks.register(self._backward_hooks, hook, "register_full_backward_hook")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)
