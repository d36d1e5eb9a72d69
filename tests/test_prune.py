"""Pruning masks against ``torch.nn.utils.prune`` on the same weights: every deterministic
method, amounts as fractions and counts, global pruning, composition and remove; then the
module behaviour PyTorch has (weight_orig/weight_mask, masked gradients, state_dict)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynn
import tinynn.nn as nn
from tinynn.nn.utils import prune
from oracle import requires_torch, torch

if torch is not None:
    import torch.nn.utils.prune as torch_prune


def _twins(rng, kind="conv"):
    """The same layer in both libraries, with the same (tie-free) weights."""
    if kind == "conv":
        ours, theirs = nn.Conv2d(3, 5, 3), torch.nn.Conv2d(3, 5, 3)
    else:
        ours, theirs = nn.Linear(7, 4), torch.nn.Linear(7, 4)
    weight = rng.standard_normal(tuple(ours.weight.shape)).astype(np.float32)
    ours.weight.data = tinynn.tensor(weight)
    theirs.weight.data = torch.tensor(weight)
    return ours, theirs


amounts = st.one_of(st.floats(0.0, 1.0), st.integers(0, 3))
steps = st.lists(st.one_of(
    st.tuples(st.just("l1_unstructured"), amounts),
    st.tuples(st.just("ln_structured"), amounts, st.sampled_from([1, 2, 3, float("inf")]),
              st.sampled_from([0, 1, -1]))), min_size=1, max_size=4)


def _apply(library, module, step):
    name, amount, *options = step
    if name == "l1_unstructured":
        library.l1_unstructured(module, "weight", amount=amount)
    else:
        library.ln_structured(module, "weight", amount=amount, n=options[0], dim=options[1])


@requires_torch
@pytest.mark.parametrize("kind", ["conv", "linear"])
@given(seed=st.integers(0, 2 ** 16), sequence=steps)
def test_masks_equal_torch_for_any_sequence_of_prunings(kind, seed, sequence):
    """Each step sees only what the earlier ones left (PruningContainer), as in PyTorch."""
    ours, theirs = _twins(np.random.default_rng(seed), kind)
    for step in sequence:
        try:
            _apply(torch_prune, theirs, step)
        except ValueError:                        # a count above what is left: both refuse
            with pytest.raises(ValueError, match="is more than the"):
                _apply(prune, ours, step)
            break
        _apply(prune, ours, step)
        np.testing.assert_array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    assert len(ours._forward_pre_hooks) == 1


@requires_torch
@given(seed=st.integers(0, 2 ** 16), amount=amounts, first=st.floats(0.0, 0.9))
def test_global_unstructured_equals_torch(seed, amount, first):
    rng = np.random.default_rng(seed)
    pairs = [_twins(rng, "conv"), _twins(rng, "linear")]
    prune.l1_unstructured(pairs[0][0], "weight", first)              # one already pruned
    torch_prune.l1_unstructured(pairs[0][1], "weight", first)
    prune.global_unstructured([(m, "weight") for m, _ in pairs], prune.L1Unstructured, amount=amount)
    torch_prune.global_unstructured([(t, "weight") for _, t in pairs], torch_prune.L1Unstructured,
                                    amount=amount)
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())


@requires_torch
def test_remove_makes_the_pruning_permanent_like_torch():
    ours, theirs = _twins(np.random.default_rng(1))
    for library, module in ((prune, ours), (torch_prune, theirs)):
        library.l1_unstructured(module, "weight", 0.5)
        library.remove(module, "weight")
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    assert isinstance(ours.weight, nn.Parameter) and not prune.is_pruned(ours)
    with pytest.raises(ValueError, match="remove: parameter 'weight' of Conv2d has to be pruned"):
        prune.remove(ours, "weight")


@requires_torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_minus_infinity_norm_equals_torch_on_fresh_weights(dim):
    """After other pruning every slice holds a zero, so -inf norms all tie; fresh weights don't."""
    ours, theirs = _twins(np.random.default_rng(dim + 5))
    prune.ln_structured(ours, "weight", amount=2, n=-float("inf"), dim=dim)
    torch_prune.ln_structured(theirs, "weight", amount=2, n=-float("inf"), dim=dim)
    np.testing.assert_array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())


