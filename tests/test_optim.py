"""Optimisers and schedules: multi-step trajectories equal to torch.optim; Adam's one-pass
kernel equal to its NumPy reference bit for bit."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynn
from tinynn import optim, reference
from tinynn.kernels import cpu_backend, optim as adam_kernels
from oracle import requires_torch, torch

OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd_dampening_wd": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_momentum": ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                                  weight_decay=0.01)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_amsgrad_wd": ("Adam", dict(lr=0.02, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.01, weight_decay=0.2, amsgrad=True)),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adadelta": ("Adadelta", dict()),
    "adadelta_decay": ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05)),
    "adagrad_decay": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05,
                                      initial_accumulator_value=0.1)),
}


def _problem(lib, params):
    """A small non-quadratic loss so that every optimiser state matters."""
    w, b = params
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
    return ((x @ w + b).tanh() ** 2).sum() + (w ** 4).sum()


def _trajectory(lib, name, steps=15):
    cls_name, kwargs = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    params = [lib.tensor(a, requires_grad=True) for a in init]
    opt = getattr(lib.optim, cls_name)(params, **kwargs)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        _problem(lib, params).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


@requires_torch
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectory_matches_torch(name):
    ours, theirs = _trajectory(tinynn, name), _trajectory(torch, name)
    for step, (mine, ref) in enumerate(zip(ours, theirs)):
        for a, b in zip(mine, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")


def _float32_trajectory(lib, name, start, steps):
    """``steps`` steps of optimiser ``name`` on Σ w³ + Σ sigmoid(w) from float32 ``start``."""
    cls_name, kwargs = OPTIMIZERS[name]
    w = lib.tensor(start, requires_grad=True)
    opt = getattr(lib.optim, cls_name)([w], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        ((w * w * w).sum() + (w.sigmoid()).sum()).backward()
        opt.step()
    return w.detach().numpy()


@requires_torch
@pytest.mark.parametrize("name", ["sgd_momentum", "adam", "rmsprop_centered_momentum"])
def test_optimizer_trajectory_matches_torch_in_float32(name):
    start = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(_float32_trajectory(tinynn, name, start, 20),
                               _float32_trajectory(torch, name, start, 20), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", ["adam", "adam_amsgrad_wd", "adamw_amsgrad"])
def test_adam_on_a_large_float32_parameter_matches_torch(name):
    """69,000 values: tinynn's one-pass kernel shares them over its threads (2^16 and more)."""
    start = np.random.default_rng(0).standard_normal((300, 230)).astype(np.float32)
    np.testing.assert_allclose(_float32_trajectory(tinynn, name, start, 10),
                               _float32_trajectory(torch, name, start, 10), rtol=1e-5, atol=1e-6)


def test_param_groups_have_their_own_hyperparameters():
    a = tinynn.ones(2, requires_grad=True)
    b = tinynn.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.step()
    assert a.detach().numpy().tolist() == pytest.approx([0.9, 0.9])
    assert b.detach().numpy().tolist() == pytest.approx([0.0, 0.0])


def test_optimizer_skips_parameters_without_gradient_and_zero_grad_clears():
    a = tinynn.ones(2, requires_grad=True)
    b = tinynn.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.sum().backward()
    opt.step()
    assert b.detach().numpy().tolist() == [1.0, 1.0]
    opt.zero_grad()
    assert a.grad is None


def test_optimizer_state_dict_round_trip(tmp_path):
    w = tinynn.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    tinynn.save(opt.state_dict(), tmp_path / "opt.npz")
    w2 = tinynn.tensor(w.detach().numpy(), requires_grad=True)
    opt2 = optim.Adam([w2], lr=0.5)
    opt2.load_state_dict(tinynn.load(tmp_path / "opt.npz"))
    assert opt2.param_groups[0]["lr"] == 0.1
    for o, p in ((opt, w), (opt2, w2)):
        o.zero_grad()
        (p ** 2).sum().backward()
        o.step()
    np.testing.assert_allclose(w.detach().numpy(), w2.detach().numpy(), rtol=1e-6)


def test_bad_hyperparameters_are_clear_errors():
    w = tinynn.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="SGD: expected lr >= 0"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Adam: expected betas"):
        optim.Adam([w], betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)


# ------------------------------------------------------------------ Adam's kernel
def _adam_state(shape, dtype, amsgrad, seed):
    """A parameter, its gradient and Adam's buffers part-way through training (v ≥ 0)."""
    rng = np.random.default_rng(seed)
    param, grad, exp_avg = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    exp_avg_sq = rng.random(shape).astype(dtype) * rng.choice(np.array([0, 1e-12, 1], dtype), size=shape)
    buffer = exp_avg_sq + rng.random(shape).astype(dtype) * (rng.random(shape) < 0.5) if amsgrad else None
    return param, grad, exp_avg, exp_avg_sq, buffer


