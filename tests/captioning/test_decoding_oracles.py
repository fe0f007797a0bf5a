"""Decoding against brute force: every caption over a tiny vocabulary and length is scored from
scratch by the model (the numpy model's loss, the Transformer's full forward pass), and beam
search must return the best one under the ranking rule it documents.

A beam of `beam_size >= number of captions` is exhaustive, so it must find the brute-force
optimum exactly; a narrow beam must agree with a plain list-based beam search written here.
`<NULL>` and `<START>` get a large negative output bias, so every real hypothesis uses only
`<END>` and the three words, and the loss (which masks `<NULL>` targets) scores them all.
The ranking rule is a parameter of the oracles (`rank(total_log_prob, length)`), ready for the
length penalty and trigram blocking.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import torch

from vislab.captioning import CaptioningRNN, CaptioningTransformer, beam_search

WORDS = ["<NULL>", "<START>", "<END>", "a", "b", "c"]
WORD_TO_IDX = {word: index for index, word in enumerate(WORDS)}
NULL, START, END = 0, 1, 2
REAL = [3, 4, 5]
MAX_LENGTH = 4
BLOCKED_BIAS = -1e3  # <NULL>, <START>: log-probability about -1000, far below any real word


def mean_per_word(total: float, length: int) -> float:
    """The documented ranking of both beam searches: mean log-probability per word."""
    return total / length


def all_captions(max_length: int = MAX_LENGTH):
    """Every caption: words then `<END>` (shorter than max_length), or max_length tokens
    whose last may be `<END>`. 1 + 3 + 9 + 27*4 = 121 for the defaults."""
    for length in range(1, max_length + 1):
        for body in itertools.product(REAL, repeat=length - 1):
            yield (*body, END)
            if length == max_length:
                for last in REAL:
                    yield (*body, last)


def padded(caption, max_length: int = MAX_LENGTH) -> np.ndarray:
    return np.array(list(caption) + [NULL] * (max_length - len(caption)), dtype=np.int64)


def unpadded(row) -> tuple:
    row = [int(token) for token in row]
    return tuple(row[: row.index(END) + 1]) if END in row else tuple(row)


def brute_force(log_prob, rank=mean_per_word, allowed=lambda caption: True):
    """The best caption under `rank` and its rank value, and the runner-up's value."""
    ranked = sorted(
        ((rank(log_prob(caption), len(caption)), caption) for caption in all_captions()
         if allowed(caption)),
        reverse=True,
    )  # fmt: skip
    return ranked[0][1], ranked[0][0], ranked[1][0]


def list_beam_search(step_log_probs, beam_size: int, rank=mean_per_word):
    """A plain beam search over (caption, total) lists; `step_log_probs(prefix)` gives the
    next word's log-probabilities (V,) after `prefix`, computed from scratch."""
    beams = [((), 0.0)]
    for _ in range(MAX_LENGTH):
        candidates = []
        for caption, total in beams:
            if caption and caption[-1] == END:
                candidates.append((caption, total))
                continue
            log_probs = step_log_probs(caption)
            candidates += [((*caption, w), total + log_probs[w]) for w in range(len(WORDS))]
        candidates.sort(key=lambda item: rank(item[1], len(item[0])), reverse=True)
        beams = candidates[:beam_size]
    return max(beams, key=lambda item: rank(item[1], len(item[0])))[0]


def numpy_model(cell_type: str, seed: int) -> CaptioningRNN:
    model = CaptioningRNN(
        WORD_TO_IDX, 6, 5, 7, cell_type=cell_type, dtype=np.float64,
        rng=np.random.default_rng(seed),
    )  # fmt: skip
    model.params["W_vocab"] *= 3  # peaky enough that captions differ in length and score
    model.params["b_vocab"][[NULL, START]] = BLOCKED_BIAS
    return model


def numpy_log_prob(model: CaptioningRNN, feature: np.ndarray):
    """log p(caption | image) from the model's loss (one image, no masked target)."""

    @functools.cache
    def log_prob(caption) -> float:
        tokens = np.array([[START, *caption]])
        loss, _ = model.loss(feature[None], tokens, compute_grads=False)
        return -loss

    return log_prob


def numpy_step_log_probs(model: CaptioningRNN, feature: np.ndarray):
    """Next-word log-probabilities after a prefix, from the model's whole-sequence loss."""

    def step_log_probs(prefix) -> np.ndarray:
        out = np.empty(len(WORDS))
        for word in range(len(WORDS)):
            if word == NULL:  # the loss masks <NULL> targets; its score is the blocked bias
                out[word] = -np.inf
                continue
            tokens = np.array([[START, *prefix, word]])
            out[word] = -model.loss(feature[None], tokens, compute_grads=False)[0]
        prefix_total = numpy_log_prob(model, feature)(prefix) if prefix else 0.0
        return out - prefix_total

    return step_log_probs


