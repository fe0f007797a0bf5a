"""Both beam searches and the Transformer's greedy decoding on table models: the next word's
probabilities are written by hand for each prefix, so every step can be worked out on paper.

Each image is a rule `prefix -> {word: probability}` made to separate one option from its
neighbours: FOURTH's best caption starts with the 4th most likely word (beam 3 misses it, beam
4 finds it); PENALTY's best is "<END>" at length penalty 1 and "a b <END>" at 2; A_LOOP repeats
"a" unless trigrams are blocked; ENDED_EARLY only finds its best if an ended one-word beam is
ranked by its true length. The oracle is a list-based beam search over (caption, total) pairs
with the documented rule, total / length ** length_penalty, and its stable sort breaks ties
towards the lower (beam, word), as the numpy search documents by equalling greedy argmax.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.captioning import transformer_decoding
from vislab.captioning.numpy_beam_search import beam_search, repeated_trigram_words

NULL, START, END, A, B, C, D, E = range(8)
V = 8
RARE = 1e-6  # the probability of every word a rule leaves out (before normalising)
ENDS = {END: 0.97, A: 0.01, B: 0.01, C: 0.01}  # after any prefix a rule does not list


def fourth(prefix):
    if prefix == ():
        return {A: 0.3, B: 0.25, C: 0.2, D: 0.18, E: 0.04, END: 0.03}
    if prefix in [(A,), (B,), (C,)]:
        return {A: 0.18, B: 0.17, C: 0.16, D: 0.15, E: 0.14, END: 0.2}
    return ENDS


def penalty(prefix):
    rows = {(): {END: 0.6, A: 0.1, D: 0.3}, (A,): {B: 0.9, END: 0.1}, (A, B): {END: 0.95, A: 0.05}}
    return rows.get(prefix, ENDS)


def a_loop(prefix):
    b = 0.15 + 0.02 * len(prefix)  # "b" later is likelier: no two captions tie
    return {A: 0.9 - b, B: b, END: 0.1}


def ended_early(prefix):
    rows = {
        (): {A: 0.55, END: 0.35, B: 0.08, C: 0.02},
        (A,): {B: 0.65, C: 0.3, END: 0.03, D: 0.02},
        (A, B): {A: 0.2, B: 0.18, C: 0.16, D: 0.14, E: 0.12, END: 0.1, NULL: 0.05, START: 0.05},
        (A, C): {END: 0.97, A: 0.01, B: 0.01, D: 0.01},
    }
    return rows.get(prefix, ENDS)


def ties(prefix):
    rows = {(): {A: 0.3, B: 0.3, C: 0.3, END: 0.1}, (A,): {C: 0.4, B: 0.4, END: 0.2}}
    return rows.get(prefix, {END: 0.5, D: 0.5})


def scores_of(rule, prefix) -> np.ndarray:
    """The model's scores (V,): log-probabilities, RARE for the words the rule leaves out."""
    scores = np.full(V, np.log(RARE))
    for word, probability in rule(prefix).items():
        scores[word] = np.log(probability)
    return scores


def log_probs_of(rule, prefix) -> np.ndarray:
    """The oracle's next-word log-probabilities (V,), normalised by torch."""
    return torch.log_softmax(torch.from_numpy(scores_of(rule, prefix)), 0).numpy()


class NumpyTable:
    """`step` scores each row's prefix by its image's rule; the state is one int array
    (M, 2 + 40): image index, words fed so far, then the words (`<START>` first)."""

    _null, _start, _end = NULL, START, END

    def __init__(self, rules, offsets=()):
        self.rules, self.offsets, self.steps = rules, dict(offsets), 0

    def initial_state(self, features):
        history = np.full((len(features), 42), -1, dtype=np.int64)
        history[:, 0], history[:, 1] = features[:, 0], 0
        return (history,)

    def step(self, words, history):
        self.steps += 1
        history = history.copy()
        history[np.arange(len(history)), 2 + history[:, 1]] = words
        history[:, 1] += 1
        scores = [  # the prefix leaves out <START>, in column 2
            scores_of(self.rules[image], tuple(row[3 : 2 + count])) + self.offsets.get(image, 0)
            for image, count, row in zip(history[:, 0], history[:, 1], history, strict=True)
        ]
        return np.stack(scores), history


