"""Keras' activation names mapped to tinynn functions."""
from ..nn import functional as F

ACTIVATIONS = {
    None: None, "linear": None,
    "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh,
    "softmax": lambda x: F.softmax(x, -1 if x.ndim == 2 else 1),
    "log_softmax": lambda x: F.log_softmax(x, -1 if x.ndim == 2 else 1),
    "relu6": F.relu6, "swish": F.silu, "silu": F.silu, "mish": F.mish, "gelu": F.gelu,
    "softplus": F.softplus, "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
}


def get(identifier):
    """A callable (or None for 'linear') from a Keras activation name or a callable."""
    if callable(identifier):
        return identifier
    if identifier not in ACTIVATIONS:
        names = ", ".join(sorted(k for k in ACTIVATIONS if k))
        raise ValueError(f"activation: unknown name {identifier!r}; expected one of {names}")
    return ACTIVATIONS[identifier]
