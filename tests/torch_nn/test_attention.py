"""MultiHeadAttention: the course's formula in eval mode, its seed numbers, dropout, the cache."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from vislab.torch_nn import KeyValueCache, MultiHeadAttention

# The seed's self-attention output (N=1, T=3, E=8, H=2), printed in training mode.
SEED_SELF_ATTENTION = np.asarray(
    [
        [-0.2494, 0.1396, 0.4323, -0.2411, -0.1547, 0.2329, -0.1936, -0.1444],
        [-0.1997, 0.1746, 0.7377, -0.3549, -0.2657, 0.2693, -0.2541, -0.2476],
        [-0.0625, 0.1503, 0.7572, -0.3974, -0.1681, 0.2168, -0.2478, -0.3038],
    ]
)


def rel_error(x, y) -> float:
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def formula(attn: MultiHeadAttention, query, key, value, mask=None, keep=None):
    """The course's equations written out, one head at a time (float64).

    keep: optional (H, S, T) dropout mask on the attention weights (kept / 0.9).
    """
    H, d = attn.n_head, attn.head_dim
    weights = {name: getattr(attn, name).weight.double() for name in ("query", "key", "value")}
    biases = {name: getattr(attn, name).bias.double() for name in ("query", "key", "value")}
    q = query.double() @ weights["query"].T + biases["query"]
    k = key.double() @ weights["key"].T + biases["key"]
    v = value.double() @ weights["value"].T + biases["value"]
    heads = []
    for h in range(H):
        part = slice(h * d, (h + 1) * d)
        scores = q[..., part] @ k[..., part].transpose(-1, -2) / math.sqrt(d)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float("-inf"))
        alpha = scores.softmax(dim=-1)
        if keep is not None:
            alpha = alpha * keep[h] / 0.9
        heads.append(alpha @ v[..., part])
    return torch.cat(heads, dim=-1) @ attn.proj.weight.double().T + attn.proj.bias.double()


@pytest.fixture
def seeded_attention():
    torch.manual_seed(231)
    attn = MultiHeadAttention(8, num_heads=2)
    data = torch.randn(1, 3, 8)
    return attn, data


def test_layers_are_created_in_the_course_order():
    attn = MultiHeadAttention(8, num_heads=2)
    names = [name for name, _ in attn.named_parameters()]
    assert names == [
        f"{layer}.{p}" for layer in ("key", "query", "value", "proj") for p in ("weight", "bias")
    ]
    assert attn.attn_drop.p == 0.1
    with pytest.raises(AssertionError):
        MultiHeadAttention(10, num_heads=3)


def test_eval_mode_matches_the_formula_self_masked_and_cross(seeded_attention):
    attn, data = seeded_attention
    attn.eval()
    mask = torch.randn(3, 3) < 0.5
    mask[:, 0] = True  # every query keeps at least one key
    other = torch.randn(1, 3, 8)
    with torch.no_grad():
        cases = [
            (attn(data, data, data), formula(attn, data, data, data)),
            (attn(data, data, data, attn_mask=mask), formula(attn, data, data, data, mask)),
            (attn(data, other, other), formula(attn, data, other, other)),
        ]
    for got, expected in cases:
        assert got.shape == (1, 3, 8)
        assert rel_error(got.numpy(), expected.numpy()) < 1e-5


def test_query_and_key_lengths_may_differ_and_masks_block():
    torch.manual_seed(0)
    attn = MultiHeadAttention(12, num_heads=3).eval()
    query, memory = torch.randn(2, 4, 12), torch.randn(2, 6, 12)
    mask = torch.ones(4, 6)
    mask[:, 3:] = 0  # keys 3.. are blocked: changing them must not matter
    with torch.no_grad():
        out = attn(query, memory, memory, attn_mask=mask)
        changed = memory.clone()
        changed[:, 3:] = 100.0
        assert out.shape == (2, 4, 12)
        assert torch.allclose(out, attn(query, changed, changed, attn_mask=mask), atol=1e-6)
        assert torch.allclose(out, formula(attn, query, memory, memory, mask).float(), atol=1e-5)


def test_seed_self_attention_is_reproduced_by_some_dropout_mask(seeded_attention):
    """The seed printed its numbers in training mode with an older PyTorch's dropout masks.
    For every output row there is a mask on that row's attention weights (2 heads x 3 keys)
    for which the formula gives the seed's numbers."""
    attn, data = seeded_attention
    with torch.no_grad():
        for row in range(3):
            errors = []
            for bits in itertools.product((0.0, 1.0), repeat=6):
                keep = torch.ones(2, 3, 3, dtype=torch.float64)
                keep[:, row] = torch.tensor(bits, dtype=torch.float64).view(2, 3)
                out = formula(attn, data, data, data, keep=keep)[0, row].numpy()
                errors.append(rel_error(out, SEED_SELF_ATTENTION[row]))
            assert min(errors) < 1e-3


def test_dropout_acts_on_attention_weights_in_training_mode():
    torch.manual_seed(1)
    attn = MultiHeadAttention(8, num_heads=2, dropout=1.0)
    x = torch.randn(2, 5, 8)
    # Every attention weight dropped: the heads are zero and only proj's bias is left.
    out = attn(x, x, x)
    assert torch.allclose(out, attn.proj.bias.expand_as(out))
    attn.attn_drop.p = 0.5
    assert not torch.allclose(attn(x, x, x), attn(x, x, x))
    attn.eval()
    assert torch.equal(attn(x, x, x), attn(x, x, x))


def test_cached_attention_equals_masked_attention_over_the_prefix():
    torch.manual_seed(2)
    attn = MultiHeadAttention(8, num_heads=2).eval()
    x = torch.randn(3, 5, 8)
    causal = torch.ones(5, 5).tril()
    with torch.no_grad():
        full = attn(x, x, x, attn_mask=causal)
        cache = KeyValueCache(3, 2, 5, 4, like=x)
        steps = []
        for t in range(5):
            keys, values = cache.append(*attn.project_key_value(x[:, t : t + 1], x[:, t : t + 1]))
            assert keys.shape == (3, 2, t + 1, 4)
            steps.append(attn.attend(x[:, t : t + 1], keys, values))
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-6)
    with pytest.raises(ValueError, match="cache holds 5"):
        cache.append(keys[:, :, :1], values[:, :, :1])


def test_cache_reorder_keeps_chosen_rows():
    x = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).view(2, 1, 3, 2)
    cache = KeyValueCache(2, 1, 4, 2, like=x)
    cache.append(x, x + 1)
    cache.reorder(torch.tensor([1, 1, 0]))
    keys, values = cache.append(
        x[:1].expand(3, -1, -1, -1)[:, :, :1], x[:1].expand(3, -1, -1, -1)[:, :, :1]
    )
    assert torch.equal(keys[:, :, :3], x[[1, 1, 0]])
    assert torch.equal(values[:, :, :3], x[[1, 1, 0]] + 1)