class TableState:
    """What the torch table model carries: each row's image and the words fed so far."""

    def __init__(self, images):
        self.images, self.prefixes, self.reorders = images, [() for _ in images], 0

    def reorder(self, index):
        self.reorders += 1
        self.images = [self.images[i] for i in index.tolist()]
        self.prefixes = [self.prefixes[i] for i in index.tolist()]


class TorchTable:
    """The Transformer decoding interface over the same rules, counting its calls."""

    _null, _start, _end = NULL, START, END

    def __init__(self, rules):
        self.rules, self.calls, self.state = rules, {"start": 0, "step": 0, "forward": 0}, None

    def start_decoding(self, features, max_steps):
        self.calls["start"] += 1
        self.state = TableState([int(image) for image in features[:, 0]])
        return self.state

    def decode_step(self, words, state):
        self.calls["step"] += 1
        state.prefixes = [(*p, int(w)) for p, w in zip(state.prefixes, words, strict=True)]
        rows = [
            scores_of(self.rules[image], prefix[1:])
            for image, prefix in zip(state.images, state.prefixes, strict=True)
        ]
        return torch.from_numpy(np.stack(rows))

    def __call__(self, features, captions):
        """The full forward pass: scores (N, T, V) after every prefix of captions (N, T)."""
        self.calls["forward"] += 1
        rules = [self.rules[int(image)] for image in features[:, 0]]
        return torch.from_numpy(
            np.array(
                [
                    [scores_of(rule, tuple(row[1 : t + 1])) for t in range(len(row))]
                    for rule, row in zip(rules, captions.tolist(), strict=True)
                ]
            )
        )


def repeats_a_trigram(caption) -> bool:
    trigrams = [tuple(caption[k : k + 3]) for k in range(len(caption) - 2)]
    return len(trigrams) != len(set(trigrams))


def list_beam_search(rule, beam_size, max_length, length_penalty=1.0, block_trigrams=False):
    """A plain beam search over (caption, total) lists; an ended caption is kept as it is."""

    def rank(item):
        caption, total = item
        return total / len(caption) ** length_penalty

    beams = [((), 0.0)]
    for _ in range(max_length):
        candidates = []
        for caption, total in beams:
            if caption and caption[-1] == END:
                candidates.append((caption, total))
                continue
            log_probs = log_probs_of(rule, caption)
            for word in range(V):
                if not (block_trigrams and repeats_a_trigram((*caption, word))):
                    candidates.append(((*caption, word), total + log_probs[word]))
        beams = sorted(candidates, key=rank, reverse=True)[:beam_size]  # stable: ties in order
        if all(caption[-1] == END for caption, _ in beams):
            break
    return max(beams, key=rank)[0]


def padded(caption, max_length) -> np.ndarray:
    return np.array(list(caption) + [NULL] * (max_length - len(caption)), dtype=np.int64)


def expected(rules, max_length, beam_size, **options) -> np.ndarray:
    return np.stack(
        [padded(list_beam_search(r, beam_size, max_length, **options), max_length) for r in rules]
    )


RULES = [fourth, penalty, a_loop, ended_early]
FEATURES = np.arange(len(RULES), dtype=np.float64)[:, None]  # (N, 1): the image's index


def torch_beam(rules, max_length, beam_size, *options) -> np.ndarray:
    features = torch.arange(len(rules), dtype=torch.float32)[:, None]
    model = TorchTable(rules)
    return transformer_decoding.beam_search(model, features, max_length, beam_size, *options)


