"""Module backward hooks and ``autograd.grad`` against PyTorch (float64)."""
import numpy as np
import pytest

import tinynn

torch = pytest.importorskip("torch")


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()


@pytest.fixture
def pair():
    tinynn.manual_seed(0)
    mine, theirs = _mlp(tinynn), _mlp(torch)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in mine.state_dict().items()})
    return mine, theirs


def _record(model, seen, scale=None):
    def hook(module, grad_input, grad_output):
        seen.append([None if g is None else g.detach().numpy().copy() for g in grad_input + grad_output])
        if scale is not None and grad_input[0] is not None:
            return (grad_input[0] * scale,)
    return [layer.register_full_backward_hook(hook) for layer in model]


@pytest.mark.parametrize("input_requires_grad", [True, False])
@pytest.mark.parametrize("scale", [None, 3.0])
def test_full_backward_hooks_equal_torch(pair, input_requires_grad, scale):
    x = np.random.default_rng(1).standard_normal((5, 4))
    results = []
    for lib, model in zip((tinynn, torch), pair):
        seen = []
        handles = _record(model, seen, scale)
        xt = lib.tensor(x, requires_grad=input_requires_grad)
        model(xt).pow(2).sum().backward()
        grads = [p.grad.numpy() for p in model.parameters()]
        results.append((seen, grads, xt.grad.numpy() if input_requires_grad else None))
        for handle in handles:
            handle.remove()
    (mine, my_grads, my_x), (theirs, their_grads, their_x) = results
    assert len(mine) == len(theirs) == 3          # the last layer first, as in PyTorch
    for mine_call, their_call in zip(mine, theirs):
        assert [g is None for g in mine_call] == [g is None for g in their_call]
        for a, b in zip(mine_call, their_call):
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(my_grads, their_grads):        # a replaced grad_input flows on below
        np.testing.assert_allclose(a, b, rtol=1e-12)
    if input_requires_grad:
        np.testing.assert_allclose(my_x, their_x, rtol=1e-12)


def test_backward_hook_on_a_module_with_tuple_outputs():
    lstm = tinynn.nn.LSTM(3, 2).double()
    seen = []
    lstm.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    x = tinynn.tensor(np.random.default_rng(2).standard_normal((4, 1, 3)), requires_grad=True)
    output, (h, c) = lstm(x)
    (output.sum() + 2 * h.sum() + 3 * c.sum()).backward()
    (grad_input,), grad_output = seen[0]
    np.testing.assert_array_equal(grad_input.numpy(), x.grad.numpy())
    assert [g.numpy().tolist() for g in grad_output] == [np.ones((4, 1, 2)).tolist(),
                                                         np.full((1, 1, 2), 2.0).tolist(),
                                                         np.full((1, 1, 2), 3.0).tolist()]


def test_hooks_are_removable_and_checked():
    layer = tinynn.nn.Linear(2, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda *a: calls.append(1))
    layer(tinynn.randn(3, 2, requires_grad=True)).sum().backward()
    handle.remove()
    layer(tinynn.randn(3, 2, requires_grad=True)).sum().backward()
    assert calls == [1]
    with pytest.raises(TypeError, match="register_full_backward_hook: expected a callable hook"):
        layer.register_full_backward_hook("not a function")
    bad = layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="returned 2 gradients, expected one per tensor input"):
        layer(tinynn.randn(3, 2, requires_grad=True)).sum().backward()
    bad.remove()


def test_autograd_grad_equals_torch_and_leaves_grad_alone():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    results = []
    for lib in (tinynn, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        hidden = (xt @ wt).tanh()
        out = (hidden * hidden).sum(1)
        grads = lib.autograd.grad([out[0], out.sum()], [xt, hidden], grad_outputs=[lib.tensor(2.0), lib.tensor(1.0)])
        assert xt.grad is None and wt.grad is None
        results.append([g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_autograd_grad_walks_only_what_is_asked():
    """The weight gradient of a matmul is not computed when only the input's is asked for."""
    asked = []

    class Spy(tinynn.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x @ w

        @staticmethod
        def backward(ctx, grad):
            asked.append(ctx.needs_input_grad)
            x, w = ctx.saved_arrays
            return grad @ w.T, x.T @ grad
    x, w = tinynn.randn(2, 3, requires_grad=True), tinynn.randn(3, 1, requires_grad=True)
    (gx,) = tinynn.autograd.grad(Spy.apply(x, w).sum(), x)
    assert asked == [(True, False)] and gx.shape == (2, 3)
    Spy.apply(x, w).sum().backward()
    assert asked[-1] == (True, True)


def test_autograd_grad_errors():
    x, y = tinynn.randn(2, requires_grad=True), tinynn.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="was not used to compute the outputs; pass allow_unused=True"):
        tinynn.autograd.grad((x * 2).sum(), [x, y])
    assert tinynn.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="grad: every output and input must require grad"):
        tinynn.autograd.grad((x * 2).sum(), tinynn.randn(2))
    with pytest.raises(TypeError, match="grad: expected inputs as a Tensor or a sequence"):
        tinynn.autograd.grad(x.sum(), "x")
