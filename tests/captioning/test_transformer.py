"""CaptioningTransformer: shapes, initialisation, causality, cached vs uncached decoding, beam
search; the solver's contract and loss normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_solver import (
    CaptioningSolverTransformer,
    transformer_temporal_softmax_loss,
)
from vislab.errors import InvalidInputError

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>"] + [f"w{i}" for i in range(36)]
WORD_TO_IDX = {word: index for index, word in enumerate(WORDS)}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two threads mostly wait for each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def small_model(seed: int = 0, **options) -> CaptioningTransformer:
    torch.manual_seed(seed)
    options = {"num_heads": 2, "num_layers": 2, "max_length": 30, **options}
    return CaptioningTransformer(WORD_TO_IDX, input_dim=20, wordvec_dim=16, **options)


def peaked_model(seed: int = 0) -> CaptioningTransformer:
    """Random weights with a sharpened output layer, so greedy words are far from ties."""
    model = small_model(seed)
    with torch.no_grad():
        model.output.weight.mul_(40.0)
    return model.eval()


def test_scores_shape_and_course_initialisation():
    model = small_model()
    scores = model(torch.randn(3, 20), torch.randint(0, 40, (3, 7)))
    assert scores.shape == (3, 7, 40)
    assert [name for name, _ in model.named_children()] == [
        "visual_projection",
        "embedding",
        "positional_encoding",
        "transformer",
        "output",
    ]
    big = CaptioningTransformer(WORD_TO_IDX, input_dim=200, wordvec_dim=128)
    layer = big.transformer.layers[0]
    assert layer.linear1.out_features == 2048
    assert abs(float(layer.linear1.weight.detach().std()) - 0.02) < 2e-3
    assert float(layer.linear1.bias.detach().abs().max()) == 0.0
    # The two layers are re-initialised after copying, so they differ.
    assert not torch.equal(layer.linear1.weight, big.transformer.layers[1].linear1.weight)
    # As in the course, `output` is created after the N(0, 0.02) pass: default init.
    assert float(big.output.weight.detach().abs().max()) <= 1 / np.sqrt(128) + 1e-6


def test_scores_are_causal():
    model = small_model().eval()
    features = torch.randn(2, 20)
    captions = torch.randint(0, 40, (2, 9))
    changed = captions.clone()
    changed[:, 5:] = (changed[:, 5:] + 7) % 40
    with torch.no_grad():
        before, after = model(features, captions), model(features, changed)
    assert torch.equal(before[:, :5], after[:, :5])
    assert not torch.allclose(before[:, 5:], after[:, 5:])


def test_cached_decoding_equals_uncached_decoding():
    model = peaked_model()
    features = np.random.default_rng(0).standard_normal((6, 20)).astype(np.float32)
    cached = model.sample(features, max_length=12)
    uncached = model.sample(features, max_length=12, use_cache=False)
    assert cached.shape == (6, 12) and cached.dtype == np.int64
    np.testing.assert_array_equal(cached, uncached)
    # Step scores agree with the full forward pass, position by position.
    x = torch.as_tensor(features)
    prefix = torch.cat([torch.ones(6, 1, dtype=torch.long), torch.as_tensor(cached[:, :5])], 1)
    with torch.no_grad():
        full = model(x, prefix)
        state = model.start_decoding(x, 6)
        steps = torch.stack([model.decode_step(prefix[:, t], state) for t in range(6)], 1)
    assert torch.allclose(steps, full, atol=1e-4)


def test_sampling_pads_after_end_and_keeps_the_training_mode():
    model = peaked_model(3)
    with torch.no_grad():
        model.output.bias[WORD_TO_IDX["<END>"]] = 60.0  # <END> at once
    model.train()
    captions = model.sample(np.zeros((2, 20), dtype=np.float32), max_length=5)
    assert model.training
    np.testing.assert_array_equal(captions[:, 0], [2, 2])
    np.testing.assert_array_equal(captions[:, 1:], 0)
    with pytest.raises(InvalidInputError, match="max_length 30"):
        model.sample(np.zeros((1, 20), dtype=np.float32), max_length=31)


def test_beam_size_one_is_greedy_and_wider_beams_score_at_least_as_well():
    model = small_model(1).eval()
    with torch.no_grad():
        model.output.weight.mul_(4.0)
        model.output.bias[WORD_TO_IDX["<END>"]] = 1.0  # greedy ends at once, beams go on
    features = np.random.default_rng(1).standard_normal((5, 20)).astype(np.float32)
    greedy = model.sample(features, max_length=10)
    np.testing.assert_array_equal(model.sample(features, max_length=10, beam_size=1), greedy)
    wide = model.sample(features, max_length=10, beam_size=4)
    assert wide.shape == (5, 10)

    def mean_log_prob(captions):
        x = torch.as_tensor(features)
        prefix = torch.cat([torch.ones(5, 1, dtype=torch.long), torch.as_tensor(captions)], 1)
        with torch.no_grad():
            log_probs = model(x, prefix[:, :-1]).log_softmax(-1)
        picked = log_probs.gather(2, prefix[:, 1:].unsqueeze(2))[..., 0]
        counted = (prefix[:, 1:] != 0).float()
        return (picked * counted).sum(1) / counted.sum(1).clamp(min=1)

    assert (greedy == 2).any(1).all()
    assert (mean_log_prob(wide) >= mean_log_prob(greedy) - 1e-5).all()
    assert not np.array_equal(wide, greedy)


def test_loss_averages_masked_token_losses_over_all_positions():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5)
    y = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = y != 0
    expected = (
        sum(
            -torch.log_softmax(x[n, t], 0)[y[n, t]]
            for n in range(2)
            for t in range(3)
            if mask[n, t]
        )
        / 6
    )
    assert torch.allclose(transformer_temporal_softmax_loss(x, y, mask), expected)


def test_solver_rejects_unknown_options_and_oversized_batches():
    data = {
        "train_captions": np.ones((4, 5), dtype=np.int32),
        "train_image_idxs": np.arange(4),
        "train_features": np.zeros((4, 20), dtype=np.float32),
    }
    with pytest.raises(ValueError, match='Unrecognized arguments "momentum"'):
        CaptioningSolverTransformer(small_model(), data, WORDS, momentum=0.9)
    solver = CaptioningSolverTransformer(small_model(), data, WORDS, batch_size=8)
    with pytest.raises(InvalidInputError, match="larger than the 4 training captions"):
        solver.train()


def test_feed_forward_width_is_the_courses_2048_unless_chosen_and_is_kept_in_the_config():
    course, narrow = small_model(), small_model(feedforward_dim=24)
    assert "feedforward_dim" not in course.config  # checkpoints of course models unchanged
    for layer in course.transformer.layers:
        assert (layer.linear1.out_features, layer.linear2.in_features) == (2048, 2048)
    assert narrow.config["feedforward_dim"] == 24
    for layer in narrow.transformer.layers:
        assert (layer.linear1.out_features, layer.linear2.in_features) == (24, 24)
    rebuilt = CaptioningTransformer(WORD_TO_IDX, **narrow.config)  # as a checkpoint loads it
    rebuilt.load_state_dict(narrow.state_dict())
    features = torch.randn(3, 20)
    captions = torch.randint(0, len(WORDS), (3, 6))
    narrow.eval(), rebuilt.eval()
    torch.testing.assert_close(rebuilt(features, captions), narrow(features, captions))


@pytest.mark.parametrize("width", [0, -3])
def test_a_feed_forward_width_below_one_is_refused_naming_it(width):
    with pytest.raises(InvalidInputError, match=f"feedforward_dim must be at least 1, got {width}"):
        small_model(feedforward_dim=width)


@pytest.mark.parametrize(("wordvec_dim", "num_heads"), [(16, 3), (15, 3), (16, 0)])
def test_widths_the_heads_cannot_split_are_refused(wordvec_dim, num_heads):
    with pytest.raises(InvalidInputError, match="must be even and a multiple of num_heads"):
        CaptioningTransformer(
            WORD_TO_IDX, input_dim=20, wordvec_dim=wordvec_dim, num_heads=num_heads
        )
    assert CaptioningTransformer(WORD_TO_IDX, input_dim=20, wordvec_dim=6, num_heads=3)