def test_the_rules_separate_the_options():
    """The oracle's answers differ where each rule says they do: the tests below can tell."""
    assert list_beam_search(fourth, 3, 6) == (A, A, END)
    assert list_beam_search(fourth, 4, 6) == (D, END)
    assert list_beam_search(penalty, 3, 6) == (END,)
    assert list_beam_search(penalty, 3, 6, length_penalty=2.0) == (A, B, END)
    assert list_beam_search(a_loop, 3, 6) == (A,) * 6
    assert repeats_a_trigram(list_beam_search(a_loop, 3, 6, block_trigrams=False))
    assert not repeats_a_trigram(list_beam_search(a_loop, 3, 6, block_trigrams=True))
    assert list_beam_search(ended_early, 2, 3) == (A, C, END)


def test_numpy_defaults_are_beam_three_and_thirty_words():
    captions = beam_search(NumpyTable(RULES), FEATURES)
    assert captions.shape == (len(RULES), 30)
    np.testing.assert_array_equal(captions, expected(RULES, 30, 3))
    assert not np.array_equal(captions[0], padded(list_beam_search(fourth, 4, 30), 30))


def test_transformer_defaults_are_length_penalty_one_and_no_blocking():
    captions = torch_beam(RULES, 6, 3).numpy()
    np.testing.assert_array_equal(captions, expected(RULES, 6, 3))
    assert not np.array_equal(captions, expected(RULES, 6, 3, length_penalty=2.0))
    assert not np.array_equal(captions, expected(RULES, 6, 3, block_trigrams=True))


@pytest.mark.parametrize("beam_size", [1, 2, 3, 4])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("block_trigrams", [False, True])
def test_both_beam_searches_equal_the_list_beam_search(beam_size, length_penalty, block_trigrams):
    options = {"length_penalty": length_penalty, "block_trigrams": block_trigrams}
    want = expected(RULES, 6, beam_size, **options)
    numpy_captions = beam_search(NumpyTable(RULES), FEATURES, beam_size, 6, **options)
    np.testing.assert_array_equal(numpy_captions, want)
    np.testing.assert_array_equal(torch_beam(RULES, 6, beam_size, *options.values()), want)


@pytest.mark.parametrize("decode", ["numpy", "torch"])
def test_an_ended_one_word_beam_is_ranked_by_its_own_length(decode):
    """ENDED_EARLY, beam 2: after 2 steps "a b" (mean -0.52) and "a c" (-0.90) must keep their
    places over "<END>" (-1.05, one word); "a c <END>" (-0.61) then wins over "a b ..."."""
    if decode == "numpy":
        captions = beam_search(NumpyTable([ended_early]), FEATURES[:1], 2, 3)
    else:
        captions = torch_beam([ended_early], 3, 2).numpy()
    np.testing.assert_array_equal(captions, [[A, C, END]])


def test_numpy_scores_may_be_far_from_zero_per_row():
    """Log-softmax is shift-invariant per row: +1000 on one image's scores changes nothing,
    neither for it nor for the images decoded in the same batch."""
    model = NumpyTable(RULES, offsets={0: 1000.0, 2: 1000.0})
    np.testing.assert_array_equal(beam_search(model, FEATURES, 3, 6), expected(RULES, 6, 3))


@pytest.mark.parametrize("decode", ["numpy", "torch"])
def test_a_beam_wider_than_the_captions_still_returns_the_best(decode):
    """One word, 8 words in the vocabulary, beam 10: two beams have no caption (-inf)."""
    if decode == "numpy":
        captions = beam_search(NumpyTable(RULES), FEATURES, beam_size=10, max_length=1)
    else:
        captions = torch_beam(RULES, 1, 10).numpy()
    best = [[int(np.argmax(log_probs_of(rule, ())))] for rule in RULES]
    assert best == [[A], [END], [A], [A]]
    np.testing.assert_array_equal(captions, best)


def test_numpy_beam_one_breaks_ties_as_greedy_argmax():
    """The docstring: beam 1 without blocking is greedy decoding, whose argmax takes the first
    of tied words; TIES has a three-way tie, a two-way tie, then <END> tied with "d"."""
    captions = beam_search(NumpyTable([ties]), np.zeros((3, 1)), beam_size=1, max_length=5)
    caption = ()
    while len(caption) < 5 and END not in caption:
        caption = (*caption, int(np.argmax(log_probs_of(ties, caption))))
    assert caption == (A, B, END)
    np.testing.assert_array_equal(captions, [padded(caption, 5)] * 3)
    np.testing.assert_array_equal(captions, expected([ties] * 3, 5, 1))


