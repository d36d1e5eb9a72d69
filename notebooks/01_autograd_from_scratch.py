# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Automatic differentiation from scratch
#
# Training a network needs ∂L/∂w for every weight w. tinynn records each operation as it
# runs (a `Function` with a `forward` and a `backward`), and `loss.backward()` walks the
# record in reverse, applying the chain rule once per operation:
#
# $$ \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x} $$
#
# Gradients reaching a tensor along several paths add up.

# %%
import numpy as np

import tinynn
from tinynn import viz
from tinynn.autograd import Function, gradcheck

# %% [markdown]
# ## One neuron, by hand and by autograd
# $y = \tanh(w x + b)$, $L = y^2$. By hand: $\partial L/\partial w = 2y\,(1 - y^2)\,x$.

# %%
x = tinynn.tensor(1.5)
w = tinynn.tensor(-0.8, requires_grad=True)
b = tinynn.tensor(0.3, requires_grad=True)
y = (w * x + b).tanh()
loss = y * y
loss.backward()
by_hand = 2 * y.item() * (1 - y.item() ** 2) * x.item()
print(f"autograd ∂L/∂w = {w.grad.item():.6f}, by hand {by_hand:.6f}")
assert abs(w.grad.item() - by_hand) < 1e-6

# %% [markdown]
# ## The graph that `backward` walks
# Every tensor computed from one that requires grad remembers its op (`grad_fn`) and inputs.

# %%
layer = tinynn.nn.Linear(3, 2)
inputs = tinynn.randn(4, 3)
loss = tinynn.nn.functional.mse_loss(layer(inputs).relu(), tinynn.zeros(4, 2))
print(viz.graph_text(loss, params=dict(layer.named_parameters())))

# %% [markdown]
# With the `viz` extra (Graphviz) the same graph is a picture; in Jupyter the returned
# object draws itself.

# %%
graph = viz.draw_graph(loss, params=dict(layer.named_parameters()))
graph

# %% [markdown]
# ## Writing an op: forward and backward side by side
# $y = x^3$, so $\partial L/\partial x = 3x^2 \cdot \partial L/\partial y$. `gradcheck`
# compares every entry of the backward's Jacobian with central finite differences
# in float64.

# %%
class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return 3 * x ** 2 * grad


x = tinynn.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
print("gradcheck:", gradcheck(Cube.apply, (x,)))

# %% [markdown]
# A wrong backward is caught, with the entry that disagrees:

# %%
class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return 2 * x ** 2 * grad


try:
    gradcheck(WrongCube.apply, (x,))
except tinynn.autograd.GradcheckError as error:
    print("caught:", str(error).splitlines()[0])

# %% [markdown]
# ## Gradients without touching `.grad`
# `tinynn.autograd.grad` returns a gradient instead of accumulating it, and walks only the
# part of the graph it needs (interpretability methods use it for ∂output/∂input).

# %%
image = tinynn.randn(1, 3, requires_grad=True)
(gradient,) = tinynn.autograd.grad(layer(image).sum(), image)
print(gradient, layer.weight.grad)
