"""Pruning (seed 001 §3.1, Han et al.'s Deep Compression step 1), PyTorch's API and semantics.

Pruning a parameter ``weight`` of a module replaces it by ``weight_orig`` (the parameter,
still trained) and a buffer ``weight_mask`` of 0s and 1s; a forward pre-hook recomputes

    weight = weight_orig ⊙ weight_mask

before every call, so the pruned entries stay zero through training (their gradient is
masked too: ∂L/∂weight_orig = ∂L/∂weight ⊙ mask) and ``state_dict`` round-trips both.

- unstructured: the ``amount`` entries with the smallest |w| (``l1_unstructured``), or at
  random; ``global_unstructured`` ranks the entries of several tensors together;
- structured: whole slices along ``dim`` (filters: dim 0, input channels: dim 1) with the
  smallest Lₙ norm ``‖w_slice‖ₙ`` (``ln_structured``), or at random;
- ``amount`` is a fraction of the tensor (rounded as Python's ``round``) or a count.

Pruning the same parameter again composes (``PruningContainer``): the new method sees only
what is left, so a second 50 % prunes half of the remaining entries.  ``remove`` makes the
pruning permanent (``weight`` a plain parameter again, zeros included).
"""
import numbers

import numpy as np

from ... import random as _random
from ...autograd import no_grad
from ...tensor import Tensor
from ..parameter import Parameter

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


class BasePruningMethod:
    """A way of computing a mask; an instance is also the module's forward pre-hook."""

    PRUNING_TYPE = None            # "unstructured", "structured" or "global"
    _tensor_name = None

    def compute_mask(self, t, default_mask):
        """The new mask (an array like ``t``) given the importance scores ``t`` and the mask
        already in place (``default_mask``)."""
        raise NotImplementedError

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    def apply_mask(self, module):
        """weight = weight_orig ⊙ weight_mask, recorded in the graph like any product."""
        mask = getattr(module, self._tensor_name + "_mask")
        return getattr(module, self._tensor_name + "_orig") * mask

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)``, composing with any
        pruning already there; returns the method (or container) now installed."""
        old_key, method = _composite(cls(*args, **kwargs), module, name)
        if old_key is None and not isinstance(module._parameters.get(name), Parameter):
            raise ValueError(f"prune: {type(module).__name__} has no parameter {name!r}")
        orig = getattr(module, name)
        scores = _array(orig if importance_scores is None else importance_scores)
        if scores.shape != orig.shape:
            raise ValueError(f"prune: importance_scores of shape {scores.shape} do not match "
                             f"{name} of shape {orig.shape}")
        default_mask = np.ones_like(_array(orig)) if old_key is None \
            else _array(getattr(module, name + "_mask")).copy()
        mask = method.compute_mask(scores, default_mask=default_mask)   # may refuse: nothing changed yet
        if old_key is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
        else:
            del module._forward_pre_hooks[old_key]
        module.register_buffer(name + "_mask", Tensor(mask.astype(_array(orig).dtype),
                                                      device=orig.device))
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """The pruned copy of tensor ``t`` (no module involved)."""
        scores = _array(t if importance_scores is None else importance_scores)
        mask = np.ones_like(scores) if default_mask is None else _array(default_mask)
        return t * Tensor(self.compute_mask(scores, mask).astype(t.dtype))

    def remove(self, module):
        """Make the pruning permanent: ``weight`` = weight_orig ⊙ mask as a plain parameter."""
        with no_grad():
            weight = self.apply_mask(module)
        orig = module._parameters.pop(self._tensor_name + "_orig")
        del module._buffers[self._tensor_name + "_mask"]
        if self._tensor_name in module.__dict__:
            del module.__dict__[self._tensor_name]
        orig.data = weight
        setattr(module, self._tensor_name, orig)


def _composite(method, module, name):
    """(key of the pruning hook already on ``module.<name>`` or None, the method to install:
    ``method`` itself, or a new PruningContainer of the old methods and ``method``).  Nothing
    on the module changes here, so a method that then refuses leaves it as it was."""
    method._tensor_name = name
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            earlier = tuple(hook) if isinstance(hook, PruningContainer) else (hook,)
            return key, PruningContainer(*earlier, method)
    return None, method


class PruningContainer(BasePruningMethod):
    """Several methods applied in turn; each new one sees only what the others left."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"PruningContainer: expected a pruning method, got {type(method).__name__}")
        if self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError(f"PruningContainer: can only combine methods on one tensor, got "
                             f"{method._tensor_name!r} and {self._tensor_name!r}")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t, default_mask):
        """The newest method's mask computed on the part of ``t`` still unpruned: the kept
        entries (unstructured), the kept slices along its dim (structured), or all (global)."""
        method = self._pruning_methods[-1]
        mask = default_mask.astype(t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim % t.ndim
            others = tuple(d for d in range(t.ndim) if d != dim)
            kept = [slice(None)] * t.ndim
            kept[dim] = default_mask.sum(axis=others) != 0
            kept = tuple(kept)
        elif method.PRUNING_TYPE == "global":
            kept = (slice(None),) * t.ndim
        else:
            raise ValueError(f"PruningContainer: unknown PRUNING_TYPE {method.PRUNING_TYPE!r}")
        mask[kept] = method.compute_mask(t[kept], default_mask=mask[kept])
        return mask


# ---------------------------------------------------------------------------- the methods
def _array(t):
    return np.asarray(t.detach() if isinstance(t, Tensor) else t)


def _check_amount(amount):
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"prune: expected amount to be a float in [0, 1] or an int count, got {amount!r}")
    if (isinstance(amount, numbers.Integral) and amount < 0) or \
            (not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"prune: expected amount to be a float in [0, 1] or a non-negative int, "
                         f"got {amount}")
    return amount