@pytest.fixture(scope="module")
def compiled_adam_kernels():
    """Both of Adam's kernels compiled in this process for both precisions: ``adam_update``
    then runs them, not the NumPy formula that stands in while a helper process compiles
    them on an empty cache (which would compare the formula with itself)."""
    for dtype in (np.float32, np.float64):
        arrays = [np.zeros(8, dtype) for _ in range(5)]
        scalars = (True,) + tuple(dtype(value) for value in (0.1, 0.9, 0.001, 0.01, 0.5, 1e-8))
        adam_kernels._adam_span(*arrays, *scalars)
        adam_kernels._adam_parallel(2, *arrays, *scalars)
        assert adam_kernels._adam_span.ready(*arrays, *scalars)
        assert adam_kernels._adam_parallel.ready(2, *arrays, *scalars)


@pytest.mark.usefixtures("compiled_adam_kernels")
@given(shape=st.sampled_from([(7,), (3, 5), (300, 230)]), dtype=st.sampled_from([np.float32, np.float64]),
       amsgrad=st.booleans(), lr=st.floats(1e-4, 1.0), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999),
       eps=st.sampled_from([1e-8, 1e-3, 0.0]), step=st.integers(1, 1000), seed=st.integers(0, 3))
def test_adam_kernel_equals_reference_bit_for_bit(shape, dtype, amsgrad, lr, beta1, beta2, eps, step, seed):
    """One pass (serial below 2^16 elements, shared over threads above) against NumPy's dozen:
    every operation in the same precision and order, so the arrays are identical, zero
    second moments (0/0 with ε = 0) included."""
    ours, theirs = _adam_state(shape, dtype, amsgrad, seed), _adam_state(shape, dtype, amsgrad, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        cpu_backend.adam_update(*ours, lr, beta1, beta2, eps, step)
        reference.adam_update(*theirs, lr, beta1, beta2, eps, step)
    for name, mine, ref in zip(("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), ours, theirs):
        np.testing.assert_array_equal(mine, ref, err_msg=name)


@pytest.mark.usefixtures("compiled_adam_kernels")
def test_adam_kernel_updates_non_contiguous_parameters_in_place():
    """A transposed parameter and its buffers: the update runs on copies and is written back."""
    ours = [a.T for a in _adam_state((40, 30), np.float32, True, 0)]
    theirs = [a.copy() for a in ours]
    cpu_backend.adam_update(*ours, 0.01, 0.9, 0.999, 1e-8, 3)
    reference.adam_update(*theirs, 0.01, 0.9, 0.999, 1e-8, 3)
    for mine, ref in zip(ours, theirs):
        assert not mine.flags.c_contiguous
        np.testing.assert_array_equal(mine, ref)


def test_adam_kernel_refuses_integer_parameters():
    param = np.zeros(4, np.int64)
    with pytest.raises(TypeError, match="adam_update: expected float32 or float64 parameters, got int64"):
        cpu_backend.adam_update(param, param, param, param, None, 0.1, 0.9, 0.999, 1e-8, 1)


SCHEDULERS = {
    "step": ("StepLR", dict(step_size=3, gamma=0.5)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
}


def _lr_history(lib, name, epochs=20):
    cls_name, kwargs = SCHEDULERS[name]
    w = lib.tensor([1.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scheduler = getattr(lib.optim.lr_scheduler, cls_name)(opt, **kwargs)
    history = []
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        history.append(scheduler.get_last_lr()[0])
    return history


@requires_torch
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_matches_torch(name):
    np.testing.assert_allclose(_lr_history(tinynn, name), _lr_history(torch, name), rtol=1e-12)


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs"),
    dict(factor=0.5, patience=2, cooldown=2, min_lr=0.004),
    dict(patience=0, threshold=0.05),
]


@requires_torch
@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.89, 0.9, 0.91, 0.92, 0.5, 0.6, 0.7, 0.7, 0.7, 0.8, 0.3] * 2

    def run(lib):
        w = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        out = []
        for m in metrics:
            scheduler.step(m)
            out.append(opt.param_groups[0]["lr"])
        return out
    np.testing.assert_allclose(run(tinynn), run(torch), rtol=1e-12)


def test_step_lr_formula():
    w = tinynn.ones(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    rates = []
    for _ in range(5):
        rates.append(opt.param_groups[0]["lr"])
        scheduler.step()
    assert rates == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])


@requires_torch
def test_frozen_parameters_are_accepted_and_left_alone_as_in_torch():
    frozen, trained = tinynn.ones(2), tinynn.ones(2, requires_grad=True)
    optimizer = tinynn.optim.SGD([frozen, trained], lr=0.5)
    (trained * 3).sum().backward()
    optimizer.step()
    assert frozen.numpy().tolist() == [1.0, 1.0] and trained.detach().numpy().tolist() == [-0.5, -0.5]
    torch.optim.SGD([torch.ones(2), torch.ones(2, requires_grad=True)], lr=0.5)   # torch accepts too
    with pytest.raises(TypeError, match="can only optimise tensors"):
        tinynn.optim.SGD([np.ones(2)], lr=0.1)
