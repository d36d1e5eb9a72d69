"""Interpretability: which parts of an input made a model decide what it did (seed 004 §3.3).

Captum's class names and ``attribute(...)`` signatures, each method a short module with its
formula at the top:

    attribution.py            what they share: inputs, targets, ∂F_target/∂x
    saliency.py               Saliency: |∂F/∂x|
    integrated_gradients.py   IntegratedGradients: the gradient integrated from a baseline
    noise_tunnel.py           NoiseTunnel: SmoothGrad, SmoothGrad², VarGrad over noisy copies
    layer.py                  LayerActivation (feature maps), LayerGradCam, LayerAttribution
    visualize.py              the pictures (matplotlib, the ``plot`` extra)

    from tinynn.interpret import IntegratedGradients
    attributions = IntegratedGradients(model).attribute(images, target=labels)
"""
from .integrated_gradients import IntegratedGradients  # noqa: F401
from .layer import LayerActivation, LayerAttribution, LayerGradCam  # noqa: F401
from .noise_tunnel import NoiseTunnel  # noqa: F401
from .saliency import Saliency  # noqa: F401

__all__ = ["Saliency", "IntegratedGradients", "NoiseTunnel", "LayerActivation", "LayerGradCam",
           "LayerAttribution"]
