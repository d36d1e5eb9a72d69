"""Type promotion held to PyTorch's table: every pair of dtypes, with and without dimensions,
and Python numbers, through + - * / and **."""
import itertools
import operator

import numpy as np
import pytest

import tinynn

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
SCALARS = [True, 3, 2.5]
OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


def _pair(lib, dtype, ndim):
    values = np.array([1, 2] if ndim else 1).astype(dtype)
    if lib is torch:
        return torch.from_numpy(np.array(values))
    return tinynn.from_numpy(np.array(values))


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def _expected(op, a, b):
    try:
        return _torch_dtype_name(op(a, b))
    except RuntimeError:             # bool - bool and similar: PyTorch refuses
        return None


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("left, right", list(itertools.product(DTYPES, repeat=2)))
@pytest.mark.parametrize("ndims", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_tensor_with_tensor_promotes_as_torch(op, left, right, ndims):
    expected = _expected(op, _pair(torch, left, ndims[0]), _pair(torch, right, ndims[1]))
    if expected is None:
        return
    with np.errstate(all="ignore"):
        got = op(_pair(tinynn, left, ndims[0]), _pair(tinynn, right, ndims[1]))
    assert str(got.dtype) == expected


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("dtype, scalar", list(itertools.product(DTYPES, SCALARS)))
@pytest.mark.parametrize("ndim", [1, 0])
@pytest.mark.parametrize("scalar_first", [False, True])
def test_tensor_with_python_number_promotes_as_torch(op, dtype, scalar, ndim, scalar_first):
    def run(lib):
        t = _pair(lib, dtype, ndim)
        return _expected(op, scalar, t) if scalar_first else _expected(op, t, scalar)
    expected = run(torch)
    if expected is None:
        return
    with np.errstate(all="ignore"):
        got = (op(scalar, _pair(tinynn, dtype, ndim)) if scalar_first else op(_pair(tinynn, dtype, ndim), scalar))
    assert str(got.dtype) == expected


def test_gradients_come_back_in_each_inputs_dtype():
    x = tinynn.ones(3, requires_grad=True)                          # float32
    s = tinynn.tensor(2.0, dtype=tinynn.float64, requires_grad=True)  # 0-d float64
    y = (x * s).sum()
    assert y.dtype == tinynn.float32
    y.backward()
    assert x.grad.dtype == tinynn.float32 and s.grad.dtype == tinynn.float64
    np.testing.assert_allclose(s.grad.numpy(), 3.0)


def test_a_float32_model_fed_int64_stays_float32():
    layer_out = tinynn.ones(2, 3) * tinynn.tensor([[1, 2, 3]])       # int64 data, float32 model
    assert layer_out.dtype == tinynn.float32


@pytest.mark.parametrize("op", ["matmul", "linear", "conv2d"])
def test_mixed_float_dtypes_are_refused_where_torch_refuses(op):
    a64 = tinynn.ones(2, 3, 4, 4, dtype=tinynn.float64)
    w32 = tinynn.ones(2, 3, 1, 1)
    with pytest.raises(TypeError, match="dtype"):
        if op == "matmul":
            tinynn.ones(2, 3) @ tinynn.ones(3, 2, dtype=tinynn.float64)
        elif op == "linear":
            tinynn.nn.functional.linear(tinynn.ones(2, 3, dtype=tinynn.float64), tinynn.ones(4, 3))
        else:
            tinynn.nn.functional.conv2d(a64, w32)
    with pytest.raises(RuntimeError):
        torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)
