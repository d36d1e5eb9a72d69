"""Version counters: how ``backward`` notices that an array it saved was changed in place.

A counter belongs to a block of memory, so that every view of it (``x[0]``, ``x.T``,
``x.detach()``) shares one: the root array is found by following NumPy's ``.base``.
Every in-place write that goes through tinynn (``x += y`` under ``no_grad``, ``add_``,
``copy_``, ``x[i] = v``, an optimiser step, ``load_state_dict``) calls :func:`bump`;
``save_for_backward`` records :func:`version` of each array, and the engine compares
before it uses them, as PyTorch does.  (Writes into ``t.numpy()`` bypass tinynn and
cannot be seen, in PyTorch as here.)
"""
import weakref

_versions = {}       # id(root array) -> writes so far; only arrays ever written have an entry


def _root(array):
    base = getattr(array, "base", None)
    while base is not None and hasattr(base, "shape"):
        array, base = base, getattr(base, "base", None)
    return array


def version(array) -> int:
    return _versions.get(id(_root(array)), 0)


def bump(array):
    """Count one more in-place write into ``array``'s memory."""
    root = _root(array)
    key = id(root)
    if key not in _versions:
        weakref.finalize(root, _versions.pop, key, None)     # forget it with the memory
    _versions[key] = _versions.get(key, 0) + 1