def test_a_refused_prune_leaves_the_pruned_module_as_it_was():
    """PyTorch drops the existing hook before computing the new mask, so a refusal leaves
    its module with a mask but no hook; here nothing changes."""
    layer = nn.Linear(4, 3)
    prune.l1_unstructured(layer, "weight", amount=1.0)
    with pytest.raises(ValueError, match="amount=1 is more than the 0 entries"):
        prune.l1_unstructured(layer, "weight", amount=1)
    assert len(layer._forward_pre_hooks) == 1 and prune.is_pruned(layer)
    assert layer.weight_mask.numpy().sum() == 0


def test_frobenius_norm_is_the_l2_norm_of_each_slice():
    """PyTorch 2.13 raises on n='fro' for a 4-D weight (linalg.matrix_norm wants 2 dims)."""
    a, b = nn.Conv2d(3, 6, 3), nn.Conv2d(3, 6, 3)
    b.weight.data = a.weight.data
    prune.ln_structured(a, "weight", amount=2, n="fro", dim=0)
    prune.ln_structured(b, "weight", amount=2, n=2, dim=0)
    np.testing.assert_array_equal(a.weight_mask.numpy(), b.weight_mask.numpy())


def test_a_second_half_prunes_half_of_what_is_left():
    layer = nn.Linear(10, 10)
    prune.l1_unstructured(layer, "weight", 0.5)
    prune.l1_unstructured(layer, "weight", 0.5)
    assert layer.weight_mask.numpy().sum() == 25
    prune.random_unstructured(layer, "weight", amount=5)
    assert layer.weight_mask.numpy().sum() == 20
    prune.random_structured(layer, "weight", amount=0.5, dim=0)
    kept_rows = (layer.weight_mask.numpy().sum(axis=1) > 0).sum()
    assert kept_rows == 5 and isinstance(layer._forward_pre_hooks[next(iter(layer._forward_pre_hooks))],
                                         prune.PruningContainer)


def test_masked_entries_stay_zero_through_training_and_state_dict_round_trips(tmp_path):
    tinynn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    prune.ln_structured(model[0], "weight", amount=0.25, n=1, dim=0)
    prune.l1_unstructured(model[2], "weight", amount=10)
    assert prune.is_pruned(model)
    optimizer = tinynn.optim.Adam(model.parameters(), lr=0.05)
    x, y = tinynn.randn(32, 6), tinynn.randint(0, 3, (32,))
    for _ in range(20):
        optimizer.zero_grad()
        tinynn.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    for layer in (model[0], model[2]):
        mask = layer.weight_mask.numpy()
        assert np.all(layer.weight.detach().numpy()[mask == 0] == 0)
        assert np.all(layer.weight_orig.grad.numpy()[mask == 0] == 0)      # ∂L/∂orig is masked
    tinynn.save(model.state_dict(), tmp_path / "pruned.npz")
    copy = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    prune.identity(copy[0], "weight")
    prune.identity(copy[2], "weight")
    copy.load_state_dict(tinynn.load(tmp_path / "pruned.npz"))
    np.testing.assert_array_equal(copy(x).detach().numpy(), model(x).detach().numpy())


@pytest.mark.parametrize("call,error,pattern", [
    (lambda m: prune.l1_unstructured(m, "weight", 1.5), ValueError, r"amount to be a float in \[0, 1\]"),
    (lambda m: prune.l1_unstructured(m, "weight", -2), ValueError, r"non-negative int"),
    (lambda m: prune.l1_unstructured(m, "weight", "half"), TypeError, r"expected amount"),
    (lambda m: prune.l1_unstructured(m, "weight", 100), ValueError, r"amount=100 is more than the 12"),
    (lambda m: prune.ln_structured(m, "weight", 1, n=2, dim=3), IndexError, r"dim 3 out of range"),
    (lambda m: prune.ln_structured(m, "bias", 1, n=2, dim=0), ValueError, r"at least 2 dims"),
    (lambda m: prune.l1_unstructured(m, "kernel", 0.5), ValueError, r"Linear has no parameter 'kernel'"),
    (lambda m: prune.global_unstructured([(m, "weight")], prune.LnStructured, amount=1, n=2, dim=0),
     TypeError, r"expected an unstructured pruning method"),
])
def test_bad_pruning_requests_are_clear_and_leave_the_module_unchanged(call, error, pattern):
    layer = nn.Linear(4, 3)
    with pytest.raises(error, match=pattern):
        call(layer)
    assert sorted(layer.state_dict()) == ["bias", "weight"] and not prune.is_pruned(layer)
