"""The Module system, layers, initialisation, save/load and a small training run."""
import pickle

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from oracle import requires_torch, torch


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.out(self.drop(F.relu(self.hidden(x))))


def test_parameters_children_and_modules():
    model = TwoLayer()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert sum(p.numel() for p in model.parameters()) == 4 * 8 + 8 + 8 * 3 + 3
    assert [n for n, _ in model.named_children()] == ["hidden", "out", "drop"]
    assert len(list(model.modules())) == 4
    assert all(p.requires_grad for p in model.parameters())


def test_train_eval_switch_changes_dropout():
    model = TwoLayer()
    x = tinynn.randn(5, 4)
    model.eval()
    assert not model.drop.training
    np.testing.assert_array_equal(model(x).detach().numpy(), model(x).detach().numpy())
    model.train()
    assert model.drop.training


def test_state_dict_round_trip_and_strict(tmp_path):
    model, other = TwoLayer(), TwoLayer()
    tinynn.save(model.state_dict(), tmp_path / "model.npz")
    result = other.load_state_dict(tinynn.load(tmp_path / "model.npz"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = tinynn.randn(2, 4)
    model.eval(), other.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())
    partial = {k: v for k, v in model.state_dict().items() if k.startswith("hidden")}
    with pytest.raises(KeyError, match=r"missing \['out.weight', 'out.bias'\]"):
        other.load_state_dict(partial)
    assert other.load_state_dict(partial, strict=False).missing_keys == ["out.weight", "out.bias"]
    bad = dict(model.state_dict(), **{"out.bias": tinynn.zeros(4)})
    with pytest.raises(ValueError, match=r"out.bias expected shape \(3,\), got \(4,\)"):
        other.load_state_dict(bad)


def test_load_refuses_pickle_and_other_files(tmp_path):
    with open(tmp_path / "evil.pt", "wb") as handle:
        pickle.dump({"weight": np.ones(2)}, handle)
    with pytest.raises(ValueError, match="expected a .npz archive written by tinynn.save.*pickle"):
        tinynn.load(tmp_path / "evil.pt")
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a valid tinynn archive"):
        tinynn.load(tmp_path / "objects.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="expected a .npz archive"):
        tinynn.load(tmp_path / "text.npz")


def test_save_refuses_arbitrary_objects(tmp_path):
    with pytest.raises(TypeError, match="save: cannot store an object of type"):
        tinynn.save({"f": object()}, tmp_path / "x.npz")


def test_repr_lists_layers():
    text = repr(TwoLayer())
    assert "(hidden): Linear(in_features=4, out_features=8, bias=True)" in text
    assert "(drop): Dropout(p=0.5, inplace=False)" in text


def test_module_to_double_and_zero_grad():
    model = TwoLayer().double()
    assert all(p.dtype == tinynn.float64 for p in model.parameters())
    model(tinynn.randn(2, 4, dtype=tinynn.float64)).sum().backward()
    assert model.hidden.weight.grad is not None
    model.zero_grad()
    assert model.hidden.weight.grad is None


def test_sequential_indexing_and_keyword_arguments():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(inplace=True), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and len(seq) == 3 and len(seq[1:]) == 2
    assert seq(tinynn.randn(4, 2)).shape == (4, 1)


def test_linear_input_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"linear: expected input with last dimension 4 "
                                         r"\(in_features\), got shape \(2, 5\)"):
        nn.Linear(4, 2)(tinynn.randn(2, 5))


def test_default_linear_init_bounds():
    layer = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound


@pytest.mark.parametrize("init_fn,expected_std", [
    (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), np.sqrt(2 / 200)),
    (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), np.sqrt(2 / 200)),
    (lambda w: nn.init.xavier_uniform_(w), np.sqrt(2 / (200 + 300))),
    (lambda w: nn.init.xavier_normal_(w), np.sqrt(2 / (200 + 300))),
    (lambda w: nn.init.normal_(w, 0, 0.5), 0.5),
    (lambda w: nn.init.uniform_(w, -1, 1), np.sqrt(1 / 3)),
])
def test_init_functions_have_the_documented_spread(init_fn, expected_std):
    w = nn.Parameter(tinynn.zeros(300, 200))
    init_fn(w)
    assert w.detach().numpy().std() == pytest.approx(expected_std, rel=0.03)
    assert abs(w.detach().numpy().mean()) < 0.05 * max(expected_std, 0.1)
    nn.init.zeros_(w)
    assert not w.detach().numpy().any()
    nn.init.ones_(w)
    assert w.detach().numpy().all()


def test_dropout_statistics_and_gradient():
    x = tinynn.ones(200, 100, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    np.testing.assert_allclose(np.unique(values), [0.0, 1 / 0.7], rtol=1e-6)
    assert (values == 0).mean() == pytest.approx(0.3, abs=0.02)
    assert values.mean() == pytest.approx(1.0, abs=0.03)   # expectation is preserved
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # gradient is the same mask
    assert F.dropout(x, p=0.3, training=False) is x
    assert not F.dropout(x, p=1.0).detach().numpy().any()
    with pytest.raises(ValueError, match="dropout: expected a probability"):
        F.dropout(x, p=1.5)


def test_dropout_is_repeatable_under_manual_seed():
    tinynn.manual_seed(5)
    a = F.dropout(tinynn.ones(50)).numpy()
    tinynn.manual_seed(5)
    assert np.array_equal(a, F.dropout(tinynn.ones(50)).numpy())


@requires_torch
def test_state_dict_keys_match_torch_for_the_same_architecture():
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(tinynn.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_two_layer_mlp_learns_a_synthetic_problem():
    """Two interleaved spirals-lite: a 2-layer MLP must get the training loss below 0.1."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(np.int64)     # XOR of the signs: not linearly separable
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    opt = tinynn.optim.Adam(model.parameters(), lr=0.03)
    xs, ys = tinynn.tensor(x), tinynn.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        loss = F.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
    accuracy = (model(xs).argmax(1) == ys).numpy().mean()
    assert loss.item() < 0.1 and accuracy > 0.97


def test_dropout2d_drops_whole_channels_and_their_gradient():
    tinynn.manual_seed(4)
    x = tinynn.ones(50, 20, 3, 3, requires_grad=True)
    y = tinynn.nn.Dropout2d(0.25)(x)
    values = y.detach().numpy()
    per_channel = values.reshape(50, 20, 9)
    assert (per_channel == per_channel[..., :1]).all()           # one draw per (sample, channel)
    assert (per_channel[..., 0] == 0).mean() == pytest.approx(0.25, abs=0.05)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)
    with pytest.raises(ValueError, match="dropout2d: expected a 3-D"):
        F.dropout2d(tinynn.ones(4, 5), 0.5)
    model = tinynn.nn.Dropout2d(0.5)
    model.eval()
    assert model(x) is x
