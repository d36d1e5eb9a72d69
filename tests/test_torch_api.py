"""The small PyTorch conveniences real scripts call, each checked against PyTorch itself:
formatting a loss, walking grad_fn, Size, device queries, factory keywords."""
import numpy as np
import pytest

import tinynn

torch = pytest.importorskip("torch")


def test_a_0d_tensor_formats_like_a_number_and_others_refuse_a_format_spec():
    for lib in (tinynn, torch):
        loss = lib.tensor(0.123456)
        assert f"{loss:.3f}" == "0.123" and f"{loss:>8.2f}" == "    0.12"
        with pytest.raises(TypeError):
            f"{lib.ones(2):.3f}"


def test_grad_fn_next_functions_has_torchs_structure():
    def structure(lib):
        x = lib.ones(2, requires_grad=True)
        c = lib.ones(2)
        y = (x * c + x).sum()
        add = y.grad_fn.next_functions[0][0]
        mul, leaf = add.next_functions[0][0], add.next_functions[1][0]
        return (len(y.grad_fn.next_functions), len(add.next_functions), type(leaf).__name__,
                leaf.variable is x, [n is None for n, _ in mul.next_functions])
    assert structure(tinynn) == structure(torch)


def test_size_is_a_tuple_that_counts_its_elements():
    mine, theirs = tinynn.ones(2, 3, 4).size(), torch.ones(2, 3, 4).size()
    assert mine == theirs == (2, 3, 4) and mine.numel() == theirs.numel() == 24
    assert repr(mine) == "tinynn.Size([2, 3, 4])" and isinstance(mine, tuple)
    assert tinynn.ones(2, 3).size(1) == 3


def test_device_queries_agree_with_torch_on_a_machine_without_a_gpu():
    if torch.cuda.is_available() or tinynn.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert tinynn.accelerator.is_available() is False and tinynn.accelerator.current_accelerator() is None
    assert tinynn.cuda.device_count() == torch.cuda.device_count() == 0
    assert tinynn.backends.mps.is_available() is False
    tinynn.backends.cudnn.benchmark = True                         # accepted, as scripts do
    tinynn.cuda.manual_seed(0)
    tinynn.cuda.manual_seed_all(0)


def test_set_default_device_is_used_by_factories_and_can_be_reset():
    try:
        tinynn.set_default_device("cpu")
        assert tinynn.zeros(2).device == tinynn.device("cpu") and tinynn.get_default_device().type == "cpu"
    finally:
        tinynn.set_default_device(None)
    assert tinynn.tensor([1.0]).device.type == "cpu"


@pytest.mark.parametrize("factory", ["zeros", "ones", "rand", "randn", "empty"])
def test_factories_take_size_as_a_keyword(factory):
    assert getattr(tinynn, factory)(size=(2, 3)).shape == tuple(getattr(torch, factory)(size=(2, 3)).shape)
    with pytest.raises(TypeError, match="either as arguments or as size="):
        getattr(tinynn, factory)(2, size=(2, 3))


def test_resnet18_has_torchvisions_fc_and_load_accepts_weights_only(tmp_path):
    model = tinynn.models.resnet18(10)
    assert model.fc is model.linear
    tinynn.save(model.fc.state_dict(), tmp_path / "fc.npz")
    state = tinynn.load(tmp_path / "fc.npz", weights_only=True)
    np.testing.assert_array_equal(state["weight"].numpy(), model.fc.weight.detach().numpy())


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, 1.0), (0.2, float("inf"))])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    results = []
    for lib in (tinynn, torch):
        params = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        sum((p * p * p).sum() for p in params).backward()
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        results.append((float(total), [p.grad.numpy().copy() for p in params]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    for mine, theirs in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_clip_grad_value_matches_torch_and_nonfinite_norms_can_be_refused():
    grads = []
    for lib in (tinynn, torch):
        p = lib.tensor(np.linspace(-2, 2, 7), requires_grad=True)
        (p * p).sum().backward()
        lib.nn.utils.clip_grad_value_([p], 1.5)
        grads.append(p.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    p = tinynn.tensor([1.0], requires_grad=True)
    (p * float("inf")).sum().backward()
    with pytest.raises(RuntimeError, match="total norm"):
        tinynn.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
