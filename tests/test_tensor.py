import numpy as np
import pytest

import tinynn
from tinynn import Tensor


def test_dtype_rules_follow_torch_tensor():
    assert tinynn.tensor([1.0, 2.0]).dtype == tinynn.float32
    assert tinynn.tensor(3).dtype == tinynn.int64
    assert tinynn.tensor([True, False]).dtype == tinynn.bool_
    assert tinynn.tensor(np.zeros(2, dtype=np.float64)).dtype == tinynn.float64
    assert tinynn.tensor([1, 2], dtype=tinynn.float64).dtype == tinynn.float64
    assert tinynn.zeros(2, 3).dtype == tinynn.float32
    assert tinynn.arange(5).dtype == tinynn.int64
    assert tinynn.arange(0, 1, 0.25).dtype == tinynn.float32


def test_tensor_copies_its_data():
    data = np.ones(3, dtype=np.float32)
    t = tinynn.tensor(data)
    data[0] = 5
    assert t[0].item() == 1.0
    assert tinynn.from_numpy(data)[0].item() == 5.0


def test_python_scalars_keep_tensor_dtype():
    x = tinynn.ones(2)
    assert (x * 2.5).dtype == tinynn.float32
    assert (2 - x).dtype == tinynn.float32
    assert (x ** 2).dtype == tinynn.float32
    assert (tinynn.tensor([1, 2]) * 2).dtype == tinynn.int64
    assert (tinynn.tensor([1, 2]) / tinynn.tensor([2, 2])).dtype == tinynn.float32


def test_constructors_shapes_and_like():
    assert tinynn.zeros((2, 3)).shape == (2, 3)
    assert tinynn.ones(4).size() == (4,)
    assert tinynn.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tinynn.zeros_like(tinynn.ones(2, 5, dtype=tinynn.float64)).dtype == tinynn.float64
    assert tinynn.randn(3, 4).shape == (3, 4)
    assert tinynn.rand(10).numpy().min() >= 0


def test_manual_seed_repeats_random_draws():
    tinynn.manual_seed(3)
    a = tinynn.randn(5).numpy()
    tinynn.manual_seed(3)
    assert np.array_equal(a, tinynn.randn(5).numpy())


def test_metadata_and_conversions():
    t = tinynn.arange(6).reshape(2, 3)
    assert t.ndim == 2 and t.size(1) == 3 and t.numel() == 6 and len(t) == 2
    assert t.T.shape == (3, 2)
    assert t.double().dtype == tinynn.float64 and t.float().dtype == tinynn.float32
    assert tinynn.tensor([[2.5]]).item() == 2.5
    assert t.device == "cpu"
    with pytest.raises(ValueError, match="item: only one-element"):
        t.item()


def test_indexing_and_shape_ops_values():
    x = tinynn.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(x[1, :, ::2].numpy(), np.arange(24).reshape(2, 3, 4)[1, :, ::2])
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert x.view(-1, 4).shape == (6, 4)
    assert tinynn.cat([x, x], dim=1).shape == (2, 6, 4)
    assert tinynn.stack([x, x], dim=0).shape == (2, 2, 3, 4)


def test_reductions_with_dim_and_keepdim():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = tinynn.tensor(data)
    assert x.sum().item() == data.sum()
    np.testing.assert_allclose(x.mean(dim=0).numpy(), data.mean(0))
    assert x.sum(dim=1, keepdim=True).shape == (3, 1)
    np.testing.assert_allclose(x.var(dim=1).numpy(), data.var(1, ddof=1))
    np.testing.assert_allclose(x.var(dim=1, unbiased=False).numpy(), data.var(1))
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), data.max(1))
    np.testing.assert_array_equal(indices.numpy(), data.argmax(1))
    assert x.min().item() == 0 and x.argmax().item() == 11
    assert x.argmax(dim=0, keepdim=True).shape == (1, 4)


def test_comparisons_give_bool_tensors_without_grad():
    x = tinynn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == tinynn.bool_ and not mask.requires_grad
    assert mask.numpy().tolist() == [False, True, True]
    assert (x == 2.0).numpy().tolist() == [False, True, False]


def test_repr_is_readable():
    assert repr(tinynn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(tinynn.ones(1, requires_grad=True))
    assert "dtype=float64" in repr(tinynn.ones(1, dtype=tinynn.float64))
    assert "grad_fn=<MulBackward>" in repr(tinynn.ones(1, requires_grad=True) * 2)


def test_numpy_refuses_tensors_that_require_grad():
    with pytest.raises(RuntimeError, match="detach"):
        tinynn.ones(2, requires_grad=True).numpy()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tinynn.tensor([1, 2], requires_grad=True)


def test_inplace_methods_inside_a_graph_are_errors_but_augmented_assignment_records():
    w = tinynn.ones(3, requires_grad=True)
    h = w * 2
    with pytest.raises(RuntimeError, match="add_: in-place update of a tensor that is part of the autograd graph"):
        h.add_(1)
    h += 1                       # rebinds h to h + 1, recorded
    h.sum().backward()
    assert w.grad.numpy().tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match=r"copy_: expected a value broadcastable to the tensor.s shape \(3,\), got shape \(2,\)"):
        tinynn.ones(3).copy_(np.ones(2))


def test_inplace_update_on_a_leaf_needs_no_grad():
    w = tinynn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 1
    with tinynn.no_grad():
        w -= 1
    assert w.detach().numpy().tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("op,shapes,pattern", [
    (lambda a, b: a + b, ((2, 3), (4,)), r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda a, b: a * b, ((2, 3), (3, 2)), r"mul: shapes \(2, 3\) and \(3, 2\)"),
    (lambda a, b: a @ b, ((2, 3), (4, 5)),
     r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned: expected a.shape\[-1\] \(3\) to "
     r"equal b.shape\[-2\] \(4\)"),
])
def test_shape_mismatch_errors_name_the_op_and_shapes(op, shapes, pattern):
    a, b = (tinynn.ones(*s) for s in shapes)
    with pytest.raises(ValueError, match=pattern):
        op(a, b)


def test_reshape_and_dim_errors_are_clear():
    with pytest.raises(ValueError, match=r"reshape: cannot view a tensor of shape \(2, 3\)"):
        tinynn.ones(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match="sum: dim 2 out of range"):
        tinynn.ones(2, 3).sum(dim=2)
    with pytest.raises(ValueError, match=r"cat: expected tensors with equal shapes except in dim 0"):
        tinynn.cat([tinynn.ones(2, 3), tinynn.ones(2, 4)])


def test_mixing_devices_is_a_clear_error():
    a = tinynn.ones(2)
    b = Tensor._wrap(np.ones(2, dtype=np.float32), tinynn.device("cuda"))
    with pytest.raises(RuntimeError, match="expected all tensors on one device, got cpu and cuda"):
        a + b


def test_to_cuda_without_a_gpu_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    if tinynn.cuda.is_available():
        pytest.skip("this machine has a usable GPU")
    with pytest.raises(RuntimeError, match=r"to\('cuda'\): no CUDA device available: .*"
                                           r"(pip install -e \"\.\[cuda\]\"|no CUDA GPU)"):
        tinynn.ones(2).to("cuda")
    assert tinynn.cuda.is_available() is False
