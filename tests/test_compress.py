"""tinynn.compress: distillation's loss and gradient against the formula in PyTorch, weight
sharing and tying, physical channel removal, sparse storage and the sparse layer."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynn
import tinynn.nn as nn
from tinynn import compress
from tinynn.nn.utils import prune
from oracle import check_against_torch, check_gradients, requires_torch


def _distillation_in(lib, student, teacher, target, temperature, alpha):
    """The formula, written with each library's own functions (PyTorch's is the oracle)."""
    if lib.name == "tinynn":
        return compress.distillation_loss(student, teacher, target, temperature, alpha)
    F = lib.F
    soft = F.kl_div(F.log_softmax(student / temperature, 1), F.softmax(teacher.detach() / temperature, 1),
                    reduction="batchmean")
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(student, target)


@requires_torch
@given(seed=st.integers(0, 1000), temperature=st.floats(0.5, 8.0), alpha=st.floats(0.0, 1.0))
def test_distillation_loss_and_gradient_equal_the_formula_in_torch(seed, temperature, alpha):
    rng = np.random.default_rng(seed)
    student, teacher = rng.standard_normal((6, 4)) * 3, rng.standard_normal((6, 4)) * 3
    target = rng.integers(0, 4, 6)
    check_against_torch(lambda lib, s, t, y: _distillation_in(lib, s, t, y, temperature, alpha),
                        student, teacher, target)


def test_distillation_gradient_by_finite_differences_and_the_teacher_gets_none():
    rng = np.random.default_rng(0)
    teacher = tinynn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    target = tinynn.tensor(rng.integers(0, 3, 5))
    check_gradients(lambda lib, s: compress.distillation_loss(s, teacher, target, 3.0, 0.7),
                    rng.standard_normal((5, 3)))
    student = tinynn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    compress.distillation_loss(student, teacher, target).backward()
    assert teacher.grad is None and student.grad is not None


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(temperature=0), r"expected a temperature > 0"),
    (dict(alpha=1.5), r"expected alpha in \[0, 1\]"),
])
def test_distillation_refuses_bad_options(kwargs, pattern):
    logits = tinynn.randn(2, 3)
    with pytest.raises(ValueError, match=pattern):
        compress.distillation_loss(logits, logits, tinynn.tensor([0, 1]), **kwargs)
    with pytest.raises(ValueError, match=r"must have the same shape"):
        compress.distillation_loss(logits, tinynn.randn(2, 4), tinynn.tensor([0, 1]))


def test_distill_epoch_trains_the_student_and_leaves_the_teacher():
    tinynn.manual_seed(0)
    x, y = tinynn.randn(64, 5), tinynn.randint(0, 3, (64,))
    teacher, student = nn.Linear(5, 3), nn.Linear(5, 3)
    frozen = teacher.weight.detach().numpy().copy()
    loader = tinynn.data.DataLoader(tinynn.data.TensorDataset(x, y), batch_size=16)
    optimizer = tinynn.optim.Adam(student.parameters(), lr=0.05)
    losses = [compress.distill_epoch(student, teacher, loader, optimizer) for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0]
    np.testing.assert_array_equal(teacher.weight.detach().numpy(), frozen)


def test_kmeans_sharing_keeps_pruned_zeros_and_accumulates_gradients_per_cluster():
    tinynn.manual_seed(0)
    layer = nn.Linear(30, 10)
    prune.l1_unstructured(layer, "weight", 0.5)
    prune.remove(layer, "weight")
    before = layer.weight.detach().numpy().copy()
    compress.share_weights(layer, bits=3)
    weight = layer.weight.detach().numpy()
    assert np.unique(weight[weight != 0]).size <= 8 and np.all(weight[before == 0] == 0)
    assert np.abs(weight - before).max() < 0.1 * np.abs(before).max()
    assert sorted(layer.state_dict()) == ["bias", "weight_centroids", "weight_index", "weight_mask"]
    assert layer.weight_index.dtype == np.uint8
    x = tinynn.randn(4, 30)
    layer(x).sum().backward()
    dense_grad = np.ones((4, 10)).T @ x.numpy() * (before != 0)          # ∂L/∂W of a dense layer
    index = layer.weight_index.numpy()
    expected = np.bincount(index.reshape(-1), dense_grad.reshape(-1), minlength=8)
    np.testing.assert_allclose(layer.weight_centroids.grad.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_tied_weights_train_as_one_and_are_saved_once(tmp_path):
    encoder, decoder = nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False)
    shared = compress.tie_weights(encoder, decoder)
    model = nn.Sequential(encoder, nn.Tanh(), decoder)
    assert len(list(model.parameters())) == 1
    model(tinynn.randn(3, 4)).sum().backward()
    assert shared.grad is not None and decoder.weight is encoder.weight
    tinynn.save(model.state_dict(), tmp_path / "tied.npz")
    assert len(np.load(tmp_path / "tied.npz").files) == 2        # one array + the structure
    with pytest.raises(ValueError, match="has shape"):
        compress.tie_weights(encoder, nn.Linear(4, 5))


def test_removing_pruned_channels_keeps_the_function_and_shrinks_lenet():
    tinynn.manual_seed(0)
    model = tinynn.models.LeNet5().eval()
    x = tinynn.randn(4, 1, 32, 32)
    for layer, count in ((model.conv1, 2), (model.conv2, 6)):
        prune.ln_structured(layer, "weight", amount=count, n=1, dim=0)
        prune.remove(layer, "weight")
        with tinynn.no_grad():
            layer.bias[tinynn.tensor(compress.dead_channels(layer))] = 0.0
    before, params = model(x).detach().numpy(), sum(p.numel() for p in model.parameters())
    assert compress.remove_channels(model.conv1, model.conv2) == 2
    assert compress.remove_channels(model.conv2, model.fc1, spatial=25) == 6
    assert model.conv2.weight.shape == (10, 4, 5, 5) and model.fc1.weight.shape == (120, 250)
    np.testing.assert_allclose(model(x).detach().numpy(), before, rtol=1e-5, atol=1e-6)
    assert sum(p.numel() for p in model.parameters()) < params - 1500
    with pytest.raises(ValueError, match="takes 250 inputs, expected 10 channels × spatial 1"):
        compress.remove_channels(model.conv2, model.fc1)


@pytest.mark.parametrize("density", [0.05, 0.3])
def test_sparse_linear_equals_the_dense_layer_on_both_backends(density):
    rng = np.random.default_rng(1)
    layer = nn.Linear(40, 12)
    weight = layer.weight.detach().numpy()
    weight[rng.random(weight.shape) > density] = 0
    model = nn.Sequential(layer, nn.ReLU())
    x = tinynn.randn(7, 40)
    expected = model(x).detach().numpy()
    compress.to_sparse(model, min_sparsity=0.5)
    assert isinstance(model[0], compress.SparseLinear)
    for kernels in ("numba", "reference"):
        with tinynn.backend.use_kernels(kernels), tinynn.no_grad():
            np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="SparseLinear: is for inference"):
        model(tinynn.randn(2, 40, requires_grad=True))


def test_sparse_and_compressed_saving_round_trips_and_shrinks(tmp_path):
    tinynn.manual_seed(0)
    model = tinynn.models.LeNet5()
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            prune.l1_unstructured(module, "weight", 0.9)
            prune.remove(module, "weight")
    sizes = {}
    for options in ({}, {"sparse": True}, {"sparse": True, "compress": True}):
        path = tmp_path / f"{len(options)}.npz"
        tinynn.save(model.state_dict(), path, **options)
        back = tinynn.load(path)
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(back[key].numpy(), value.numpy())
        sizes[len(options)] = path.stat().st_size
    assert sizes[1] < sizes[0] / 4 and sizes[2] < sizes[1]


def test_l1_penalty_drives_weights_towards_zero():
    tinynn.manual_seed(0)
    x = tinynn.randn(128, 20)
    y = (x[:, 0] > 0).long()
    layers = {}
    for penalty in (0.0, 0.02):
        tinynn.manual_seed(1)
        layer = nn.Linear(20, 2)
        optimizer = tinynn.optim.Adam(layer.parameters(), lr=0.02)
        for _ in range(300):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(layer(x), y)
            (loss + compress.l1_penalty([layer.weight], penalty)).backward() if penalty else loss.backward()
            optimizer.step()
        layers[penalty] = np.abs(layer.weight.detach().numpy())
    small = lambda w: (w < 0.01).mean()   # noqa: E731
    assert small(layers[0.02]) > 0.5 > small(layers[0.0])
