"""Saliency (Simonyan et al., 2014): the gradient of the class score with respect to the input.

    attribution = |∂ F_target(x) / ∂ x|        (``abs=False`` keeps the sign)

The pixels whose small change would move the score most are the ones the model looks at.
"""
from __future__ import annotations

from .attribution import as_input_tuple, gradients, like_inputs

__all__ = ["Saliency"]


class Saliency:
    """Captum's ``Saliency(forward_func).attribute(inputs, target=None, abs=True,
    additional_forward_args=None)``."""

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, target=None, abs=True, additional_forward_args=None):
        inputs, was_tuple = as_input_tuple(inputs, "Saliency.attribute")
        grads = gradients(self.forward_func, inputs, target, additional_forward_args,
                          "Saliency.attribute")
        return like_inputs([g.abs() if abs else g for g in grads], was_tuple)