FEATURES = np.random.default_rng(7).standard_normal((4, 6))


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_numpy_exhaustive_beam_finds_the_brute_force_optimum(cell_type):
    model = numpy_model(cell_type, seed=11)
    captions = beam_search(model, FEATURES, beam_size=121, max_length=MAX_LENGTH)
    greedy = model.sample(FEATURES, max_length=MAX_LENGTH)
    differs_from_greedy = differs_from_total = 0
    for feature, row, greedy_row in zip(FEATURES, captions, greedy, strict=True):
        log_prob = numpy_log_prob(model, feature)
        best, best_score, runner_up = brute_force(log_prob)
        assert best_score - runner_up > 1e-6  # no tie: the optimum is one caption
        np.testing.assert_array_equal(row, padded(best))
        assert mean_per_word(log_prob(unpadded(row)), len(unpadded(row))) == pytest.approx(
            best_score, abs=1e-9
        )
        differs_from_greedy += unpadded(greedy_row) != best
        differs_from_total += brute_force(log_prob, rank=lambda total, _: total)[0] != best
    # The oracle is only worth something if greedy and ranking by total would both be wrong.
    assert differs_from_greedy >= 1 and differs_from_total >= 1


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
@pytest.mark.parametrize("beam_size", [2, 3])
def test_numpy_narrow_beam_equals_a_plain_list_beam_search(cell_type, beam_size):
    model = numpy_model(cell_type, seed=5)
    captions = beam_search(model, FEATURES, beam_size=beam_size, max_length=MAX_LENGTH)
    for feature, row in zip(FEATURES, captions, strict=True):
        expected = list_beam_search(numpy_step_log_probs(model, feature), beam_size)
        np.testing.assert_array_equal(row, padded(expected))


# More images than the numpy tests: in a Transformer a wrong cache row changes the scores
# less than a wrong RNN state does, so it takes more images to reach a different caption.
TRANSFORMER_FEATURES = np.random.default_rng(0).standard_normal((16, 6))


def transformer_model(seed: int = 2) -> CaptioningTransformer:
    """Every weight matrix drawn from N(0, 0.3), so each word depends on the image and on the
    earlier words (the course's N(0, 0.02) makes it nearly a unigram model); seed 2: greedy
    and ranking by total both miss the optimum on some image."""
    torch.manual_seed(seed)
    model = CaptioningTransformer(
        WORD_TO_IDX, input_dim=6, wordvec_dim=8, num_heads=2, num_layers=2, max_length=8
    )
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, 0.3)
        model.output.bias[[NULL, START]] = BLOCKED_BIAS
    return model.eval()


def transformer_step_log_probs(model: CaptioningTransformer, feature: np.ndarray):
    """Next-word log-probabilities (V,) after a prefix, from the full (uncached) forward."""
    x = torch.as_tensor(feature, dtype=torch.float32)[None]

    def step_log_probs(prefix) -> np.ndarray:
        tokens = torch.tensor([[START, *prefix]])
        with torch.no_grad():
            scores = model(x, tokens)[0, -1].double()
        return torch.log_softmax(scores, 0).numpy()

    return step_log_probs


def transformer_log_prob(model: CaptioningTransformer, feature: np.ndarray):
    """log p(caption | image) from the full forward pass: all 121 captions in one batch
    (each padded after its last word; the causal mask keeps the padding out of its scores)."""
    captions = list(all_captions())
    tokens = torch.from_numpy(np.array([padded((START, *c), MAX_LENGTH + 1) for c in captions]))
    x = torch.as_tensor(feature, dtype=torch.float32)[None].expand(len(captions), -1)
    with torch.no_grad():
        log_probs = torch.log_softmax(model(x, tokens[:, :-1]).double(), 2)
    picked = log_probs.gather(2, tokens[:, 1:, None])[..., 0].numpy()  # (121, MAX_LENGTH)
    table = {c: float(picked[i, : len(c)].sum()) for i, c in enumerate(captions)}
    return table.__getitem__


def test_transformer_exhaustive_beam_finds_the_brute_force_optimum():
    model = transformer_model()
    captions = model.sample(TRANSFORMER_FEATURES, max_length=MAX_LENGTH, beam_size=121)
    greedy = model.sample(TRANSFORMER_FEATURES, max_length=MAX_LENGTH)
    differs_from_greedy = differs_from_total = 0
    for feature, row, greedy_row in zip(TRANSFORMER_FEATURES, captions, greedy, strict=True):
        log_prob = transformer_log_prob(model, feature)
        best, best_score, runner_up = brute_force(log_prob)
        assert best_score - runner_up > 1e-4  # float32 model: a clear gap
        np.testing.assert_array_equal(row, padded(best))
        assert mean_per_word(log_prob(unpadded(row)), len(unpadded(row))) == pytest.approx(
            best_score, abs=1e-9
        )
        differs_from_greedy += unpadded(greedy_row) != best
        differs_from_total += brute_force(log_prob, rank=lambda total, _: total)[0] != best
    assert differs_from_greedy >= 1 and differs_from_total >= 1


