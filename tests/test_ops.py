"""Every primitive op and activation: float64 gradcheck on hypothesis-generated
shapes and broadcast patterns, and forward + gradients against PyTorch."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinynn
from oracle import check_against_torch, check_gradients, requires_torch

BINARY = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / (b.abs() + 0.5),
    "pow": lambda lib, a, b: (a.abs() + 0.5) ** b,
    "rsub_scalar": lambda lib, a, b: 2.0 - a * b,
    "rdiv_scalar": lambda lib, a, b: 1.0 / (a * a + 1.0) + b,
}

UNARY = {
    "neg": lambda lib, x: -x,
    "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: (x.abs() + 0.1).log(),
    "sqrt": lambda lib, x: (x.abs() + 0.1).sqrt(),
    "abs": lambda lib, x: x.abs(),
    "clip": lambda lib, x: x.clip(-0.5, 0.7),
    "clip_min": lambda lib, x: x.clamp(min=0.1),
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "relu": lambda lib, x: x.relu(),
    "sin": lambda lib, x: lib.lib.sin(x),
    "cos": lambda lib, x: x.cos(),
    "log1p": lambda lib, x: lib.lib.log1p(x * x),
    "expm1": lambda lib, x: x.expm1(),
    "rsqrt": lambda lib, x: (x * x + 0.5).rsqrt(),
    "pow_scalar": lambda lib, x: x ** 3,
    "pow_fraction": lambda lib, x: (x * x + 1) ** 1.5,
    "relu6": lambda lib, x: lib.F.relu6(x * 4),
    "leaky_relu": lambda lib, x: lib.F.leaky_relu(x, 0.2),
    "silu": lambda lib, x: lib.F.silu(x),
    "mish": lambda lib, x: lib.F.mish(x),
    "gelu": lambda lib, x: lib.F.gelu(x),
    "gelu_tanh": lambda lib, x: lib.F.gelu(x, approximate="tanh"),
    "softplus": lambda lib, x: lib.F.softplus(x, beta=2.0),
    "hardtanh": lambda lib, x: lib.F.hardtanh(x, -0.5, 0.5),
    "softmax_last": lambda lib, x: lib.F.softmax(x, -1),
    "log_softmax_first": lambda lib, x: lib.F.log_softmax(x, 0),
}

REDUCTIONS = {
    "sum_all": lambda lib, x, d: x.sum(),
    "sum_dim": lambda lib, x, d: x.sum(d),
    "sum_keepdim": lambda lib, x, d: x.sum(d, keepdim=True),
    "mean_dim": lambda lib, x, d: x.mean(d),
    "mean_all": lambda lib, x, d: x.mean(),
    "var_dim": lambda lib, x, d: x.var(d),
    "var_biased": lambda lib, x, d: x.var(d, unbiased=False, keepdim=True),
    "max_dim": lambda lib, x, d: x.max(d)[0],
    "min_dim_keep": lambda lib, x, d: x.min(d, keepdim=True)[0],
    "amax": lambda lib, x, d: x.amax(d),
    "max_all": lambda lib, x, d: x.max(),
    "norm_all": lambda lib, x, d: lib.lib.norm(x + 30),             # ‖x‖ of one entry is |x|: a kink at 0
    "norm_1_dim": lambda lib, x, d: (x + 30).norm(1, d),          # away from |x|'s kink at 0
    "norm_3_keep": lambda lib, x, d: (x + 30).norm(3, d, keepdim=True),
    "norm_inf": lambda lib, x, d: (x + 30).norm(float("inf"), d),
    "sum_axis_alias": lambda lib, x, d: x.sum(axis=d),
}

SHAPES = {
    "reshape": lambda lib, x: x.reshape(-1),
    "transpose": lambda lib, x: x.transpose(0, -1) * 1.0,
    "permute": lambda lib, x: x.permute(*reversed(range(x.ndim))) * 1.0,
    "T_matmul": lambda lib, x: x.reshape(x.shape[0], -1).T @ x.reshape(x.shape[0], -1),
    "getitem_slice": lambda lib, x: x[1:, ...] * 2,
    "getitem_step": lambda lib, x: x[::2],
    "getitem_int_array": lambda lib, x: x[lib.lib.tensor([0, 0, 1]) % x.shape[0]],
    "unsqueeze_squeeze": lambda lib, x: x.unsqueeze(1).squeeze(1) * 3,
    "flatten": lambda lib, x: x.flatten(),
    "cat": lambda lib, x: lib.lib.cat([x, x * 2], dim=0),
    "stack": lambda lib, x: lib.lib.stack([x, x.exp()], dim=-1),
    "where": lambda lib, x: lib.lib.where(x > 0, x, x * x),
}

finite = st.floats(-3, 3, allow_nan=False, width=64)


def arrays(shape):
    return hnp.arrays(np.float64, shape, elements=finite)


@st.composite
def broadcast_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                     max_side=3))
    return tuple(_away_from_kinks(draw(arrays(s))) for s in shapes.input_shapes)


@st.composite
def array_and_dim(draw):
    x = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair())
def test_binary_gradcheck(name, pair):
    check_gradients(BINARY[name], *pair)


@requires_torch
@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair())
def test_binary_matches_torch(name, pair):
    check_against_torch(BINARY[name], *pair)


def _away_from_kinks(x):
    """Keep finite differences off the points where relu/abs/clip are not differentiable."""
    x = np.where(np.abs(x) < 1e-3, 0.3, x)
    for edge in (-0.5, 0.5, 0.7, 0.1, 1.5, 0.0):
        x = np.where(np.abs(x - edge) < 1e-3, edge + 0.05, x)
    return x


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
def test_unary_gradcheck(name, x):
    check_gradients(UNARY[name], _away_from_kinks(x))


@requires_torch
@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
def test_unary_matches_torch(name, x):
    check_against_torch(UNARY[name], _away_from_kinks(x))


@requires_torch
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float32_matches_torch(name):
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    check_against_torch(UNARY[name], _away_from_kinks(x), atol=1e-5, rtol=1e-4)


def _distinct(x):
    """Ties make max/min non-differentiable: adding 0.01 × each value's rank keeps the
    order and puts every pair at least 0.01 apart (adding by position could create a tie)."""
    ranks = np.argsort(np.argsort(x, axis=None, kind="stable")).reshape(x.shape)
    return x + ranks * 1e-2


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(case=array_and_dim())
def test_reduction_gradcheck(name, case):
    x, dim = case
    if name.startswith("var") and x.shape[dim] < 2:
        x = np.concatenate([x, x + 1], axis=dim)
    check_gradients(lambda lib, t: REDUCTIONS[name](lib, t, dim), _distinct(x))


@requires_torch
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(case=array_and_dim())
def test_reduction_matches_torch(name, case):
    x, dim = case
    if name.startswith("var") and x.shape[dim] < 2:
        x = np.concatenate([x, x + 1], axis=dim)
    check_against_torch(lambda lib, t: REDUCTIONS[name](lib, t, dim), _distinct(x))


@requires_torch
def test_large_relu_takes_the_parallel_kernel_and_matches_torch():
    from tinynn.kernels import elementwise
    x = np.random.default_rng(2).standard_normal((16, 8, 32, 32)).astype(np.float32)
    assert elementwise._parallel_pays(x)
    check_against_torch(lambda lib, t: lib.F.relu(t) * t, _away_from_kinks(x))   # upstream grad = t


def test_max_ties_follow_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check_against_torch(lambda lib, t: t.max(), x)             # shared equally
    check_against_torch(lambda lib, t: t.max(1)[0], x)         # all to the returned index
    check_against_torch(lambda lib, t: t.amax(1), x)


@pytest.mark.parametrize("name", sorted(SHAPES))
@given(x=arrays(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4)))
def test_shape_op_gradcheck(name, x):
    check_gradients(SHAPES[name], _away_from_kinks(x))


@requires_torch
@pytest.mark.parametrize("name", sorted(SHAPES))
@given(x=arrays(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4)))
def test_shape_op_matches_torch(name, x):
    check_against_torch(SHAPES[name], _away_from_kinks(x))


@st.composite
def matmul_pair(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (3, 1)]))
    batch_b = draw(st.sampled_from([(), batch, batch[-1:]]))
    a_shape = draw(st.sampled_from([batch + (n, k), (k,)]))
    b_shape = draw(st.sampled_from([batch_b + (k, m), (k,)]))
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@given(pair=matmul_pair())
def test_matmul_gradcheck(pair):
    check_gradients(lambda lib, a, b: a @ b, *pair)


@requires_torch
@given(pair=matmul_pair())
def test_matmul_matches_torch(pair):
    check_against_torch(lambda lib, a, b: a @ b, *pair)


@requires_torch
def test_linear_matches_torch():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    check_against_torch(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b)
    check_gradients(lambda lib, x, w, b: lib.F.linear(x, w, b), x, w, b)


def test_softmax_is_stable_for_huge_logits():
    import tinynn
    x = tinynn.tensor([[1e4, 0.0, -1e4]])
    assert np.isfinite(tinynn.nn.functional.log_softmax(x, 1).numpy()).all()
    np.testing.assert_allclose(tinynn.nn.functional.softmax(x, 1).numpy(), [[1, 0, 0]])


PRODUCTS = {
    "mm": ((3, 4), (4, 5), lambda lib, a, b: lib.lib.mm(a, b)),
    "bmm": ((2, 3, 4), (2, 4, 5), lambda lib, a, b: lib.lib.bmm(a, b)),
    "addmm": ((3, 4), (4, 5), lambda lib, a, b: lib.lib.addmm(lib.lib.ones(3, 5, dtype=a.dtype), a, b,
                                                              beta=0.5, alpha=2.0)),
    "add_alpha": ((3, 4), (3, 4), lambda lib, a, b: lib.lib.add(a, b, alpha=3)),
    "sub_alpha": ((3, 4), (3, 4), lambda lib, a, b: lib.lib.sub(a, b, alpha=0.5)),
    "mul": ((3, 4), (4,), lambda lib, a, b: lib.lib.mul(a, b)),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_torch_style_functions_match_torch_and_gradcheck(name):
    shape_a, shape_b, fn = PRODUCTS[name]
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    check_gradients(fn, a, b)
    check_against_torch(fn, a, b)


def test_out_and_shape_checks_of_torch_style_functions():
    a = tinynn.ones(2, 3)
    out = tinynn.zeros(2, 2)
    assert tinynn.matmul(a, a.T, out=out) is out and out.numpy().tolist() == [[3.0, 3.0], [3.0, 3.0]]
    with pytest.raises(ValueError, match="bmm: expected two 3-D tensors"):
        tinynn.bmm(a, a.T)
    with pytest.raises(ValueError, match="out to be a Tensor of shape"):
        tinynn.sin(a, out=tinynn.zeros(3))


def test_the_norm_of_zeros_has_a_zero_gradient_as_in_torch():
    x = tinynn.zeros(3, requires_grad=True)
    x.norm().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0, 0.0]