def test_numpy_rejects_an_empty_beam():
    with pytest.raises(ValueError, match=r"^beam_size must be at least 1, got 0$"):
        beam_search(NumpyTable(RULES), FEATURES, beam_size=0)


def test_repeated_trigram_words_against_brute_force():
    tokens = np.random.default_rng(0).integers(0, 3, size=(6, 7))
    banned = 0
    for t in range(8):
        rows, words = repeated_trigram_words(tokens, t)
        assert rows.shape == words.shape
        want = {
            (m, int(tokens[m, k + 2]))
            for m in range(6)
            for k in range(t - 2)
            if (tokens[m, k], tokens[m, k + 1]) == (tokens[m, t - 2], tokens[m, t - 1])
        }
        assert set(zip(rows.tolist(), words.tolist(), strict=True)) == want
        banned += len(want)
    assert banned > 0


def test_transformer_beam_stops_when_every_beam_has_ended():
    """ENDS ends every caption after its first word: two steps, the cache reordered between
    them only, however long max_length is."""
    model = TorchTable([lambda prefix: ENDS if prefix else {A: 0.6, B: 0.4}])
    captions = transformer_decoding.beam_search(model, torch.zeros(1, 1), 10, 2)
    np.testing.assert_array_equal(captions.numpy(), [padded((A, END), 10)])
    assert (model.calls["step"], model.state.reorders) == (2, 1)


def test_transformer_beam_reorders_the_cache_between_steps_only():
    """A_LOOP never ends within 3 words: 3 steps and 2 reorders, none after the last step."""
    model = TorchTable([a_loop])
    captions = transformer_decoding.beam_search(model, torch.zeros(1, 1), 3, 2)
    np.testing.assert_array_equal(captions.numpy(), [[A, A, A]])
    assert (model.calls["step"], model.state.reorders) == (3, 2)


@pytest.mark.parametrize("use_cache", [True, False, None])
def test_greedy_is_the_argmax_and_the_cache_is_the_default(use_cache):
    """None: the default, which must be the cache (one decode_step per word, no full forward);
    use_cache=False re-runs the forward pass and builds no cache. Both stop once every
    caption has ended: FOURTH ends at its 2nd word, PENALTY at its 1st, so 2 steps of 10."""
    model = TorchTable([fourth, penalty])
    features = torch.arange(2, dtype=torch.float32)[:, None]
    options = {} if use_cache is None else {"use_cache": use_cache}
    captions = transformer_decoding.greedy_decode(model, features, 10, **options)
    want = []
    for rule in [fourth, penalty]:
        caption = ()
        while END not in caption:
            caption = (*caption, int(np.argmax(log_probs_of(rule, caption))))
        want.append(padded(caption, 10))
    assert [len(np.flatnonzero(row != NULL)) for row in want] == [2, 1]
    np.testing.assert_array_equal(captions.numpy(), want)
    cached = use_cache is not False
    assert model.calls == {"start": int(cached), "step": 2 * cached, "forward": 2 * (not cached)}


def test_decoding_follows_the_features_device_not_torchs_default():
    """Every tensor the decoders make goes where the features are: under a default device of
    "meta" (as a user's torch.set_default_device("cuda") with CPU features), the captions are
    the same CPU tensors as without it."""
    features = torch.arange(len(RULES), dtype=torch.float32)[:, None]

    def decode():
        return [
            transformer_decoding.beam_search(TorchTable(RULES), features, 6, 3, 1.0, True),
            transformer_decoding.greedy_decode(TorchTable(RULES), features, 6),
            transformer_decoding.greedy_decode(TorchTable(RULES), features, 6, use_cache=False),
        ]

    expected_captions = decode()
    with torch.device("meta"):
        captions = decode()
    for got, want in zip(captions, expected_captions, strict=True):
        assert got.device.type == "cpu" and torch.equal(got, want)
