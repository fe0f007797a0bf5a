"""PositionalEncoding: the sinusoid formula, and the seed's numbers where its dropout kept them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vislab.torch_nn import PositionalEncoding

# Printed by the seed in training mode (dropout 0.1): 0.0 where the old mask dropped a value.
SEED_PE_OUTPUT = np.asarray(
    [
        [
            [-1.2340, 1.1127, 1.6978, -0.0865, -0.0000, 1.2728],
            [0.9028, -0.4781, 0.5535, 0.8133, 1.2644, 1.7034],
        ]
    ]
)


def test_table_follows_the_formula():
    encoding = PositionalEncoding(6, max_len=7)
    assert encoding.pe.shape == (1, 7, 6)
    for i in range(7):
        for j in range(6):
            rate = 10000 ** (-(j - j % 2) / 6)
            expected = math.sin(i * rate) if j % 2 == 0 else math.cos(i * rate)
            assert encoding.pe[0, i, j].item() == pytest.approx(expected, abs=1e-6)


def test_seed_numbers_are_reproduced_where_the_old_dropout_mask_kept_a_value():
    torch.manual_seed(231)
    data = torch.randn(1, 2, 6)
    encoding = PositionalEncoding(6).eval()
    scaled = (encoding(data) / 0.9).numpy()  # training-mode dropout scales survivors by 1/0.9
    kept = SEED_PE_OUTPUT != 0
    assert kept.sum() == 11
    np.testing.assert_allclose(scaled[kept], SEED_PE_OUTPUT[kept], atol=1e-4)


def test_start_offset_and_dropout_modes():
    encoding = PositionalEncoding(4, max_len=10).eval()
    x = torch.zeros(2, 3, 4)
    assert torch.equal(encoding(x, start=5), encoding.pe[:, 5:8].expand(2, -1, -1))
    with pytest.raises(ValueError, match="positions up to 11"):
        encoding(x, start=8)
    encoding.train()
    torch.manual_seed(0)
    dropped = encoding(torch.ones(1, 10, 4))
    assert (dropped == 0).any()
