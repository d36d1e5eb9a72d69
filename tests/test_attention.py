"""LayerNorm, scaled dot-product attention and MultiheadAttention against PyTorch (float64,
copied weights, every mask kind, outputs, attention weights and gradients), plus gradcheck."""
import numpy as np
import pytest

import tinynn
from oracle import check_against_torch, check_gradients

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape, normalized", [((2, 3, 4), 4), ((2, 3, 4), (3, 4))])
def test_layer_norm_matches_torch_and_gradcheck(shape, normalized):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(normalized), rng.standard_normal(normalized)
    fn = lambda lib, x, w, b: lib.F.layer_norm(x, w.shape, w, b)    # noqa: E731
    check_against_torch(fn, x, w, b)
    check_gradients(fn, x, w, b)


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_torch(mask):
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 6, 3))
    allowed = rng.random((5, 6)) > 0.3
    allowed[:, 0] = True
    additive = rng.standard_normal((5, 6))

    def fn(lib, q, k, v):
        if mask == "bool":
            return lib.F.scaled_dot_product_attention(q, k, v, attn_mask=lib.lib.tensor(allowed))
        if mask == "float":
            return lib.F.scaled_dot_product_attention(q, k, v, attn_mask=lib.lib.tensor(additive))
        return lib.F.scaled_dot_product_attention(q, k[:, :5], v[:, :5], is_causal=True) if mask == "causal" \
            else lib.F.scaled_dot_product_attention(q, k, v)
    check_against_torch(fn, q, k, v)
    check_gradients(fn, q, k, v)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "padding", "bool", "float", "causal"])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(batch_first, masks, average):
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    mine = tinynn.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: tinynn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2)
    length, source = (4, 4) if masks == "causal" else (3, 5)
    q = rng.standard_normal((2, length, 8) if batch_first else (length, 2, 8))
    kv = rng.standard_normal((2, source, 8) if batch_first else (source, 2, 8))
    padding = np.zeros((2, source), bool)
    padding[0, 2] = padding[1, 4 % source] = True
    blocked = np.zeros((length, source), bool)
    blocked[0, 1] = True
    additive = rng.standard_normal((length, source))
    results = []
    for lib, model in ((tinynn, mine), (torch, theirs)):
        query, key = lib.tensor(q, requires_grad=True), lib.tensor(kv, requires_grad=True)
        kwargs = {"none": {}, "padding": {"key_padding_mask": lib.tensor(padding)},
                  "bool": {"attn_mask": lib.tensor(blocked), "key_padding_mask": lib.tensor(padding)},
                  "float": {"attn_mask": lib.tensor(additive)},
                  "causal": {"attn_mask": lib.tensor(np.triu(np.ones((length, source), bool), 1)), "is_causal": True}}
        extra = kwargs[masks]
        out, weights = model(query, key, key, average_attn_weights=average, **extra)
        ((out * out).sum() + (weights * weights).sum()).backward()
        results.append([out.detach().numpy(), weights.detach().numpy(), query.grad.numpy(), key.grad.numpy(),
                        model.in_proj_weight.grad.numpy(), model.out_proj.weight.grad.numpy()])
    for mine_value, their_value in zip(*results):
        np.testing.assert_allclose(mine_value, their_value, rtol=1e-10, atol=1e-12)


def test_multihead_attention_checks_its_sizes_and_can_skip_weights():
    with pytest.raises(ValueError, match="divisible"):
        tinynn.nn.MultiheadAttention(10, 3)
    layer = tinynn.nn.MultiheadAttention(4, 2)
    out, weights = layer(tinynn.randn(3, 1, 4), tinynn.randn(3, 1, 4), tinynn.randn(3, 1, 4), need_weights=False)
    assert out.shape == (3, 1, 4) and weights is None


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer_matches_torch(norm_first, batch_first, activation):
    kwargs = dict(dim_feedforward=16, dropout=0.1, norm_first=norm_first, batch_first=batch_first, activation=activation)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, **kwargs).double().eval()
    mine = tinynn.nn.TransformerEncoderLayer(8, 2, **kwargs).double().eval()
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: tinynn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 5, 8) if batch_first else (5, 2, 8))
    padding = np.zeros((2, 5), bool)
    padding[1, 3] = True
    results = []
    for lib, model in ((tinynn, mine), (torch, theirs)):
        src = lib.tensor(x, requires_grad=True)
        out = model(src, src_key_padding_mask=lib.tensor(padding))
        (out * out).sum().backward()
        results.append([out.detach().numpy(), src.grad.numpy(), model.linear1.weight.grad.numpy(),
                        model.self_attn.in_proj_weight.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_tiny_transformer_learns_to_name_the_largest_token():
    """tinynn.models.TinyTransformer: the encoder block stack on a sequence task (the largest of
    eight digits), trained in a few hundred steps; padding masks and too-long inputs checked."""
    tinynn.manual_seed(0)
    rng = np.random.default_rng(0)
    model = tinynn.models.TinyTransformer(vocab_size=10, num_classes=10, max_len=8)
    optimizer = tinynn.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        tokens = rng.integers(0, 10, (64, 8))
        loss = tinynn.nn.functional.cross_entropy(model(tinynn.tensor(tokens)), tinynn.tensor(tokens.max(1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tokens = rng.integers(0, 10, (500, 8))
    with tinynn.no_grad():
        accuracy = (model(tinynn.tensor(tokens)).argmax(1).numpy() == tokens.max(1)).mean()
    assert accuracy > 0.9
    mask = np.zeros((4, 8), bool)
    mask[:, 6:] = True
    padded = [np.concatenate([tokens[:4, :6], np.full((4, 2), fill)], axis=1) for fill in (0, 9)]
    with tinynn.no_grad():                      # what sits in padded positions changes nothing
        a, b = (model(tinynn.tensor(p), padding_mask=tinynn.tensor(mask)).numpy() for p in padded)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="TinyTransformer: sequences of at most 8 tokens, got 9"):
        model(tinynn.tensor(rng.integers(0, 10, (2, 9))))
