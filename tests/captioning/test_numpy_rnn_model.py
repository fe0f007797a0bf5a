"""CaptioningRNN: the seed's loss values, whole-model gradient checks, sampling, beam search."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.captioning.numpy_beam_search import beam_search
from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.numpy_nn import eval_numerical_gradient

SEED_VOCAB = {"<NULL>": 0, "cat": 2, "dog": 3}


@pytest.mark.parametrize(
    ("cell_type", "feature_low", "feature_high", "expected"),
    [("rnn", -1.5, 0.3, 9.83235591003), ("lstm", -0.5, 1.7, 9.82445935443)],
)
def test_loss_matches_seed(cell_type, feature_low, feature_high, expected):
    N, D, W, H, T = 10, 20, 30, 40, 13
    model = CaptioningRNN(SEED_VOCAB, D, W, H, cell_type=cell_type, dtype=np.float64)
    for name, value in model.params.items():
        model.params[name] = np.linspace(-1.4, 1.3, num=value.size).reshape(value.shape)
    features = np.linspace(feature_low, feature_high, num=N * D).reshape(N, D)
    captions = (np.arange(N * T) % len(SEED_VOCAB)).reshape(N, T)
    loss, _ = model.loss(features, captions)
    assert abs(loss - expected) < 1e-9


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_whole_model_gradcheck(cell_type):
    rng = np.random.default_rng(231)
    captions = rng.integers(len(SEED_VOCAB), size=(2, 3))
    features = rng.standard_normal((2, 4))
    model = CaptioningRNN(SEED_VOCAB, 4, 5, 6, cell_type=cell_type, dtype=np.float64, rng=rng)
    _, grads = model.loss(features, captions)
    assert sorted(grads) == sorted(model.params)
    for name in grads:
        num = eval_numerical_gradient(
            lambda _: model.loss(features, captions)[0], model.params[name], verbose=False, h=1e-6
        )
        # Entries near 1e-6 carry finite-difference noise, hence the absolute floor.
        np.testing.assert_allclose(grads[name], num, rtol=1e-5, atol=1e-9, err_msg=name)


def test_course_init_uses_global_generator_and_rejects_unknown_cells():
    np.random.seed(231)  # noqa: NPY002 (the course seeds the global generator)
    first = CaptioningRNN(SEED_VOCAB, 4, 5, 6).params["Wx"]
    np.random.seed(231)  # noqa: NPY002 (the course seeds the global generator)
    np.testing.assert_array_equal(CaptioningRNN(SEED_VOCAB, 4, 5, 6).params["Wx"], first)
    assert first.dtype == np.float32
    with pytest.raises(ValueError, match="cell_type"):
        CaptioningRNN(SEED_VOCAB, cell_type="gru")


def _sampling_model(cell_type: str, seed: int = 0) -> CaptioningRNN:
    vocab = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "b", "c", "d"]
    word_to_idx = {w: i for i, w in enumerate(vocab)}
    model = CaptioningRNN(
        word_to_idx, 6, 5, 7, cell_type=cell_type, dtype=np.float64, rng=np.random.default_rng(seed)
    )
    model.params["W_vocab"] *= 4  # peaky distributions: some captions end early
    return model


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_beam_one_is_greedy_and_padding_after_end(cell_type):
    model = _sampling_model(cell_type)
    features = np.random.default_rng(1).standard_normal((12, 6))
    greedy = model.sample(features, max_length=9)
    assert greedy.shape == (12, 9)
    np.testing.assert_array_equal(beam_search(model, features, beam_size=1, max_length=9), greedy)
    for row in greedy:
        ends = np.flatnonzero(row == model._end)
        if ends.size:
            assert (row[ends[0] + 1 :] == model._null).all()


def _caption_logprob(model, feature, caption):
    h, c = model.initial_state(feature[None])
    word, total, length = model._start, 0.0, 0
    for token in caption:
        scores, h, c = model.step(np.array([word]), h, c)
        scores = scores[0] - scores[0].max()
        total += scores[token] - np.log(np.exp(scores).sum())
        length += 1
        word = token
        if token == model._end:
            break
    return total / length


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_beam_search_scores_at_least_greedy(cell_type):
    model = _sampling_model(cell_type, seed=3)
    features = np.random.default_rng(2).standard_normal((10, 6))
    greedy = model.sample(features, max_length=8)
    beams = model.sample(features, max_length=8, beam_size=4)
    assert beams.shape == (10, 8)
    for feature, g, b in zip(features, greedy, beams, strict=True):
        assert _caption_logprob(model, feature, b) >= _caption_logprob(model, feature, g) - 1e-9