@pytest.mark.parametrize("beam_size", [2, 3])
def test_transformer_narrow_beam_equals_a_plain_list_beam_search(beam_size):
    model = transformer_model(seed=3)
    captions = model.sample(TRANSFORMER_FEATURES, max_length=MAX_LENGTH, beam_size=beam_size)
    for feature, row in zip(TRANSFORMER_FEATURES, captions, strict=True):
        expected = list_beam_search(transformer_step_log_probs(model, feature), beam_size)
        np.testing.assert_array_equal(row, padded(expected))


@pytest.mark.parametrize("use_cache", [True, False])
def test_transformer_greedy_is_the_step_by_step_argmax_of_the_full_forward(use_cache):
    model = transformer_model()
    captions = model.sample(TRANSFORMER_FEATURES, max_length=MAX_LENGTH, use_cache=use_cache)
    for feature, row in zip(TRANSFORMER_FEATURES, captions, strict=True):
        step_log_probs = transformer_step_log_probs(model, feature)
        caption = ()
        while len(caption) < MAX_LENGTH and END not in caption:
            caption = (*caption, int(np.argmax(step_log_probs(caption))))
        np.testing.assert_array_equal(row, padded(caption))
    assert len({unpadded(row) for row in captions}) >= 2  # the images get different captions


# The two decoding options: total / length ** length_penalty, and trigram blocking.


def penalised(length_penalty: float):
    """The documented ranking with a length penalty: total / length ** length_penalty."""
    return lambda total, length: total / length**length_penalty


def repeats_no_trigram(caption) -> bool:
    trigrams = [tuple(caption[k : k + 3]) for k in range(len(caption) - 2)]
    return len(trigrams) == len(set(trigrams))


def exhaustive_numpy(model, features, **options) -> np.ndarray:
    return beam_search(model, features, beam_size=121, max_length=MAX_LENGTH, **options)


def exhaustive_transformer(model, features, **options) -> np.ndarray:
    return model.sample(features, max_length=MAX_LENGTH, beam_size=121, **options)


DECODERS = {
    "rnn": (lambda: numpy_model("rnn", seed=11), numpy_log_prob, exhaustive_numpy, FEATURES),
    "lstm": (lambda: numpy_model("lstm", seed=11), numpy_log_prob, exhaustive_numpy, FEATURES),
    "transformer": (transformer_model, transformer_log_prob, exhaustive_transformer,
                    TRANSFORMER_FEATURES),
}  # fmt: skip


@pytest.mark.parametrize("length_penalty", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_length_penalty_against_brute_force(decoder, length_penalty):
    build, log_prob_of, decode, features = DECODERS[decoder]
    model = build()
    rank = penalised(length_penalty)
    captions = decode(model, features, length_penalty=length_penalty)
    differs_from_mean = 0
    for feature, row in zip(features, captions, strict=True):
        log_prob = log_prob_of(model, feature)
        best, best_score, runner_up = brute_force(log_prob, rank=rank)
        assert best_score - runner_up > 1e-6
        np.testing.assert_array_equal(row, padded(best))
        caption = unpadded(row)
        assert rank(log_prob(caption), len(caption)) == pytest.approx(best_score, abs=1e-9)
        differs_from_mean += brute_force(log_prob)[0] != best
    assert differs_from_mean >= 1  # the penalty changes the answer on some image


def favouring_a(decoder: str):
    """The decoder's model with word "a" made likely, so its unblocked best is "a a a a"."""
    model = DECODERS[decoder][0]()
    if decoder == "transformer":
        with torch.no_grad():
            model.output.bias[REAL[0]] += 4.0
    else:
        model.params["b_vocab"][REAL[0]] += 4.0
    return model


@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_trigram_blocking_against_brute_force(decoder):
    _, log_prob_of, decode, features = DECODERS[decoder]
    model = favouring_a(decoder)
    captions = decode(model, features, block_trigrams=True)
    blocked = 0
    for feature, row in zip(features, captions, strict=True):
        log_prob = log_prob_of(model, feature)
        best, best_score, runner_up = brute_force(log_prob, allowed=repeats_no_trigram)
        assert best_score - runner_up > 1e-6
        np.testing.assert_array_equal(row, padded(best))
        blocked += not repeats_no_trigram(brute_force(log_prob)[0])
    assert blocked >= 1  # without blocking, some image's best caption repeats a trigram
    unblocked = decode(model, features)
    assert any(not repeats_no_trigram(unpadded(row)) for row in unblocked)
