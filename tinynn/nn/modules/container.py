"""Containers: ``Sequential`` calls its modules in order, ``ModuleList`` only holds them."""
from collections import OrderedDict

from .module import Module

__all__ = ["Sequential", "ModuleList"]


class _ModuleSequence(Module):
    """Sub-modules named "0", "1", ... in order; shared by Sequential and ModuleList."""

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(*modules[index]) if isinstance(self, Sequential) \
                else type(self)(modules[index])
        return modules[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_ModuleSequence):
    """Call the given modules in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            self.extend(modules)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)
