"""DARTS: the mixed op is the weighted sum of its candidates, the architecture gradient
passes gradcheck, and the second-order gradient equals finite differences of the unrolled
validation loss α ↦ L_val(w − ξ ∇_w L_train(w, α), α)."""
import numpy as np
import pytest

import tinynn
from tinynn.autograd import gradcheck
from tinynn.search import darts


def _batch(rng, n=6, dtype=np.float64):
    return tinynn.tensor(rng.standard_normal((n, 1, 8, 8)).astype(dtype)), tinynn.tensor(rng.integers(0, 10, n))


def test_mixed_op_is_the_weighted_sum_of_its_candidates():
    tinynn.manual_seed(0)
    op = darts.MixedOp(4).double()
    x = tinynn.tensor(np.random.default_rng(0).standard_normal((2, 4, 6, 6)))
    weights = tinynn.tensor(np.random.default_rng(1).random(len(darts.PRIMITIVES)))
    expected = sum(float(weights[k]) * candidate(x).detach().numpy() for k, candidate in enumerate(op.ops))
    np.testing.assert_allclose(op(x, weights).detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    assert isinstance(op.ops[darts.PRIMITIVES.index("none")], darts.Zero)


def _model():
    tinynn.manual_seed(0)
    model = darts.SearchNetwork(channels=4, steps=2).double()
    model.alpha.requires_grad_()
    return model


def test_architecture_gradient_passes_gradcheck():
    model = _model()
    x, y = _batch(np.random.default_rng(2))
    alpha = tinynn.tensor(model.alpha.detach().numpy() + 0.3 * np.random.default_rng(3).standard_normal(model.alpha.shape),
                          requires_grad=True)

    def validation_loss(a):
        logits = model.classifier(model.features(x, tinynn.nn.functional.softmax(a, dim=-1)))
        return tinynn.nn.functional.cross_entropy(logits, y)
    assert gradcheck(validation_loss, (alpha,), eps=1e-6, atol=1e-6, rtol=1e-4)


def _unrolled_validation_loss(model, alpha, train, val, xi):
    """L_val(w − ξ ∇_w L_train(w, α), α), computed directly, weights restored after."""
    weights = model.weights()
    saved = [w.detach().clone() for w in weights]
    with tinynn.no_grad():
        model.alpha.copy_(tinynn.tensor(alpha))
    step = tinynn.autograd.grad(tinynn.nn.functional.cross_entropy(model(train[0]), train[1]), weights, allow_unused=True)
    with tinynn.no_grad():
        for w, g in zip(weights, step):
            if g is not None:
                w.add_(g * -xi)
        loss = float(tinynn.nn.functional.cross_entropy(model(val[0]), val[1]))
        for w, s in zip(weights, saved):
            w.copy_(s)
    return loss


@pytest.mark.parametrize("second_order", [False, True])
def test_architect_gradient_equals_finite_differences(second_order):
    model = _model()
    rng = np.random.default_rng(4)
    train, val = _batch(rng), _batch(rng)
    xi = 0.05 if second_order else 0.0
    # ε smaller than DARTS' 0.01, so that the weights' shift crosses no ReLU or max-pool kink
    architect = darts.Architect(model, tinynn.optim.SGD([model.alpha], lr=0.1), xi=xi, second_order=second_order,
                                epsilon=1e-5)
    model.eval()                       # batch statistics would make every forward depend on the batch norm's state
    analytic = architect.gradient(train, val).numpy()
    alpha0, numeric, h = model.alpha.detach().numpy().copy(), np.zeros_like(analytic), 1e-5
    for index in np.ndindex(alpha0.shape):
        for sign in (1, -1):
            shifted = alpha0.copy()
            shifted[index] += sign * h
            numeric[index] += sign * _unrolled_validation_loss(model, shifted, train, val, xi) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-9)


def test_derive_keeps_the_two_strongest_edges_without_none():
    weights = np.full((6, len(darts.PRIMITIVES)), 0.01)
    weights[:, darts.PRIMITIVES.index("none")] = 0.9        # "none" never wins
    weights[0, darts.PRIMITIVES.index("conv_3x3")] = 0.5
    weights[2, darts.PRIMITIVES.index("skip_connect")] = 0.4
    weights[1, darts.PRIMITIVES.index("max_pool_3x3")] = 0.3
    weights[5, darts.PRIMITIVES.index("sep_conv_3x3")] = 0.6
    weights[4, darts.PRIMITIVES.index("dil_conv_3x3")] = 0.2
    assert darts.derive(weights) == [(1, 0, "conv_3x3"), (2, 0, "max_pool_3x3"), (2, 1, "skip_connect"),
                                     (3, 1, "dil_conv_3x3"), (3, 2, "sep_conv_3x3")]
    network = darts.DerivedNetwork(darts.derive(weights))
    assert network(tinynn.randn(2, 1, 8, 8)).shape == (2, 10)


def test_a_darts_step_moves_alpha_towards_lower_validation_loss():
    tinynn.manual_seed(0)
    model = darts.SearchNetwork(channels=4, steps=2)
    rng = np.random.default_rng(5)
    train, val = _batch(rng, 16, np.float32), _batch(rng, 16, np.float32)
    model.eval()
    before = float(tinynn.nn.functional.cross_entropy(model(val[0]), val[1]))
    architect = darts.Architect(model, tinynn.optim.SGD([model.alpha], lr=1.0), second_order=False)
    for _ in range(5):
        architect.step(train, val)
    assert float(tinynn.nn.functional.cross_entropy(model(val[0]), val[1])) < before


def test_a_darts_run_moves_alpha_before_each_weight_step():
    """darts_on_digits hands its α step to the shared training loop (train_epoch's
    before_step): after one epoch the architecture weights are no longer uniform."""
    from tinynn.search.objective import darts_on_digits
    result = darts_on_digits({"order": 1}, epochs=1, seed=0)
    weights = np.asarray(result["alpha_history"][0])
    assert weights.shape == (6, len(darts.PRIMITIVES)) and np.ptp(weights, axis=1).min() > 0.003   # at the start: ~4e-4
    assert len(result["genotype"]) == 5 and 0 < result["accuracy"] <= 1


def test_alpha_stays_fixed_during_the_warmup_epochs():
    """search_cell trains only the weights for ``warmup`` epochs, then α too."""
    from tinynn.search.objective import search_cell
    genotype, history = search_cell(epochs=2, seed=0, channels=4, warmup=1)
    initial = darts.SearchNetwork(channels=4).architecture_weights()
    np.testing.assert_array_equal(np.asarray(history[0], np.float32), initial)
    assert np.abs(np.asarray(history[1]) - initial).max() > 0.003
    assert len(genotype) == 5
