"""CaptioningSolver's steps against the update rules applied by hand.

Two training steps of the solver (one epoch of two minibatches) must leave exactly the
parameters that the course's update rules, written out here from their formulas, give on a
copy of the model, fed the same minibatches (drawn from a generator seeded like the
solver's). Two steps, so the rules' state (velocity, cache, moments, t) is carried over.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from vislab.captioning import CaptioningRNN, CaptioningSolver, load_coco_data
from vislab.datasets.coco import sample_coco_minibatch

LEARNING_RATE = 3e-2


def by_hand(rule: str):
    """The course's update rules as formulas: (w, dw, state) -> next w, with `state` a dict
    that carries velocity/cache/moments between calls."""

    def sgd(w, dw, state):
        return w - LEARNING_RATE * dw

    def sgd_momentum(w, dw, state):
        state["v"] = 0.9 * state.get("v", 0.0) - LEARNING_RATE * dw
        return w + state["v"]

    def rmsprop(w, dw, state):
        state["cache"] = 0.99 * state.get("cache", 0.0) + 0.01 * dw**2
        return w - LEARNING_RATE * dw / (np.sqrt(state["cache"]) + 1e-8)

    def adam(w, dw, state):
        state["t"] = t = state.get("t", 0) + 1
        state["m"] = 0.9 * state.get("m", 0.0) + 0.1 * dw
        state["v"] = 0.999 * state.get("v", 0.0) + 0.001 * dw**2
        m_hat, v_hat = state["m"] / (1 - 0.9**t), state["v"] / (1 - 0.999**t)
        return w - LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)

    return {"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam}[rule]


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_two_solver_steps_equal_the_update_rule_by_hand(tiny_coco_dir, rule, cell_type):
    data = load_coco_data(tiny_coco_dir)
    model = CaptioningRNN(
        data["word_to_idx"], input_dim=data["train_features"].shape[1], wordvec_dim=6,
        hidden_dim=8, cell_type=cell_type, dtype=np.float64, rng=np.random.default_rng(0),
    )  # fmt: skip
    reference = copy.deepcopy(model)
    initial = copy.deepcopy(model.params)
    solver = CaptioningSolver(
        model, data, update_rule=rule, optim_config={"learning_rate": LEARNING_RATE},
        batch_size=25, num_epochs=1, verbose=False, seed=17,
    )  # fmt: skip
    assert solver.iterations_per_epoch == 2  # 50 training captions, batches of 25
    solver.train()

    rng, update = np.random.default_rng(17), by_hand(rule)
    states = {name: {} for name in reference.params}
    losses = []
    for _ in range(2):
        captions, features, _ = sample_coco_minibatch(data, 25, "train", rng=rng)
        loss, grads = reference.loss(features, captions)
        losses.append(loss)
        for name, w in reference.params.items():
            reference.params[name] = update(w, grads[name], states[name])
    assert solver.loss_history == pytest.approx(losses, rel=1e-12)
    for name, expected in reference.params.items():
        np.testing.assert_allclose(model.params[name], expected, rtol=1e-10, atol=1e-13,
                                   err_msg=name)  # fmt: skip
    # Both steps moved every parameter: the comparison is between trained values.
    for name, value in initial.items():
        assert np.abs(model.params[name] - value).max() > 1e-4, name
