"""Whole-model gradient checks that reach through time.

Captions of T = 5 inputs whose every target is a real word (no `<NULL>`), so every step's
loss backpropagates through all earlier steps: the recurrent weight Wh, the embeddings of the
first words and the image projection only get their full gradient through time. For the
vanilla RNN, the LSTM and the attention LSTM.
"""

from __future__ import annotations

import numpy as np
import pytest

from vislab.captioning import CaptioningRNN
from vislab.captioning.numpy_attention_lstm import AttentionCaptioningLSTM
from vislab.numpy_nn import eval_numerical_gradient

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "b", "c"]
WORD_TO_IDX = {word: index for index, word in enumerate(WORDS)}
N, T = 2, 5


def captions_without_null(rng: np.random.Generator) -> np.ndarray:
    """(N, T + 1): <START>, T - 1 words, <END>; no <NULL> target anywhere."""
    words = rng.integers(3, len(WORDS), size=(N, T - 1))
    captions = np.concatenate([np.full((N, 1), 1), words, np.full((N, 1), 2)], axis=1)
    assert (captions[:, 1:] != WORD_TO_IDX["<NULL>"]).all()
    return captions


def build(cell_type: str, rng: np.random.Generator):
    if cell_type == "attention-lstm":
        model = AttentionCaptioningLSTM(WORD_TO_IDX, 4, 5, 6, dtype=np.float64, rng=rng,
                                        attention_dim=3)  # fmt: skip
        return model, rng.standard_normal((N, 4, 4))  # (N, L, D) features of a 2 x 2 grid
    model = CaptioningRNN(WORD_TO_IDX, 4, 5, 6, cell_type=cell_type, dtype=np.float64, rng=rng)
    return model, rng.standard_normal((N, 4))


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "attention-lstm"])
def test_whole_model_gradcheck_through_time(cell_type):
    rng = np.random.default_rng(5)
    model, features = build(cell_type, rng)
    for name in model.params:  # larger weights: gradients through time are not negligible
        model.params[name] = rng.standard_normal(model.params[name].shape)
    captions = captions_without_null(rng)
    _, grads = model.loss(features, captions)
    assert sorted(grads) == sorted(model.params)
    for name in grads:
        num = eval_numerical_gradient(
            lambda _: model.loss(features, captions)[0], model.params[name], verbose=False, h=1e-6
        )
        np.testing.assert_allclose(grads[name], num, rtol=1e-6, atol=1e-8, err_msg=name)
