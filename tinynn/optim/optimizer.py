"""``Optimizer``: parameter groups, per-parameter state and the update loop.

Subclasses write ``update(param, grad, state, group)`` for one parameter; the
base class walks the groups, skips parameters without a gradient and runs
everything under ``no_grad()``.  While ``update`` runs, ``self.backend`` holds the
kernels of the parameter's device (``tinynn/backend.py``), for updates that one
of them runs in a single pass (Adam's).
"""
import copy
import math
import numbers

import numpy as np

from ..autograd import no_grad
from ..backend import for_device
from ..autograd.versions import bump
from ..tensor import Tensor


# Hyper-parameters that make no sense below zero (PyTorch refuses each of them too).
NON_NEGATIVE = ("lr", "weight_decay", "eps", "momentum", "alpha", "lr_decay",
                "initial_accumulator_value")


class Optimizer:
    defaults = {}

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of tensors or "
                            f"dicts, got a single tensor of shape {params.shape} (iterating it "
                            "would optimise its rows); pass [tensor] or model.parameters()")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = {}
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):      # a frozen one (requires_grad=False) is kept:
                raise TypeError(f"{type(self).__name__}: can only optimise tensors, got "  # its grad stays
                                f"{type(param).__name__}")                                # None, step skips it
        self._check_no_duplicates(group["params"])
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_hyperparameters(group)
        group.setdefault("initial_lr", group["lr"])
        self.param_groups.append(group)

    def _check_no_duplicates(self, params):
        """A parameter listed twice would be stepped twice per step()."""
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for position, param in enumerate(params):
            if id(param) in seen:
                raise ValueError(f"{type(self).__name__}: parameter {position} of group "
                                 f"{len(self.param_groups)} (shape {param.shape}) is already "
                                 "being optimised; each parameter may appear only once")
            seen.add(id(param))

    def _check_hyperparameters(self, group):
        name = type(self).__name__
        for key, value in group.items():
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, numbers.Real) and math.isnan(v) for v in values):
                raise ValueError(f"{name}: expected a number for {key}, got NaN")
        for key in NON_NEGATIVE:
            if key in group and group[key] < 0:
                raise ValueError(f"{name}: expected {key} >= 0, got {group[key]}")

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:
                    param.grad.zero_()

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state.setdefault(id(param), {})
                    self._device = param.device
                    self.update(param._array, param.grad._array, state, group)
                    bump(param._array)      # a graph that saved the old weights must not use them
        return loss

    def update(self, param, grad, state, group):
        raise NotImplementedError

    @property
    def backend(self):
        """The kernels of the device of the parameter that ``update`` is updating."""
        return for_device(self._device)

    # ---------------------------------------------------------------- state
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}."""
        index = {}
        groups = []
        for group in self.param_groups:
            entry = {k: v for k, v in group.items() if k != "params"}
            entry["params"] = []
            for param in group["params"]:
                index.setdefault(id(param), len(index))
                entry["params"].append(index[id(param)])
            groups.append(entry)
        state = {index[key]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                              for k, v in value.items()}
                 for key, value in self.state.items() if key in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: expected {len(self.param_groups)} parameter "
                             f"groups, got {len(groups)}")
        params = {}
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError("load_state_dict: parameter group sizes do not match")
            params.update(zip(saved["params"], own["params"]))
            own.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for key, value in state_dict["state"].items():
            param = params[int(key)]
            self.state[id(param)] = {k: (np.asarray(v).astype(param.dtype) if np.ndim(v) else v)
                                     for k, v in copy.deepcopy(value).items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
