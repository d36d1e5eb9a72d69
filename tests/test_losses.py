"""Losses: gradcheck, PyTorch oracle on every option, stability, bad input."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynn
import tinynn.nn.functional as F
from oracle import check_against_torch, check_gradients, requires_torch

rng = np.random.default_rng(0)


def _logits(n=4, c=5, *spatial):
    return rng.standard_normal((n, c) + spatial)


def _labels(n=4, c=5, *spatial):
    return rng.integers(0, c, (n,) + spatial).astype(np.int64)


def _probs(shape):
    p = rng.random(shape) + 0.05
    return p / p.sum(1, keepdims=True)


WEIGHT = np.array([0.5, 1.0, 2.0, 1.5, 0.25])

CASES = {
    "mse": (lambda lib, x, y: lib.F.mse_loss(x, y), lambda: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))),
    "mse_sum": (lambda lib, x, y: lib.F.mse_loss(x, y, reduction="sum"), lambda: (rng.standard_normal(5), rng.standard_normal(5))),
    "mse_none": (lambda lib, x, y: lib.F.mse_loss(x, y, reduction="none"), lambda: (rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))),
    "l1": (lambda lib, x, y: lib.F.l1_loss(x, y), lambda: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)) + 5)),
    "smooth_l1": (lambda lib, x, y: lib.F.smooth_l1_loss(x, y), lambda: (rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4)))),
    "smooth_l1_beta": (lambda lib, x, y: lib.F.smooth_l1_loss(x, y, beta=0.4, reduction="sum"), lambda: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))),
    "smooth_l1_zero_beta": (lambda lib, x, y: lib.F.smooth_l1_loss(x, y, beta=0.0), lambda: (rng.standard_normal(6), rng.standard_normal(6) + 5)),
    "huber": (lambda lib, x, y: lib.F.huber_loss(x, y), lambda: (rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4)))),
    "huber_delta": (lambda lib, x, y: lib.nn.HuberLoss(reduction="none", delta=0.3)(x, y), lambda: (rng.standard_normal((2, 5)), rng.standard_normal((2, 5)))),
    "ce_index": (lambda lib, x, y: lib.F.cross_entropy(x, y), lambda: (_logits(), _labels())),
    "ce_sum": (lambda lib, x, y: lib.F.cross_entropy(x, y, reduction="sum"), lambda: (_logits(), _labels())),
    "ce_none": (lambda lib, x, y: lib.F.cross_entropy(x, y, reduction="none"), lambda: (_logits(), _labels())),
    "ce_weight": (lambda lib, x, y: lib.F.cross_entropy(x, y, weight=lib.lib.tensor(WEIGHT)), lambda: (_logits(), _labels())),
    "ce_ignore": (lambda lib, x, y: lib.F.cross_entropy(x, y, ignore_index=2), lambda: (_logits(6), np.array([0, 2, 1, 2, 4, 3]))),
    "ce_all_ignored": (lambda lib, x, y: lib.F.cross_entropy(x, y, ignore_index=1, reduction="sum"), lambda: (_logits(3), np.array([1, 1, 1]))),
    "ce_smooth": (lambda lib, x, y: lib.F.cross_entropy(x, y, label_smoothing=0.1), lambda: (_logits(), _labels())),
    "ce_smooth_weight_ignore": (
        lambda lib, x, y: lib.F.cross_entropy(x, y, weight=lib.lib.tensor(WEIGHT), ignore_index=1,
                                              label_smoothing=0.2),
        lambda: (_logits(6), np.array([0, 1, 2, 3, 1, 4]))),
    "ce_smooth_sum": (lambda lib, x, y: lib.F.cross_entropy(x, y, reduction="sum", label_smoothing=0.3), lambda: (_logits(), _labels())),
    "ce_spatial": (lambda lib, x, y: lib.F.cross_entropy(x, y), lambda: (_logits(2, 5, 3, 2), _labels(2, 5, 3, 2))),
    "ce_probs": (lambda lib, x, y: lib.F.cross_entropy(x, y), lambda: (_logits(), _probs((4, 5)))),
    "ce_onehot": (lambda lib, x, y: lib.F.cross_entropy(x, y), lambda: (_logits(), np.eye(5)[_labels()])),
    "ce_probs_smooth_weight": (
        lambda lib, x, y: lib.F.cross_entropy(x, y, weight=lib.lib.tensor(WEIGHT), label_smoothing=0.1),
        lambda: (_logits(), _probs((4, 5)))),
    "nll": (lambda lib, x, y: lib.F.nll_loss(lib.F.log_softmax(x, 1), y), lambda: (_logits(), _labels())),
    "nll_weight_none": (lambda lib, x, y: lib.F.nll_loss(x, y, weight=lib.lib.tensor(WEIGHT), reduction="none"), lambda: (_logits(), _labels())),
    "bce": (lambda lib, x, y: lib.F.binary_cross_entropy(x.sigmoid(), y), lambda: (rng.standard_normal((3, 4)), rng.random((3, 4)))),
    "bce_sum_weight": (lambda lib, x, y: lib.F.binary_cross_entropy(x.sigmoid(), y, weight=lib.lib.tensor(np.arange(4.0)), reduction="sum"), lambda: (rng.standard_normal((3, 4)), rng.random((3, 4)))),
    "bce_logits": (lambda lib, x, y: lib.F.binary_cross_entropy_with_logits(x, y), lambda: (rng.standard_normal((3, 4)) * 4, rng.random((3, 4)))),
    "bce_logits_pos_weight": (lambda lib, x, y: lib.F.binary_cross_entropy_with_logits(x, y, pos_weight=lib.lib.tensor(np.array([1.0, 2.0, 3.0, 0.5]))), lambda: (rng.standard_normal((3, 4)), rng.random((3, 4)))),
    "kl_batchmean": (lambda lib, x, y: lib.F.kl_div(lib.F.log_softmax(x, 1), y, reduction="batchmean"), lambda: (_logits(), _probs((4, 5)))),
    "kl_mean": (lambda lib, x, y: lib.F.kl_div(lib.F.log_softmax(x, 1), y), lambda: (_logits(), _probs((4, 5)))),
    "kl_log_target": (lambda lib, x, y: lib.F.kl_div(lib.F.log_softmax(x, 1), y, reduction="sum", log_target=True), lambda: (_logits(), np.log(_probs((4, 5))))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_gradcheck(name):
    fn, make = CASES[name]
    check_gradients(fn, *make())


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_torch(name):
    fn, make = CASES[name]
    check_against_torch(fn, *make())


@requires_torch
@given(n=st.integers(1, 5), c=st.integers(2, 6), smoothing=st.sampled_from([0.0, 0.05, 0.5]),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_random_configurations(n, c, smoothing, reduction):
    x, y = _logits(n, c), _labels(n, c)
    check_against_torch(lambda lib, x, y: lib.F.cross_entropy(
        x, y, reduction=reduction, label_smoothing=smoothing), x, y)


def test_cross_entropy_formula_from_the_documents():
    """L = -1/N Σ_i Σ_j y_ij log ŷ_ij with ŷ = softmax(x), y one-hot."""
    x, labels = _logits(), _labels()
    probs = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    expected = -np.mean(np.log(probs[np.arange(4), labels]))
    got = F.cross_entropy(tinynn.tensor(x), tinynn.tensor(labels)).item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_with_every_row_ignored_is_nan_with_zero_gradient_like_torch():
    x = tinynn.randn(3, 4, requires_grad=True)
    loss = F.cross_entropy(x, tinynn.tensor([1, 1, 1]), ignore_index=1)
    loss.backward()
    assert np.isnan(loss.item()) and not x.grad.numpy().any()


def test_cross_entropy_is_finite_for_logits_of_1e4():
    x = tinynn.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], requires_grad=True)
    loss = F.cross_entropy(x, tinynn.tensor([1, 0]))
    loss.backward()
    assert loss.item() == pytest.approx(2e4, rel=1e-6)
    assert np.isfinite(x.grad.numpy()).all()


def test_bce_with_logits_is_finite_for_huge_logits():
    x = tinynn.tensor([1e4, -1e4], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, tinynn.tensor([0.0, 1.0]))
    loss.backward()
    assert loss.item() == pytest.approx(1e4, rel=1e-6)
    assert np.isfinite(x.grad.numpy()).all()


def test_loss_modules_wrap_the_functions():
    x, y = tinynn.tensor(_logits()), tinynn.tensor(_labels())
    assert tinynn.nn.CrossEntropyLoss()(x, y).item() == F.cross_entropy(x, y).item()
    assert tinynn.nn.MSELoss(reduction="sum")(x, x * 2).item() == pytest.approx(
        float((x.numpy() ** 2).sum()), rel=1e-5)
    assert tinynn.nn.NLLLoss()(x, y).item() == F.nll_loss(x, y).item()


def test_float_class_targets_are_a_clear_error():
    with pytest.raises(TypeError, match=r"cross_entropy: expected class indices \(an int64 tensor\) "
                                        r"or class probabilities of the input's shape \(4, 3\); "
                                        r"got a float32 target of shape \(4,\)"):
        F.cross_entropy(tinynn.randn(4, 3), tinynn.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="nll_loss: class-index targets must be an integer tensor"):
        F.nll_loss(tinynn.randn(4, 3), tinynn.tensor([0.0, 1.0, 2.0, 1.0]))


def test_target_shape_mismatch_errors():
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of shape \(4,\) for input "
                                         r"of shape \(4, 3\), got \(5,\)"):
        F.cross_entropy(tinynn.randn(4, 3), tinynn.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(ValueError, match=r"nll_loss: expected target of shape \(4,\)"):
        F.nll_loss(tinynn.randn(4, 3), tinynn.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(ValueError, match=r"mse_loss: expected target of the same shape as input "
                                         r"\(4, 3\), got \(4,\)"):
        F.mse_loss(tinynn.randn(4, 3), tinynn.randn(4))


def test_labels_out_of_range_error():
    with pytest.raises(IndexError, match=r"cross_entropy: target 7 is out of bounds: expected class "
                                         r"indices in \[0, 3\)"):
        F.cross_entropy(tinynn.randn(2, 3), tinynn.tensor([0, 7]))
    with pytest.raises(IndexError, match=r"nll_loss: target -2 is out of bounds"):
        F.nll_loss(tinynn.randn(2, 3), tinynn.tensor([0, -2]))


def test_unknown_reduction_error():
    with pytest.raises(ValueError, match="reduction to be one of"):
        F.mse_loss(tinynn.randn(2), tinynn.randn(2), reduction="avg")


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="expected input probabilities in"):
        F.binary_cross_entropy(tinynn.tensor([1.5]), tinynn.tensor([1.0]))


def test_l1_and_l2_penalties_are_plain_expressions():
    """Regularisation from the documents: L1 = λ Σ|w|, L2 = λ Σ w²."""
    model = tinynn.nn.Linear(3, 2)
    l1 = sum(p.abs().sum() for p in model.parameters())
    l2 = sum((p ** 2).sum() for p in model.parameters())
    (0.01 * l1 + 0.1 * l2).backward()
    w = model.weight.detach().numpy()
    np.testing.assert_allclose(model.weight.grad.numpy(), 0.01 * np.sign(w) + 0.2 * w, rtol=1e-5)
