import weakref

import numpy as np
import pytest

import tinynn
from tinynn.autograd import Function, GradcheckError, detect_anomaly, gradcheck
from oracle import torch


def test_chain_rule_on_a_small_expression():
    x = tinynn.tensor(3.0, requires_grad=True)
    y = tinynn.tensor(4.0, requires_grad=True)
    z = x * y + x.exp() / y
    z.backward()
    assert x.grad.item() == pytest.approx(4 + np.exp(3) / 4, rel=1e-6)
    assert y.grad.item() == pytest.approx(3 - np.exp(3) / 16, rel=1e-6)


def test_gradients_accumulate_across_backward_calls():
    w = tinynn.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert w.grad.numpy().tolist() == [6.0, 6.0]
    w.grad = None
    (w * w).sum().backward()
    assert w.grad.numpy().tolist() == [2.0, 4.0]


def test_shared_subgraph_gets_the_sum_of_its_paths():
    x = tinynn.tensor(2.0, requires_grad=True)
    h = x * x          # used twice below: dz/dx = 2 * (2x) + 3 * (2x)
    z = h * 2 + h * 3
    z.backward()
    assert x.grad.item() == pytest.approx(20.0)


def test_second_backward_needs_retain_graph():
    x = tinynn.tensor(2.0, requires_grad=True)
    y = (x * x).exp()
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)
    with pytest.raises(RuntimeError, match="a second time.*retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_needs_gradient():
    x = tinynn.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs; got a tensor of shape \(2, 3\)"):
        y.backward()
    y.backward(tinynn.ones(2, 3))
    assert x.grad.numpy().tolist() == [[2.0] * 3] * 2
    with pytest.raises(RuntimeError, match=r"gradient must have the output's shape"):
        (x * 2).backward(tinynn.ones(3))


def test_broadcast_gradients_reduce_to_input_shape():
    a = tinynn.ones(4, 1, 3, requires_grad=True)
    b = tinynn.ones(5, 1, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (4, 1, 3) and b.grad.shape == (5, 1)
    assert a.grad.numpy().flat[0] == 5 and b.grad.numpy().flat[0] == 12


def test_no_grad_detach_and_requires_grad_():
    x = tinynn.ones(2, requires_grad=True)
    with tinynn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert not x.detach().requires_grad
    z = tinynn.ones(2)
    z.requires_grad_()
    (z * 2).sum().backward()
    assert z.grad is not None
    with pytest.raises(RuntimeError, match="does not require grad"):
        (tinynn.ones(2) * 2).sum().backward()


def test_no_grad_works_as_a_decorator():
    @tinynn.no_grad()
    def double(t):
        return t * 2
    assert not double(tinynn.ones(1, requires_grad=True)).requires_grad


def test_retain_grad_keeps_gradient_of_intermediate():
    x = tinynn.ones(3, requires_grad=True)
    h = (x * 2).retain_grad()
    (h * h).sum().backward()
    assert h.grad.numpy().tolist() == [4.0, 4.0, 4.0]


class Cube(Function):
    """y = x^3;  y' = 3x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x ** 2  # the bug gradcheck must find


def test_custom_function_and_gradcheck_pass():
    x = tinynn.randn(3, 2, dtype=tinynn.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,))


def test_gradcheck_catches_a_wrong_backward():
    x = tinynn.randn(3, 2, dtype=tinynn.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(WrongCube.apply, (x,))
    assert gradcheck(WrongCube.apply, (x,), raise_exception=False) is False


def test_gradcheck_catches_a_wrong_gradient_at_a_single_element():
    class WrongAtOneElement(Cube):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            out = grad * 3 * x ** 2
            out.reshape(-1)[-1] += 1e-3   # off at the last element only
            return out
    x = tinynn.randn(4, 3, dtype=tinynn.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="input element 11"):
        gradcheck(WrongAtOneElement.apply, (x,))


def test_gradcheck_requires_float64():
    with pytest.raises(ValueError, match="expected float64 inputs"):
        gradcheck(Cube.apply, (tinynn.randn(2, requires_grad=True),))


def test_detect_anomaly_names_the_op_that_made_nan():
    x = tinynn.tensor([-1.0, 1.0], requires_grad=True)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="Log: forward produced NaN"):
            with np.errstate(invalid="ignore"):
                x.log()


def test_gradcheck_fails_when_the_numerical_jacobian_is_nan():
    x = tinynn.tensor([[-1.0, 2.0]], dtype=tinynn.float64, requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert gradcheck(lambda t: (t * 0 + float("inf")) * t, (x,), raise_exception=False) is False


# ------------------------------------------------------------------ version counters
def _modify_saved_input_under_no_grad(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = lib.tensor([4.0, 5.0, 6.0])
    loss = (a * b).sum()
    with lib.no_grad():
        b += 1
    return loss, "input 1 of MulBackward"


def _modify_saved_input_by_setitem(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = lib.tensor([4.0, 5.0, 6.0])
    loss = (a * b).sum()
    b[1] = 0.0
    return loss, "input 1 of MulBackward"


def _modify_a_view_of_a_saved_input(lib):
    a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = lib.tensor([[4.0, 5.0], [6.0, 7.0]])
    loss = (a @ b).sum()
    b[0].mul_(2)                      # a view shares the counter of its base
    return loss, "input 1 of MatMulBackward"


def _modify_a_saved_output(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    loss = y.sum()
    with lib.no_grad():
        y.mul_(3)
    return loss, "the output of ExpBackward"


def _update_weights_between_forward_and_backward(lib):
    layer = lib.nn.Linear(2, 2)
    loss = layer(lib.ones(3, 2, requires_grad=True)).sum()     # ∂L/∂x needs the weight
    with lib.no_grad():
        layer.weight.add_(1.0)
    return loss, "input 1 of LinearBackward"


@pytest.mark.parametrize("scenario", [
    _modify_saved_input_under_no_grad, _modify_saved_input_by_setitem,
    _modify_a_view_of_a_saved_input, _modify_a_saved_output, _update_weights_between_forward_and_backward,
], ids=lambda f: f.__name__.strip("_"))
def test_backward_refuses_arrays_changed_after_they_were_saved(scenario):
    """Without version counters each of these returned a silently wrong gradient."""
    loss, role = scenario(tinynn)
    with pytest.raises(RuntimeError, match=rf"backward: {role}, a float32 array .* was "
                                           r"modified in place .*version \d+, expected \d+"):
        loss.backward()
    if torch is not None:                                 # PyTorch refuses each one too
        torch_loss, _ = scenario(torch)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            torch_loss.backward()


def test_optimizer_step_between_forward_and_backward_is_refused():
    layer = tinynn.nn.Linear(2, 2)
    optimizer = tinynn.optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(tinynn.ones(3, 2, requires_grad=True)).sum()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match="LinearBackward.*modified in place"):
        loss.backward()


def test_an_array_no_gradient_needs_may_change_as_in_pytorch():
    """Linear keeps its weight only for ∂L/∂x: without an input that needs a gradient,
    changing the weight cannot corrupt anything, and PyTorch allows it too."""
    for lib in (tinynn, torch) if torch is not None else (tinynn,):
        layer = lib.nn.Linear(2, 2)
        loss = layer(lib.ones(3, 2)).sum()
        with lib.no_grad():
            layer.weight.add_(1.0)
        loss.backward()
        np.testing.assert_allclose(np.asarray(layer.weight.grad), np.full((2, 2), 3.0))


def test_changes_before_the_forward_pass_or_after_backward_are_fine():
    a = tinynn.tensor([1.0, 2.0], requires_grad=True)
    b = tinynn.tensor([3.0, 4.0])
    b += 1                                                # before: the op saves the new values
    loss = (a * b).sum()
    loss.backward()
    b += 1                                                # after: nothing left to corrupt
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 5.0])


def test_profiler_times_each_ops_forward_and_backward_only_inside_its_block():
    from tinynn.autograd import profiler
    x = tinynn.ones(3, 4, requires_grad=True)
    (x * 2).sum().backward()                                  # outside: nothing recorded
    with profiler.profile() as prof:
        y = (x.exp() * 2).sum()
        y.backward()
    rows = {(op, kind): calls for op, kind, calls, _ in prof.rows()}
    assert rows == {("Exp", "forward"): 1, ("Mul", "forward"): 1, ("Sum", "forward"): 1,
                    ("Exp", "backward"): 1, ("Mul", "backward"): 1, ("Sum", "backward"): 1}
    assert prof.total >= sum(seconds for *_, seconds in prof.rows()) > 0
    assert "Exp" in prof.table() and "outside ops" in prof.table()
    assert not profiler._active


def test_the_graph_does_not_keep_an_activation_that_no_backward_reads():
    """ReLU saves its output and a product its inputs, not its output: once the caller drops
    h, the graph (which holds ops, not outputs, as PyTorch's does) lets its values go, and
    the gradients are unchanged."""
    x = tinynn.tensor(np.arange(6.0).reshape(2, 3) - 2.5, requires_grad=True)
    w = tinynn.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    h = x @ w
    values = weakref.ref(h._array)
    y = h.relu()
    del h
    assert values() is None
    y.sum().backward()
    mask = (x.detach().numpy() @ w.detach().numpy() > 0).astype(float)
    np.testing.assert_allclose(x.grad.numpy(), mask @ w.detach().numpy().T)
    np.testing.assert_allclose(w.grad.numpy(), x.detach().numpy().T @ mask)


def test_retain_grad_on_an_activation_still_held():
    x = tinynn.tensor([1.0, -2.0, 3.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    (h.relu() * 3.0).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [3.0, 0.0, 3.0])


@pytest.mark.parametrize("clip, frees_input", [
    (lambda h: tinynn.nn.functional.relu6(h), True),          # exclusive edges: backward reads y
    (lambda h: h.clamp(0.0, 6.0), False),                     # inclusive edges: y = 0 is ambiguous
])
def test_relu6_frees_its_input_and_clamp_keeps_it(clip, frees_input):
    x = tinynn.tensor([-1.0, 0.0, 3.0, 6.0, 7.0], requires_grad=True)
    h = x * 1.0
    values = weakref.ref(h._array)
    y = clip(h)
    del h
    assert (values() is None) == frees_input
    y.sum().backward()
    expected = [0, 0, 1, 0, 0] if frees_input else [0, 1, 1, 1, 0]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
