"""The Transformer captioner over grid cells: cross-attention over L cells with learned 2-D
positions, cached decoding equal to the full forward pass, beam search with the decoding
options; the course's single-vector mode is untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_decoding import beam_search, greedy_decode
from vislab.errors import InvalidInputError
from vislab.torch_nn import GridPositions

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>"] + [f"w{i}" for i in range(12)]
WORD_TO_IDX = {word: index for index, word in enumerate(WORDS)}


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def grid_model(seed: int = 0) -> CaptioningTransformer:
    torch.manual_seed(seed)
    model = CaptioningTransformer(
        WORD_TO_IDX, input_dim=6, wordvec_dim=16, num_heads=2, num_layers=2, max_length=12,
        dropout=0.0, grid_shape=(3, 3),
    )  # fmt: skip
    with torch.no_grad():
        model.output.weight.mul_(30.0)  # peaked: greedy words far from ties
    return model.eval()


def test_grid_positions_are_row_plus_column():
    positions = GridPositions(2, 3, 4)
    out = positions(torch.zeros(1, 6, 4))[0]
    for r in range(2):
        for c in range(3):
            expected = positions.row_embedding[r] + positions.column_embedding[c]
            torch.testing.assert_close(out[3 * r + c], expected)


def test_course_mode_is_the_default_and_grid_mode_checks_shapes():
    course = CaptioningTransformer(WORD_TO_IDX, input_dim=6, wordvec_dim=16)
    assert course.grid_positions is None and "grid_shape" not in course.config
    model = grid_model()
    assert model.config["grid_shape"] == [3, 3]
    assert model(torch.randn(2, 9, 6), torch.randint(0, 16, (2, 5))).shape == (2, 5, 16)
    with pytest.raises(InvalidInputError, match=r"\(N, 9, D\)"):
        model(torch.randn(2, 6), torch.randint(0, 16, (2, 5)))


def test_every_cell_and_its_place_reach_the_scores():
    model = grid_model()
    features = torch.randn(1, 9, 6, requires_grad=True)
    model(features, torch.randint(0, 16, (1, 4))).sum().backward()
    assert (features.grad.abs().sum(dim=2) > 0).all()  # every cell is attended
    assert model.grid_positions.row_embedding.grad.abs().sum() > 0
    # Swapping two cells' contents changes the scores: positions make the grid ordered (at
    # initialisation attention is near uniform, hence near order-blind: sharpen it first).
    with torch.no_grad():
        model.grid_positions.row_embedding.mul_(100.0)
        model.grid_positions.column_embedding.mul_(100.0)
    swapped = features.detach().clone()
    swapped[0, [0, 8]] = swapped[0, [8, 0]]
    captions = torch.randint(0, 16, (1, 4))
    assert not torch.allclose(model(features.detach(), captions), model(swapped, captions))


def test_cached_greedy_equals_uncached_and_beam_one_is_greedy():
    model = grid_model(1)
    features = torch.randn(5, 9, 6)
    with torch.no_grad():
        cached = greedy_decode(model, features, 10, use_cache=True)
        uncached = greedy_decode(model, features, 10, use_cache=False)
        beam_one = beam_search(model, features, 10, 1)
    torch.testing.assert_close(cached, uncached)
    torch.testing.assert_close(beam_one, cached)
    assert model.sample(features.numpy(), max_length=10, beam_size=3).shape == (5, 10)


def test_transformer_beam_blocks_repeated_trigrams():
    model = grid_model(2)
    features = torch.randn(6, 9, 6)
    with torch.no_grad():
        blocked = beam_search(model, features, 12, 3, block_trigrams=True).numpy()
        with pytest.raises(ValueError, match="length_penalty"):
            beam_search(model, features, 12, 3, length_penalty=-0.5)
    for row in blocked:
        words = [int(w) for w in row if w not in (0, 2)]
        trigrams = list(zip(words, words[1:], words[2:], strict=False))
        assert len(trigrams) == len(set(trigrams))
    assert np.isin(blocked, np.arange(16)).all()
