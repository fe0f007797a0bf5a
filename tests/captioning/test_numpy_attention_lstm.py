"""AttentionCaptioningLSTM: whole-model gradient check, grid-shaped sampling, attention output,
and the beam search's length penalty and trigram blocking."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.captioning.numpy_attention_lstm import AttentionCaptioningLSTM, cell_positions
from vislab.captioning.numpy_beam_search import beam_search, repeated_trigram_words
from vislab.numpy_nn import eval_numerical_gradient

VOCAB = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "b", "c", "d"]
WORD_TO_IDX = {w: i for i, w in enumerate(VOCAB)}


def _model(seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    return AttentionCaptioningLSTM(WORD_TO_IDX, 4, 5, 6, dtype=np.float64, rng=rng, **kwargs)


def test_whole_model_gradcheck():
    rng = np.random.default_rng(231)
    model = _model(attention_dim=3)
    captions = rng.integers(len(VOCAB), size=(2, 4))
    features = rng.standard_normal((2, 4, 4))  # (N, L, D), a 2 x 2 grid
    _, grads = model.loss(features, captions)
    assert sorted(grads) == sorted(model.params)
    for name in grads:
        num = eval_numerical_gradient(
            lambda _: model.loss(features, captions)[0], model.params[name], verbose=False, h=1e-6
        )
        np.testing.assert_allclose(grads[name], num, rtol=1e-5, atol=1e-9, err_msg=name)


def test_config_round_trip_and_cell_type():
    model = _model(attention_dim=3)
    assert model.config["cell_type"] == "attention-lstm" and model.config["attention_dim"] == 3
    rebuilt = AttentionCaptioningLSTM(WORD_TO_IDX, **model.config)
    assert {k: v.shape for k, v in rebuilt.params.items()} == {
        k: v.shape for k, v in model.params.items()
    }
    with pytest.raises(ValueError, match="cell_type"):
        AttentionCaptioningLSTM(WORD_TO_IDX, cell_type="lstm")


def test_greedy_attention_rows_sum_to_one_until_end_and_beam_one_is_greedy():
    model = _model(seed=2)
    model.params["W_vocab"] *= 4  # peaky: some captions end early
    features = np.random.default_rng(1).standard_normal((7, 4, 4))
    captions, alphas = model.sample_with_attention(features, max_length=6)
    assert captions.shape == (7, 6) and alphas.shape == (7, 6, 4)
    for row, alpha in zip(captions, alphas, strict=True):
        generated = len(row) if model._end not in row else list(row).index(model._end) + 1
        np.testing.assert_allclose(alpha[:generated].sum(axis=1), 1.0, atol=1e-12)
        assert (alpha[generated:] == 0).all()
    np.testing.assert_array_equal(model.sample(features, max_length=6), captions)
    np.testing.assert_array_equal(beam_search(model, features, 1, 6), captions)
    assert model.sample(features, max_length=6, beam_size=3).shape == (7, 6)


def test_attention_follows_a_cell_that_matters():
    """With the attention scores made to prefer one region's content, alpha peaks there."""
    model = _model(seed=3, attention_dim=4)
    features = np.zeros((1, 4, 4))
    features[0, 1] = 5.0  # only cell 1 has content
    model.params["W_a"][:] = 0.0
    model.params["W_a"][:4] = np.eye(4)  # the features, not the position code
    model.params["w_att"][:] = 1.0
    model.params["W_ha"][:] = 0.0
    _, alphas = model.sample_with_attention(features, max_length=3)
    # e = 4 * tanh(5) for cell 1 and 0 elsewhere: alpha_1 = e^e1 / (e^e1 + 3)
    assert alphas[0, 0, 1] == pytest.approx(np.exp(4 * np.tanh(5)) / (np.exp(4 * np.tanh(5)) + 3))


def test_repeated_trigram_words():
    tokens = np.array([[4, 5, 6, 4, 5, 0], [4, 5, 4, 5, 4, 0]])
    rows, words = repeated_trigram_words(tokens, 5)
    assert sorted(zip(rows.tolist(), words.tolist(), strict=True)) == [(0, 6), (1, 5)]
    assert repeated_trigram_words(tokens, 2)[0].size == 0


class _Cycle:
    """A toy captioner that always prefers to continue a b a b ...; <END> comes second."""

    _start, _end, _null = 1, 2, 0

    def initial_state(self, features):
        return (np.zeros(len(features), dtype=np.int64),)

    def step(self, words, last):
        scores = np.full((len(words), 6), -10.0)
        prefer = np.where(words == 4, 5, 4)  # after a: b, otherwise a
        scores[np.arange(len(words)), prefer] = 0.0
        scores[:, 2] = -1.0  # <END>
        return scores, words


def test_trigram_blocking_stops_repetition_and_length_penalty_prefers_short_at_zero():
    features = np.zeros((1, 1))
    repeating = beam_search(_Cycle(), features, beam_size=2, max_length=8)[0]
    assert repeating.tolist() == [4, 5, 4, 5, 4, 5, 4, 5]  # mean log-prob: never stop
    blocked = beam_search(_Cycle(), features, beam_size=2, max_length=8, block_trigrams=True)[0]
    words = [w for w in blocked.tolist() if w not in (0, 2)]
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    assert len(trigrams) == len(set(trigrams))
    # length_penalty 0 ranks by the plain total: ending at once (-1) beats any long caption.
    short = beam_search(_Cycle(), features, beam_size=2, max_length=8, length_penalty=0.0)[0]
    assert short.tolist() == [2] + [0] * 7
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(_Cycle(), features, length_penalty=-1)


def test_cells_carry_their_place_so_the_model_is_not_order_blind():
    code = cell_positions(9)
    np.testing.assert_allclose(code[0], [-1, -1, 1, 1])  # top left
    np.testing.assert_allclose(code[4], [0, 0, 0, 0])  # centre
    np.testing.assert_allclose(code[5], [0, 1, 0, 1])  # middle row, right column
    with pytest.raises(ValueError, match="square grid"):
        cell_positions(5)
    model = _model(seed=4)
    rng = np.random.default_rng(5)
    features, captions = rng.standard_normal((2, 4, 4)), rng.integers(4, 8, size=(2, 5))
    swapped = features[:, [3, 1, 2, 0]]  # the same contents in other cells
    assert model.loss(features, captions)[0] != pytest.approx(model.loss(swapped, captions)[0])


def test_decoding_options_reach_the_beam_search_through_sample():
    model = _model(seed=6)
    model.params["W_vocab"] *= 4
    features = np.random.default_rng(7).standard_normal((5, 4, 4))
    for kwargs in ({"length_penalty": 0.0}, {"block_trigrams": True}):
        np.testing.assert_array_equal(
            model.sample(features, max_length=8, beam_size=2, **kwargs),
            beam_search(model, features, 2, 8, **kwargs),
        )
    blocked = model.sample(features, max_length=8, block_trigrams=True)  # beam 1, blocked
    for row in blocked:
        words = [w for w in row.tolist() if w not in (0, 2)]
        assert len(set(zip(words, words[1:], words[2:], strict=False))) == max(len(words) - 2, 0)