def _count(amount, size):
    """How many to prune: a count as given, a fraction rounded as PyTorch (Python's round)."""
    count = amount if isinstance(amount, numbers.Integral) else round(amount * size)
    if count > size:
        raise ValueError(f"prune: amount={amount} is more than the {size} entries there are")
    return int(count)


def _prune_entries(default_mask, order):
    """Zero the mask at the first entries of ``order`` (flat indices)."""
    mask = default_mask.copy()
    mask.reshape(-1)[order] = 0
    return mask


def _keep_slices(t, dim, keep, default_mask):
    """A mask of the kept slices along ``dim`` (boolean or indices), times the old mask."""
    mask = np.zeros_like(t)
    index = [slice(None)] * t.ndim
    index[dim] = keep
    mask[tuple(index)] = 1
    return mask * default_mask.astype(mask.dtype)


def _check_structured(t, dim):
    if t.ndim <= 1:
        raise ValueError(f"prune: structured pruning needs a tensor with at least 2 dims, got "
                         f"shape {t.shape}")
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(f"prune: dim {dim} out of range for a tensor of shape {t.shape}")


class Identity(BasePruningMethod):
    """Prunes nothing: a mask of ones (so that a module looks pruned)."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask


class _Unstructured(BasePruningMethod):
    """Prunes the first ``amount`` entries of ``order(t)`` (flat indices)."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        self.amount = _check_amount(amount)

    def compute_mask(self, t, default_mask):
        return _prune_entries(default_mask, self.order(t)[:_count(self.amount, t.size)])


class RandomUnstructured(_Unstructured):
    """``amount`` entries chosen uniformly at random."""

    def order(self, t):
        return np.argsort(-_random.generator().random(t.size))


class L1Unstructured(_Unstructured):
    """The ``amount`` entries of smallest magnitude |w|."""

    def order(self, t):
        return np.argsort(np.abs(t).reshape(-1), kind="stable")


class _Structured(BasePruningMethod):
    """Prunes ``amount`` whole slices along ``dim``, keeping the first of ``ranking(t, dim)``."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        self.amount, self.dim = _check_amount(amount), dim

    def compute_mask(self, t, default_mask):
        _check_structured(t, self.dim)
        dim = self.dim % t.ndim
        size = t.shape[dim]
        count = _count(self.amount, size)
        if count == 0:
            return default_mask
        return _keep_slices(t, dim, self.ranking(t, dim)[:size - count], default_mask)


class RandomStructured(_Structured):
    """``amount`` whole slices along ``dim``, chosen at random."""

    def ranking(self, t, dim):
        return np.argsort(-_random.generator().random(t.shape[dim]))


class LnStructured(_Structured):
    """``amount`` whole slices along ``dim`` with the smallest Lₙ norm ‖w_slice‖ₙ (n an int,
    a float, ±inf or 'fro')."""

    def __init__(self, amount, n, dim=-1):
        super().__init__(amount, dim)
        self.n = n

    def ranking(self, t, dim):
        slices = np.moveaxis(t, dim, 0).reshape(t.shape[dim], -1)
        norm = np.linalg.norm(slices, ord=2 if self.n == "fro" else self.n, axis=1)
        return np.argsort(-norm, kind="stable")


class CustomFromMask(BasePruningMethod):
    """A mask given by the caller (0 prunes), combined with the one in place."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = _array(mask)

    def compute_mask(self, t, default_mask):
        if self.mask.shape != default_mask.shape:
            raise ValueError(f"custom_from_mask: expected a mask of shape {default_mask.shape}, "
                             f"got {self.mask.shape}")
        return default_mask * self.mask.astype(default_mask.dtype)


# ---------------------------------------------------------------------------- functions
def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Rank the entries of every ``(module, name)`` in ``parameters`` together and prune the
    ``amount`` least important overall (layers with small weights lose more)."""
    parameters = list(parameters)
    if getattr(pruning_method, "PRUNING_TYPE", None) != "unstructured":
        raise TypeError(f"global_unstructured: expected an unstructured pruning method such as "
                        f"L1Unstructured, got {pruning_method!r}")
    scores = importance_scores or {}
    flat = [_array(scores.get((m, n), getattr(m, n))).reshape(-1) for m, n in parameters]
    masks = [_array(getattr(m, n + "_mask")).reshape(-1) if hasattr(m, n + "_mask")
             else np.ones(getattr(m, n).numel(), _array(getattr(m, n)).dtype) for m, n in parameters]
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    container = PruningContainer(method)
    final = container.compute_mask(np.concatenate(flat), np.concatenate(masks))
    start = 0
    for module, name in parameters:
        size = getattr(module, name).numel()
        custom_from_mask(module, name, final[start:start + size].reshape(getattr(module, name).shape))
        start += size


def remove(module, name):
    """Make ``module.<name>``'s pruning permanent and take off its hook."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove: parameter {name!r} of {type(module).__name__} has to be pruned "
                     "before its pruning can be removed")


def is_pruned(module):
    """Whether ``module`` or any of its sub-modules carries a pruning hook."""
    return any(isinstance(hook, BasePruningMethod) for _, sub in module.named_modules()
               for hook in sub._forward_pre_hooks.values())
